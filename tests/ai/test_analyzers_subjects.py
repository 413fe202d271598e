"""NATS subject matching as a table: do two patterns share a subject, does one contain the
other."""

from __future__ import annotations

import pytest

from ai.analyzers.subjects import contains, overlap

OVERLAP = [
    ("orders.new", "orders.new", True),
    ("orders.new", "orders.old", False),
    ("orders.*", "orders.new", True),
    ("orders.>", "orders.new.eu", True),
    ("orders.>", "orders", False),
    ("orders.*", "orders.new.eu", False),
    ("*.new", "orders.*", True),
    (">", "anything.at.all", True),
    ("a.*.c", "a.b.d", False),
    ("a.*.c", "a.>", True),
    ("other.x", "orders.>", False),
    ("orders", "orders.>", False),
    ("a.b", "a.b.c", False),
    ("*", "a.b", False),
    ("*", ">", True),
]


@pytest.mark.parametrize("a, b, expected", OVERLAP)
def test_overlap_is_symmetric_and_as_nats_matches(a, b, expected):
    assert overlap(a, b) is expected
    assert overlap(b, a) is expected


CONTAINS = [
    ("orders.>", "orders.*.new", True),
    ("orders.>", "orders.new", True),
    ("orders.>", "orders", False),
    ("orders.*", "orders.new", True),
    ("orders.*", "orders.>", False),
    ("orders.new", "orders.*", False),
    (">", "a.b.c", True),
    ("a.b", "a.b", True),
    ("a.*", "a.*", True),
    ("*.b", "a.b.c", False),
]


@pytest.mark.parametrize("general, specific, expected", CONTAINS)
def test_contains(general, specific, expected):
    assert contains(general, specific) is expected
