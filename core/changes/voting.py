"""The rules of a vote on a change request (pure): who may act, and what a vote does.

A request passes its approval groups in order. A group is satisfied by ``count`` approvals from
distinct people who each hold one of its roles, belong to one of its teams or are listed in its
users (roles and teams by id). Nobody votes twice on one request (across groups), the requester
never approves, rejects or asks for changes on their own request, only the requester withdraws it,
and a closed request takes no decision. A rejection needs a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.changes.models import ApprovalTicket, Vote, Voter
from core.policy.models import ApprovalGroup
from core.policy.refs import holds


class VoteRefused(Exception):
    """``code``: closed, self_approval, not_approver, already_voted, not_requester,
    reason_required."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def eligible(group: ApprovalGroup, voter: Voter) -> bool:
    """By the ids of the voter's role and teams (``core.policy.refs``: a rename changes nothing);
    a group decided before ids existed by the names the API gave the voter."""
    return (
        holds(group, voter.role, voter.role_id, voter.teams, voter.team_ids)
        or voter.user_id in group.users
        or voter.email in group.users
    )


@dataclass
class Tally:
    status: str = "waiting_approval"
    group_index: int = 0
    votes: list[Vote] = field(default_factory=list)

    def approvals_in(self, group: str) -> int:
        return len(
            {v.voter.user_id for v in self.votes if v.action == "approve" and v.group == group}
        )


def check(ticket: ApprovalTicket, tally: Tally, vote: Vote) -> None:
    """Raise ``VoteRefused`` unless the vote may be cast now."""
    if tally.status != "waiting_approval":
        raise VoteRefused(
            "closed",
            f"This request is already {tally.status.replace('_', ' ')}; "
            "it takes no more decisions.",
        )
    if vote.action == "withdraw":
        if vote.voter.user_id != ticket.requester_id:
            raise VoteRefused("not_requester", "Only the requester can withdraw a request.")
        return
    if vote.voter.user_id == ticket.requester_id:
        raise VoteRefused(
            "self_approval",
            "You cannot decide on your own request: another person must approve it (four-eyes).",
        )
    if vote.action == "reject" and not vote.comment.strip():
        raise VoteRefused("reason_required", "Give a reason ('comment') to reject a request.")
    if any(v.voter.user_id == vote.voter.user_id for v in tally.votes):
        raise VoteRefused(
            "already_voted", "You have already voted on this request; one vote per person."
        )
    group = ticket.decision.groups[tally.group_index]
    if not eligible(group, vote.voter):
        who = (
            [f"role {r}" for r in group.roles]
            + [f"team {t}" for t in group.teams]
            + [f"user {u}" for u in group.users]
        )
        raise VoteRefused(
            "not_approver",
            f"This step ({group.name}) needs an approval from "
            f"{' or '.join(who) or 'nobody'}; your role "
            f"'{vote.voter.role}' does not qualify.",
        )


def cast(ticket: ApprovalTicket, tally: Tally, vote: Vote) -> Tally:
    """The tally after a vote that ``check`` accepted."""
    groups = ticket.decision.groups
    if vote.action == "withdraw":
        return Tally("withdrawn", tally.group_index, [*tally.votes, vote])
    group = groups[tally.group_index]
    counted = vote.model_copy(update={"group": group.name})
    votes = [*tally.votes, counted]
    if vote.action == "reject":
        return Tally("rejected", tally.group_index, votes)
    if vote.action == "request_changes":
        return Tally("changes_requested", tally.group_index, votes)
    after = Tally(tally.status, tally.group_index, votes)
    if after.approvals_in(group.name) >= group.count:
        after.group_index += 1
        if after.group_index >= len(groups):
            after.status = "approved"
            after.group_index = len(groups) - 1
    return after
