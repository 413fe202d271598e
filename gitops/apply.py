"""Applying one planned change of a sync, safe to run again (a retried activity after a worker
crash): the resource's live state is read first and the change converges it to what git declares,
through ``core.changes.execute.apply_change`` (the API's own path).

- create / update / replace: absent → create; equal to git → nothing to do; differing in fields
  the server changes in place → update (git's fields over the live config); differing in fields it
  cannot change → delete and create, only when the plan said replace (an approved replace), else
  refused (``NotApproved``);
- delete: gone already → done; else deleted.

``apply`` answers ``(what was done, the live config before, the config after)``; what the server
refuses raises ``core.jetstream.api.JetStreamError`` (the step fails), what cannot reach it
``JetStreamUnavailable`` / ``ClusterUnreachable`` (the activity retries).
"""

from __future__ import annotations

import uuid
from typing import Any

from core.changes.execute import apply_change
from core.changes.models import ChangeSpec
from core.jetstream.api import JetStreamApi
from gitops.live import read_one
from gitops.planner import diff_fields, replace_reasons
from gitops.views import POLICY_KINDS


class NotApproved(Exception):
    """The change now needs a replace that the approved plan did not include."""


def _config(result: Any) -> dict | None:
    if isinstance(result, dict):
        return result.get("config") if isinstance(result.get("config"), dict) else result
    return None


async def apply(js: JetStreamApi, cluster_id: uuid.UUID, change: dict[str, Any],
                desired: dict | None) -> tuple[str, dict | None, dict | None]:
    """Converge one resource (``change`` is a stored ``ChangeView``, ``desired`` git's config)."""
    kind, name, stream, action = change["kind"], change["name"], change.get("stream"), \
        change["action"]
    pkind = POLICY_KINDS[kind]

    def spec(operation: str, config: dict | None = None) -> ChangeSpec:
        return ChangeSpec(kind=pkind, operation=operation, cluster_id=cluster_id, name=name,
                          stream=stream, config=config)

    live = await read_one(js, kind, name, stream)
    before = live.config if live is not None else None
    if action == "delete":
        if live is None:
            return "already absent", None, None
        await apply_change(js, spec("delete"))
        return "deleted", before, None
    desired = dict(desired or {})
    if live is None:
        return "created", None, _config(await apply_change(js, spec("create", desired)))
    fields = diff_fields(desired, live.config)
    if not fields:
        return "already as in git", before, before
    reasons = replace_reasons(kind, fields)
    if reasons:
        if action != "replace":
            raise NotApproved(f"{'; '.join(reasons)} in place, and a replace was not in the "
                              "approved plan: sync again to plan (and approve) it")
        await apply_change(js, spec("delete"))
        return "replaced", before, _config(await apply_change(js, spec("create", desired)))
    if kind in ("kv", "object_store"):
        update = desired  # the bucket's settings, applied over its stream's config
    else:
        update = {**live.config, **desired}
    return "updated", before, _config(await apply_change(js, spec("update", update)))
