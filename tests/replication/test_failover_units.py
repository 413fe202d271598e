"""The pure parts of a failover, as tables: which subjects overlap (a promotion must not capture
another stream's), the canary's subject, what a promotion takes from a (fenced) primary, the
drill's inert subjects, the key of a pairless request, and the request's own checks."""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import ValidationError

from core.replication.active_side import pairless_key
from core.replication.drill import drill_subjects
from core.replication.failover import literal_subject, subjects_collide
from core.replication.mirrors import FENCED_SUBJECTS_KEY, promotable
from core.replication.models import FailoverRequest


@pytest.mark.parametrize(
    "a, b, collide",
    [
        ("orders.>", "orders.eu", True),
        ("orders.*", "orders.eu", True),
        ("orders.*", "orders.eu.x", False),
        ("orders.>", "orders", False),
        ("orders.*.x", "orders.eu.*", True),
        ("a.b", "a.c", False),
        ("*.b", "a.>", True),
        ("_JSC_DRILL.ab12.orders.>", "orders.>", False),
    ],
)
def test_subjects_collide(a, b, collide):
    assert subjects_collide(a, b) is collide
    assert subjects_collide(b, a) is collide


@pytest.mark.parametrize(
    "pattern, subject",
    [
        ("orders.>", "orders.jsc_canary"),
        ("orders.*.eu", "orders.jsc_canary.eu"),
        ("orders", "orders"),
    ],
)
def test_the_canary_subject_is_one_the_stream_captures(pattern, subject):
    assert literal_subject(pattern) == subject


def test_promotion_takes_a_fenced_primarys_own_subjects():
    config = {
        "subjects": ["_JSC_FENCED.ORDERS"],
        "duplicate_window": 60 * 10**9,
        "max_msgs_per_subject": 5,
        "storage": "file",
        "metadata": {FENCED_SUBJECTS_KEY: json.dumps(["orders.>"])},
    }
    assert promotable(config) == {
        "subjects": ["orders.>"],
        "duplicate_window": 60 * 10**9,
        "max_msgs_per_subject": 5,
    }


def test_a_drill_captures_no_production_subject():
    inert = drill_subjects(["orders.>", "payments.*"], "ab12cd34")
    assert inert == ["_JSC_DRILL.ab12cd34.orders.>", "_JSC_DRILL.ab12cd34.payments.*"]
    assert not any(subjects_collide(i, p) for i in inert for p in ("orders.>", "payments.*"))


def test_a_pairless_key_is_the_same_both_ways():
    hub, dr = str(uuid.uuid4()), str(uuid.uuid4())
    assert pairless_key([hub, dr], ["B", "A"]) == pairless_key([dr, hub], ["A", "B"])
    assert pairless_key([hub, dr], ["A"]) != pairless_key([hub, dr], ["A", "B"])


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "give 'pair_id', or 'primary_cluster_id' with 'streams'"),
        ({"pair_id": "P", "streams": ["A"]}, "give 'pair_id' alone"),
        ({"primary_cluster_id": "T", "streams": ["A"]}, "the target cluster is the primary"),
        ({"pair_id": "P", "drill": True, "reverse": True}, "cannot 'reverse'"),
    ],
)
def test_a_request_says_what_is_wrong(body, message):
    ids = {"P": str(uuid.uuid4()), "T": str(uuid.uuid4())}
    body = {k: (ids.get(v, v) if isinstance(v, str) else v) for k, v in body.items()}
    with pytest.raises(ValidationError, match=message):
        FailoverRequest.model_validate({"target_cluster_id": ids["T"], **body})
