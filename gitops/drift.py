"""Drift: where a cluster differs from git, per resource and field (pure, no I/O).

It is the planner's diff read the other way round: what a sync would ``update`` or ``replace``
has ``changed`` (each field with the value in git and the live value), what it would ``create``
is ``missing`` from the cluster, and what it would ``delete`` (a resource in a namespace the
repository manages, not in git) is ``unmanaged``. A consumer that a stream's replacement alone
would recreate has not drifted itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gitops.manifests import Resource
from gitops.planner import Desired, Live, plan

TYPES = {"update": "changed", "replace": "changed", "create": "missing", "delete": "unmanaged"}


@dataclass(frozen=True)
class DriftItem:
    resource: str  # "stream ORDERS", "consumer ORDERS/worker"
    kind: str
    name: str
    stream: str | None
    drift_type: str  # changed | missing | unmanaged
    fields: list[dict[str, Any]] = field(default_factory=list)  # [{field, git, live}]
    source: str = ""  # path:line in git

    def key(self, environment: str) -> str:
        return f"{environment}:{self.resource}"


def find_drift(
    desired: list[Resource], live: list[Live], managed: Callable[[str, str, str | None], bool]
) -> list[DriftItem]:
    wanted = {(r.kind, r.stream if r.kind == "consumer" else None, r.name): r for r in desired}
    result = plan(
        [Desired(r.kind, r.name, r.stream, r.config) for r in desired],
        live,
        prune=True,
        managed=managed,
    )
    items = []
    for change in result.changes:
        if change.action == "replace" and not change.fields:
            continue  # only recreated with its stream
        source = wanted.get(
            (change.kind, change.stream if change.kind == "consumer" else None, change.name)
        )
        fields = (
            []
            if change.action in ("create", "delete")
            else [{"field": f.field, "git": f.after, "live": f.before} for f in change.fields]
        )
        items.append(
            DriftItem(
                change.ref,
                change.kind,
                change.name,
                change.stream,
                TYPES[change.action],
                fields,
                f"{source.source}:{source.line}" if source else "",
            )
        )
    return items
