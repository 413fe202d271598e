"""A plan as it is stored and shown: per environment, each change with its fields (``before`` the
live value, ``after`` git's), where git declares it (``source``: ``path:line``), and the exact
config the apply step sends (``config``), so what was approved is what is applied.

The config of an update is the live config with git's fields over it: a field git does not set
keeps its live value (JetStream would otherwise reset it to its default). A create or a replace
sends git's config alone; a delete sends none.
"""

from __future__ import annotations

import json
from typing import Any

from gitops.manifests import Resource
from gitops.planner import Change, Live, Plan

# The kind of change request (core.policy Kind) each resource kind is judged and applied as.
CHANGE_KINDS = {
    "stream": "stream",
    "consumer": "consumer",
    "kv": "kv_bucket",
    "object_store": "object_store",
}
# Fields the server keeps for itself in a stream's or consumer's config, never sent back.
_SERVER_FIELDS = ("created", "ts")


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def key_of(kind: str, stream: str | None, name: str) -> tuple[str, str | None, str]:
    return (kind, stream if kind == "consumer" else None, name)


def config_to_apply(change: Change, desired: Resource | None, live: Live | None) -> dict | None:
    if change.action == "delete" or desired is None:
        return None
    if change.action == "update" and live is not None:
        base = {k: v for k, v in live.config.items() if k not in _SERVER_FIELDS}
        return _json({**base, **desired.config})
    return _json(desired.config)


def change_doc(change: Change, desired: Resource | None, live: Live | None) -> dict[str, Any]:
    return {
        "action": change.action,
        "kind": change.kind,
        "name": change.name,
        "stream": change.stream,
        "resource": change.ref,
        "reason": change.reason,
        "fields": [
            {"field": f.field, "before": _json(f.before), "after": _json(f.after)}
            for f in change.fields
        ],
        "source": f"{desired.source}:{desired.line}" if desired is not None else "",
        "config": config_to_apply(change, desired, live),
        "before": _json(live.config) if live is not None else None,
    }


def env_doc(cluster_id: str, plan: Plan, desired: list[Resource], live: list[Live]) -> dict:
    wanted = {key_of(r.kind, r.stream, r.name): r for r in desired}
    have = {key_of(r.kind, r.stream, r.name): r for r in live}

    def doc(change: Change) -> dict:
        key = key_of(change.kind, change.stream, change.name)
        return change_doc(change, wanted.get(key), have.get(key))

    return {
        "cluster_id": cluster_id,
        "resources": len(desired),
        "changes": [doc(c) for c in plan.changes],
        "skipped_deletions": [doc(c) for c in plan.skipped_deletions],
        "needs_approval": plan.needs_approval,
    }


def summary_of(environments: dict[str, dict]) -> str:
    counts: dict[str, int] = {}
    skipped = 0
    for env in environments.values():
        for change in env["changes"]:
            counts[change["action"]] = counts.get(change["action"], 0) + 1
        skipped += len(env["skipped_deletions"])
    text = (
        ", ".join(
            f"{counts[a]} to {a}"
            for a in ("create", "update", "replace", "delete")
            if counts.get(a)
        )
        or "no changes"
    )
    if skipped:
        text += f" ({skipped} deletion(s) skipped: prune is off)"
    return text


def diff_of(environments: dict[str, dict]) -> str:
    """The combined diff of every environment, as a person reads it in an approval."""
    sign = {"create": "+", "update": "~", "replace": "!", "delete": "-"}
    lines = [summary_of(environments)]
    for name, env in environments.items():
        if not env["changes"] and not env["skipped_deletions"]:
            continue
        lines.append(f"[{name}]")
        for c in env["changes"]:
            reason = f"  ({c['reason']})" if c["reason"] else ""
            lines.append(f"{sign[c['action']]} {c['action']} {c['resource']}{reason}")
            lines += [
                f"    {f['field']}: {json.dumps(f['before'])} -> {json.dumps(f['after'])}"
                for f in c["fields"]
            ]
        lines += [
            f"  (skipped) delete {c['resource']}  ({c['reason']})" for c in env["skipped_deletions"]
        ]
    return "\n".join(lines)


def needs_approval(environments: dict[str, dict]) -> bool:
    return any(env["needs_approval"] for env in environments.values())


def only_refs(environments: dict[str, dict], only: list[str]) -> dict[str, dict]:
    """The plan restricted to ``only`` (``"<env>:<resource>"``, e.g. ``"dev:stream ORDERS"``)."""
    wanted = set(only)
    out = {}
    for name, env in environments.items():
        changes = [c for c in env["changes"] if f"{name}:{c['resource']}" in wanted]
        out[name] = {
            **env,
            "changes": changes,
            "skipped_deletions": [],
            "needs_approval": any(c["action"] in ("replace", "delete") for c in changes),
        }
    return out
