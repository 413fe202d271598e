"""Creating and removing a console mirror, safe to run again at any point.

Creating: the durable consumer on the source first, then the mirror stream on the target (a
mirror stream whose consumer does not exist yet would start without it). A retried attempt finds
what the previous one made, by name (the consumer is named after the mirror's id) and by the
mirror id in the stream's metadata, and continues from there; a stream of that name that is not
this mirror is a refusal. If the target refuses the stream, the consumer just made is removed
again, so a refusal leaves nothing behind.

Removing: the mirror stream first (so nothing reads the consumer any more), then the consumer;
what is already gone counts as removed. A stream of that name that is not this mirror (made after
the mirror was removed) is left alone.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any

from core.jetstream.api import JetStreamApi, JetStreamError
from core.replication.mirrors import (
    MIRROR_ID_KEY,
    consumer_name,
    mirror_stream_config,
    source_consumer_config,
)
from core.replication.steps import MirrorPlan


class MirrorRefused(Exception):
    """Something no retry can fix: a name taken, a source gone, a config the server refuses."""


def mirror_id_of(info: dict[str, Any]) -> str | None:
    return ((info.get("config") or info).get("metadata") or {}).get(MIRROR_ID_KEY)


async def _info(call: Awaitable[dict[str, Any]]) -> dict[str, Any] | None:
    try:
        return await call
    except JetStreamError as exc:
        if exc.not_found:
            return None
        raise


async def ensure_consumer(source: JetStreamApi, plan: MirrorPlan) -> dict[str, Any]:
    request = plan.request
    name = consumer_name(plan.mirror_id)
    if (found := await _info(source.consumer_info(request.source_stream, name))) is not None:
        return found
    if await _info(source.stream_info(request.source_stream)) is None:
        raise MirrorRefused(f"the source stream '{request.source_stream}' no longer exists")
    config = source_consumer_config(request, plan.mirror_id, plan.source_last_seq)
    try:
        return await source.consumer_create(request.source_stream, config)
    except JetStreamError as exc:
        raise MirrorRefused(f"the source refused the mirror's consumer: {exc.description}") from exc


async def ensure_stream(
    source: JetStreamApi, target: JetStreamApi, plan: MirrorPlan
) -> dict[str, Any]:
    request = plan.request
    if (found := await _info(target.stream_info(request.target_stream))) is not None:
        if mirror_id_of(found) == plan.mirror_id:
            return found
        raise MirrorRefused(
            f"the stream '{request.target_stream}' already exists on the target "
            "and is not this mirror"
        )
    source_info = await _info(source.stream_info(request.source_stream))
    if source_info is None:
        raise MirrorRefused(f"the source stream '{request.source_stream}' no longer exists")
    config = mirror_stream_config(
        request, plan.mirror_id, source_info["config"], plan.source_domain, plan.cross_domain
    )
    try:
        return await target.stream_create(config)
    except JetStreamError as exc:
        raise MirrorRefused(f"the target refused the mirror stream: {exc.description}") from exc


async def create_mirror(
    source: JetStreamApi, target: JetStreamApi, plan: MirrorPlan
) -> dict[str, Any]:
    """Consumer, then stream; the stream's info. A refused stream takes its consumer back."""
    await ensure_consumer(source, plan)
    try:
        return await ensure_stream(source, target, plan)
    except MirrorRefused:
        await remove_consumer(source, plan.request.source_stream, consumer_name(plan.mirror_id))
        raise


def created_epoch(info: dict[str, Any]) -> float | None:
    """When the stream was created (``created`` of its info), in epoch seconds."""
    text = info.get("created")
    if not text:
        return None
    head, _, fraction = text.rstrip("Z").partition(".")
    try:
        moment = datetime.fromisoformat(head + "+00:00")
    except ValueError:
        return None
    return moment.timestamp() + (float(f"0.{fraction}") if fraction.isdigit() else 0.0)


async def remove_stream(target: JetStreamApi, stream: str, mirror_id: str) -> bool:
    """Delete the mirror stream if it is still this mirror; whether one was deleted."""
    found = await _info(target.stream_info(stream))
    if found is None or mirror_id_of(found) != mirror_id:
        return False
    try:
        await target.stream_delete(stream)
    except JetStreamError as exc:
        if not exc.not_found:
            raise
    return True


async def remove_consumer(source: JetStreamApi, stream: str, consumer: str) -> None:
    try:
        await source.consumer_delete(stream, consumer)
    except JetStreamError as exc:
        if not exc.not_found:
            raise
