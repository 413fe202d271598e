"""Typed change requests and approval votes, shared by the API, the workflows and the activities."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.operations import OperationContext
from core.policy.measures import STORAGE_QUOTA, fmt_bytes
from core.policy.models import Decision, Kind, Operation

VoteAction = Literal["approve", "reject", "request_changes", "withdraw"]
EventName = Literal[
    "created",
    "approved",
    "rejected",
    "withdrawn",
    "changes_requested",
    "escalated",
    "executed",
    "failed",
]
CLOSED = ("executed", "failed", "rejected", "withdrawn", "changes_requested", "auto_rejected")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChangeSpec(_Model):
    """Exactly what to change. ``config`` is the full JetStream config to apply (create, update),
    ``purge`` the purge request; a quota change names the team, the quota and the new limit."""

    kind: Kind
    operation: Operation
    cluster_id: uuid.UUID | None = None
    name: str = ""
    stream: str | None = None  # the stream of a consumer
    config: dict[str, Any] | None = None
    purge: dict[str, Any] | None = None
    team_id: uuid.UUID | None = None
    quota_resource: str | None = None
    requested_limit: int | None = None

    def title(self) -> str:
        if self.kind == "quota":
            limit = (
                fmt_bytes(self.requested_limit or 0)
                if self.quota_resource == STORAGE_QUOTA
                else f"{self.requested_limit:,}"
            )
            return f"Raise quota {self.quota_resource} to {limit}"
        what = self.kind.replace("_", " ")
        if self.kind == "purge":
            return f"Purge stream {self.name}"
        if self.kind == "failover":
            config = self.config or {}
            if config.get("reverse_only"):
                return f"Reverse {self.name}: its old primary becomes a mirror"
            return f"{'Failover drill' if config.get('drill') else 'Fail over'} {self.name}"
        if self.kind == "restore":
            return f"Restore stream {self.name} from a backup, over its current data"
        target = f"{self.stream}/{self.name}" if self.stream else self.name
        return f"{self.operation.capitalize()} {what} {target}"


class Voter(_Model):
    """Who votes, as the API authenticated them: the workflow cannot look people up."""

    user_id: str
    email: str = ""
    role: str
    teams: list[str] = Field(default_factory=list)  # team names
    role_id: str | None = None  # a built-in role's name, a custom role's id
    team_ids: list[str] = Field(default_factory=list)


class Vote(_Model):
    voter: Voter
    action: VoteAction
    comment: str = Field(default="", max_length=4000)
    group: str | None = None  # the approval group the vote counted for
    at: str = ""  # ISO time, set by the workflow


class ApprovalTicket(_Model):
    """The input of the approval workflow: the stored request and what policy decided."""

    request_id: str
    requester_id: str
    requester_email: str = ""
    title: str
    spec: ChangeSpec
    decision: Decision


class RequestEvent(_Model):
    """A step of a request that people hear about (in-app notification, webhook)."""

    org_id: str
    request_id: str
    event: EventName
    title: str
    actor_email: str = ""
    comment: str = ""
    target: str | None = None  # an escalation target: "@team", "role:admin" or an e-mail
    recipients: list[str] = Field(default_factory=list)  # user ids to notify in the app
    groups: list[dict[str, Any]] = Field(default_factory=list)  # approvers to find (ApprovalGroup)
    exclude: list[str] = Field(default_factory=list)  # never these (the requester, as approver)


class RequestUpdate(_Model):
    """What the workflow records on the ``change_requests`` row (idempotent overwrite)."""

    request_id: str
    status: str
    votes: list[Vote] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None


class ChangeResult(_Model):
    """What applying a change produced: the resulting JetStream config or info, or the quota."""

    detail: dict[str, Any] = Field(default_factory=dict)


def ticket_context(
    ticket: ApprovalTicket, org_id: str, operation_id: str, type_: str = "approval"
) -> OperationContext:
    return OperationContext(
        operation_id=operation_id,
        org_id=org_id,
        user_id=ticket.requester_id,
        user_email=ticket.requester_email,
        type=type_,
    )


class ApplyRequest(_Model):
    """The input of the ``apply_change`` activity."""

    org_id: str
    request_id: str
    spec: ChangeSpec
    actor_id: str | None = None  # who asked (the change is theirs; approvers only allowed it)
    actor_email: str = ""


class WebhookDelivery(_Model):
    """The input of the ``deliver_webhook`` activity: the webhook (its secret stays in the
    database) and the event to send."""

    webhook_id: str
    event: RequestEvent


class DrWebhookDelivery(_Model):
    """The input of the ``deliver_dr_webhook`` activity: one webhook told that a disaster-recovery
    pair's active side changed (``core.notify.webhooks.dr_body``)."""

    webhook_id: str
    org_id: str
    operation_id: str
    announcement: dict[str, Any]
