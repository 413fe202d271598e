"""Stream findings from a stream's info (JetStream's JSON with its state, as
``GET /api/v1/clusters/{cid}/streams[/{name}]`` answers it): storage near a limit, and a stream
that has stored nothing for a long time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ai.analyzers.figures import count, duration, number, percent, seconds_since, size, timestamp
from ai.analyzers.thresholds import Thresholds
from ai.findings import Finding

DEFAULT = Thresholds()


def _where(stream: dict, cluster_id: str | None) -> dict[str, Any]:
    return {"cluster_id": cluster_id, "stream": stream.get("config", {}).get("name")}


def storage_near_limit(
    stream: dict, where: dict[str, Any], t: Thresholds = DEFAULT
) -> list[Finding]:
    """Bytes against ``max_bytes`` and messages against ``max_msgs`` (the fuller one is the
    finding; both are its evidence)."""
    config, state = stream.get("config", {}), stream.get("state", {})
    used = {
        "bytes": (number(state.get("bytes")), number(config.get("max_bytes"), -1)),
        "messages": (number(state.get("messages")), number(config.get("max_msgs"), -1)),
    }
    ratios = {k: v / limit for k, (v, limit) in used.items() if limit > 0}
    if not ratios:
        return []
    worst = max(ratios, key=lambda k: ratios[k])
    ratio = ratios[worst]
    if ratio < t.storage_warning:
        return []
    discard_new = config.get("discard") == "new"
    critical = ratio >= t.storage_critical and discard_new
    value, limit = used[worst]
    shown = (
        f"{size(value)} of max_bytes {size(limit)}"
        if worst == "bytes"
        else f"{count(value)} messages of max_msgs {count(limit)}"
    )
    if discard_new:
        effect = "at the limit the stream refuses new messages (discard new)"
        suggestion = (
            "Raise the limit (max_bytes / max_msgs) or remove messages that are no "
            "longer needed (max_age, a purge): publishers get errors at the limit."
        )
    else:
        effect = (
            "at the limit the oldest messages are removed to make room (discard old), "
            "so a consumer behind loses them"
        )
        suggestion = (
            "Raise the limit if the stream is meant to keep more, or check that every "
            "consumer keeps up: what it has not read yet is removed first."
        )
    return [
        Finding(
            code="storage_near_limit",
            severity="critical" if critical else "warning",
            title=f"Stream {where['stream']} is {percent(ratio)} full",
            summary=f"It holds {shown} ({percent(ratio)}); {effect}.",
            evidence={
                "bytes": used["bytes"][0],
                "max_bytes": used["bytes"][1],
                "messages": used["messages"][0],
                "max_msgs": used["messages"][1],
                "ratio": round(ratio, 3),
                "limit": "max_bytes" if worst == "bytes" else "max_msgs",
                "discard": config.get("discard", "old"),
            },
            suggestion=suggestion,
            **where,
        )
    ]


def idle(
    stream: dict, now: datetime, where: dict[str, Any], t: Thresholds = DEFAULT
) -> list[Finding]:
    """A stream with subjects of its own that has stored nothing for ``idle_after_s`` (never
    anything: since its creation). Mirrors and sourced streams are left to ``mirrors``."""
    config, state = stream.get("config", {}), stream.get("state", {})
    if not config.get("subjects") or config.get("mirror") or config.get("sources"):
        return []
    last = state.get("last_ts")
    ever = timestamp(last) is not None
    since = seconds_since(last, now) if ever else seconds_since(stream.get("created"), now)
    if since is None or since < t.idle_after_s:
        return []
    summary = (
        f"Its last message was stored {duration(since)} ago"
        if ever
        else f"It has stored no message since it was created {duration(since)} ago"
    )
    return [
        Finding(
            code="stream_idle",
            severity="info",
            title=f"Stream {where['stream']} is idle",
            summary=f"{summary} (subjects {', '.join(config['subjects'])}).",
            evidence={
                "last_message_at": last if ever else None,
                "created": stream.get("created"),
                "idle_for_s": round(since),
                "messages": state.get("messages", 0),
                "subjects": config["subjects"],
            },
            suggestion=(
                "Check that the publishers still run and publish on these subjects; if the "
                "stream is no longer used, it can be removed."
            ),
            **where,
        )
    ]


def analyze_stream(
    stream: dict, *, now: datetime, cluster_id: str | None = None, t: Thresholds = DEFAULT
) -> list[Finding]:
    where = _where(stream, cluster_id)
    return [*storage_near_limit(stream, where, t), *idle(stream, now, where, t)]
