"""The HTTP API (FastAPI): the app factory and its lifespan (``app``), errors as
``application/problem+json`` (``errors``) and their declaration in the OpenAPI schema, derived
for every route in one place (``contract``), authentication and RBAC dependencies (``deps``),
request/response schemas (``schemas``), and one router per resource (``routers``)."""
