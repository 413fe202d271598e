"""Change requests waiting for (or past) approval (``/approvals``): list, read, approve, reject,
request changes, withdraw. A change that policy sends for approval is answered ``202`` with a
:class:`RequestSubmitted` instead of the resource itself (see :func:`submitted`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ui.client.base import BaseClient, _items, _seg

ApprovalStatus = Literal[
    "waiting_approval",
    "executing",
    "executed",
    "failed",
    "rejected",
    "withdrawn",
    "changes_requested",
    "auto_approved",
]
APPROVAL_STATUSES: tuple[str, ...] = (
    "waiting_approval",
    "executing",
    "executed",
    "failed",
    "rejected",
    "withdrawn",
    "changes_requested",
    "auto_approved",
)
APPROVAL_KINDS: tuple[str, ...] = (
    "stream",
    "consumer",
    "kv_bucket",
    "object_store",
    "purge",
    "quota",
    "replay",
    "mirror",
    "failover",
)
VoteAction = Literal["approve", "reject", "request-changes", "withdraw"]


@dataclass(frozen=True)
class RequestSubmitted:
    """The answer to a change that policy sent for approval (or approved by itself): ``202``."""

    request_id: str
    operation_id: str | None
    status: str
    title: str
    reasons: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequestSubmitted:
        op = data.get("operation_id")
        return cls(
            str(data["request_id"]),
            None if op is None else str(op),
            str(data.get("status") or ""),
            str(data.get("title") or ""),
            tuple(str(r) for r in data.get("reasons") or ()),
        )

    @property
    def waiting(self) -> bool:
        return self.status == "waiting_approval"


def submitted(data: Any) -> RequestSubmitted | None:
    """The request a ``202`` answer describes, or None when the answer is the resource itself."""
    if isinstance(data, Mapping) and "request_id" in data and "status" in data:
        return RequestSubmitted.from_json(data)
    return None


@dataclass(frozen=True)
class Voter:
    user_id: str
    email: str
    role: str
    teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApprovalVote:
    voter: Voter
    action: str
    comment: str
    group: str | None
    at: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApprovalVote:
        who = data.get("voter") or {}
        return cls(
            Voter(
                str(who.get("user_id") or ""),
                str(who.get("email") or ""),
                str(who.get("role") or ""),
                tuple(who.get("teams") or ()),
            ),
            str(data.get("action") or ""),
            str(data.get("comment") or ""),
            data.get("group"),
            data.get("at"),
        )


@dataclass(frozen=True)
class ApproverGroup:
    """``count`` approvals from anyone with one of ``roles``, in one of ``teams`` or in
    ``users``."""

    name: str
    count: int
    roles: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    users: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApproverGroup:
        return cls(
            str(data.get("name") or ""),
            int(data.get("count") or 1),
            tuple(data.get("roles") or ()),
            tuple(data.get("teams") or ()),
            tuple(data.get("users") or ()),
        )


@dataclass(frozen=True)
class ApprovalDecision:
    """What policy decided about the request."""

    outcome: str
    policy_name: str | None
    policy_version: int | None
    groups: tuple[ApproverGroup, ...]
    reasons: tuple[str, ...]
    sla_hours: float | None
    escalation: Any

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ApprovalDecision:
        data = data or {}
        policy = data.get("policy") or {}
        version = policy.get("version")
        return cls(
            str(data.get("outcome") or ""),
            policy.get("name"),
            None if version is None else int(version),
            tuple(ApproverGroup.from_json(g) for g in data.get("groups") or ()),
            tuple(str(r) for r in data.get("reasons") or ()),
            data.get("sla_hours"),
            data.get("escalation"),
        )


@dataclass(frozen=True)
class RiskSummary:
    """The assistant's written risk summary of a request (when a model is configured)."""

    text: str
    model: str
    at: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> RiskSummary | None:
        if not data or not data.get("text"):
            return None
        return cls(str(data["text"]), str(data.get("model") or ""), data.get("at"))


@dataclass(frozen=True)
class Approval:
    id: str
    kind: str
    operation: str
    title: str
    status: str
    cluster_id: str | None
    team_id: str | None
    environment: str | None
    requester_id: str | None
    requester_email: str
    spec: dict[str, Any]
    diff: dict[str, dict[str, Any]]
    justification: str
    decision: ApprovalDecision
    risk_notes: tuple[str, ...]
    votes: tuple[ApprovalVote, ...]
    current_group: ApproverGroup | None
    can_vote: bool
    can_withdraw: bool
    result: Any
    error: str | None
    operation_id: str | None
    created_at: str | None
    closed_at: str | None
    risk_summary: RiskSummary | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Approval:
        def opt(name: str) -> str | None:
            value = data.get(name)
            return None if value is None else str(value)

        group = data.get("current_group")
        return cls(
            str(data["id"]),
            str(data.get("kind") or ""),
            str(data.get("operation") or ""),
            str(data.get("title") or ""),
            str(data.get("status") or ""),
            opt("cluster_id"),
            opt("team_id"),
            opt("environment"),
            opt("requester_id"),
            str(data.get("requester_email") or ""),
            dict(data.get("spec") or {}),
            {
                str(k): dict(v) if isinstance(v, Mapping) else {"before": None, "after": v}
                for k, v in (data.get("diff") or {}).items()
            },
            str(data.get("justification") or ""),
            ApprovalDecision.from_json(data.get("decision")),
            tuple(str(n) for n in data.get("risk_notes") or ()),
            tuple(ApprovalVote.from_json(v) for v in data.get("votes") or ()),
            None if not group else ApproverGroup.from_json(group),
            bool(data.get("can_vote")),
            bool(data.get("can_withdraw")),
            data.get("result"),
            opt("error"),
            opt("operation_id"),
            data.get("created_at"),
            data.get("closed_at"),
            RiskSummary.from_json(data.get("risk_summary")),
        )

    @property
    def waiting(self) -> bool:
        return self.status == "waiting_approval"


class ApprovalsApi(BaseClient):
    def list_approvals(
        self,
        *,
        status: str | None = None,
        mine: bool = False,
        waiting_for_me: bool = False,
        team_id: str | None = None,
        cluster_id: str | None = None,
        kind: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Approval]:
        data = self._request(
            "GET",
            "/approvals",
            params={
                "status": status,
                "mine": "true" if mine else None,
                "waiting_for_me": "true" if waiting_for_me else None,
                "team_id": team_id,
                "cluster_id": cluster_id,
                "kind": kind,
                "limit": limit,
                "offset": offset,
            },
        )
        return [Approval.from_json(a) for a in _items(data)]

    def approval(self, request_id: str) -> Approval:
        return Approval.from_json(self._request("GET", f"/approvals/{_seg(request_id)}"))

    def approve(self, request_id: str, comment: str = "") -> Approval:
        return self._vote(request_id, "approve", comment)

    def reject(self, request_id: str, comment: str) -> Approval:
        """Reject; the API refuses (``422``) without a reason in ``comment``."""
        return self._vote(request_id, "reject", comment)

    def request_changes(self, request_id: str, comment: str = "") -> Approval:
        return self._vote(request_id, "request-changes", comment)

    def withdraw(self, request_id: str, comment: str = "") -> Approval:
        """The requester takes back a request still waiting."""
        return self._vote(request_id, "withdraw", comment)

    def _vote(self, request_id: str, action: VoteAction, comment: str) -> Approval:
        data = self._request(
            "POST", f"/approvals/{_seg(request_id)}/{action}", json={"comment": comment}
        )
        return Approval.from_json(data)
