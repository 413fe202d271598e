"""Inputs and outputs of workflows and activities (pydantic, via the pydantic data converter)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ClusterProbeInput(BaseModel):
    org_id: str
    cluster_id: str


class ClusterProbeResult(BaseModel):
    cluster_id: str
    status: str  # healthy | degraded | unreachable
    version: str | None = None
    error: str | None = None
    checked_at: datetime
