"""A failover drill: the same steps on temporary copies, touching neither the primary, nor its
mirrors, nor their clients.

On the standby cluster ``<mirror>_drill_<short>`` is made as a same-server mirror of the standby
mirror, starting where the mirror stands (a drill measures the failover, not a full copy). The
primary's last sequence is taken as the fence point (the primary is *not* fenced), the copy waits
until it holds it, then it is promoted with the primary's subjects moved under an inert prefix
(``_JSC_DRILL.<short>.<subject>``: no production subject is captured), a canary is published and
read back, and the copies are deleted. RTO is the time from the fence point to the canary's
acknowledgement, RPO the messages up to the fence point the copy did not hold when promoted.
"""

from __future__ import annotations

from typing import Any

from core.jetstream.api import JetStreamApi, JetStreamError

DRILL_PREFIX = "_JSC_DRILL"
DRILL_KEY = "jsc.drill_of"


def copy_name(mirror_stream: str, short: str) -> str:
    return f"{mirror_stream}_drill_{short}"


def drill_subjects(subjects: list[str], short: str) -> list[str]:
    """The primary's subjects under the inert prefix: they capture no production subject (a
    production stream may not use ``_JSC_DRILL``)."""
    return [f"{DRILL_PREFIX}.{short}.{s}" for s in subjects]


async def make_copy(
    standby: JetStreamApi, mirror_stream: str, copy: str, operation_id: str
) -> dict[str, Any]:
    """The copy (made once: a retry finds it), starting at the mirror's last sequence."""
    try:
        info = await standby.stream_info(copy)
        if (info["config"].get("metadata") or {}).get(DRILL_KEY) != mirror_stream:
            raise JetStreamError(400, 0, f"a stream '{copy}' exists and is not this drill's copy")
        return info
    except JetStreamError as exc:
        if not exc.not_found:
            raise
    mirror = await standby.stream_info(mirror_stream)
    start = (mirror.get("state") or {}).get("last_seq", 0)
    source: dict[str, Any] = {"name": mirror_stream}
    if start > 0:
        source["opt_start_seq"] = start
    config = {
        "name": copy,
        "mirror": source,
        "storage": mirror["config"].get("storage", "file"),
        "num_replicas": 1,
        "retention": "limits",
        "description": f"Failover drill {operation_id}: a copy of {mirror_stream}",
        "metadata": {DRILL_KEY: mirror_stream, "jsc.drill_operation": operation_id},
    }
    return await standby.stream_create(config)


async def delete_copy(standby: JetStreamApi, copy: str) -> bool:
    """Remove a drill's copy (only a copy: a stream without the drill's mark is left alone)."""
    try:
        info = await standby.stream_info(copy)
    except JetStreamError as exc:
        if exc.not_found:
            return False
        raise
    if DRILL_KEY not in (info["config"].get("metadata") or {}):
        return False
    await standby.stream_delete(copy)
    return True
