"""Team quotas: what a change adds to the team's usage, and which limits it would exceed (pure).

Quota names: ``streams``, ``consumers``, ``storage_bytes`` (sum of ``max_bytes`` of the team's
streams), ``messages``, ``max_msg_size``, ``max_replicas``, ``inbound_rate``, ``outbound_rate``.
KV buckets and object stores are streams in JetStream and count as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.policy.measures import (
    STORAGE_QUOTA,
    STORED_KINDS,
    created_streams,
    max_bytes,
    replicas,
    sum_max_bytes,
)
from core.policy.models import ChangeRequest, QuotaViolation

CEILINGS = ("max_msg_size", "max_replicas")
"""Quotas that cap one resource's setting rather than a sum: the change's value is compared."""


def impact(request: ChangeRequest) -> dict[str, float | None]:
    """Per quota: the change's delta to usage (sums) or its value (ceilings). A None delta of
    ``storage_bytes`` means the new stream has no ``max_bytes`` (unbounded)."""
    out: dict[str, float | None] = {}
    op = request.operation
    if request.kind in STORED_KINDS:
        if op == "create":
            created = created_streams(request)
            out["streams"] = len(created)
            out[STORAGE_QUOTA] = sum_max_bytes(created)
            if request.after is not None:
                out["max_replicas"] = max((replicas(c) for c in created), default=1)
        elif op == "update":
            after = max_bytes(request.after)
            out[STORAGE_QUOTA] = None if after is None else after - (max_bytes(request.before) or 0)
        elif op == "delete":
            out["streams"] = -1
            out[STORAGE_QUOTA] = -(max_bytes(request.before) or 0)
        if op == "update" and request.after is not None:
            out["max_replicas"] = replicas(request.after)
        if op in ("create", "update") and request.after is not None:
            size = request.after.get("max_msg_size")
            if isinstance(size, (int, float)) and size > 0:
                out["max_msg_size"] = size
    elif request.kind == "consumer" and op in ("create", "delete"):
        out["consumers"] = 1 if op == "create" else -1
    return out


def quota_check(
    usage: Mapping[str, float],
    quota: Mapping[str, float],
    change: ChangeRequest | Mapping[str, Any],
) -> list[QuotaViolation]:
    """The quotas the change would exceed, sorted by quota name. ``change`` is a change request or
    its ``impact``. A quota without a limit (missing or negative) is unlimited; a change that lowers
    usage never violates, even when the team is already over."""
    deltas = impact(change) if isinstance(change, ChangeRequest) else dict(change)
    out = []
    for name in sorted(deltas):
        limit = quota.get(name)
        if limit is None or limit < 0:
            continue
        used = float(usage.get(name, 0))
        delta = deltas[name]
        if name in CEILINGS:
            if delta is not None and delta > limit:
                out.append(QuotaViolation(quota=name, usage=used, limit=limit, would_be=delta))
        elif delta is None:
            out.append(QuotaViolation(quota=name, usage=used, limit=limit, would_be=None))
        elif delta > 0 and used + delta > limit:
            out.append(QuotaViolation(quota=name, usage=used, limit=limit, would_be=used + delta))
    return out
