"""The core of JetStream Console: everything the API, the worker and the launcher share.

settings (one pydantic-settings object, prefix ``JSC_``), the PostgreSQL models and migrations
(``core.db``), JetStream administration (``core.jetstream``), the ClickHouse analytics store
(``core.analytics``), security (passwords, tokens, encryption at rest), RBAC and audit.
Nothing here imports from the layers above it (api, workflows, activities, ui, stack, cli).
"""
