"""Inputs and results of the backup activities, shared by the workflows (which pass them as
JSON) and the activities. Two groups:

- the data path (``activities.backup_data``): ``backup_item`` copies one stream of a backup to
  its target (a server snapshot, or the messages since the chain's last item), checkpointing every
  stored chunk so a retried attempt carries on; ``backup_verify`` restores a backup into a
  temporary stream and compares it with the source; ``backup_restore`` streams a chain into the
  server's restore; ``backup_delete_data`` removes backups' chunks from their targets.
- the bookkeeping (``activities.backup``): preparing a backup's and a restore's rows, finishing
  them, retention and the schedules' ticks.

Progress is in bytes: the data activities heartbeat ``{"done", "total"}`` counted over the whole
operation (``done_before`` is what earlier items copied).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemInput(_Step):
    operation_id: str
    org_id: str
    backup_id: str
    item_id: str
    done_before: int = 0
    total: int = 0


class ItemResult(_Step):
    item_id: str
    stream: str
    kind: Literal["full", "incremental"]
    messages: int = 0
    first_seq: int = 0
    last_seq: int = 0
    source_bytes: int = 0
    stored_bytes: int = 0
    chunks: int = 0
    consumers: int = 0


class VerifyInput(_Step):
    operation_id: str
    org_id: str
    backup_id: str


class Verification(_Step):
    """Stored as the backup's ``verification``."""

    status: Literal["pending", "verified", "failed"]
    checked_at: datetime | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class RestoreInput(_Step):
    """Restore ``stream`` from the chain ending at ``backup_id`` (messages up to ``until`` when a
    point in time was asked for) into ``stream_name`` on ``cluster_id``."""

    operation_id: str
    org_id: str
    backup_id: str
    stream: str
    cluster_id: str
    stream_name: str
    subjects: list[str] | None = None
    until: datetime | None = None
    replace: bool = False
    set_aside_backup_id: str | None = None
    done_before: int = 0
    total: int = 0


class RestoreResult(_Step):
    cluster_id: str
    stream_name: str
    messages: int
    first_seq: int
    last_seq: int
    consumers: list[str] = Field(default_factory=list)
    restored_bytes: int = 0
    chain: list[str] = Field(default_factory=list)  # the backup ids restored, oldest first
    set_aside_backup_id: str | None = None


class DeleteDataInput(_Step):
    org_id: str
    backup_ids: list[str]
