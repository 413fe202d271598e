"""Approval policy: the pure decision layer of approvals and self-service quotas (DESIGN.md rule 3).

No I/O, no database, no clock: everything is passed in, so workflows and request handlers call
these functions and tests check them as tables.

- ``models``: typed inputs and outputs (``ChangeRequest``, ``ApprovalPolicy`` with triggers,
  ordered approval groups, auto-approve and auto-reject rules, SLA and escalation; ``Decision``,
  ``QuotaViolation``, ``HistoryEntry``).
- ``decide``: ``decide(request, policies, quota_ok, price_per_gb)``. Enabled policies go by
  (priority ascending, name); the first whose triggers match decides; auto-reject beats
  auto-approve; otherwise its approval groups are required in order. Default when no policy
  matches: auto-approved within quota, else one approval from role ``admin``.
- ``quota``: ``quota_check(usage, quota, change)``, the quotas a change would exceed.
- ``risk``: ``risk_notes(request, history, price_per_gb)``, deterministic notes for approvers.
- ``seed``: ``SEED_POLICIES``, the three policies of the source design (section 7.2).
"""

from core.policy.decide import DEFAULT_GROUP, decide
from core.policy.models import (
    GB,
    ApprovalGroup,
    ApprovalPolicy,
    AutoApprove,
    AutoReject,
    ChangeRequest,
    Decision,
    Escalation,
    HistoryEntry,
    PolicyRef,
    QuotaViolation,
    Triggers,
)
from core.policy.quota import impact, quota_check
from core.policy.risk import risk_notes
from core.policy.seed import SEED_POLICIES

__all__ = [
    "DEFAULT_GROUP",
    "GB",
    "SEED_POLICIES",
    "ApprovalGroup",
    "ApprovalPolicy",
    "AutoApprove",
    "AutoReject",
    "ChangeRequest",
    "Decision",
    "Escalation",
    "HistoryEntry",
    "PolicyRef",
    "QuotaViolation",
    "Triggers",
    "decide",
    "impact",
    "quota_check",
    "risk_notes",
]
