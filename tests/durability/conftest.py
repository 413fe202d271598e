"""Durability fault tests share the stack of ``tests/conftest.py``; helpers live in ``faults``."""
