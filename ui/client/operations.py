"""Long-running operations (Temporal workflows): list, read, start a replay, pause, resume,
cancel. An operation made of named steps (a failover) lists them in ``progress.steps``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from ui.client.base import BaseClient, _items, _seg

OperationStatus = Literal[
    "pending", "running", "paused", "waiting_approval", "completed", "failed", "cancelled"
]
OPERATION_STATUSES: tuple[str, ...] = (
    "pending",
    "running",
    "paused",
    "waiting_approval",
    "completed",
    "failed",
    "cancelled",
)
FINISHED_STATUSES: tuple[str, ...] = ("completed", "failed", "cancelled")


STEP_STATUSES: tuple[str, ...] = ("pending", "running", "done", "failed", "skipped")


@dataclass(frozen=True)
class Step:
    """One named step of an operation (a failover's measure, fence, promote, ...)."""

    name: str
    status: str
    started_at: str | None = None
    finished_at: str | None = None
    detail: Any = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Step:
        return cls(
            str(data.get("name") or ""),
            str(data.get("status") or "pending"),
            data.get("started_at"),
            data.get("finished_at"),
            data.get("detail"),
        )


@dataclass(frozen=True)
class Progress:
    done: int = 0
    total: int | None = None
    unit: str = "messages"
    rate_per_s: float | None = None
    eta_s: float | None = None
    steps: tuple[Step, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Progress:
        data = data or {}
        total = data.get("total")
        steps = tuple(Step.from_json(s) for s in data.get("steps") or () if isinstance(s, Mapping))
        return cls(
            int(data.get("done") or 0),
            None if total is None else int(total),
            str(data.get("unit") or "messages"),
            data.get("rate_per_s"),
            data.get("eta_s"),
            steps,
        )

    @property
    def fraction(self) -> float | None:
        """Share done, 0..1; None while the total is unknown."""
        if self.total is None:
            return None
        if self.total <= 0:
            return 1.0
        return max(0.0, min(1.0, self.done / self.total))


@dataclass(frozen=True)
class Operation:
    id: str
    type: str
    status: str
    progress: Progress
    input: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    cluster_id: str | None
    workflow_id: str
    started_by: str | None
    started_at: str | None
    finished_at: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Operation:
        return cls(
            str(data["id"]),
            str(data.get("type") or ""),
            str(data.get("status") or ""),
            Progress.from_json(data.get("progress")),
            dict(data.get("input") or {}),
            data.get("result"),
            data.get("error"),
            None if data.get("cluster_id") is None else str(data["cluster_id"]),
            str(data.get("workflow_id") or ""),
            None if data.get("started_by") is None else str(data["started_by"]),
            data.get("started_at"),
            data.get("finished_at"),
        )

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def dry_run(self) -> bool:
        return bool(self.input.get("dry_run"))


@dataclass(frozen=True)
class OperationStarted:
    id: str
    workflow_id: str
    status: str


class ReplayDestinationSpec(TypedDict, total=False):
    cluster_id: str
    stream: str
    subject: str
    subject_prefix: str


class RedriveSpec(TypedDict):
    header: str


class ReplaySpec(TypedDict, total=False):
    """The body of ``POST /operations/replay`` (times are ISO 8601; ``end_time`` is exclusive)."""

    cluster_id: str
    stream: str
    subjects: list[str]
    start_seq: int
    end_seq: int
    start_time: str
    end_time: str
    destination: ReplayDestinationSpec
    rate_limit: float
    add_source_header: bool
    keep_original_time: bool
    dry_run: bool
    redrive: RedriveSpec


class OperationsApi(BaseClient):
    def list_operations(
        self,
        *,
        type: str | None = None,
        status: str | None = None,
        cluster_id: str | None = None,
        started_by: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Operation]:
        data = self._request(
            "GET",
            "/operations",
            params={
                "type": type,
                "status": status,
                "cluster_id": cluster_id,
                "started_by": started_by,
                "limit": limit,
                "offset": offset,
            },
        )
        return [Operation.from_json(o) for o in _items(data)]

    def get_operation(self, operation_id: str) -> Operation:
        return Operation.from_json(self._request("GET", f"/operations/{_seg(operation_id)}"))

    def start_replay(
        self, spec: ReplaySpec, *, idempotency_key: str | None = None
    ) -> OperationStarted:
        """Start a replay (``202``). The same ``idempotency_key`` returns the same operation."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        data = self._request("POST", "/operations/replay", json=dict(spec), headers=headers)
        return OperationStarted(
            str(data["id"]),
            str(data.get("workflow_id") or ""),
            str(data.get("status") or "pending"),
        )

    def download_export(self, operation_id: str) -> bytes:
        """The file of a completed export operation."""
        return self._request("GET", f"/operations/{_seg(operation_id)}/download", raw=True)

    def pause_operation(self, operation_id: str) -> Operation:
        return self._control(operation_id, "pause")

    def resume_operation(self, operation_id: str) -> Operation:
        return self._control(operation_id, "resume")

    def cancel_operation(self, operation_id: str) -> Operation:
        return self._control(operation_id, "cancel")

    def _control(self, operation_id: str, action: str) -> Operation:
        return Operation.from_json(
            self._request("POST", f"/operations/{_seg(operation_id)}/{action}")
        )
