"""NATS subject matching over tokens: ``*`` is exactly one token, ``>`` one or more at the end.
``overlap(a, b)``: is there a subject both patterns match (so a consumer filtered on ``a`` can get
a message of a stream capturing ``b``)?"""

from __future__ import annotations


def overlap(a: str, b: str) -> bool:
    left, right = a.split("."), b.split(".")
    for i in range(max(len(left), len(right))):
        if i >= len(left) or i >= len(right):
            return False  # one ran out of tokens; a '>' left on the other needs one more
        x, y = left[i], right[i]
        if x == ">" or y == ">":
            return True
        if x != y and x != "*" and y != "*":
            return False
    return True


def overlaps_any(pattern: str, patterns: list[str]) -> bool:
    return any(overlap(pattern, other) for other in patterns)


def contains(general: str, specific: str) -> bool:
    """Does ``general`` match every subject ``specific`` matches (``orders.>`` contains
    ``orders.*.new``)?"""
    outer, inner = general.split("."), specific.split(".")
    for i, token in enumerate(outer):
        if token == ">":
            return i < len(inner)
        if i >= len(inner) or inner[i] == ">":
            return False
        if token != "*" and token != inner[i]:
            return False
    return len(outer) == len(inner)
