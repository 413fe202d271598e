"""Values read from Redis. The clients decode responses (``decode_responses=True``), so they are
text already; redis-py's types still say bytes or str, and ``as_text`` says which."""

from __future__ import annotations


def as_text(value: bytes | str) -> str:
    """The value as text (decoded as UTF-8 were it bytes)."""
    return value.decode() if isinstance(value, bytes) else value
