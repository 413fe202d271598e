"""Numbers, sizes and durations written for people (pure functions)."""

from __future__ import annotations

HEALTH_BADGES = {"healthy": "● Healthy", "degraded": "◐ Degraded", "unreachable": "○ Unreachable"}


def count(n: int | float | None) -> str:
    """1234 → "1,234"; 15_234_567 → "15.2M"."""
    if n is None:
        return "—"
    n = float(n)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if abs(n) >= limit:
            return f"{n / limit:.1f}{suffix}"
    return f"{int(n):,}"


def size(n: int | float | None) -> str:
    """Bytes in binary units: 2_340_000_000 → "2.2 GiB"; -1 or None → "unlimited"/"—"."""
    if n is None:
        return "—"
    if n < 0:
        return "unlimited"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover - loop always returns


def limit(n: int | None) -> str:
    """A JetStream limit where -1 (or 0 for ages) means none."""
    return "unlimited" if n is None or n < 0 else count(n)


def duration_ns(ns: int | None) -> str:
    """JetStream durations are nanoseconds: 259_200_000_000_000 → "3d"; 0 → "unlimited"."""
    if not ns:
        return "unlimited"
    seconds = ns / 1e9
    parts = []
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= length:
            whole = int(seconds // length)
            parts.append(f"{whole}{unit}")
            seconds -= whole * length
    if seconds or not parts:
        parts.append(f"{seconds:g}s")
    return "".join(parts)


def health(status: str | None) -> str:
    return HEALTH_BADGES.get(status or "", status or "unknown")


def rtt(ms: float | None) -> str:
    return "—" if ms is None else f"{ms:.1f} ms"
