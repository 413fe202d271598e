"""Audit records: who did what to which resource, with what outcome. Built here, published to the
internal event stream (``core.events``) and stored by the ingester in ClickHouse ``audit_logs``."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

AUDIT_COLUMNS = [
    "id",
    "org_id",
    "user_id",
    "user_email",
    "timestamp",
    "action",
    "resource_type",
    "resource_id",
    "resource_name",
    "cluster_id",
    "ip_address",
    "user_agent",
    "request_id",
    "changes",
    "status",
    "error_message",
]


class AuditEvent(BaseModel):
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    org_id: uuid.UUID
    user_id: uuid.UUID | None = None
    user_email: str = ""
    timestamp: datetime = Field(default_factory=lambda: datetime.now(UTC))
    action: str  # e.g. stream.create, consumer.delete, auth.login
    resource_type: str
    resource_id: str = ""
    resource_name: str = ""
    cluster_id: uuid.UUID | None = None
    ip_address: str = "::"
    user_agent: str = ""
    request_id: str = ""
    changes: dict[str, Any] = Field(default_factory=dict)  # {"before": ..., "after": ...}
    status: Literal["success", "failure", "denied"] = "success"
    error_message: str | None = None

    def row(self) -> list[Any]:
        ip = self.ip_address or "::"
        if ":" not in ip:  # IPv4 into the IPv6 column, as ClickHouse maps it
            ip = f"::ffff:{ip}"
        values = self.model_dump()
        values["ip_address"] = ip
        values["changes"] = json.dumps(self.changes, default=str, sort_keys=True)
        return [values[c] for c in AUDIT_COLUMNS]


def _without_server_metadata(config: dict[str, Any] | None) -> dict[str, Any]:
    """The server keeps its own keys (``_nats.*``) in ``metadata``; they are never a user's
    change."""
    config = dict(config or {})
    if isinstance(config.get("metadata"), dict):
        config["metadata"] = {
            k: v for k, v in config["metadata"].items() if not k.startswith("_nats.")
        }
    return config


def config_diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """The fields that changed, each as {"before": x, "after": y}."""
    before, after = _without_server_metadata(before), _without_server_metadata(after)
    return {
        key: {"before": before.get(key), "after": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }
