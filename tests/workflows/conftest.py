"""Workflow tests share the API tests' helpers (registered clusters, database access)."""

from tests.api.conftest import admin_org_id, db_sessions, hub_cluster  # noqa: F401  (fixtures)
