"""Numbers, sizes and durations written for people (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime

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


STATUS_BADGES = {
    "pending": "○ Pending",
    "running": "▶ Running",
    "paused": "❚❚ Paused",
    "waiting_approval": "◔ Waiting for approval",
    "completed": "✔ Completed",
    "failed": "✖ Failed",
    "cancelled": "■ Cancelled",
    "success": "✔ Success",
    "failure": "✖ Failure",
    "denied": "⛔ Denied",
}


def status(value: str | None) -> str:
    """An operation's (or an audit event's) status with its sign: "running" → "▶ Running"."""
    return STATUS_BADGES.get(value or "", (value or "unknown").replace("_", " ").capitalize())


def when(iso: str | None, *, millis: bool = False, minutes: bool = False) -> str:
    """An ISO 8601 time as "2024-01-15 10:45:23 UTC" (with ``millis``, "10:45:23.456"; with
    ``minutes``, "2024-01-15 10:45 UTC")."""
    if not iso:
        return "—"
    try:
        moment = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%d %H:%M" if minutes else "%Y-%m-%d %H:%M:%S")
    if millis and not minutes:
        text += f".{moment.microsecond // 1000:03d}"
    return text + " UTC"


def seconds(value: float | None) -> str:
    """A duration in seconds for people: 42 → "42s"; 150 → "2m 30s"; 7260 → "2h 1m"."""
    if value is None:
        return "—"
    value = max(0.0, float(value))
    if value < 60:
        return f"{value:.0f}s" if value >= 1 or value == 0 else f"{value:.1f}s"
    minutes, secs = divmod(int(round(value)), 60)
    if minutes < 60:
        return f"{minutes}m {secs}s" if secs else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def rate(per_s: float | None, unit: str = "msgs") -> str:
    return "—" if per_s is None else f"{count(round(per_s))} {unit}/s"


def progress_text(
    done: int,
    total: int | None,
    unit: str = "messages",
    rate_per_s: float | None = None,
    eta_s: float | None = None,
) -> str:
    """ "1,234 of 3,000 messages (41%) · 200 msgs/s · about 9s left"."""
    if total is None:
        text = f"{done:,} {unit} so far"
    else:
        share = 100 if total <= 0 else min(100, int(done * 100 / total))
        text = f"{done:,} of {total:,} {unit} ({share}%)"
    if rate_per_s:
        text += f" · {rate(rate_per_s)}"
    if eta_s:
        text += f" · about {seconds(eta_s)} left"
    return text


CONSUMER_HEALTH = {
    "healthy": "● Healthy",
    "lagging": "◐ Lagging",
    "stalled": "⚠ Stalled",
    "redelivering": "◐ Redelivering",
    "paused": "❚❚ Paused",
}
LAG_WARNING = 1000  # messages not yet delivered above which a consumer counts as lagging


def consumer_health(
    num_pending: int,
    num_ack_pending: int,
    num_redelivered: int,
    max_ack_pending: int | None,
    paused: bool = False,
) -> tuple[str, str]:
    """A consumer's health, from JetStream's own figures: (badge, why).

    Stalled: as many messages await an ack as it may have outstanding, so nothing more is
    delivered. Lagging: more than ``LAG_WARNING`` messages not delivered yet. Redelivering: some
    messages had to be delivered again (acks missed their deadline or were refused)."""
    if paused:
        return CONSUMER_HEALTH["paused"], "Paused: no message is delivered until it is resumed."
    if max_ack_pending and max_ack_pending > 0 and num_ack_pending >= max_ack_pending:
        return (
            CONSUMER_HEALTH["stalled"],
            f"{num_ack_pending:,} messages await an ack, the most it may have outstanding: "
            "nothing more is delivered until they are acknowledged.",
        )
    if num_pending > LAG_WARNING:
        return CONSUMER_HEALTH["lagging"], f"{num_pending:,} messages not delivered yet."
    if num_redelivered > 0:
        return (
            CONSUMER_HEALTH["redelivering"],
            f"{num_redelivered:,} message(s) delivered more than once.",
        )
    return CONSUMER_HEALTH["healthy"], "Keeping up."


def ago(iso: str | None, now: datetime | None = None) -> str:
    """How long ago an ISO 8601 time was, for people: "just now", "42s ago", "3 days ago"."""
    if not iso:
        return "never"
    try:
        moment = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elapsed = ((now or datetime.now(UTC)) - moment).total_seconds()
    if elapsed < 5:
        return "just now"
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if elapsed >= length:
            n = int(elapsed // length)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return f"{int(elapsed)}s ago"


def precise_seconds(value: float | None) -> str:
    """A measured time: 0.0123 → "12 ms"; 1.234 → "1.2 s"; 95 → "1m 35s"."""
    if value is None:
        return "—"
    value = max(0.0, float(value))
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.1f}".removesuffix(".0") + " s"
    return seconds(value)


# the replication map's status of a mirror or source, and the colour of its edge
REPLICATION_BADGES = {
    "in_sync": "● In sync",
    "behind": "◐ Behind",
    "paused": "❚❚ Paused",
    "stalled": "⚠ Stalled",
    "broken_link": "✖ Broken link",
    "error": "✖ Error",
    "unknown": "○ Unknown",
}
REPLICATION_COLOURS = {
    "in_sync": "#2e7d32",
    "behind": "#f29900",
    "paused": "#f29900",
    "stalled": "#c62828",
    "broken_link": "#c62828",
    "error": "#c62828",
    "unknown": "#9e9e9e",
}


def replication_status(value: str | None) -> str:
    return REPLICATION_BADGES.get(value or "unknown", (value or "unknown").replace("_", " "))


def replication_colour(value: str | None) -> str:
    return REPLICATION_COLOURS.get(value or "unknown", REPLICATION_COLOURS["unknown"])
