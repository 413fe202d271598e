"""Measures of a change request that triggers, conditions and risk notes share (pure)."""

from __future__ import annotations

from typing import Any

from core.policy.models import GB, ChangeRequest

STORAGE_QUOTA = "storage_bytes"
STORED_KINDS = ("stream", "kv_bucket", "object_store", "mirror")  # a mirror is a stream
LIMIT_FIELDS = (
    "max_bytes",
    "max_msgs",
    "max_age",
    "max_msg_size",
    "max_msgs_per_subject",
    "max_consumers",
    "max_bytes_per_subject",
    "max_ack_pending",
    "max_deliver",
)
"""Config fields counted as limits by "change under N% of current limits"."""


def max_bytes(config: dict[str, Any] | None) -> int | None:
    """The config's ``max_bytes``; None when missing or unlimited (-1, 0)."""
    value = (config or {}).get("max_bytes")
    return int(value) if isinstance(value, (int, float)) and value > 0 else None


def created_streams(request: ChangeRequest) -> list[dict[str, Any]]:
    """The stream configs a change adds: its config, or for a mirror change (its ``after`` is a
    mirror job, ``{"mirrors": [...]}``) each mirror's ``overrides`` (the limits it sets; a limit
    it does not set counts as unbounded, as for a stream without one)."""
    after = request.after or {}
    if request.kind == "mirror":
        return [m.get("overrides") or {} for m in after.get("mirrors") or [] if isinstance(m, dict)]
    return [after]


def sum_max_bytes(configs: list[dict[str, Any]]) -> int | None:
    """The ``max_bytes`` of all of them; None when any is unbounded."""
    sizes = [max_bytes(c) for c in configs]
    return None if any(s is None for s in sizes) else sum(s or 0 for s in sizes)


def replicas(config: dict[str, Any] | None) -> int:
    value = (config or {}).get("num_replicas", (config or {}).get("replicas", 1))
    return int(value) if isinstance(value, (int, float)) else 1


def storage_increase(request: ChangeRequest) -> int:
    """Bytes of storage the change adds (negative when it frees some): a storage quota request's
    requested minus current limit, or the ``max_bytes`` a stream, bucket or store adds."""
    if request.kind == "quota":
        if (
            request.quota_resource == STORAGE_QUOTA
            and request.requested_limit is not None
            and request.current_limit is not None
        ):  # from unlimited: no storage is added
            return int(request.requested_limit - request.current_limit)
        return 0
    if request.kind not in STORED_KINDS:
        return 0
    before, after = max_bytes(request.before), max_bytes(request.after)
    if request.operation == "create":
        return sum(max_bytes(c) or 0 for c in created_streams(request))
    if request.operation == "update":
        return (after or 0) - (before or 0) if before and after else 0
    if request.operation == "delete":
        return -(before or 0)
    return 0


def monthly_cost(request: ChangeRequest, price_per_gb: float) -> float:
    """Monthly cost of the storage increase at ``price_per_gb`` per GB-month."""
    return round(storage_increase(request) / GB * price_per_gb, 2)


def quota_multiplier_above(request: ChangeRequest, threshold: float) -> bool:
    """Whether a quota request asks for more than ``threshold`` times its current limit: any raise
    from a limit of zero does; a request from an unlimited limit (None) does not (it is no
    raise)."""
    if request.kind != "quota" or request.requested_limit is None or request.current_limit is None:
        return False
    if request.current_limit == 0:
        return request.requested_limit > 0
    return request.requested_limit / request.current_limit > threshold


def replicas_changed(request: ChangeRequest) -> bool:
    return (
        request.operation == "update"
        and request.before is not None
        and request.after is not None
        and replicas(request.before) != replicas(request.after)
    )


def change_pct(request: ChangeRequest) -> float | None:
    """The largest relative change, in percent, of the current limits; None when the change is not
    a change of limits (a create, a delete, or an update that touches any other field)."""
    if request.kind == "quota":
        if request.requested_limit is None or not request.current_limit:
            return None
        return abs(request.requested_limit - request.current_limit) / request.current_limit * 100
    if request.operation != "update" or request.before is None or request.after is None:
        return None
    keys = set(request.before) | set(request.after)
    changed = [k for k in keys if request.before.get(k) != request.after.get(k)]
    if not changed or any(k not in LIMIT_FIELDS for k in changed):
        return None
    worst = 0.0
    for key in changed:
        old, new = request.before.get(key), request.after.get(key)
        if not isinstance(old, (int, float)) or not isinstance(new, (int, float)) or old <= 0:
            return None
        worst = max(worst, abs(new - old) / old * 100)
    return worst


def governing_name(request: ChangeRequest) -> str:
    """The name a team's namespace must cover: the stream of a consumer, else the resource."""
    return request.stream_name or request.resource_name


def inside_namespace(request: ChangeRequest) -> bool:
    name = governing_name(request)
    return any(name.startswith(prefix) for prefix in request.team_prefixes if prefix)


def fmt_bytes(value: float) -> str:
    return f"{round(value / GB, 1):g} GB"
