"""The assistant's evaluation cases (HolmesGPT-style): situations set up on a real console plus a
question, scored against what must (and must not) come of it.

- ``cases/*.yaml``: one situation each (``case.py`` reads and checks them);
- ``situation.py``: sets a case up through the console's API (and NATS for bulk messages, pulls
  and negative acknowledgements) and removes it afterwards;
- ``scripted.py``: a case's script as turns of the local Anthropic server (the suite);
- ``checks.py``: each expectation a check, the deterministic ones holding whatever the model;
- ``runner.py``: sets up, asks the chat as the case's person, scores and prints the table.

``tests/ai/test_evals.py`` runs every case in the suite against the scripted model;
``bench/ai_eval.py`` (``make ai-eval``) runs them against a running console and its real model.
"""
