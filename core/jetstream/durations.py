"""Durations as JetStream speaks them: integers of nanoseconds, and on input Go-style strings
("72h", "1m30s", "500ms") as the ``nats`` CLI accepts them."""

from __future__ import annotations

import re

_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")


def parse_duration_ns(value: object) -> int:
    """Nanoseconds from an int (already ns) or a duration string; ValueError says what is wrong."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of nanoseconds or a string such as '72h'")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return value
    if isinstance(value, float) and value.is_integer():
        return parse_duration_ns(int(value))
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if text.isdigit():
            return int(text)
        if text and _PART.sub("", text) == "":
            return int(sum(float(n) * _UNITS_NS[u] for n, u in _PART.findall(text)))
        raise ValueError(
            f"'{value}' is not a duration: use e.g. '72h', '1m30s', '500ms' "
            "or an integer of nanoseconds"
        )
    raise ValueError("a duration is a number of nanoseconds or a string such as '72h'")
