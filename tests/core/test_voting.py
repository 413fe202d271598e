"""The vote rules of an approval (pure): who may act now, and what each vote does to the tally."""

from __future__ import annotations

import pytest

from core.changes.models import ApprovalTicket, ChangeSpec, Vote, Voter
from core.changes.voting import Tally, VoteRefused, cast, check
from core.policy import ApprovalGroup, Decision

TWO_ADMINS_THEN_FINANCE = [
    ApprovalGroup(name="Admins", count=2, roles=["admin"]),
    ApprovalGroup(name="Finance", teams=["finance"]),
]


def ticket(groups=TWO_ADMINS_THEN_FINANCE) -> ApprovalTicket:
    return ApprovalTicket(
        request_id="r",
        requester_id="req",
        title="t",
        spec=ChangeSpec(kind="stream", operation="create", name="s"),
        decision=Decision(outcome="needs_approval", groups=groups),
    )


def vote(user: str, action: str = "approve", role: str = "admin", teams=(), comment="") -> Vote:
    return Vote(
        voter=Voter(user_id=user, role=role, teams=list(teams)), action=action, comment=comment
    )


def run(votes: list[Vote], t: ApprovalTicket | None = None) -> Tally:
    t = t or ticket()
    tally = Tally()
    for v in votes:
        check(t, tally, v)
        tally = cast(t, tally, v)
    return tally


@pytest.mark.parametrize(
    "before, attempt, code",
    [
        ([], vote("req"), "self_approval"),
        ([], vote("req", "reject", comment="no"), "self_approval"),
        ([], vote("v", role="viewer"), "not_approver"),
        ([], vote("f", role="viewer", teams=["finance"]), "not_approver"),  # not finance's turn yet
        ([vote("a1")], vote("a1"), "already_voted"),
        ([vote("a1"), vote("a2")], vote("a1", role="admin", teams=["finance"]), "already_voted"),
        ([vote("a1"), vote("a2")], vote("a3"), "not_approver"),  # an admin, but not finance
        ([], vote("a1", "reject"), "reason_required"),
        ([], vote("a1", "withdraw"), "not_requester"),
        ([vote("a1", "reject", comment="no")], vote("a2"), "closed"),
        ([vote("req", "withdraw")], vote("a1"), "closed"),
    ],
)
def test_refusals(before, attempt, code):
    t = ticket()
    tally = run(before, t)
    with pytest.raises(VoteRefused) as refused:
        check(t, tally, attempt)
    assert refused.value.code == code


@pytest.mark.parametrize(
    "votes, status, group_index",
    [
        ([], "waiting_approval", 0),
        ([vote("a1")], "waiting_approval", 0),
        ([vote("a1"), vote("a2")], "waiting_approval", 1),
        ([vote("a1"), vote("a2"), vote("f", role="viewer", teams=["finance"])], "approved", 1),
        ([vote("a1"), vote("a2", "reject", comment="too big")], "rejected", 0),
        ([vote("a1", "request_changes", comment="add a limit")], "changes_requested", 0),
        ([vote("a1"), vote("req", "withdraw")], "withdrawn", 0),
    ],
)
def test_tally(votes, status, group_index):
    tally = run(votes)
    assert (tally.status, tally.group_index) == (status, group_index)


def test_each_counted_vote_names_its_group():
    tally = run([vote("a1"), vote("a2"), vote("f", role="viewer", teams=["finance"])])
    assert [v.group for v in tally.votes] == ["Admins", "Admins", "Finance"]


def test_a_listed_user_qualifies_by_id_or_email():
    t = ticket([ApprovalGroup(name="Named", users=["cfo@example.com", "u7"])])
    assert (
        run(
            [
                Vote(
                    voter=Voter(user_id="x", email="cfo@example.com", role="viewer"),
                    action="approve",
                )
            ],
            t,
        ).status
        == "approved"
    )
    assert run([vote("u7", role="viewer")], t).status == "approved"
