"""The local stack behind ``jsc up`` and the test suite: it starts every backing service from the
wheels installed in the virtual environment (two NATS servers linked by a leafnode, Temporal's dev
server, PostgreSQL, Redis; ClickHouse stays embedded in the API through chdb), then the API, the
Temporal worker, the UI and the demo, supervises them all and stops them on Ctrl-C.

``launcher.Stack`` is the programmatic entry point (tests use it); ``launcher.run_foreground`` is
``jsc up``; ``status.print_status`` is ``jsc status``. Generated state lives in the data dir:
``stack.json`` (URLs and pids), ``secrets.json`` (0600), ``logs/<service>.log`` and one folder per
service.
"""
