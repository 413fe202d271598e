"""Temporal workflows (deterministic: no I/O, no clock, no randomness outside Temporal's APIs),
their input/output types, and the worker entry point (``workflows.worker``). Every side effect is
an activity in ``activities/``."""
