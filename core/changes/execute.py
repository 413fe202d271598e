"""Applying a change to a cluster: the one function behind the API's direct path and the
``apply_change`` activity that runs after an approval.

Every branch is safe to run again: JetStream accepts a create with an identical config and an
update to the same config; a delete of what is already gone counts as done. A purge is fixed to
a concrete upper sequence when it is decided (``fixed_purge``): run again after a crash, or long
after an approval, it removes nothing stored since the decision.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from core.changes.models import ChangeSpec
from core.jetstream.api import JetStreamApi, JetStreamError
from core.jetstream.buckets import BucketKind
from core.jetstream.kv import KV
from core.jetstream.objects import OBJECT_STORES

BUCKET_KINDS: dict[str, BucketKind] = {"kv_bucket": KV, "object_store": OBJECT_STORES}

T = TypeVar("T")


def fixed_purge(purge: dict[str, Any], last_seq: int) -> dict[str, Any]:
    """The purge as decided now: "everything (matching)" becomes "everything (matching) below
    ``last_seq + 1``". A ``seq`` is fixed already; ``keep`` (the newest N) is kept as asked."""
    if purge.get("seq") is not None or purge.get("keep") is not None:
        return dict(purge)
    return {**purge, "seq": int(last_seq) + 1}


async def _gone_ok(call: Awaitable[Any]) -> None:
    try:
        await call
    except JetStreamError as exc:
        if not exc.not_found:
            raise


def _given(value: T | None, field: str) -> T:
    """A field the change's validation requires for its kind and operation."""
    if value is None:
        raise ValueError(f"the change has no {field}")
    return value


async def apply_change(js: JetStreamApi, spec: ChangeSpec) -> dict[str, Any]:
    """Apply a stream, consumer, bucket, store or purge change; answer what JetStream answered."""
    kind, op = spec.kind, spec.operation
    if kind == "stream":
        if op == "create":
            return await js.stream_create(_given(spec.config, "config"))
        if op == "update":
            return await js.stream_update(_given(spec.config, "config"))
        if op == "delete":
            await _gone_ok(js.stream_delete(spec.name))
            return {"deleted": spec.name}
    if kind == "purge":
        return {"purged": await js.stream_purge(spec.name, spec.purge or {})}
    if kind == "consumer":
        if op in ("create", "update"):
            return await js.consumer_create(
                _given(spec.stream, "stream"), _given(spec.config, "config"), action=op
            )
        if op == "delete":
            await _gone_ok(js.consumer_delete(_given(spec.stream, "stream"), spec.name))
            return {"deleted": spec.name}
    if bucket_kind := BUCKET_KINDS.get(kind):
        if op == "create":
            return await bucket_kind.create(js, bucket_kind.config.model_validate(spec.config))
        if op == "update":  # a bucket's settings are its stream's
            return await js.stream_update(
                bucket_kind.config.model_validate(spec.config).stream_config()
            )
        if op == "delete":
            await _gone_ok(bucket_kind.delete(js, spec.name))
            return {"deleted": spec.name}
    raise ValueError(f"no way to apply {op} of a {kind}")
