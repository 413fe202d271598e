"""The pure approval decision as tables: triggers, auto-approve and auto-reject rules, priority,
approval groups, quota violations, risk notes, and the three seed policies."""

from __future__ import annotations

import pytest

from core.policy import (
    DEFAULT_GROUP,
    GB,
    SEED_POLICIES,
    ApprovalGroup,
    ApprovalPolicy,
    AutoApprove,
    AutoReject,
    ChangeRequest,
    HistoryEntry,
    Triggers,
    decide,
    impact,
    quota_check,
    risk_notes,
)

PRICE = 0.25  # $ per GB-month


def req(**kw) -> ChangeRequest:
    base = dict(
        kind="stream",
        operation="create",
        environment="production",
        team_prefixes=["payments-"],
        resource_name="payments-settlements",
        requester_id="u-john",
        requester_roles=["member"],
        after={"max_bytes": 50 * GB, "num_replicas": 3},
    )
    return ChangeRequest(**{**base, **kw})


def quota_req(resource="storage_bytes", current=100 * GB, requested=200 * GB, **kw):
    return req(
        kind="quota",
        operation="increase",
        resource_name="",
        after=None,
        quota_resource=resource,
        current_limit=current,
        requested_limit=requested,
        **kw,
    )


def update(before: dict, after: dict, **kw) -> ChangeRequest:
    return req(operation="update", before=before, after=after, **kw)


def policy(name="P", priority=100, **kw) -> ApprovalPolicy:
    kw.setdefault("groups", [ApprovalGroup(name="Admins", roles=["admin"])])
    return ApprovalPolicy(name=name, priority=priority, **kw)


# --- triggers: (triggers, request, matches) ---------------------------------------------------
TRIGGERS = [
    ("env match", Triggers(environments=["production"]), req(), True),
    ("env miss", Triggers(environments=["staging"]), req(), False),
    ("kind match", Triggers(kinds=["stream", "consumer"]), req(), True),
    ("kind miss", Triggers(kinds=["consumer"]), req(), False),
    ("op match", Triggers(operations=["create"]), req(), True),
    ("op miss", Triggers(operations=["delete"]), req(), False),
    (
        "storage > 100 GB hit",
        Triggers(storage_increase_gt_bytes=100 * GB),
        update({"max_bytes": 100 * GB}, {"max_bytes": 250 * GB}),
        True,
    ),
    (
        "storage > 100 GB equal",
        Triggers(storage_increase_gt_bytes=100 * GB),
        update({"max_bytes": 100 * GB}, {"max_bytes": 200 * GB}),
        False,
    ),
    ("storage create counts", Triggers(storage_increase_gt_bytes=10 * GB), req(), True),
    ("quota > 2x hit", Triggers(quota_multiplier_gt=2), quota_req(requested=201 * GB), True),
    ("quota exactly 2x", Triggers(quota_multiplier_gt=2), quota_req(requested=200 * GB), False),
    (
        "quota > 2x from zero",
        Triggers(quota_multiplier_gt=2),
        quota_req(resource="streams", current=0, requested=1),
        True,
    ),
    (
        "replicas changed",
        Triggers(replicas_changed=True),
        update({"num_replicas": 1}, {"num_replicas": 3}),
        True,
    ),
    (
        "replicas same",
        Triggers(replicas_changed=True),
        update({"num_replicas": 3, "max_age": 1}, {"num_replicas": 3, "max_age": 2}),
        False,
    ),
    ("cost > $100 hit", Triggers(monthly_cost_gt=100), quota_req(requested=600 * GB), True),
    ("cost > $100 miss", Triggers(monthly_cost_gt=100), quota_req(requested=400 * GB), False),
    (
        "thresholds are ORed",
        Triggers(monthly_cost_gt=1000, quota_multiplier_gt=2),
        quota_req(requested=300 * GB),
        True,
    ),
    (
        "filters ANDed with thresholds",
        Triggers(kinds=["stream"], quota_multiplier_gt=2),
        quota_req(requested=300 * GB),
        False,
    ),
]


@pytest.mark.parametrize(
    "triggers, request_, matches", [t[1:] for t in TRIGGERS], ids=[t[0] for t in TRIGGERS]
)
def test_triggers(triggers, request_, matches):
    decision = decide(request_, [policy(triggers=triggers)], quota_ok=True, price_per_gb=PRICE)
    assert (decision.policy is not None) is matches
    if matches:
        assert decision.outcome == "needs_approval"


# --- auto-approve rules: (rule, request, quota_ok, approved) ------------------------------------
APPROVE = [
    (
        "dev within quota",
        AutoApprove(environments=["development", "staging"], within_quota=True),
        req(environment="development"),
        True,
        True,
    ),
    (
        "staging within quota",
        AutoApprove(environments=["development", "staging"], within_quota=True),
        req(environment="staging"),
        True,
        True,
    ),
    (
        "dev over quota",
        AutoApprove(environments=["development"], within_quota=True),
        req(environment="development"),
        False,
        False,
    ),
    ("production not listed", AutoApprove(environments=["development"]), req(), True, False),
    (
        "limit change 5% < 10%",
        AutoApprove(change_under_pct=10),
        update({"max_bytes": 100 * GB}, {"max_bytes": 105 * GB}),
        True,
        True,
    ),
    (
        "limit change 10% not under",
        AutoApprove(change_under_pct=10),
        update({"max_bytes": 100 * GB}, {"max_bytes": 110 * GB}),
        True,
        False,
    ),
    (
        "non-limit field changed",
        AutoApprove(change_under_pct=10),
        update({"max_msgs": 100, "subjects": ["a"]}, {"max_msgs": 101, "subjects": ["b"]}),
        True,
        False,
    ),
    ("create is not a limit change", AutoApprove(change_under_pct=10), req(), True, False),
    ("quota +5%", AutoApprove(change_under_pct=10), quota_req(requested=105 * GB), True, True),
    (
        "storage request under 500 GB",
        AutoApprove(requested_limit_below_bytes=500 * GB),
        quota_req(requested=499 * GB),
        True,
        True,
    ),
    (
        "storage request at 500 GB",
        AutoApprove(requested_limit_below_bytes=500 * GB),
        quota_req(requested=500 * GB),
        True,
        False,
    ),
    (
        "streams quota is not storage",
        AutoApprove(requested_limit_below_bytes=500 * GB),
        quota_req(resource="streams", current=10, requested=30),
        True,
        False,
    ),
]


@pytest.mark.parametrize(
    "rule, request_, quota_ok, approved", [a[1:] for a in APPROVE], ids=[a[0] for a in APPROVE]
)
def test_auto_approve(rule, request_, quota_ok, approved):
    decision = decide(request_, [policy(auto_approve=[rule])], quota_ok, PRICE)
    assert decision.outcome == ("auto_approved" if approved else "needs_approval")
    if approved:
        assert decision.reasons[-1].startswith("Auto-approved: ")
        assert decision.groups == []


# --- auto-reject rules: (rule, request, rejected, phrase) ---------------------------------------
REJECT = [
    (
        "prod stream 1 replica",
        AutoReject(environments=["production"], kinds=["stream"], min_replicas=3),
        req(after={"num_replicas": 1}),
        True,
        "needs at least 3 replicas; this one has 1",
    ),
    (
        "prod stream 3 replicas",
        AutoReject(environments=["production"], kinds=["stream"], min_replicas=3),
        req(),
        False,
        None,
    ),
    ("missing replicas means 1", AutoReject(min_replicas=3), req(after={}), True, "has 1"),
    (
        "dev not covered",
        AutoReject(environments=["production"], min_replicas=3),
        req(environment="development", after={"num_replicas": 1}),
        False,
        None,
    ),
    (
        "consumer not covered",
        AutoReject(kinds=["stream"], min_replicas=3),
        req(kind="consumer", after={"num_replicas": 1}),
        False,
        None,
    ),
    (
        "delete never checked for replicas",
        AutoReject(min_replicas=3),
        req(operation="delete", after=None, before={"num_replicas": 1}),
        False,
        None,
    ),
    (
        "outside namespace",
        AutoReject(outside_namespace=True),
        req(resource_name="orders-x"),
        True,
        "'orders-x' is outside the team's namespaces",
    ),
    ("inside namespace", AutoReject(outside_namespace=True), req(), False, None),
    (
        "consumer judged by its stream",
        AutoReject(outside_namespace=True),
        req(kind="consumer", resource_name="worker", stream_name="orders-x"),
        True,
        "'orders-x'",
    ),
    (
        "no prefixes is outside",
        AutoReject(outside_namespace=True),
        req(team_prefixes=[]),
        True,
        "prefixes: none",
    ),
    ("quota has no name", AutoReject(outside_namespace=True), quota_req(), False, None),
    (
        "an organization-wide grant has no namespace",
        AutoReject(outside_namespace=True),
        req(resource_name="orders-x", team_prefixes=[], namespace_exempt=True),
        False,
        None,
    ),
]


@pytest.mark.parametrize(
    "rule, request_, rejected, phrase", [r[1:] for r in REJECT], ids=[r[0] for r in REJECT]
)
def test_auto_reject(rule, request_, rejected, phrase):
    decision = decide(request_, [policy(auto_reject=[rule])], True, PRICE)
    assert (decision.outcome == "auto_rejected") is rejected
    if phrase:
        assert any(phrase in r for r in decision.reasons), decision.reasons


def test_auto_reject_beats_auto_approve():
    p = policy(
        auto_approve=[AutoApprove(environments=["production"])],
        auto_reject=[AutoReject(min_replicas=3)],
    )
    decision = decide(req(after={"num_replicas": 1}), [p], True, PRICE)
    assert decision.outcome == "auto_rejected"


# --- priority, defaults, groups -----------------------------------------------------------------
def test_priority_order_first_match_decides():
    low = policy("Later", priority=50, auto_approve=[AutoApprove(environments=["production"])])
    high = policy("First", priority=5)
    disabled = policy("Off", priority=1, enabled=False, auto_reject=[AutoReject(min_replicas=9)])
    decision = decide(req(), [low, disabled, high], True, PRICE)
    assert decision.policy.name == "First" and decision.outcome == "needs_approval"
    skip = policy("First", priority=5, triggers=Triggers(environments=["staging"]))
    assert decide(req(), [low, skip], True, PRICE).policy.name == "Later"


def test_priority_ties_go_by_name():
    a, b = policy("A", 10, version=3), policy("B", 10)
    decision = decide(req(), [b, a], True, PRICE)
    assert (decision.policy.name, decision.policy.version) == ("A", 3)


@pytest.mark.parametrize(
    "quota_ok, outcome, groups",
    [(True, "auto_approved", []), (False, "needs_approval", [DEFAULT_GROUP])],
)
def test_no_matching_policy_default(quota_ok, outcome, groups):
    decision = decide(req(), [], quota_ok, PRICE)
    assert (decision.outcome, decision.groups, decision.policy) == (outcome, groups, None)
    assert decision.reasons[0].startswith("No approval policy matches")


def test_policy_without_groups_falls_back_to_admins():
    decision = decide(req(), [ApprovalPolicy(name="Bare")], True, PRICE)
    assert decision.groups == [DEFAULT_GROUP]


def test_n_of_m_and_sequential_groups_with_cost_condition():
    groups = [
        ApprovalGroup(name="Leads", count=2, roles=["team_lead"], users=["u-ann", "u-bo"]),
        ApprovalGroup(name="Finance", teams=["finance"], when_monthly_cost_gt=500),
    ]
    p = policy(groups=groups, sla_hours=24)
    cheap = decide(quota_req(requested=1000 * GB), [p], True, PRICE)  # 900 GB: $225
    assert [g.name for g in cheap.groups] == ["Leads"] and cheap.groups[0].count == 2
    costly = decide(quota_req(requested=3000 * GB), [p], True, PRICE)  # 2900 GB: $725
    assert [g.name for g in costly.groups] == ["Leads", "Finance"]
    assert costly.reasons[-1] == (
        "Needs 2 approval(s) from role team_lead or user u-ann or user "
        "u-bo (Leads); then 1 approval(s) from team finance (Finance)."
    )
    assert costly.sla_hours == 24


# --- quota check --------------------------------------------------------------------------------
USAGE = {"streams": 14, "consumers": 50, "storage_bytes": 90 * GB}
LIMITS = {
    "streams": 15,
    "consumers": 50,
    "storage_bytes": 100 * GB,
    "max_replicas": 3,
    "max_msg_size": 8 * 1024**2,
}
QUOTAS = [
    ("fits", req(after={"max_bytes": 5 * GB, "num_replicas": 3}), []),
    (
        "storage over",
        req(after={"max_bytes": 20 * GB, "num_replicas": 3}),
        [("storage_bytes", 90 * GB, 100 * GB, 110 * GB)],
    ),
    (
        "unbounded stream",
        req(after={"num_replicas": 1}),
        [("storage_bytes", 90 * GB, 100 * GB, None)],
    ),
    (
        "replicas ceiling",
        req(after={"max_bytes": GB, "num_replicas": 5}),
        [("max_replicas", 0, 3, 5)],
    ),
    (
        "msg size ceiling",
        req(after={"max_bytes": GB, "max_msg_size": 16 * 1024**2}),
        [("max_msg_size", 0, 8 * 1024**2, 16 * 1024**2)],
    ),
    ("consumers full", req(kind="consumer", after={}), [("consumers", 50, 50, 51)]),
    (
        "update grows storage",
        update({"max_bytes": 5 * GB}, {"max_bytes": 16 * GB}),
        [("storage_bytes", 90 * GB, 100 * GB, 101 * GB)],
    ),
    ("delete never violates", req(operation="delete", after=None, before={"max_bytes": GB}), []),
    ("quota request has no impact", quota_req(), []),
    # A mirror change's ``after`` is its job: each mirror is a stream, its overrides its limits.
    (
        "two mirrors, two streams",
        req(
            kind="mirror",
            after={"mirrors": [{"overrides": {"max_bytes": GB}}, {"overrides": {"max_bytes": GB}}]},
        ),
        [("streams", 14, 15, 16)],
    ),
    (
        "mirror storage over",
        req(
            kind="mirror",
            after={"mirrors": [{"overrides": {"max_bytes": 11 * GB, "num_replicas": 5}}]},
        ),
        [("max_replicas", 0, 3, 5), ("storage_bytes", 90 * GB, 100 * GB, 101 * GB)],
    ),
    (
        "unbounded mirror",
        req(kind="mirror", after={"mirrors": [{"overrides": {}}]}),
        [("storage_bytes", 90 * GB, 100 * GB, None)],
    ),
]


@pytest.mark.parametrize("request_, expected", [q[1:] for q in QUOTAS], ids=[q[0] for q in QUOTAS])
def test_quota_check(request_, expected):
    got = quota_check(USAGE, LIMITS, request_)
    assert [(v.quota, v.usage, v.limit, v.would_be) for v in got] == expected


def test_quota_check_takes_an_impact_and_ignores_unlimited():
    assert impact(req())["streams"] == 1
    got = quota_check(
        {"streams": 15}, {"streams": 15, "consumers": -1}, {"streams": 1, "consumers": 9}
    )
    assert [v.sentence() for v in got] == [
        "Quota 'streams' would be exceeded: usage 15, limit 15, after this change 16."
    ]


# --- risk notes ---------------------------------------------------------------------------------
HISTORY = [
    HistoryEntry(resource="storage_bytes", before=50 * GB, after=100 * GB),
    HistoryEntry(resource="streams", before=10, after=15),
]
RISKS = [
    (
        "storage 100 -> 500 GB",
        quota_req(
            requested=500 * GB,
            usage={"consumers": 45, "streams": 8, "storage_bytes": 99 * GB},
            quota={"consumers": 50, "streams": 15, "storage_bytes": 100 * GB},
        ),
        [
            "The storage_bytes limit rises from 100 GB to 500 GB (+400%, 5.0× the current limit).",
            "Cost impact: +$100.00/month (400 GB at $0.25 per GB-month).",
            "This change of 400 GB is 8.0× the team's largest earlier storage_bytes change "
            "(50 GB).",
            "The team already uses 90% of its consumers quota (45 of 50).",
        ],
    ),
    (
        "streams 15 -> 20",
        quota_req(resource="streams", current=15, requested=20),
        [
            "The streams limit rises from 15 to 20 (+33%, 1.3× the current limit).",
            "This change of 5 is within the team's earlier streams changes (largest: 5).",
        ],
    ),
    (
        "stream max_bytes shrink",
        update({"max_bytes": 20 * GB}, {"max_bytes": 10 * GB}),
        [
            "max_bytes changes from 20 GB to 10 GB (-50%).",
            "Cost impact: -$2.50/month (-10 GB at $0.25 per GB-month).",
            "This change of 10 GB is within the team's earlier storage_bytes changes "
            "(largest: 50 GB).",
        ],
    ),
    (
        "create against quota",
        req(quota={"storage_bytes": 100 * GB}),
        [
            "The new stream reserves 50 GB, 50% of the team's storage quota (100 GB).",
            "Cost impact: +$12.50/month (50 GB at $0.25 per GB-month).",
            "This change of 50 GB is within the team's earlier storage_bytes changes "
            "(largest: 50 GB).",
        ],
    ),
    ("purge has nothing to say", req(kind="purge", operation="purge", after=None), []),
]


@pytest.mark.parametrize("request_, notes", [r[1:] for r in RISKS], ids=[r[0] for r in RISKS])
def test_risk_notes(request_, notes):
    assert risk_notes(request_, HISTORY, PRICE) == notes


def test_risk_notes_without_history():
    assert (
        risk_notes(quota_req(), [], PRICE)[-1]
        == "The team has no earlier storage_bytes changes to compare with."
    )


# --- the seed policies of the source design -----------------------------------------------------
SEEDS = [
    (
        "prod stream create needs a lead",
        req(),
        True,
        "needs_approval",
        "Production Changes",
        ["Platform Team or Team Lead"],
    ),
    (
        "prod stream with 1 replica",
        req(after={"max_bytes": GB, "num_replicas": 1}),
        True,
        "auto_rejected",
        "Production Changes",
        [],
    ),
    (
        "prod stream outside namespace",
        req(resource_name="orders-a"),
        True,
        "auto_rejected",
        "Production Changes",
        [],
    ),
    (
        "prod update under 10%",
        update(
            {"max_bytes": 100 * GB, "num_replicas": 3}, {"max_bytes": 105 * GB, "num_replicas": 3}
        ),
        True,
        "auto_approved",
        "Production Changes",
        [],
    ),
    (
        "prod purge needs a lead",
        req(kind="purge", operation="purge", after=None),
        True,
        "needs_approval",
        "Production Changes",
        ["Platform Team or Team Lead"],
    ),
    ("storage 100 -> 200 GB: no trigger", quota_req(), True, "auto_approved", None, []),
    (
        "storage 100 -> 400 GB: under 500 GB",
        quota_req(requested=400 * GB),
        True,
        "auto_approved",
        "Large Quota Requests",
        [],
    ),
    (
        "storage 100 -> 500 GB: admin",
        quota_req(requested=500 * GB),
        True,
        "needs_approval",
        "Large Quota Requests",
        ["Platform Admin"],
    ),
    (
        "storage 100 -> 3000 GB: admin then finance",
        quota_req(requested=3000 * GB),
        True,
        "needs_approval",
        "Large Quota Requests",
        ["Platform Admin", "Finance"],
    ),
    (
        "streams 10 -> 30: admin",
        quota_req(resource="streams", current=10, requested=30),
        True,
        "needs_approval",
        "Large Quota Requests",
        ["Platform Admin"],
    ),
    (
        "dev create within quota",
        req(environment="development", after={"num_replicas": 1}),
        True,
        "auto_approved",
        "Development Self-Service",
        [],
    ),
    (
        "staging create over quota",
        req(environment="staging"),
        False,
        "needs_approval",
        "Development Self-Service",
        ["Platform Admin"],
    ),
    (
        "dev outside namespace",
        req(environment="development", resource_name="x"),
        True,
        "auto_rejected",
        "Development Self-Service",
        [],
    ),
]


@pytest.mark.parametrize(
    "request_, quota_ok, outcome, policy_name, groups",
    [s[1:] for s in SEEDS],
    ids=[s[0] for s in SEEDS],
)
def test_seed_policies(request_, quota_ok, outcome, policy_name, groups):
    decision = decide(request_, SEED_POLICIES, quota_ok, PRICE)
    assert decision.outcome == outcome, decision.reasons
    assert (decision.policy.name if decision.policy else None) == policy_name
    assert [g.name for g in decision.groups] == groups
    assert decision.reasons


def test_production_changes_sla_and_escalation():
    decision = decide(req(), SEED_POLICIES, True, PRICE)
    assert decision.sla_hours == 4
    assert [(e.after_hours, e.notify) for e in decision.escalation] == [(8, "@platform-oncall")]
    assert decision.reasons == [
        "Policy 'Production Changes' (v1) applies.",
        "Needs 1 approval(s) from role admin or role team_lead or team platform "
        "(Platform Team or Team Lead).",
    ]
