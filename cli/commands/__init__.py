"""The console's commands, one module per resource, each an HTTP client of the API (never a
database or NATS): ``auth`` (login, logout), ``clusters``, ``streams``, ``consumers``,
``messages``, ``kv``, ``operations`` (replay, op). Shared pieces: ``cli.client`` (the API client,
token refresh, errors), ``cli.config`` (the credentials file), ``cli.common`` (options and input
parsing), ``cli.output`` (tables, JSON, errors as sentences)."""
