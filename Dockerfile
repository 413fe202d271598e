# JetStream Console: one image for the api, the worker and the ui (docker-compose.yml picks the
# command). The backing services run in their own containers; nothing here starts them.
#
#   docker build -t jetstream-console .
#   docker run jetstream-console jsc api --host 0.0.0.0 --port 8000      (the default)
#   docker run jetstream-console jsc worker
#   docker run jetstream-console python -m streamlit run ui/app.py --server.port 8501 \
#       --server.address 0.0.0.0 --server.headless true
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    JSC_DATA_DIR=/var/lib/jsc

WORKDIR /app

# The dependencies first, from pyproject.toml alone, so that a change of the sources does not
# reinstall them. Every dependency ships as a manylinux wheel: no compiler is needed.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# Then the project itself. The sources stay in /app too: the ui is started as `ui/app.py`.
COPY . .
RUN pip install . \
 && rm -rf build ./*.egg-info

# An unprivileged user; its home holds Streamlit's settings, JSC_DATA_DIR anything local.
RUN groupadd --system --gid 10001 jsc \
 && useradd --system --uid 10001 --gid jsc --create-home --home-dir /home/jsc jsc \
 && mkdir -p "$JSC_DATA_DIR" \
 && chown jsc:jsc "$JSC_DATA_DIR"
USER jsc

EXPOSE 8000 8501
CMD ["jsc", "api", "--host", "0.0.0.0", "--port", "8000"]
