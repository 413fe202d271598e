"""Applying a stored plan: each change through the one function every change goes through
(``core.changes.execute.apply_change``), in the plan's order, each safe to run again.

- create / update: JetStream accepts the same create or update twice, so a retry after a crash is
  harmless; a create whose resource appeared meanwhile is applied as an update of it.
- replace: delete, then create from git. The live state is read first: a resource already as git
  says (a retry after the create) is left alone, so nothing stored since is deleted again.
- delete: a resource already gone counts as deleted.

A change whose stream failed is skipped (its consumers would fail or land on the wrong stream).
"""

from __future__ import annotations

from typing import Any

from core.changes.execute import apply_change
from core.changes.models import ChangeSpec
from core.jetstream.api import JetStreamApi, JetStreamError
from gitops.live import resource_of
from gitops.plan_doc import CHANGE_KINDS
from gitops.planner import diff_fields


def spec_for(change: dict, cluster_id: str, operation: str) -> ChangeSpec:
    kind = CHANGE_KINDS[change["kind"]]
    return ChangeSpec(
        kind=kind,
        operation=operation,
        cluster_id=cluster_id,
        name=change["name"],
        stream=change["stream"],
        config=change["config"],
    )


async def _live(js: JetStreamApi, change: dict) -> dict | None:
    """The resource's live config in the plan's shape (``gitops.live``), None when absent."""
    try:
        if change["kind"] == "consumer":
            return (await js.consumer_info(change["stream"], change["name"]))["config"]
        prefix = {"kv": "KV_", "object_store": "OBJ_"}.get(change["kind"], "")
        return resource_of(await js.stream_info(prefix + change["name"])).config
    except JetStreamError as exc:
        if exc.not_found:
            return None
        raise


async def _exists(js: JetStreamApi, change: dict) -> bool:
    return await _live(js, change) is not None


async def apply_planned(js: JetStreamApi, cluster_id: str, change: dict) -> dict[str, Any]:
    """Apply one planned change; what JetStream answered. JetStreamError when it refuses."""
    action = change["action"]
    if action == "delete":
        return await apply_change(js, spec_for(change, cluster_id, "delete"))
    if action == "replace":
        live = await _live(js, change)
        if live is not None and not diff_fields(change["config"] or {}, live):
            return {"unchanged": "already as in git (replaced by an earlier attempt)"}
        await apply_change(js, spec_for(change, cluster_id, "delete"))
        return await apply_change(js, spec_for(change, cluster_id, "create"))
    if action == "create" and await _exists(js, change):
        action = "update"  # it appeared meanwhile, or this is a retry: make it what git says
    return await apply_change(js, spec_for(change, cluster_id, action))


def dependency_of(change: dict) -> str | None:
    """The resource a change depends on: a consumer's stream."""
    return f"stream {change['stream']}" if change["kind"] == "consumer" else None
