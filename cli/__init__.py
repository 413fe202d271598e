"""The ``jsc`` command line.

- The local stack and the server processes: ``jsc up``, ``jsc status``, ``jsc api``, ``jsc worker``.
- The console's commands, an HTTP client of the API only (never a database or NATS):
  ``jsc login|logout``; ``jsc cluster ls|info|health``; ``jsc stream ls|info|add|edit|rm|purge``;
  ``jsc consumer ls|info|add|rm|pause|resume``; ``jsc msg get|browse|publish``;
  ``jsc kv ls|add|get|put|rm|history``; ``jsc replay``; ``jsc op ls|get|pause|resume|cancel``.
  Each prints a table (rich) or, with ``--json``, the API's JSON; an error is one sentence on
  stderr and exit status 1.

Configuration: ``$JSC_CONFIG`` (default ``~/.config/jsc/credentials.json``, mode 0600) holds the
API's URL and the session's tokens, written by ``jsc login``; ``JSC_API_URL`` overrides the URL,
``JSC_API_KEY`` authenticates with an API key instead, ``JSC_CLUSTER`` is the default cluster.

Modules: ``main`` (the typer app), ``client`` (the API client: auth, refresh, problem documents),
``config`` (the credentials file), ``common`` (shared options, parsing of sizes, durations, times,
files, payloads), ``output`` (tables, JSON, errors), ``commands/`` (one module per resource).
"""
