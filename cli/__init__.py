"""The ``jsc`` command line: the local stack (``jsc up``, ``jsc status``), the server processes
(``jsc api``, ``jsc worker``), and, over the HTTP API, the console's commands."""
