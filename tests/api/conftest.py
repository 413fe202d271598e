"""API tests use the shared fixtures of ``tests/fixtures.py`` (registered by the root conftest);
these helpers are re-exported for the tests that import them from here."""

from tests.fixtures import PASSWORD, login, register, unique, wait_for_audit  # noqa: F401
