# The two commands that matter on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
STAMP  := $(VENV)/.installed

.PHONY: run test install clean ai-eval

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[local,test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/jsc up --data-dir .jsc

# Lint, format check and type check first (configured in pyproject.toml), then the tests.
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# The assistant's evaluation cases against a running console (JSC_API_URL, JSC_ADMIN_EMAIL,
# JSC_ADMIN_PASSWORD; ANTHROPIC_API_KEY set on that console) with its real model; prints a score.
ai-eval: $(STAMP)
	$(VENV)/bin/python bench/ai_eval.py $(AI_EVAL_ARGS)

clean:
	rm -rf $(VENV) .jsc
