"""Replication and disaster recovery: mirrors (create as an operation, list, pause, resume,
remove), DR pairs (which streams of a primary are protected by which mirrors on a standby, with
their RPO and RTO), the replication map (``GET /replication``: every mirror and source found, with
its lag and status) and failover (an operation, or a drill).

Starting a mirror or a failover answers ``202`` with the operation, or, when the change gate
sends it for approval, with a :class:`~ui.client.approvals.RequestSubmitted`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from ui.client.approvals import RequestSubmitted, submitted
from ui.client.base import BaseClient, _items, _seg
from ui.client.operations import OperationStarted

MirrorState = Literal["creating", "active", "paused", "promoted", "removed", "failed"]
EdgeStatus = Literal["in_sync", "behind", "stalled", "broken_link", "paused", "error", "unknown"]
EDGE_STATUSES: tuple[str, ...] = (
    "in_sync",
    "behind",
    "stalled",
    "broken_link",
    "paused",
    "error",
    "unknown",
)
FailoverMode = Literal["planned", "emergency"]


# --------------------------------------------------------------------------- mirrors


class SubjectTransformSpec(TypedDict):
    src: str
    dest: str


class MirrorOverridesSpec(TypedDict, total=False):
    num_replicas: int
    storage: Literal["file", "memory"]
    max_bytes: int
    max_age: int | str


class MirrorSpec(TypedDict, total=False):
    """The body of ``POST /operations/mirror``. ``start`` is ``"all"``, ``"new"``,
    ``{"seq": N}`` or ``{"time": iso}``."""

    source_cluster_id: str
    source_stream: str
    target_cluster_id: str
    target_stream: str
    filter_subjects: list[str]
    subject_transforms: list[SubjectTransformSpec]
    start: str | dict[str, Any]
    overrides: MirrorOverridesSpec
    description: str


@dataclass(frozen=True)
class Mirror:
    id: str
    source_cluster_id: str
    source_stream: str
    target_cluster_id: str
    target_stream: str
    state: str
    filter_subjects: tuple[str, ...]
    subject_transforms: tuple[dict[str, str], ...]
    start: Any
    overrides: dict[str, Any]
    pair_id: str | None
    operation_id: str | None
    consumer_name: str | None
    created_at: str | None
    updated_at: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Mirror:
        return cls(
            str(data["id"]),
            str(data.get("source_cluster_id") or ""),
            str(data.get("source_stream") or ""),
            str(data.get("target_cluster_id") or ""),
            str(data.get("target_stream") or ""),
            str(data.get("state") or ""),
            tuple(data.get("filter_subjects") or ()),
            tuple(dict(t) for t in data.get("subject_transforms") or ()),
            data.get("start", "all"),
            dict(data.get("overrides") or {}),
            _opt(data.get("pair_id")),
            _opt(data.get("operation_id")),
            data.get("consumer_name"),
            data.get("created_at"),
            data.get("updated_at"),
        )

    @property
    def can_pause(self) -> bool:
        return self.state == "active"

    @property
    def can_resume(self) -> bool:
        return self.state == "paused"


@dataclass(frozen=True)
class MirrorStarted(OperationStarted):
    """``202`` of ``POST /operations/mirror``: the operation and the mirror it makes."""

    mirror_id: str | None = None


# --------------------------------------------------------------------------- DR pairs


class PairStreamSpec(TypedDict, total=False):
    stream: str
    mirror_stream: str


class DrPairSpec(TypedDict, total=False):
    """The body of ``POST /dr/pairs`` (``PATCH`` takes description, objectives and streams)."""

    name: str
    description: str
    primary_cluster_id: str
    standby_cluster_id: str
    streams: list[PairStreamSpec]
    rpo_seconds: float
    rto_seconds: float
    create_missing_mirrors: bool


@dataclass(frozen=True)
class PairStream:
    stream: str
    mirror_stream: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PairStream:
        stream = str(data.get("stream") or "")
        return cls(stream, str(data.get("mirror_stream") or stream))


@dataclass(frozen=True)
class DrillResult:
    """What the last drill (or failover) measured: ``{operation_id, at, rto_s, rpo_messages,
    ok}``."""

    operation_id: str | None
    at: str | None
    rto_s: float | None
    rpo_messages: int | None
    ok: bool | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> DrillResult | None:
        if not data:
            return None
        rto, rpo = data.get("rto_s"), data.get("rpo_messages", data.get("data_loss_messages"))
        return cls(
            _opt(data.get("operation_id")),
            data.get("at"),
            None if rto is None else float(rto),
            None if rpo is None else int(rpo),
            data.get("ok"),
        )


@dataclass(frozen=True)
class DrPair:
    id: str
    name: str
    description: str
    primary_cluster_id: str
    standby_cluster_id: str
    active_cluster_id: str
    streams: tuple[PairStream, ...]
    rpo_seconds: float
    rto_seconds: float
    last_drill: DrillResult | None
    last_failover: DrillResult | None
    created_at: str | None
    updated_at: str | None
    operation_id: str | None = None  # on create: the operation making the missing mirrors
    missing_mirrors: tuple[str, ...] = ()  # on create: the standby streams it makes
    approval: RequestSubmitted | None = None  # on create: when making them waits for approval

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DrPair:
        primary = str(data.get("primary_cluster_id") or "")
        return cls(
            str(data["id"]),
            str(data.get("name") or ""),
            data.get("description") or "",
            primary,
            str(data.get("standby_cluster_id") or ""),
            str(data.get("active_cluster_id") or primary),
            tuple(PairStream.from_json(s) for s in data.get("streams") or ()),
            float(data.get("rpo_seconds") or 0),
            float(data.get("rto_seconds") or 0),
            DrillResult.from_json(data.get("last_drill")),
            DrillResult.from_json(data.get("last_failover")),
            data.get("created_at"),
            data.get("updated_at"),
            _opt(data.get("operation_id")),
            tuple(str(m) for m in data.get("missing_mirrors") or ()),
            submitted(data.get("approval")),
        )

    @property
    def passive_cluster_id(self) -> str:
        """The side that is not active now: where a failover goes."""
        return (
            self.standby_cluster_id
            if self.active_cluster_id != self.standby_cluster_id
            else self.primary_cluster_id
        )


# --------------------------------------------------------------------------- the map


@dataclass(frozen=True)
class MapCluster:
    id: str
    name: str
    environment: str
    jetstream_domain: str | None
    reachable: bool
    error: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MapCluster:
        return cls(
            str(data["id"]),
            str(data.get("name") or ""),
            str(data.get("environment") or ""),
            data.get("jetstream_domain"),
            bool(data.get("reachable")),
            data.get("error"),
        )


@dataclass(frozen=True)
class ReplicationEdge:
    """One mirror or source: ``source_stream`` (on a cluster, or only a domain when the source
    is not registered) replicated into ``target_stream``."""

    kind: str
    source_cluster_id: str | None
    source_domain: str | None
    source_stream: str
    target_cluster_id: str
    target_stream: str
    managed: bool
    mirror_id: str | None
    pair_id: str | None
    filter_subjects: tuple[str, ...]
    lag_messages: int | None
    lag_seconds: float | None
    catch_up_rate_per_s: float | None
    status: str
    error: str | None
    source_last_seq: int | None
    target_last_seq: int | None
    measured_at: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReplicationEdge:
        return cls(
            str(data.get("kind") or "mirror"),
            _opt(data.get("source_cluster_id")),
            data.get("source_domain"),
            str(data.get("source_stream") or ""),
            str(data.get("target_cluster_id") or ""),
            str(data.get("target_stream") or ""),
            bool(data.get("managed")),
            _opt(data.get("mirror_id")),
            _opt(data.get("pair_id")),
            tuple(data.get("filter_subjects") or ()),
            _int(data.get("lag_messages")),
            _float(data.get("lag_seconds")),
            _float(data.get("catch_up_rate_per_s")),
            str(data.get("status") or "unknown"),
            data.get("error"),
            _int(data.get("source_last_seq")),
            _int(data.get("target_last_seq")),
            data.get("measured_at"),
        )


@dataclass(frozen=True)
class PairStreamHealth:
    """One stream of a pair as the map measured it."""

    stream: str
    mirror_stream: str
    status: str
    lag_messages: int | None
    lag_seconds: float | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PairStreamHealth:
        stream = str(data.get("stream") or "")
        return cls(
            stream,
            str(data.get("mirror_stream") or stream),
            str(data.get("status") or "unknown"),
            _int(data.get("lag_messages")),
            _float(data.get("lag_seconds")),
        )


@dataclass(frozen=True)
class PairHealth:
    """A DR pair as the map sees it now: does the RPO hold, how much would a failover lose."""

    id: str
    name: str
    primary_cluster_id: str
    standby_cluster_id: str
    active_cluster_id: str
    rpo_seconds: float
    rto_seconds: float
    rpo_ok: bool | None
    data_at_risk_messages: int | None
    worst_lag_seconds: float | None
    last_drill: DrillResult | None
    streams: tuple[PairStreamHealth, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PairHealth:
        primary = str(data.get("primary_cluster_id") or "")
        return cls(
            str(data["id"]),
            str(data.get("name") or ""),
            primary,
            str(data.get("standby_cluster_id") or ""),
            str(data.get("active_cluster_id") or primary),
            float(data.get("rpo_seconds") or 0),
            float(data.get("rto_seconds") or 0),
            data.get("rpo_ok"),
            _int(data.get("data_at_risk_messages")),
            _float(data.get("worst_lag_seconds")),
            DrillResult.from_json(data.get("last_drill")),
            tuple(PairStreamHealth.from_json(s) for s in data.get("streams") or ()),
        )


@dataclass(frozen=True)
class ReplicationMap:
    clusters: tuple[MapCluster, ...]
    edges: tuple[ReplicationEdge, ...]
    pairs: tuple[PairHealth, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReplicationMap:
        return cls(
            tuple(MapCluster.from_json(c) for c in data.get("clusters") or ()),
            tuple(ReplicationEdge.from_json(e) for e in data.get("edges") or ()),
            tuple(PairHealth.from_json(p) for p in data.get("pairs") or ()),
        )

    def pair(self, pair_id: str) -> PairHealth | None:
        return next((p for p in self.pairs if p.id == pair_id), None)

    def cluster_names(self) -> dict[str, str]:
        return {c.id: c.name for c in self.clusters}


# --------------------------------------------------------------------------- failover


class FailoverSpec(TypedDict, total=False):
    """The body of ``POST /operations/failover``: ``pair_id`` (or ``primary_cluster_id`` with
    ``streams``) to ``target_cluster_id``."""

    pair_id: str
    primary_cluster_id: str
    streams: list[str]
    target_cluster_id: str
    mode: FailoverMode
    reverse: bool
    max_data_loss_messages: int
    drill: bool
    fence_timeout_s: float


# --------------------------------------------------------------------------- calls


class ReplicationApi(BaseClient):
    # ---- mirrors

    def start_mirror(
        self, spec: MirrorSpec, *, idempotency_key: str | None = None
    ) -> MirrorStarted | RequestSubmitted:
        """Create a mirror (an operation that waits until it caught up); or the request, when
        the target is a production cluster whose changes wait for approval."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        data = self._request("POST", "/operations/mirror", json=dict(spec), headers=headers)
        if pending := submitted(data):
            return pending
        return MirrorStarted(
            str(data["id"]),
            str(data.get("workflow_id") or ""),
            str(data.get("status") or "pending"),
            _opt(data.get("mirror_id")),
        )

    def list_mirrors(
        self, *, cluster_id: str | None = None, pair_id: str | None = None
    ) -> list[Mirror]:
        data = self._request(
            "GET", "/mirrors", params={"cluster_id": cluster_id, "pair_id": pair_id}
        )
        return [Mirror.from_json(m) for m in _items(data)]

    def get_mirror(self, mirror_id: str) -> Mirror:
        return Mirror.from_json(self._request("GET", f"/mirrors/{_seg(mirror_id)}"))

    def pause_mirror(self, mirror_id: str) -> Mirror:
        return Mirror.from_json(self._request("POST", f"/mirrors/{_seg(mirror_id)}/pause"))

    def resume_mirror(self, mirror_id: str) -> Mirror:
        return Mirror.from_json(self._request("POST", f"/mirrors/{_seg(mirror_id)}/resume"))

    def delete_mirror(self, mirror_id: str) -> RequestSubmitted | None:
        """Remove the mirror stream and its consumer on the source (None once done)."""
        return submitted(self._request("DELETE", f"/mirrors/{_seg(mirror_id)}"))

    # ---- DR pairs

    def list_dr_pairs(self) -> list[DrPair]:
        return [DrPair.from_json(p) for p in _items(self._request("GET", "/dr/pairs"))]

    def get_dr_pair(self, pair_id: str) -> DrPair:
        return DrPair.from_json(self._request("GET", f"/dr/pairs/{_seg(pair_id)}"))

    def create_dr_pair(self, spec: DrPairSpec) -> DrPair:
        """The pair (``201``); its ``operation_id`` is the operation making the missing mirrors,
        or None."""
        return DrPair.from_json(self._request("POST", "/dr/pairs", json=dict(spec)))

    def update_dr_pair(self, pair_id: str, changes: DrPairSpec) -> DrPair:
        return DrPair.from_json(
            self._request("PATCH", f"/dr/pairs/{_seg(pair_id)}", json=dict(changes))
        )

    def delete_dr_pair(self, pair_id: str) -> None:
        """Forget the pair; its mirrors stay."""
        self._request("DELETE", f"/dr/pairs/{_seg(pair_id)}")

    # ---- the map

    def replication_map(self, *, cluster_id: str | None = None) -> ReplicationMap:
        return ReplicationMap.from_json(
            self._request("GET", "/replication", params={"cluster_id": cluster_id}) or {}
        )

    # ---- failover

    def start_failover(self, spec: FailoverSpec) -> OperationStarted | RequestSubmitted:
        """Fail over (or, with ``drill``, rehearse it); refused with the reason (``409``) when
        the target is not a healthy mirror of the primary."""
        data = self._request("POST", "/operations/failover", json=dict(spec))
        if pending := submitted(data):
            return pending
        return OperationStarted(
            str(data["id"]),
            str(data.get("workflow_id") or ""),
            str(data.get("status") or "pending"),
        )


def _opt(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
