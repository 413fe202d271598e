"""Every read-only tool of the assistant against the real API as the caller, the model's name and
key from settings, and the per-user daily token budget, outside in."""

from __future__ import annotations

from datetime import UTC, datetime

import redis

from ai.tools import all_tools
from tests.ai.chatting import ask, of, text_of
from tests.ai.fake_anthropic import Text, ToolUse
from tests.conftest import AI_MODEL
from tests.fixtures import unique


def test_every_read_tool_answers_for_an_admin(api, admin_headers, hub_cluster, fake_claude):
    cid = hub_cluster["id"]
    stream = unique("TOOLS").upper().replace("-", "_")
    assert (
        api.post(
            f"/api/v1/clusters/{cid}/streams",
            headers=admin_headers,
            json={"name": stream, "subjects": [f"{stream.lower()}.>"], "storage": "memory"},
        ).status_code
        == 201
    )
    assert (
        api.post(
            f"/api/v1/clusters/{cid}/streams/{stream}/consumers",
            headers=admin_headers,
            json={"durable_name": "worker", "ack_policy": "explicit"},
        ).status_code
        == 201
    )
    calls = {
        "list_clusters": {},
        "cluster_health": {"cluster_id": cid},
        "list_streams": {"cluster_id": cid},
        "get_stream": {"cluster_id": cid, "stream": stream},
        "list_consumers": {"cluster_id": cid, "stream": stream},
        "get_consumer": {"cluster_id": cid, "stream": stream, "consumer": "worker"},
        "sample_messages": {"cluster_id": cid, "stream": stream},
        "metric_history": {"metric": "messages_rate", "cluster_id": cid, "range": "15m"},
        "alerts": {},
        "recent_activity": {"limit": 5},
        "operations": {"limit": 5},
        "replication": {},
        "quotas": {},
        "approval_requests": {"limit": 5},
        "diagnose": {"cluster_id": cid, "stream": stream},
    }
    read_only = set(all_tools()) - {"propose_change"}
    assert set(calls) == read_only  # a new tool gets a line here
    question = unique("read everything")
    fake_claude.script(
        question, [[ToolUse(name, given) for name, given in calls.items()], Text("All read.")]
    )
    events = ask(api, admin_headers, question)
    results = {r["name"]: r for r in of(events, "tool_result")}
    assert set(results) == set(calls)
    assert [n for n, r in results.items() if r["is_error"]] == [], results
    assert text_of(events) == "All read."
    # the model's name and tools are the ones configured; the key is the one set
    request = fake_claude.requests_matching(question)[0]
    assert request.body["model"] == AI_MODEL and request.key == fake_claude.key
    assert {t["name"] for t in request.body["tools"]} == set(all_tools())
    assert of(events, "done")[0]["model"] == AI_MODEL


def test_a_tool_input_the_api_refuses_reaches_the_model_as_an_error(
    api, admin_headers, fake_claude
):
    question = unique("bad input")
    fake_claude.script(
        question,
        [
            [
                ToolUse("get_stream", {"cluster_id": "not-a-uuid", "stream": "X"}),
                ToolUse("no_such_tool", {}),
            ],
            Text("Sorry."),
        ],
    )
    results = of(ask(api, admin_headers, question), "tool_result")
    assert [r["is_error"] for r in results] == [True, True]
    assert "cluster_id" in results[0]["summary"] and "no tool" in results[1]["summary"]


async def test_the_daily_budget_is_per_person(api, make_member, stack, fake_claude):
    headers, user_id, _ = await make_member("viewer")
    day = datetime.now(UTC).strftime("%Y%m%d")
    client = redis.Redis.from_url(stack.env["JSC_REDIS_URL"])
    client.set(f"ai:tokens:{user_id}:{day}", 10**9)
    question = unique("over budget")
    fake_claude.script(question, [Text("should not be asked")])
    events = ask(api, headers, question)
    assert of(events, "notice")[0]["reason"] == "budget"
    assert of(events, "done")[0]["offline"] is True
    assert fake_claude.requests_matching(question) == []  # the model was not asked
    drafted = api.post("/api/v1/ai/configure", headers=headers, json={"description": question})
    assert drafted.status_code == 429 and int(drafted.headers["retry-after"]) > 0
    # another person's budget is untouched
    other, _, _ = await make_member("viewer")
    fake_claude.script(question + " again", [Text("answered")])
    assert text_of(ask(api, other, question + " again")) == "answered"
    client.close()
