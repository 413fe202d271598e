"""``reverse``: the old primary becomes a mirror of the new one, its old data kept aside.

For each stream, on the old primary's cluster (reachable again, its stream fenced):

1. ``<stream>_pre_failover_<short>`` is made as a same-server mirror of the old stream, and
   waited for until it holds all of it (same last sequence, same count);
2. it is promoted with one inert subject (``_JSC_KEPT.<name>``), so it is a stream of its own
   that nothing writes to and that no later stream of the old name could feed;
3. only then is the old stream deleted (never before its data is kept: :func:`drop_old` checks
   the copy again), and made again, under its name, as a durable console mirror of the new
   primary (across domains through ``$JS.<new primary's domain>.API``).

Failing back is then the same failover the other way. The old stream's consumers are not kept
(a stream's consumers never move with a failover: clients make them on the active side).

The reverse runs as the last step of a failover with ``reverse``, or alone, later
(``FailoverPlan.reverse_only``: the pair failed over without it, and is active on its standby).
:func:`measure_reverse` is step 1 of a reverse alone: the old primary reachable, each of its
streams still its own (fenced, or not: :func:`ensure_fenced` fences it first, so nothing is
stored there while its data is kept aside), each promoted stream on the new primary taking
writes, and the link from the old primary to the new one able to carry the mirrors.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from core.jetstream.api import JetStreamApi, JetStreamError
from core.replication.failover import (
    PROMOTED_BY_KEY,
    Refused,
    fence,
    is_fenced,
    metadata,
    summarise,
)
from core.replication.mirrors import (
    MIRROR_ID_KEY,
    api_prefix,
    mirror_stream_config,
    probe_link,
    source_consumer_config,
)
from core.replication.models import MirrorRequest
from core.replication.plan import FailoverPlan, Measured, PlanStream, StreamMeasure

KEPT_PREFIX = "_JSC_KEPT"
KEPT_KEY = "jsc.kept_from"


def kept_name(stream: str, short: str) -> str:
    return f"{stream}_pre_failover_{short}"


def reverse_mirror_id(operation_id: str, stream: str) -> uuid.UUID:
    """The mirror the reverse makes for ``stream``: one id per operation and stream."""
    return uuid.uuid5(uuid.UUID(operation_id), f"reverse:{stream}")


async def _info(js: JetStreamApi, stream: str) -> dict[str, Any] | None:
    try:
        return await js.stream_info(stream)
    except JetStreamError as exc:
        if exc.not_found:
            return None
        raise


def _holds(copy: dict[str, Any], old: dict[str, Any]) -> bool:
    c, o = copy.get("state") or {}, old.get("state") or {}
    if o.get("messages", 0) == 0:
        return True
    return c.get("messages") == o.get("messages") and c.get("last_seq") == o.get("last_seq")


async def keep_aside(js: JetStreamApi, stream: str, kept: str, operation_id: str) -> dict[str, Any]:
    """Steps 1-2 for one stream, as far as they can go now: ``{"kept": bool, ...}``; call again
    until ``kept`` (a retry finds the copy made, or promoted, already)."""
    copy = await _info(js, kept)
    old = await _info(js, stream)
    if copy is not None and not copy["config"].get("mirror"):
        return {"kept": True, "stream": kept, "messages": copy["state"].get("messages", 0)}
    if old is None:
        raise Refused(f"'{stream}' is gone from the old primary and no copy of it was kept")
    if copy is None:
        copy = await js.stream_create(
            {
                "name": kept,
                "mirror": {"name": stream},
                "retention": "limits",
                "storage": old["config"].get("storage", "file"),
                "num_replicas": old["config"].get("num_replicas", 1),
                "description": f"{stream} as it stood before failover {operation_id}, kept aside",
                "metadata": {KEPT_KEY: stream, "jsc.kept_by": operation_id},
            }
        )
        copy = await js.stream_info(kept)
    if not _holds(copy, old):
        return {
            "kept": False,
            "stream": kept,
            "messages": copy["state"].get("messages", 0),
            "of": old["state"].get("messages", 0),
        }
    config = copy["config"]
    config.pop("mirror")
    config["subjects"] = [f"{KEPT_PREFIX}.{kept}"]
    config["metadata"] = {**metadata(config), PROMOTED_BY_KEY: operation_id}
    await js.stream_update(config)
    return {"kept": True, "stream": kept, "messages": copy["state"].get("messages", 0)}


async def drop_old(js: JetStreamApi, stream: str, kept: str, mirror_id: uuid.UUID) -> str:
    """Delete the old stream, once its copy holds it: ``deleted``, ``gone`` (a retry), or
    ``mirror`` (it is this reverse's mirror already)."""
    old = await _info(js, stream)
    if old is None:
        return "gone"
    if metadata(old["config"]).get(MIRROR_ID_KEY) == str(mirror_id):
        return "mirror"
    copy = await _info(js, kept)
    if copy is None or copy["config"].get("mirror") or not _holds(copy, old):
        raise Refused(f"'{stream}' is not deleted: its copy '{kept}' does not hold all of it")
    await js.stream_delete(stream)
    return "deleted"


async def remirror(
    old_primary: JetStreamApi,
    new_primary: JetStreamApi,
    request: MirrorRequest,
    mirror_id: uuid.UUID,
    new_domain: str | None,
    cross_domain: bool,
) -> dict[str, Any]:
    """Step 3's second half: the durable consumer on the new primary, then the mirror stream on
    the old primary (each made once). ``request`` names the new primary as the source."""
    source = await new_primary.stream_info(request.source_stream)
    consumer = source_consumer_config(request, mirror_id, source["state"].get("last_seq", 0))
    try:
        await new_primary.consumer_info(request.source_stream, consumer["name"])
    except JetStreamError as exc:
        if not exc.not_found:
            raise
        await new_primary.consumer_create(request.source_stream, consumer)
    existing = await _info(old_primary, request.target_stream)
    if existing is None:
        existing = await old_primary.stream_create(
            mirror_stream_config(request, mirror_id, source["config"], new_domain, cross_domain)
        )
    elif metadata(existing["config"]).get(MIRROR_ID_KEY) != str(mirror_id):
        raise Refused(
            f"a stream '{request.target_stream}' exists on the old primary and is not "
            "the mirror this failover makes"
        )
    return {
        "stream": request.target_stream,
        "mirror_id": str(mirror_id),
        "consumer": consumer["name"],
        "source_last_seq": source["state"].get("last_seq", 0),
    }


async def ensure_fenced(js: JetStreamApi, stream: str, operation_id: str) -> str:
    """Before its data is kept aside, nothing more may be stored in the old stream: ``fenced``
    (now, by this operation), ``already`` (by the failover, or a retry), ``mirror`` (it is a
    mirror: nothing writes to it) or ``gone``."""
    info = await _info(js, stream)
    if info is None:
        return "gone"
    if info["config"].get("mirror"):
        return "mirror"
    if is_fenced(info["config"]):
        return "already"
    await fence(js, stream, operation_id)
    return "fenced"


# ------------------------------------------------------------------------ a reverse alone


async def measure_reverse(
    plan: FailoverPlan, old: JetStreamApi | None, new: JetStreamApi
) -> Measured:
    """Step 1 of a reverse alone; reads only. The problems say why it cannot run: the old
    primary unreachable, or nothing to reverse (a stream there mirrors the new primary already,
    or is gone), or a promoted stream that is not taking writes on the new primary."""
    if old is None:
        measured = summarise(
            [
                StreamMeasure(
                    stream=s.stream, mirror_stream=s.mirror_stream, primary_reachable=False
                )
                for s in plan.streams
            ]
        )
        measured.problems.append(
            f"the old primary '{plan.primary.name}' cannot be reached: the reverse needs it (its "
            "streams' data is kept aside there, and they become mirrors of the new primary); "
            "ask again once it is back"
        )
        return measured
    found = await asyncio.gather(*(_measure_one(plan, old, new, s) for s in plan.streams))
    streams = [m for m, _ in found]
    if plan.cross_domain:
        await asyncio.gather(*(_probe_back(plan, old, m) for m in streams if not m.problems))
    measured = summarise(streams)
    if all(reversed_already for _, reversed_already in found):
        measured.problems.append(
            f"nothing to reverse: every stream on '{plan.primary.name}' mirrors the new primary "
            f"'{plan.target.name}' already"
        )
    return measured


async def _measure_one(
    plan: FailoverPlan, old: JetStreamApi, new: JetStreamApi, s: PlanStream
) -> tuple[StreamMeasure, bool]:
    """The stream's measure, and whether it mirrors the new primary already."""
    m = StreamMeasure(
        stream=s.stream,
        mirror_stream=s.mirror_stream,
        primary_reachable=True,
        lag_messages=0,
        lag_exact=True,
    )  # nothing is lost: the old data is kept
    current = await _info(new, s.mirror_stream)
    if current is None:
        m.problems.append(f"the new primary '{plan.target.name}' has no stream '{s.mirror_stream}'")
    elif current["config"].get("mirror"):
        m.problems.append(
            f"'{s.mirror_stream}' on '{plan.target.name}' is still a mirror: the "
            "pair did not fail over to it"
        )
    else:
        state = current.get("state") or {}
        m.standby_last_seq, m.standby_messages = state.get("last_seq", 0), state.get("messages", 0)
    previous = await _info(old, s.stream)
    if previous is None:
        m.problems.append(
            f"'{s.stream}' is gone from the old primary '{plan.primary.name}': "
            "nothing to reverse there (make its mirror with POST "
            "/api/v1/operations/mirror)"
        )
        return m, False
    state = previous.get("state") or {}
    m.primary_last_seq, m.primary_messages = state.get("last_seq", 0), state.get("messages", 0)
    mirror = previous["config"].get("mirror")
    if mirror:
        api = (mirror.get("external") or {}).get("api")
        expected = api_prefix(plan.target.domain) if plan.cross_domain else None
        if mirror.get("name") == s.mirror_stream and api == expected:
            m.problems.append(
                f"'{s.stream}' on '{plan.primary.name}' mirrors "
                f"'{s.mirror_stream}' of '{plan.target.name}' already: nothing to "
                "reverse"
            )
            return m, True
        m.problems.append(
            f"'{s.stream}' on '{plan.primary.name}' is a mirror of "
            f"'{mirror.get('name')}' through {api or 'its own cluster'}, not the "
            "pair's old stream: it is left alone"
        )
        return m, False
    if not is_fenced(previous["config"]):
        m.warnings.append(
            f"'{s.stream}' on the old primary is not fenced: the reverse fences it "
            "first (publishers there are refused from then on)"
        )
    if m.primary_messages:
        m.warnings.append(
            f"its {m.primary_messages} message(s) are kept aside on "
            f"'{plan.primary.name}' as '{s.stream}_pre_failover_<operation>'"
        )
    return m, False


async def _probe_back(plan: FailoverPlan, old: JetStreamApi, m: StreamMeasure) -> None:
    """The link from the old primary to the new one carries what the mirror needs."""
    found = await probe_link(old.nc, plan.target.domain, m.mirror_stream)
    if not found.ok:
        m.problems.append(
            f"the link from the old primary to the new one cannot carry the mirror: {found.reason}"
        )
