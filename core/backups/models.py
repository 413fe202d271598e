"""Typed requests of backups: where a backup is kept, what to back up, what to restore and where,
and a schedule (API bodies and workflow inputs alike; workflows validate them again)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.jetstream.config import Name
from core.labels import Label
from core.schema_rules import not_both, one_of_required, rules

DEFAULT_BUCKET = "jsc-backups"
BucketName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="an object store bucket name",
    ),
]
Subject = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\s]+$")]
_RELATIVE_DIR = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ObjectStoreTarget(_Model):
    """A JetStream object store (``bucket``) on a registered cluster of the organization."""

    cluster_id: uuid.UUID
    bucket: BucketName = DEFAULT_BUCKET


class DirectoryTarget(_Model):
    """A directory under the console's backup root (``JSC_BACKUP_DIR``), kept apart per
    organization: a relative path such as ``nightly/orders``; never absolute, never ``..``."""

    directory: str = Field(min_length=1, max_length=512)

    @field_validator("directory")
    @classmethod
    def _relative(cls, value: str) -> str:
        value = value.rstrip("/")
        if (
            value.startswith("/")
            or not _RELATIVE_DIR.match(value)
            or any(part in (".", "..") for part in value.split("/"))
        ):
            raise ValueError(
                "must be a relative path under the backup root (letters, digits, "
                "'_', '-', '.', separated by '/'; no '..')"
            )
        return value


Target = ObjectStoreTarget | DirectoryTarget
Kind = Literal["full", "incremental"]


class BackupRequest(_Model):
    """``POST /api/v1/operations/backup``: back up ``streams`` of ``cluster_id`` ("all", or
    names; with ``team_id``, only that team's streams) to ``target`` (by default an object store
    on another registered cluster, preferably the one named ``dr``)."""

    cluster_id: uuid.UUID
    streams: list[Name] | Literal["all"] = Field(default="all")
    team_id: uuid.UUID | None = None
    kind: Kind = "full"
    target: Target | None = None

    @field_validator("streams")
    @classmethod
    def _some(cls, value: Any) -> Any:
        if isinstance(value, list):
            if not value:
                raise ValueError('name at least one stream, or say "all"')
            if len(set(value)) != len(value):
                raise ValueError("names a stream twice")
        return value


class PointInTime(_Model):
    time: datetime = Field(description="restore what the chain held at this time")


RestorePoint = Literal["backup", "latest"] | PointInTime


class RestoreTo(_Model):
    """Where a restore goes: a new stream by default. ``replace`` restores over an existing
    stream (through the change gate, after its data is backed up). ``subjects`` replaces the
    stream's subjects (needed when the original ones are taken on that cluster)."""

    cluster_id: uuid.UUID
    stream_name: Name
    subjects: list[Subject] | None = Field(default=None, max_length=256)
    replace: bool = False


class RestoreRequest(_Model):
    """``POST /api/v1/operations/restore``: restore ``stream`` of ``backup_id`` (the only one when
    the backup holds one stream) to ``to``. ``point``: exactly that backup (its chain up to it),
    the ``latest`` backup of its chain, or a ``{"time"}``."""

    backup_id: uuid.UUID
    stream: Name | None = None
    to: RestoreTo
    point: RestorePoint = "backup"


Every = Annotated[str, Field(pattern=r"^\d+(s|m|h|d)$", description='e.g. "1h", "24h", "7d"')]


class Cadence(_Model):
    """When a scheduled backup runs (a cron expression in UTC, or an interval) and how many days
    its backups are kept."""

    model_config = ConfigDict(
        json_schema_extra=rules(not_both("cron", "every"), one_of_required("cron", "every"))
    )

    cron: str | None = Field(default=None, max_length=128)
    every: Every | None = None
    retention_days: float = Field(gt=0, le=3650)

    @model_validator(mode="after")
    def _one(self) -> Cadence:
        if (self.cron is None) == (self.every is None):
            raise ValueError('give exactly one of "cron" (e.g. "0 2 * * *") or "every" (e.g. "1h")')
        return self


class ScheduleRequest(_Model):
    """``POST /api/v1/backup-schedules``: back up ``streams`` of ``cluster_id`` (or the streams of
    ``team_id``) to ``target``: fully on ``full``, incrementally on ``incremental``."""

    name: Label = Field(min_length=1, max_length=255)
    cluster_id: uuid.UUID
    team_id: uuid.UUID | None = None
    streams: list[Name] | Literal["all"] = "all"
    target: Target | None = None
    full: Cadence
    incremental: Cadence | None = None
    enabled: bool = True
