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
"""

from __future__ import annotations

import uuid
from typing import Any

from core.jetstream.api import JetStreamApi, JetStreamError
from core.replication.failover import PROMOTED_BY_KEY, Refused, metadata
from core.replication.mirrors import (MIRROR_ID_KEY, mirror_stream_config, source_consumer_config)
from core.replication.models import MirrorRequest

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


async def keep_aside(js: JetStreamApi, stream: str, kept: str,
                     operation_id: str) -> dict[str, Any]:
    """Steps 1-2 for one stream, as far as they can go now: ``{"kept": bool, ...}``; call again
    until ``kept`` (a retry finds the copy made, or promoted, already)."""
    copy = await _info(js, kept)
    old = await _info(js, stream)
    if copy is not None and not copy["config"].get("mirror"):
        return {"kept": True, "stream": kept, "messages": copy["state"].get("messages", 0)}
    if old is None:
        raise Refused(f"'{stream}' is gone from the old primary and no copy of it was kept")
    if copy is None:
        copy = await js.stream_create({
            "name": kept, "mirror": {"name": stream}, "retention": "limits",
            "storage": old["config"].get("storage", "file"),
            "num_replicas": old["config"].get("num_replicas", 1),
            "description": f"{stream} as it stood before failover {operation_id}, kept aside",
            "metadata": {KEPT_KEY: stream, "jsc.kept_by": operation_id}})
        copy = await js.stream_info(kept)
    if not _holds(copy, old):
        return {"kept": False, "stream": kept, "messages": copy["state"].get("messages", 0),
                "of": old["state"].get("messages", 0)}
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


async def remirror(old_primary: JetStreamApi, new_primary: JetStreamApi, request: MirrorRequest,
                   mirror_id: uuid.UUID, new_domain: str | None,
                   cross_domain: bool) -> dict[str, Any]:
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
        existing = await old_primary.stream_create(mirror_stream_config(
            request, mirror_id, source["config"], new_domain, cross_domain))
    elif metadata(existing["config"]).get(MIRROR_ID_KEY) != str(mirror_id):
        raise Refused(f"a stream '{request.target_stream}' exists on the old primary and is not "
                      "the mirror this failover makes")
    return {"stream": request.target_stream, "mirror_id": str(mirror_id),
            "consumer": consumer["name"], "source_last_seq": source["state"].get("last_seq", 0)}
