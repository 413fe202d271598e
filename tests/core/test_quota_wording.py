"""Limits and ratios as people read them (pure tables): a limit is a size, a count or "unlimited",
a ratio exists only over a finite base above zero, and no reason, risk note or UI card text ever
reads "inf" or "nan", whatever the current limit (unlimited, zero, tiny, huge) of a request."""

from __future__ import annotations

import math
import re

import pytest

from core.policy import GB, ChangeRequest, HistoryEntry, Triggers, decide, risk_notes
from core.policy import measures as m
from core.policy import wording as w
from core.policy.models import ApprovalPolicy
from core.policy.seed import SEED_POLICIES
from ui import approval_text as ui

PRICE = 0.25
NOT_A_NUMBER = re.compile(r"\b(inf|infinity|nan)\b|∞", re.IGNORECASE)


def quota_req(resource: str, current: float | None, requested: float) -> ChangeRequest:
    return ChangeRequest(
        kind="quota",
        operation="increase",
        environment="production",
        requester_id="u1",
        quota_resource=resource,
        current_limit=current,
        requested_limit=requested,
    )


def reads_no_infinity(text: str) -> bool:
    return NOT_A_NUMBER.search(text) is None


# --- the wording functions: (function, arguments, expected) --------------------------------------
WORDS = [
    ("limit: none is unlimited", w.limit_text, ("streams", None), "unlimited"),
    ("limit: infinite is unlimited", w.limit_text, ("streams", math.inf), "unlimited"),
    ("limit: nan is unknown", w.limit_text, ("streams", math.nan), "unknown"),
    ("limit: a count", w.limit_text, ("streams", 20), "20"),
    ("limit: a large count", w.limit_text, ("messages", 10**18), "1,000,000,000,000,000,000"),
    ("limit: a fraction", w.limit_text, ("inbound_rate", 95.5), "95.5"),
    ("limit: zero", w.limit_text, ("streams", 0), "0"),
    ("limit: storage", w.limit_text, ("storage_bytes", 500 * GB), "500 GB"),
    ("times: from 10 to 25", w.times_text, (25, 10), "2.5×"),
    ("times: from zero", w.times_text, (20, 0), None),
    ("times: from unlimited", w.times_text, (20, None), None),
    ("times: to unlimited", w.times_text, (None, 20), None),
    ("times: from nan", w.times_text, (20, math.nan), None),
    ("times: from inf", w.times_text, (20, math.inf), None),
    ("times: a bool is no number", w.times_text, (True, 1), None),
    ("change: from 10 to 25", w.change_text, (25, 10), "+150%"),
    ("change: down", w.change_text, (5, 10), "-50%"),
    ("change: from zero", w.change_text, (20, 0), None),
    ("change: from unlimited", w.change_text, (20, None), None),
]


@pytest.mark.parametrize("fn, args, expected", [t[1:] for t in WORDS], ids=[t[0] for t in WORDS])
def test_wording(fn, args, expected):
    assert fn(*args) == expected


MULTIPLIER = [
    (
        "finite",
        ("streams", 25, 10, 2),
        "The requested limit is 2.5× the current one, more than 2×.",
    ),
    (
        "from zero",
        ("streams", 20, 0, 2),
        "The requested limit of 20 is more than 2× the current limit of 0.",
    ),
    (
        "storage from zero",
        ("storage_bytes", 5 * GB, 0, 1.5),
        "The requested limit of 5 GB is more than 1.5× the current limit of 0 GB.",
    ),
]


@pytest.mark.parametrize(
    "args, expected", [t[1:] for t in MULTIPLIER], ids=[t[0] for t in MULTIPLIER]
)
def test_multiplier_reason(args, expected):
    assert w.multiplier_reason(*args) == expected


# --- the trigger "requested limit more than N×": (current, requested, matches) -------------------
ABOVE = [
    ("5x of 10", 10, 50, True),
    ("exactly 2x", 10, 20, False),
    ("any raise from zero", 0, 1, True),
    ("from unlimited is no raise", None, 20, False),
]


@pytest.mark.parametrize(
    "current, requested, above", [t[1:] for t in ABOVE], ids=[t[0] for t in ABOVE]
)
def test_quota_multiplier_above(current, requested, above):
    assert m.quota_multiplier_above(quota_req("streams", current, requested), 2) is above


def test_a_request_from_unlimited_adds_no_storage_and_costs_nothing():
    request = quota_req("storage_bytes", None, 500 * GB)
    assert m.storage_increase(request) == 0 and m.monthly_cost(request, PRICE) == 0


# --- risk notes: (request, notes) ----------------------------------------------------------------
HISTORY = [HistoryEntry(resource="streams", before=10, after=15)]
NOTES = [
    (
        "from zero",
        quota_req("streams", 0, 20),
        [
            "The streams limit rises from 0 to 20.",
            "This change of 20 is 4.0× the team's largest earlier streams change (5).",
        ],
    ),
    (
        "from unlimited",
        quota_req("streams", None, 20),
        ["The streams limit is unlimited today: a limit of 20 would lower it, not raise it."],
    ),
    (
        "storage from zero",
        quota_req("storage_bytes", 0, 10 * GB),
        [
            "The storage_bytes limit rises from 0 GB to 10 GB.",
            "Cost impact: +$2.50/month (10 GB at $0.25 per GB-month).",
            "The team has no earlier storage_bytes changes to compare with.",
        ],
    ),
    (
        "a raise",
        quota_req("streams", 10, 25),
        [
            "The streams limit rises from 10 to 25 (+150%, 2.5× the current limit).",
            "This change of 15 is 3.0× the team's largest earlier streams change (5).",
        ],
    ),
]


@pytest.mark.parametrize("request_, notes", [t[1:] for t in NOTES], ids=[t[0] for t in NOTES])
def test_risk_notes_of_quota_requests(request_, notes):
    assert risk_notes(request_, HISTORY, PRICE) == notes


# --- no text of any request reads inf or nan -----------------------------------------------------
BIGGEST = 10**15  # the largest limit the policy layer takes
CURRENTS = [None, 0, 1, 3, BIGGEST]
REQUESTED = [1, 20, BIGGEST]
TRIGGERED = ApprovalPolicy(
    name="Any raise", triggers=Triggers(kinds=["quota"], quota_multiplier_gt=2)
)


@pytest.mark.parametrize("resource", ["streams", "storage_bytes", "inbound_rate"])
@pytest.mark.parametrize("current", CURRENTS)
@pytest.mark.parametrize("requested", REQUESTED)
def test_no_reason_note_or_card_reads_inf(resource, current, requested):
    request = quota_req(resource, current, requested)
    history = [HistoryEntry(resource=resource, before=0, after=requested)]
    texts = risk_notes(request, history, PRICE)
    for policies in ([TRIGGERED], SEED_POLICIES, []):
        texts += decide(request, policies, True, PRICE).reasons
    diff = {resource: {"before": current, "after": requested}}
    rows = ui.change_rows(diff, {"kind": "quota", "quota_resource": resource})
    texts += [cell for row in rows for cell in row.values()]
    texts += [ui.limit_text(resource, current), ui.usage_label(resource, current, current, None)]
    assert texts and all(reads_no_infinity(t) for t in texts), texts


def test_a_raise_from_zero_matches_the_multiplier_trigger_and_says_so():
    decision = decide(quota_req("streams", 0, 20), [TRIGGERED], True, PRICE)
    assert decision.outcome == "needs_approval"
    assert (
        decision.reasons[1] == "The requested limit of 20 is more than 2× the current limit of 0."
    )


# --- the UI's texts ------------------------------------------------------------------------------
UI_TEXTS = [
    ("limit none", ui.limit_text, ("streams", None), "unlimited"),
    ("limit inf", ui.limit_text, ("streams", math.inf), "unlimited"),
    ("limit nan", ui.limit_text, ("streams", math.nan), "—"),
    ("amount inf", ui.amount, ("streams", math.inf), "—"),
    ("amount nan", ui.amount, ("storage_bytes", math.nan), "—"),
    ("gb inf", ui.gb, (math.inf,), "—"),
    ("value inf", ui.value_text, (math.inf,), "—"),
    ("value nan", ui.value_text, (math.nan,), "—"),
    ("usage of an infinite limit", ui.usage_label, ("streams", 3, math.inf, None), "3 / unlimited"),
]


@pytest.mark.parametrize(
    "fn, args, expected", [t[1:] for t in UI_TEXTS], ids=[t[0] for t in UI_TEXTS]
)
def test_ui_texts(fn, args, expected):
    assert fn(*args) == expected


CARDS = [
    (
        "quota from zero",
        {"streams": {"before": 0, "after": 20}},
        [{"Field": "streams", "Before": "0", "After": "20"}],
    ),
    (
        "quota from unlimited",
        {"streams": {"before": None, "after": 20}},
        [{"Field": "streams", "Before": "unlimited", "After": "20"}],
    ),
    (
        "storage quota",
        {"storage_bytes": {"before": 100 * GB, "after": 400 * GB}},
        [{"Field": "storage_bytes", "Before": "100 GB", "After": "400 GB"}],
    ),
]


@pytest.mark.parametrize("diff, rows", [t[1:] for t in CARDS], ids=[t[0] for t in CARDS])
def test_the_card_of_a_quota_request(diff, rows):
    assert ui.change_rows(diff, {"kind": "quota"}) == rows


FORMS = [
    ("from unlimited", dict(requested=20, current=None, unlimited=True), [ui.UNLIMITED_ALREADY]),
    (
        "from unlimited, nothing entered",
        dict(requested=None, current=None, unlimited=True),
        [ui.UNLIMITED_ALREADY],
    ),
    (
        "not a raise",
        dict(requested=15, current=15),
        ["The requested limit must be above the current one (15)."],
    ),
    ("a raise from zero", dict(requested=1, current=0), []),
]


@pytest.mark.parametrize("kw, problems", [t[1:] for t in FORMS], ids=[t[0] for t in FORMS])
def test_the_request_form_refuses_what_does_not_raise_a_limit(kw, problems):
    body, found = ui.check_quota_request(
        team_id="t1", resource="streams", justification="why", **kw
    )
    assert found == problems and (body is None) is bool(problems)
