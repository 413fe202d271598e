""" "Describe what you need" (``POST /api/v1/ai/configure``), outside in: the model's structured
answer (scripted on the local Anthropic server) validated by the API's own models, compared with
the stream of that name, and never created by the assistant."""

from __future__ import annotations

from tests.ai.fake_anthropic import Error, ToolUse
from tests.fixtures import unique

DAY_NS = 24 * 3600 * 10**9


def _configure(api, headers, description, **body):
    return api.post(
        "/api/v1/ai/configure", headers=headers, json={"description": description, **body}
    )


def test_a_description_becomes_a_validated_configuration(
    api, admin_headers, hub_cluster, fake_claude
):
    cid = hub_cluster["id"]
    name = unique("ACTIVITY").upper().replace("-", "_")
    description = f"I need a stream for user activity, kept 30 days, highly available ({name})"
    fake_claude.script(
        description,
        [
            ToolUse(
                "emit_configuration",
                {
                    "stream": {
                        "name": name,
                        "subjects": ["activity.>"],
                        "storage": "file",
                        "num_replicas": 1,
                        "max_age": 30 * DAY_NS,
                    },
                    "consumer": {
                        "durable_name": "activity-processor",
                        "ack_policy": "explicit",
                        "max_deliver": 5,
                    },
                    "explanation": ["file storage for durability", "30 days of max_age"],
                },
            )
        ],
    )
    reply = _configure(api, admin_headers, description, cluster_id=cid)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["stream"]["valid"] and body["stream"]["config"]["max_age"] == 30 * DAY_NS
    assert body["consumer"]["valid"] and body["consumer"]["config"]["ack_policy"] == "explicit"
    assert body["exists"] is False and body["explanation"][0] == "file storage for durability"
    assert [c["path"] for c in body["create"]] == [
        f"/api/v1/clusters/{cid}/streams",
        f"/api/v1/clusters/{cid}/streams/{name}/consumers",
    ]
    # nothing was created: the person creates it through the normal path
    assert (
        api.get(f"/api/v1/clusters/{cid}/streams/{name}", headers=admin_headers).status_code == 404
    )
    created = api.post(
        body["create"][0]["path"], json=body["create"][0]["body"], headers=admin_headers
    )
    assert created.status_code == 201, created.text
    # the model was asked with the forced tool
    request = fake_claude.requests_matching(description)[-1].body
    assert request["tool_choice"] == {"type": "tool", "name": "emit_configuration"}


def test_an_invalid_or_existing_configuration_is_shown_with_its_errors_and_diff(
    api, admin_headers, hub_cluster, fake_claude
):
    cid = hub_cluster["id"]
    name = unique("EXISTING").upper().replace("-", "_")
    assert (
        api.post(
            f"/api/v1/clusters/{cid}/streams",
            headers=admin_headers,
            json={"name": name, "subjects": [f"{name.lower()}.>"], "storage": "memory"},
        ).status_code
        == 201
    )
    description = f"Make {name} keep a million messages"
    fake_claude.script(
        description,
        [
            ToolUse(
                "emit_configuration",
                {
                    "stream": {
                        "name": name,
                        "subjects": [f"{name.lower()}.>"],
                        "storage": "memory",
                        "max_msgs": 1_000_000,
                    },
                    "explanation": ["a million messages"],
                },
            )
        ],
    )
    body = _configure(api, admin_headers, description, cluster_id=cid).json()
    assert body["exists"] is True and body["create"] == []
    assert "max_msgs" in str(body["diff"])
    bad = unique("bad config")
    fake_claude.script(
        bad,
        [
            ToolUse(
                "emit_configuration",
                {
                    "stream": {"name": "BAD", "subjects": ["bad.>"], "num_replicas": 9},
                    "explanation": [],
                },
            )
        ],
    )
    body = _configure(api, admin_headers, bad).json()
    assert body["stream"]["valid"] is False
    assert any(e["field"] == "num_replicas" for e in body["stream"]["errors"])


def test_without_the_model_it_says_so_and_bad_input_is_named(api, admin_headers, fake_claude):
    down = unique("model down")
    fake_claude.script(down, [Error(529, "overloaded_error", "Overloaded")])
    reply = _configure(api, admin_headers, down)
    assert reply.status_code == 503 and reply.json()["reason"] == "overloaded"
    assert reply.headers["content-type"].startswith("application/problem+json")
    for body, field in (
        ({"description": " "}, "description"),
        ({"description": "x", "cluster_id": "nope"}, "cluster_id"),
    ):
        reply = api.post("/api/v1/ai/configure", headers=admin_headers, json=body)
        assert reply.status_code == 422 and field in reply.text
