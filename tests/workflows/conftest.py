"""Workflow tests use the shared fixtures of ``tests/fixtures.py``."""
