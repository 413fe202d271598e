"""Inputs and outputs of workflows and activities (pydantic models and dataclasses, via the pydantic
data converter)."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass
class RiskSummaryInput:
    """Which change request ``RiskSummaryWorkflow`` writes the risk summary of."""

    request_id: str
    org_id: str
