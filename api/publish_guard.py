"""Headers that make a publish remove data, and what they need.

A message published with ``Nats-Rollup: all`` (or ``sub``) to a stream that allows roll-ups
removes every earlier message of the stream (or of its subject): that is a purge, so it needs
``streams:purge`` on the stream and passes the change gate as a purge; where policy would make a
purge wait for approval (production), the publish is refused with a ``403`` that points at
``POST .../purge``, which opens the request. ``KV-Operation`` (``DEL``, ``PURGE``) turns a message
into a key's deletion: it is refused with a ``422`` that points at the KV routes, which check and
audit deleting keys themselves. Header names are compared without regard to case.

Message schedules (a stream with ``allow_msg_schedules``, which the server pairs with roll-ups) give
two more ways to remove messages, treated the same as ``Nats-Rollup``: ``Nats-Schedule-Rollup: sub``
rolls the schedule's target subject up each time it fires (a past ``@at`` fires at once), and
``Nats-Schedule-Next: purge`` (with ``Nats-Scheduler``, headers the server itself puts on the
messages a schedule publishes) removes the schedule it names. A schedule without them stays a
plain publish.
"""

from __future__ import annotations

import uuid

from fastapi import Request

from api.change_gate import judge_change
from api.deps import Db, Principal, Svc, authorize_stream, deny
from api.errors import ProblemError
from core.changes.models import ChangeSpec
from core.db.models import NatsCluster

# Headers that make a publish remove messages already stored, most telling first.
PURGING = ("nats-rollup", "nats-schedule-rollup", "nats-schedule-next")
KV_OPERATION = "kv-operation"


def _find(headers: dict[str, str], wanted: str) -> tuple[str, str] | None:
    return next(((k, v) for k, v in headers.items() if k.lower() == wanted), None)


def refuse_kv_operation(headers: dict[str, str], cluster_id: uuid.UUID) -> None:
    if found := _find(headers, KV_OPERATION):
        name = found[0]
        raise ProblemError(
            422,
            f"Invalid input: headers.{name}: a KV-Operation header deletes or purges a key; "
            f"use DELETE /api/v1/clusters/{cluster_id}/kv/{{bucket}}/keys/{{key}} "
            "(?purge=true to drop its history) instead.",
            errors=[
                {
                    "field": f"headers.{name}",
                    "message": "not accepted on a publish: delete keys through the KV routes",
                }
            ],
        )


async def check_rollup(
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal,
    cluster: NatsCluster,
    stream: str,
    headers: dict[str, str],
) -> str | None:
    """None without a header that removes messages (``PURGING``); else ``"name: value"``, once
    the caller may purge the stream and policy lets the purge through now. 403 (audited)
    otherwise."""
    found = next(filter(None, (_find(headers, wanted) for wanted in PURGING)), None)
    if found is None:
        return None
    name, value = found
    if not principal.scopes("streams:purge"):
        await deny(
            request,
            principal,
            "streams:purge",
            f"A '{name}: {value}' header removes messages already in the stream, like a "
            f"purge; your {'API key' if principal.api_key_id else 'role'} "
            f"'{principal.role}' does not allow purge on streams.",
        )
    if "*" not in principal.scopes("streams:purge"):
        await authorize_stream(request, principal, "streams:purge", cluster.id, stream)
    spec = ChangeSpec(kind="purge", operation="purge", cluster_id=cluster.id, name=stream, purge={})
    _, decision, _, environment = await judge_change(
        db, svc, principal, cluster, spec, permission="streams:purge"
    )
    if decision.outcome == "auto_rejected":
        await deny(request, principal, "streams:purge", " ".join(decision.reasons))
    if decision.outcome != "auto_approved":
        await deny(
            request,
            principal,
            "streams:purge",
            f"A '{name}: {value}' header removes messages already in the stream, like a "
            f"purge, and a purge of '{stream}' in {environment} needs approval: purge "
            f"with POST /api/v1/clusters/{cluster.id}/streams/{stream}/purge (which "
            "opens the request), or publish without the header.",
        )
    return f"{name}: {value}"
