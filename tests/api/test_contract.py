"""The OpenAPI schema declares the API's error contract (api.contract): every problem a route can
answer as ``application/problem+json`` with the shared schema, ``202`` where the change gate can
defer, ``Retry-After`` with ``429``, and the cross-field rules of the request models. Built from
the application itself, without the stack; the live API is judged against the same schema by
tests/api/test_schemathesis.py."""

from __future__ import annotations

import jsonschema
import pytest

from api.app import create_app
from api.contract import PROBLEM
from tests.api.routes import PUBLIC, operations


@pytest.fixture(scope="module")
def schema() -> dict:
    return create_app().openapi()


def _problems(op: dict) -> dict[str, dict]:
    return {code: r for code, r in op["responses"].items() if code[0] in "45"}


def test_every_problem_is_problem_json_with_the_shared_schema(schema):
    checked = 0
    for method, path, op in operations(schema):
        for code, response in _problems(op).items():
            expected = "ValidationProblem" if code == "422" else "Problem"
            assert response["content"][PROBLEM]["schema"] == {
                "$ref": f"#/components/schemas/{expected}"
            }, (method, path, code)
            assert "application/json" not in response["content"], (method, path, code)
            assert response["description"], (method, path, code)
            checked += 1
    assert checked > 500
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_signed_in_routes_declare_401_429_and_503(schema):
    for method, path, op in operations(schema):
        if (method, path) in PUBLIC:
            continue
        responses = op["responses"]
        assert {"401", "429", "503"} <= set(responses), (method, path, sorted(responses))
        assert responses["429"]["headers"]["Retry-After"]["required"] is True


def test_permission_routes_declare_403_and_addressed_objects_404(schema):
    for method, path, op in operations(schema):
        if op.get("security") and any(s for req in op["security"] for s in req.values()):
            assert "403" in op["responses"], (method, path)
        if any(p["in"] == "path" for p in op.get("parameters", [])):
            assert "404" in op["responses"], (method, path)
        if op.get("parameters") or op.get("requestBody"):
            assert "422" in op["responses"], (method, path)


def test_changes_the_gate_can_defer_declare_202_and_409(schema):
    gated = [
        ("POST", "/api/v1/clusters/{cluster_id}/streams"),
        ("PATCH", "/api/v1/clusters/{cluster_id}/streams/{name}"),
        ("DELETE", "/api/v1/clusters/{cluster_id}/streams/{name}"),
        ("POST", "/api/v1/clusters/{cluster_id}/streams/{name}/purge"),
        ("POST", "/api/v1/clusters/{cluster_id}/streams/{stream}/consumers"),
        ("POST", "/api/v1/quota-requests"),
    ]
    ops = {(m, p): op for m, p, op in operations(schema)}
    for key in gated:
        responses = ops[key]["responses"]
        assert responses["202"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ApprovalPending"
        }, key
        assert {"403", "409"} <= set(responses), key
    pending = schema["components"]["schemas"]["ApprovalPending"]
    assert {"request_id", "operation_id", "status"} <= set(pending["required"])
    # a read is never deferred
    assert "202" not in ops[("GET", "/api/v1/clusters/{cluster_id}/streams")]["responses"]


@pytest.mark.parametrize(
    "model, valid, invalid",
    [
        ("PurgeRequest", {"sequence": 5}, {"sequence": 5, "keep": 1}),
        ("PurgeRequest", {"keep": 0}, {"sequence": 2, "keep": 0}),
        (
            "ReplayDestination",
            {"subject": "a.b", "subject_prefix": None},
            {"subject": "a.b", "subject_prefix": "re"},
        ),
        (
            "Remediation",
            {
                "action": "ignore",
                "items": ["5c4f1b5e-7a6e-4d36-9c55-0d9a2b1c8f10"],
                "ignore_for": "7d",
            },
            {
                "action": "ignore",
                "items": ["5c4f1b5e-7a6e-4d36-9c55-0d9a2b1c8f10"],
                "ignore_for": "7d",
                "ignore_until": "2030-01-01T00:00:00Z",
            },
        ),
        (
            "MirrorRequest",
            {"filter_subjects": ["a.>"], "subject_transforms": []},
            {"filter_subjects": ["a.>"], "subject_transforms": [{"src": "a.>", "dest": "b.>"}]},
        ),
    ],
)
def test_cross_field_rules_are_in_the_schema(schema, model, valid, invalid):
    components = schema["components"]["schemas"]
    name = model if model in components else f"{model}-Input"
    rules = {"allOf": components[name]["allOf"]}
    assert jsonschema.Draft202012Validator(rules).is_valid(valid)
    assert not jsonschema.Draft202012Validator(rules).is_valid(invalid)


def test_a_cadence_is_a_cron_or_an_interval_exactly(schema):
    components = schema["components"]["schemas"]
    rules = {"allOf": components.get("Cadence", components.get("Cadence-Input"))["allOf"]}
    check = jsonschema.Draft202012Validator(rules).is_valid
    assert check({"cron": "0 2 * * *"}) and check({"every": "6h"})
    assert not check({}) and not check({"cron": "0 2 * * *", "every": "6h"})
