"""Applying a stored plan: each change through the one function every change goes through
(``core.changes.execute.apply_change``), in the plan's order, each safe to run again.

- create / update: JetStream accepts the same create or update twice, so a retry after a crash is
  harmless; a create whose resource appeared meanwhile is applied as an update of it.
- replace: delete, then create from git (a retry deletes nothing it has not already deleted but
  the empty new resource).
- delete: a resource already gone counts as deleted.

A change whose stream failed is skipped (its consumers would fail or land on the wrong stream).
"""

from __future__ import annotations

from typing import Any

from core.changes.execute import apply_change
from core.changes.models import ChangeSpec
from core.jetstream.api import JetStreamApi, JetStreamError
from gitops.plan_doc import CHANGE_KINDS


def spec_for(change: dict, cluster_id: str, operation: str) -> ChangeSpec:
    kind = CHANGE_KINDS[change["kind"]]
    return ChangeSpec(kind=kind, operation=operation, cluster_id=cluster_id, name=change["name"],
                      stream=change["stream"], config=change["config"])


async def _exists(js: JetStreamApi, change: dict) -> bool:
    try:
        if change["kind"] == "consumer":
            await js.consumer_info(change["stream"], change["name"])
        else:
            prefix = {"kv": "KV_", "object_store": "OBJ_"}.get(change["kind"], "")
            await js.stream_info(prefix + change["name"])
        return True
    except JetStreamError as exc:
        if exc.not_found:
            return False
        raise


async def apply_planned(js: JetStreamApi, cluster_id: str, change: dict) -> dict[str, Any]:
    """Apply one planned change; what JetStream answered. JetStreamError when it refuses."""
    action = change["action"]
    if action == "delete":
        return await apply_change(js, spec_for(change, cluster_id, "delete"))
    if action == "replace":
        await apply_change(js, spec_for(change, cluster_id, "delete"))
        return await apply_change(js, spec_for(change, cluster_id, "create"))
    if action == "create" and await _exists(js, change):
        action = "update"  # it appeared meanwhile, or this is a retry: make it what git says
    return await apply_change(js, spec_for(change, cluster_id, action))


def dependency_of(change: dict) -> str | None:
    """The resource a change depends on: a consumer's stream."""
    return f"stream {change['stream']}" if change["kind"] == "consumer" else None
