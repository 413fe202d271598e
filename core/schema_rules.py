"""Cross-field rules of a request model written into its JSON schema, where JSON Schema can say
them, so that the OpenAPI schema (and the clients and fuzzers built from it) knows what the
model's validators refuse: ``json_schema_extra=rules(not_both("a", "b"))``.

A field counts as given when it is present and not null; with ``truthy`` (the validator tests the
value's truth) also not an empty string or list, nor ``false``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

GIVEN: dict[str, Any] = {"not": {"type": "null"}}
TRUTHY: dict[str, Any] = {"not": {"enum": [None, "", [], False, 0]}}


def _given(names: tuple[str, ...], truthy: bool) -> dict[str, Any]:
    return {
        "required": list(names),
        "properties": {name: TRUTHY if truthy else GIVEN for name in names},
    }


def not_both(a: str, b: str, *, truthy: bool = False) -> dict[str, Any]:
    """``a`` and ``b`` are never both given."""
    return {"not": _given((a, b), truthy)}


def one_of_required(*names: str) -> dict[str, Any]:
    """At least one of ``names`` is given (present and not null)."""
    return {"anyOf": [_given((name,), False) for name in names]}


def rules(*parts: dict[str, Any]) -> Callable[[dict[str, Any], Any], None]:
    """A ``json_schema_extra`` adding each rule to the model's schema (under ``allOf``)."""

    def extra(schema: dict[str, Any], _model: Any = None) -> None:
        schema.setdefault("allOf", []).extend(parts)

    return extra
