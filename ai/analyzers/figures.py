"""Small shared readings of JetStream's JSON: its timestamps (nanosecond RFC 3339; the zero time
means never), durations in nanoseconds, and figures written for a person."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

_FRACTION = re.compile(r"\.(\d+)")


def timestamp(value: Any) -> datetime | None:
    """An RFC 3339 time as JetStream writes it (up to nanoseconds, ``Z``) or None (absent, the
    zero time ``0001-01-01T00:00:00Z``, unreadable)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value or value.startswith("0001-01-01"):
        return None
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value.strip(), count=1)
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def seconds_since(value: Any, now: datetime) -> float | None:
    at = timestamp(value)
    return None if at is None else max(0.0, (now - at).total_seconds())


def number(value: Any, default: float = 0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return value


def duration(seconds: float) -> str:
    """``95`` -> ``1 min 35 s``; ``7200`` -> ``2 h``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    if seconds < 86400 * 2:
        hours, rest = divmod(seconds, 3600)
        return f"{hours} h" + (f" {rest // 60} min" if rest // 60 else "")
    return f"{seconds // 86400} days"


def size(value: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def count(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"


def percent(ratio: float) -> str:
    return f"{ratio * 100:.0f}%" if ratio * 100 >= 10 else f"{ratio * 100:.1f}%"
