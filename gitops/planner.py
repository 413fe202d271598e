"""Pure GitOps planner: diff desired resources (from git) against live JetStream state.

No I/O. ``plan(desired, live, prune=..., managed=...)`` returns a :class:`Plan` whose
``changes`` are in apply order: creates/updates/replaces of streams, KV and object
stores, then of consumers; deletions last (consumers before streams) and only when
``prune`` is true (otherwise they are reported in ``skipped_deletions``).

Only fields the desired config sets are compared ("unset" means server default, don't
care). Values are normalised (Go duration strings vs nanoseconds, subject lists as
sets, enum case, ``replicas``/``num_replicas``) and server-managed metadata is ignored.

Fields the server refuses to change in place are flagged ``replace``. Mirrored from
nats-server (commit 1787eee035cf, server/stream.go ``configUpdateCheckLocked`` and
server/consumer.go ``checkNewConsumerConfig``):
  stream:   name must match; storage; retention to/from workqueue; sealed, deny_delete,
            deny_purge, allow_msg_ttl, allow_msg_schedules cannot go true -> false;
            allow_msg_counter; persist_mode; mirror cannot change (removing it is allowed).
  consumer: deliver_policy; mem_storage; direct; sourcing; opt_start_seq; opt_start_time;
            ack_policy; replay_policy; idle_heartbeat; flow_control; max_waiting;
            deliver_subject push <-> pull (push -> other push subject is allowed).
KV buckets and object stores are streams underneath, so the stream rules apply to them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["stream", "consumer", "kv", "object_store"]
Action = Literal["create", "update", "replace", "delete"]

KINDS = ("stream", "kv", "object_store", "consumer")
# Server-managed keys never compared.
IGNORED_FIELDS = {"created", "cluster", "state", "ts", "name", "durable_name", "stream_name"}
ALIASES = {"replicas": "num_replicas", "durable": "durable_name"}
DURATION_FIELDS = {
    "max_age",
    "duplicate_window",
    "ack_wait",
    "idle_heartbeat",
    "inactive_threshold",
    "backoff",
    "ttl",
    "subject_delete_marker_ttl",
    "allow_msg_ttl_duration",
}
SET_FIELDS = {"subjects", "filter_subjects"}
ENUM_FIELDS = {
    "storage",
    "retention",
    "discard",
    "deliver_policy",
    "ack_policy",
    "replay_policy",
    "compression",
    "persist_mode",
}
_DURATION_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}


@dataclass(frozen=True)
class Desired:
    kind: Kind
    name: str
    stream: str | None = None  # the parent stream, for consumers
    config: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Live:
    kind: Kind
    name: str
    stream: str | None = None
    config: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    action: Action
    kind: Kind
    name: str
    stream: str | None = None
    fields: list[FieldChange] = field(default_factory=list)
    reason: str = ""

    @property
    def ref(self) -> str:
        return (
            f"{self.kind} {self.stream}/{self.name}" if self.stream else f"{self.kind} {self.name}"
        )


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    skipped_deletions: list[Change] = field(default_factory=list)

    @property
    def needs_approval(self) -> bool:
        return any(c.action in ("replace", "delete") for c in self.changes)

    @property
    def empty(self) -> bool:
        return not self.changes

    def summary(self) -> str:
        counts = {
            a: sum(c.action == a for c in self.changes)
            for a in ("create", "update", "replace", "delete")
        }
        text = ", ".join(f"{n} to {a}" for a, n in counts.items() if n) or "no changes"
        if self.skipped_deletions:
            text += f" ({len(self.skipped_deletions)} deletion(s) skipped: prune disabled)"
        return text + (" — needs approval" if self.needs_approval else "")

    def diff(self) -> str:
        sign = {"create": "+", "update": "~", "replace": "!", "delete": "-"}
        lines = [self.summary()]
        for c in self.changes:
            lines.append(
                f"{sign[c.action]} {c.action} {c.ref}" + (f"  ({c.reason})" if c.reason else "")
            )
            lines += [f"    {f.field}: {f.before!r} -> {f.after!r}" for f in c.fields]
        for c in self.skipped_deletions:
            lines.append(f"  (skipped) delete {c.ref}  ({c.reason})")
        return "\n".join(lines)


# --- normalisation -------------------------------------------------------------------


def parse_duration(value: Any) -> Any:
    """Go duration string ("1h30m", "500ms") or number of nanoseconds -> int ns."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        s = value.strip()
        if re.fullmatch(r"-?\d+", s):
            return int(s)
        sign = -1 if s.startswith("-") else 1
        s = s.lstrip("+-")
        parts = _DURATION_RE.findall(s)
        if parts and "".join(n + u for n, u in parts) == s:
            return sign * round(sum(float(n) * _UNIT_NS[u] for n, u in parts))
    return value


def _strip_server_metadata(meta: Any) -> Any:
    if isinstance(meta, dict):
        return {k: v for k, v in meta.items() if not str(k).startswith("_nats")}
    return meta


def _norm(key: str, value: Any) -> Any:
    if key in DURATION_FIELDS:
        if isinstance(value, list):
            return [parse_duration(v) for v in value]
        return parse_duration(value)
    if key in SET_FIELDS and isinstance(value, (list, tuple, set)):
        return frozenset(value)
    if key in ENUM_FIELDS and isinstance(value, str):
        return value.lower()
    if key == "metadata":
        return _strip_server_metadata(value) or {}
    return value


def _canon(config: dict) -> dict:
    return {ALIASES.get(k, k): v for k, v in (config or {}).items()}


def _equal(key: str, want: Any, have: Any) -> bool:
    """Desired ``want`` matches live ``have``; nested dicts compare only keys ``want`` sets."""
    want, have = _norm(key, want), _norm(key, have)
    if isinstance(want, dict) and key != "metadata":
        if not isinstance(have, dict):
            return not want and not have
        have = _canon(have)
        return all(_equal(k, v, have.get(k)) for k, v in _canon(want).items())
    if isinstance(want, list) and isinstance(have, list):
        if len(want) != len(have):
            return False
        if all(isinstance(x, dict) and "name" in x for x in want + have):  # e.g. sources
            want, have = (sorted(x, key=lambda d: d["name"]) for x in (want, have))
        return all(_equal(key, w, h) for w, h in zip(want, have, strict=False))
    if have is None and want in (False, 0, "", [], {}, frozenset()):
        return True  # omitted by the server (omitempty) == zero value
    return want == have


def diff_fields(desired: dict, live: dict) -> list[FieldChange]:
    want, have = _canon(desired), _canon(live)
    return [
        FieldChange(k, have.get(k), v)
        for k, v in want.items()
        if k not in IGNORED_FIELDS and not _equal(k, v, have.get(k))
    ]


# --- in-place update rules (see module docstring) ------------------------------------

_STREAM_FIXED = ("storage", "allow_msg_counter", "persist_mode")
_STREAM_ONE_WAY = ("sealed", "deny_delete", "deny_purge", "allow_msg_ttl", "allow_msg_schedules")
_CONSUMER_FIXED = (
    "deliver_policy",
    "mem_storage",
    "direct",
    "sourcing",
    "opt_start_seq",
    "opt_start_time",
    "ack_policy",
    "replay_policy",
    "idle_heartbeat",
    "flow_control",
    "max_waiting",
)


def replace_reasons(kind: str, changes: Iterable[FieldChange]) -> list[str]:
    """Why the server would refuse these field changes in place (empty list: it won't)."""
    out = []
    for c in changes:
        before, after = _norm(c.field, c.before), _norm(c.field, c.after)
        if kind == "consumer":
            if c.field in _CONSUMER_FIXED:
                out.append(f"{c.field} can not be updated")
            elif c.field == "deliver_subject" and bool(before) != bool(after):
                out.append("can not switch between push and pull")
        else:
            if c.field in _STREAM_FIXED:
                out.append(f"{c.field} can not be changed")
            elif c.field == "retention" and "workqueue" in (before, after):
                out.append("retention can not change to/from workqueue")
            elif c.field in _STREAM_ONE_WAY and before and not after:
                out.append(f"{c.field} can not go from true to false")
            elif c.field == "mirror" and after:
                out.append("mirror can not be changed")
    return out


# --- planning ------------------------------------------------------------------------

Resource = Desired | Live
Managed = Callable[[str, str, "str | None"], bool]


def _key(r: Resource) -> tuple:
    return (r.kind, r.stream if r.kind == "consumer" else None, r.name)


def _order(c: Change) -> tuple:
    rank = KINDS.index(c.kind)
    if c.action == "delete":  # deletions last, dependants (consumers) first
        return (1, len(KINDS) - rank, c.stream or "", c.name)
    return (0, rank, c.stream or "", c.name)


def plan(
    desired: Iterable[Desired],
    live: Iterable[Live],
    *,
    prune: bool = False,
    managed: Managed = lambda kind, name, stream: True,
) -> Plan:
    want = {_key(d): d for d in desired}
    have = {_key(current): current for current in live}
    changes: list[Change] = []
    skipped: list[Change] = []
    replaced_streams: set[str] = set()

    for key, d in want.items():
        current = have.get(key)
        if current is None:
            changes.append(
                Change(
                    "create",
                    d.kind,
                    d.name,
                    d.stream,
                    [
                        FieldChange(k, None, v)
                        for k, v in _canon(d.config).items()
                        if k not in IGNORED_FIELDS
                    ],
                )
            )
            continue
        fields = diff_fields(d.config, current.config)
        if not fields:
            continue
        reasons = replace_reasons(d.kind, fields)
        if reasons:
            if d.kind == "stream":
                replaced_streams.add(d.name)
            changes.append(
                Change(
                    "replace",
                    d.kind,
                    d.name,
                    d.stream,
                    fields,
                    "; ".join(reasons) + " in place: delete and recreate",
                )
            )
        else:
            changes.append(Change("update", d.kind, d.name, d.stream, fields))

    # Consumers of a replaced stream are lost with it and must be recreated.
    for i, c in enumerate(changes):
        if c.kind == "consumer" and c.stream in replaced_streams and c.action != "create":
            changes[i] = Change(
                "replace", c.kind, c.name, c.stream, c.fields, f"stream {c.stream} is replaced"
            )
    for key, d in want.items():
        if (
            d.kind == "consumer"
            and d.stream in replaced_streams
            and key in have
            and not any(_key(c) == key for c in changes)
        ):
            changes.append(
                Change("replace", d.kind, d.name, d.stream, [], f"stream {d.stream} is replaced")
            )

    for key, current in have.items():
        if key in want or not managed(current.kind, current.name, current.stream):
            continue
        if prune:
            changes.append(
                Change("delete", current.kind, current.name, current.stream, [], "not in git")
            )
        else:
            skipped.append(
                Change(
                    "delete",
                    current.kind,
                    current.name,
                    current.stream,
                    [],
                    "not in git; prune is disabled",
                )
            )

    changes.sort(key=_order)
    skipped.sort(key=_order)
    return Plan(changes, skipped)
