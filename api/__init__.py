"""The HTTP API (FastAPI): the app factory and its lifespan (``app``), errors as
``application/problem+json`` (``errors``), authentication and RBAC dependencies (``deps``),
request/response schemas (``schemas``), and one router per resource (``routers``)."""
