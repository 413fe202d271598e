"""Who may read which real-time channel, and what each live message becomes for a client.

``authorize`` checks a connection's channels before anything streams (the same for SSE and the
WebSocket):
- the name is one of ``core.live.subjects``' forms, else 422 naming it;
- a cluster, stream or consumer channel: the cluster is the organization's (404 otherwise, so
  nothing of another tenant is confirmed), and ``clusters:read`` (a cluster channel) or
  ``streams:read`` (+ ``consumers:read`` for a consumer) covers it: scope ``*``,
  ``cluster:{id}``, or ``team`` where the stream is in the caller's teams' namespaces (403,
  audited, otherwise);
- ``alerts`` needs ``alerts:read``; ``operations`` and ``operations:{id}`` need
  ``operations:read``, and the operation must be the organization's (404);
- ``metrics`` (the organization's every sample) needs ``clusters:read`` or ``streams:read`` in
  some scope; each sample is then filtered by what the caller may read (``Scope``).

``events_of`` turns one live message into the events a client gets: its type, the channel that
asked for it, and its data (a consumer channel gets the stream sample cut to that consumer).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from api.deps import Principal, deny
from api.errors import ProblemError
from api.services import Services
from core import namespaces
from core.db.models import NatsCluster
from core.live.reader import LiveMessage, subject_matches
from core.live.subjects import PREFIX, Channel, ChannelError, parse_channel
from core.operations import get_operation
from core.rbac import allows


@dataclass(frozen=True)
class Event:
    type: str  # cluster_metrics | stream_metrics | consumer_metrics | alert | operation
    channel: str
    seq: int
    data: Any
    about: dict[str, str] = field(default_factory=dict)  # cluster_id, stream_name, ...


class Scope:
    """What of the organization's metrics the principal may read, per cluster (cached)."""

    def __init__(self, services: Services, principal: Principal):
        self.services, self.principal = services, principal
        self._prefixes: dict[tuple[str, str], list[str] | None] = {}

    def cluster(self, cluster_id: str) -> bool:
        return allows(self.principal.permissions, "clusters:read", f"cluster:{cluster_id}")

    async def prefixes(self, permission: str, cluster_id: str) -> list[str] | None:
        key = (permission, cluster_id)
        if key not in self._prefixes:
            async with self.services.sessions() as db:
                self._prefixes[key] = await namespaces.prefixes_in_scope(
                    db,
                    org_id=self.principal.org_id,
                    user_id=self.principal.user_id,
                    scopes=self.principal.scopes(permission),
                    cluster_id=uuid.UUID(cluster_id),
                )
        return self._prefixes[key]

    async def stream(self, cluster_id: str, stream: str, permission: str = "streams:read") -> bool:
        return namespaces.covers(await self.prefixes(permission, cluster_id), stream)


def _invalid(message: str) -> ProblemError:
    return ProblemError(
        422,
        f"Invalid input: channels: {message}",
        errors=[{"field": "channels", "message": message}],
    )


def parse(principal: Principal, names: list[str]) -> list[Channel]:
    """The channels named (duplicates once); a 422 naming the first bad one."""
    if not names:
        raise _invalid("name at least one channel.")
    if len(names) > 100:
        raise _invalid("at most 100 channels a connection.")
    out: dict[str, Channel] = {}
    for name in names:
        try:
            out.setdefault(name, parse_channel(principal.org_id, name.strip()))
        except ChannelError as exc:
            raise _invalid(str(exc)) from None
    return list(out.values())


async def _cluster_of_org(services: Services, principal: Principal, cluster_id: str) -> None:
    async with services.sessions() as db:
        cluster = await db.get(NatsCluster, uuid.UUID(cluster_id))
    if cluster is None or cluster.org_id != principal.org_id:
        raise ProblemError(404, f"No cluster with id {cluster_id} in your organization.")


async def _need(
    conn: Any, principal: Principal, permission: str, allowed: bool, detail: str
) -> None:
    if not allowed:
        await deny(conn, principal, permission, detail)


async def authorize(
    conn: Any, services: Services, principal: Principal, channels: list[Channel], scope: Scope
) -> None:
    """Raise the 404/403 of the first channel the principal may not read (403s audited)."""
    role = f"your role '{principal.role}'"
    for ch in channels:
        head = ch.name.split(":")[0]
        if ch.cluster is not None:
            await _cluster_of_org(services, principal, ch.cluster)
            if ch.stream is None:
                await _need(
                    conn,
                    principal,
                    "clusters:read",
                    scope.cluster(ch.cluster),
                    f"'{ch.name}': {role} does not allow reading this cluster.",
                )
                continue
            for permission in ("streams:read",) + (("consumers:read",) if ch.consumer else ()):
                await _need(
                    conn,
                    principal,
                    permission,
                    await scope.stream(ch.cluster, ch.stream, permission),
                    f"'{ch.name}': {role} does not allow {permission.split(':')[1]} "
                    f"on {permission.split(':')[0]} of '{ch.stream}' on this cluster "
                    "(outside your teams' namespaces).",
                )
        elif head == "metrics":
            await _need(
                conn,
                principal,
                "clusters:read",
                bool(principal.scopes("clusters:read") or principal.scopes("streams:read")),
                f"'metrics': {role} allows reading no cluster and no stream.",
            )
        elif head == "alerts":
            await _need(
                conn,
                principal,
                "alerts:read",
                principal.can("alerts:read"),
                f"'alerts': {role} does not allow reading alerts.",
            )
        else:
            await _need(
                conn,
                principal,
                "operations:read",
                principal.can("operations:read"),
                f"'{ch.name}': {role} does not allow reading operations.",
            )
            operation_id = ch.filter.rsplit(".", 1)[1]
            if operation_id != "*":
                async with services.sessions() as db:
                    found = await get_operation(db, principal.org_id, uuid.UUID(operation_id))
                if found is None:
                    raise ProblemError(
                        404, f"No operation with id {operation_id} in your organization."
                    )


def _about(tokens: list[str]) -> tuple[str, dict[str, str]]:
    """The event type and identifiers of a subject's tokens after ``jsc.live.{org}``."""
    if tokens[:2] == ["metrics", "cluster"]:
        return "cluster_metrics", {"cluster_id": tokens[2]}
    if tokens[:2] == ["metrics", "stream"]:
        return "stream_metrics", {"cluster_id": tokens[2], "stream_name": tokens[3]}
    if tokens[0] == "alerts":
        return "alert", {}
    return "operation", {"operation_id": tokens[1]}


def _consumer_cut(data: Any, consumer: str) -> dict | None:
    if not isinstance(data, dict):
        return None
    found = [c for c in data.get("consumers") or () if c.get("name") == consumer]
    if not found:
        return None
    cut = {k: v for k, v in data.items() if k != "consumers"}
    return {**cut, "consumer": found[0]}


async def events_of(msg: LiveMessage, channels: list[Channel], scope: Scope) -> list[Event]:
    """The events of ``msg`` for these channels (one per channel that wants it)."""
    tokens = msg.subject.split(".")[len(PREFIX.split(".")) + 1 :]
    kind, about = _about(tokens)
    try:
        data = json.loads(msg.data)
    except ValueError:
        return []
    out = []
    for ch in channels:
        if not subject_matches(ch.filter, msg.subject):
            continue
        if ch.name == "metrics":  # the organization's every sample: what the caller may read
            cid = about["cluster_id"]
            if kind == "cluster_metrics" and not scope.cluster(cid):
                continue
            if kind == "stream_metrics" and not await scope.stream(cid, about["stream_name"]):
                continue
        if ch.consumer is not None:
            cut = _consumer_cut(data, ch.consumer)
            if cut is not None:
                out.append(
                    Event(
                        "consumer_metrics",
                        ch.name,
                        msg.seq,
                        cut,
                        {**about, "consumer_name": ch.consumer},
                    )
                )
            continue
        out.append(Event(kind, ch.name, msg.seq, data, about))
    return out
