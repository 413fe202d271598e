"""A sync's plan as it is stored and shown (pure): per environment its changes (``ChangeView``:
``{action, kind, name, stream, resource, reason, fields: [{field, before, after}]}``, ``before``
live and ``after`` git), the deletions prune skipped, the summary and the diff; and the helpers
that go with it: resource refs, the ``only`` filter of a drift revert, which resources a repository
manages, the policy kind of a planner kind, and the title of a sync's change request.

A resource ref is the planner's ``Change.ref``: ``stream ORDERS``, ``kv settings``,
``consumer ORDERS/processor``. The drift table's ``kind:name`` / ``consumer:stream/name`` form is
accepted wherever a ref is read.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from gitops.planner import Change, Plan

POLICY_KINDS = {"stream": "stream", "consumer": "consumer", "kv": "kv_bucket",
                "object_store": "object_store"}
AUDIT_TYPES = {"stream": "stream", "consumer": "consumer", "kv": "kv_store",
               "object_store": "object_store"}
_ENV = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_KIND_COLON = re.compile(r"^(stream|consumer|kv|object_store):(.+)$")


def ref_of(kind: str, name: str, stream: str | None = None) -> str:
    return f"{kind} {stream}/{name}" if kind == "consumer" and stream else f"{kind} {name}"


def normal_ref(text: str) -> str:
    """``kind:name`` (the drift table's) or ``kind name``, as ``kind name``."""
    text = text.strip()
    match = _KIND_COLON.match(text)
    return f"{match.group(1)} {match.group(2)}" if match else text


def parse_only(entries: Iterable[str]) -> list[tuple[str | None, str]]:
    """(environment or None for all, ref) per entry; ``<env>/<ref>`` limits it to one env."""
    out = []
    for entry in entries:
        env, sep, rest = entry.partition("/")
        if sep and _ENV.match(env) and " " not in env and ":" not in env:
            out.append((env, normal_ref(rest)))
        else:
            out.append((None, normal_ref(entry)))
    return out


def keep_only(plan: Plan, environment: str, only: list[str]) -> Plan:
    """The plan restricted to the resources ``only`` names (all of it when ``only`` is empty)."""
    if not only:
        return plan
    wanted = {ref for env, ref in parse_only(only) if env in (None, environment)}
    return Plan([c for c in plan.changes if c.ref in wanted],
                [c for c in plan.skipped_deletions if c.ref in wanted])


def managed_by(previous: set[str], namespaces: list[str]):
    """The planner's ``managed``: a live resource git no longer has is the repository's to delete
    when git had it at the last sync that applied (``previous`` refs), or when its name (a
    consumer's stream; a bucket's name or its stream ``KV_``/``OBJ_`` name) starts with one of the
    repository's ``namespaces``."""
    prefixes = [p for p in namespaces if p]

    def managed(kind: str, name: str, stream: str | None) -> bool:
        if ref_of(kind, name, stream) in previous:
            return True
        names = {"consumer": [stream or ""], "kv": [name, f"KV_{name}"],
                 "object_store": [name, f"OBJ_{name}"]}.get(kind, [name])
        return any(n.startswith(p) for n in names for p in prefixes)

    return managed


def _json(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    return value


def change_view(change: Change) -> dict[str, Any]:
    return {"action": change.action, "kind": change.kind, "name": change.name,
            "stream": change.stream, "resource": change.ref, "reason": change.reason,
            "fields": [{"field": f.field, "before": _json(f.before), "after": _json(f.after)}
                       for f in change.fields]}


def env_plan_view(plan: Plan, cluster_id: str, needs_approval: bool | None = None
                  ) -> dict[str, Any]:
    return {"cluster_id": cluster_id, "changes": [change_view(c) for c in plan.changes],
            "skipped_deletions": [change_view(c) for c in plan.skipped_deletions],
            "needs_approval": plan.needs_approval if needs_approval is None else needs_approval}


def counts(changes: Iterable[dict]) -> dict[str, int]:
    out = {a: 0 for a in ("create", "update", "replace", "delete")}
    for c in changes:
        out[c["action"]] += 1
    return out


def counts_text(changes: Iterable[dict]) -> str:
    return ", ".join(f"{n} to {a}" for a, n in counts(changes).items() if n) or "no changes"


def summary(plans: dict[str, Plan]) -> str:
    """``dev: 3 to create, 1 to update; prod: no changes`` (one environment: without its name)."""
    if len(plans) == 1:
        return next(iter(plans.values())).summary()
    return "; ".join(f"{env}: {plan.summary()}" for env, plan in sorted(plans.items())) \
        or "no environments"


def diff(plans: dict[str, Plan]) -> str:
    return "\n".join(f"[{env}]\n{plan.diff()}" for env, plan in sorted(plans.items()))


def request_title(repo_name: str, commit: str | None, changes: list[dict]) -> str:
    """``Sync payments-config @ 1a2b3c4: 3 to create, 1 to update``."""
    return f"Sync {repo_name} @ {(commit or '')[:7] or 'HEAD'}: {counts_text(changes)}"


def public_plan(plan: dict | None) -> dict[str, Any]:
    """What a ``SyncView`` shows of a stored plan: ``{environments, summary, diff}``."""
    plan = plan or {}
    return {"environments": plan.get("environments") or {}, "summary": plan.get("summary", ""),
            "diff": plan.get("diff", "")}
