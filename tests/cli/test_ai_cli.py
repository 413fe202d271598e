"""``jsc ai ask`` and ``jsc ai diagnose`` against the real stack; the model is the local server
speaking Anthropic's Messages API (``fake_claude``), scripted per question.

The answer streams: a terminal shows the first words and the tool calls while the model is still
writing the rest. Tool calls are one-liners with their result's summary; a proposal is a box
with its approval link; without the model a warning says why and the deterministic checks
answer; ``--json`` gives the events as JSON lines; a conversation goes on with
``--conversation``."""

from __future__ import annotations

import json
import re
import threading

from nats.js.api import AckPolicy, ConsumerConfig, DiscardPolicy, StreamConfig

from tests.ai.fake_anthropic import Error, Text, ToolUse
from tests.api.orgs import signup
from tests.cli.conftest import fails, signed_in, unique


def _stream(api, headers, cluster_id: str, **config) -> str:
    name = unique("CLIAI").upper().replace("-", "_")
    body = {"name": name, "subjects": [f"{name.lower()}.>"], "storage": "memory", **config}
    reply = api.post(f"/api/v1/clusters/{cluster_id}/streams", json=body, headers=headers)
    assert reply.status_code == 201, reply.text
    return name


def _conversation_id(out: str) -> str:
    match = re.search(r"conversation ([0-9a-f-]{36})", out)
    assert match, out
    return match.group(1)


def test_ask_prints_the_answer_tool_calls_and_how_to_go_on(
    jsc, api, admin_headers, hub_cluster, fake_claude
):
    cid = hub_cluster["id"]
    stream = _stream(api, admin_headers, cid)
    question = f"How many messages does {stream} hold?"
    fake_claude.script(
        question,
        [
            ToolUse("get_stream", {"cluster_id": cid, "stream": stream}),
            Text(f"{stream} is empty: it holds no message yet."),
        ],
    )
    out = jsc.ok("ai", "ask", question, "-c", "test-hub", "--stream", stream).stdout
    assert f"→ get_stream {stream}: 0 messages" in out, out
    assert f"{stream} is empty: it holds no message yet." in out
    assert "Warning" not in out
    # the tool line stands on its own line, before the answer
    lines = out.splitlines()
    tool_line = next(i for i, line in enumerate(lines) if line.startswith("→ get_stream"))
    answer_line = next(i for i, line in enumerate(lines) if "is empty" in line)
    assert tool_line < answer_line
    conversation_id = _conversation_id(out)
    assert f"jsc ai ask --conversation {conversation_id}" in out
    # the context went with the question: the conversation is about that stream
    stored = api.get(f"/api/v1/ai/conversations/{conversation_id}", headers=admin_headers).json()
    assert stored["context"] == {"cluster_id": cid, "stream": stream}
    assert stored["turns"][1]["tool_calls"][0]["name"] == "get_stream"

    # the conversation goes on: the model reads what was said
    follow_up = unique("and what about tomorrow")
    fake_claude.script(follow_up, [Text("Tomorrow too, unless someone publishes.")])
    out = jsc.ok("ai", "ask", follow_up, "--conversation", conversation_id).stdout
    assert "Tomorrow too, unless someone publishes." in out
    assert _conversation_id(out) == conversation_id
    sent = fake_claude.requests_matching(follow_up)[-1].messages
    # the first question, its tool round and answer, then the follow-up
    assert [m["role"] for m in sent] == ["user", "assistant", "user", "assistant", "user"]
    assert sent[0]["content"] == question and sent[-1]["content"] == follow_up


def test_ask_json_prints_every_event_as_a_json_line(jsc, fake_claude):
    question = unique("say hello")
    fake_claude.script(question, [Text("Hello there.")])
    out = jsc.ok("ai", "ask", question, "--json").stdout
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "conversation" and kinds[-1] == "done" and "text" in kinds
    assert "".join(e["data"]["delta"] for e in events if e["event"] == "text") == "Hello there."
    done = events[-1]["data"]
    assert done["offline"] is False and done["usage"]["output_tokens"] > 0
    assert done["conversation_id"] == events[0]["data"]["conversation_id"]


def test_the_answer_streams_while_the_model_is_still_writing(
    terminal, api, admin_headers, hub_cluster, fake_claude
):
    """The first words and the tool call are on the screen before the model has written the
    rest: its second turn waits until the test has seen them."""
    cid = hub_cluster["id"]
    stream = _stream(api, admin_headers, cid)
    question = unique(f"is {stream} healthy")
    seen = threading.Event()

    def rest_of_the_answer(_request):
        seen.wait(timeout=15)  # the model "writes" only once the screen showed the beginning
        return Text("All good: the stream is healthy." if seen.is_set() else "Too late.")

    fake_claude.script(
        question,
        [
            ToolUse("get_stream", {"cluster_id": cid, "stream": stream}, text="Let me look."),
            rest_of_the_answer,
        ],
    )
    term = terminal("ai", "ask", question, "-c", "test-hub")
    try:
        term.expect(r"Let me look\.", timeout=60)
        term.expect(rf"→ get_stream {stream}: 0 messages", timeout=60)
        assert "All good" not in term.text
    finally:
        seen.set()
    term.expect(r"All good: the stream is healthy\.", timeout=60)
    assert term.wait() == 0
    assert "Too late" not in term.text


def test_a_proposal_is_shown_boxed_with_its_approval_link(
    jsc, api, admin_headers, hub_cluster, fake_claude
):
    cid = hub_cluster["id"]
    stream = _stream(api, admin_headers, cid)
    question = f"Please increase max_bytes of {stream} to 2 MB"
    fake_claude.script(
        question,
        [
            ToolUse(
                "propose_change",
                {
                    "cluster_id": cid,
                    "kind": "stream",
                    "operation": "update",
                    "stream": stream,
                    "config": {"max_bytes": 2 * 1024 * 1024},
                    "reason": "It fills up.",
                },
            ),
            Text("I filed a change request; it waits for approval."),
        ],
    )
    out = jsc.ok("ai", "ask", question).stdout
    filed = [
        r
        for r in api.get(
            "/api/v1/approvals", headers=admin_headers, params={"status": "waiting_approval"}
        ).json()["items"]
        if stream in (r.get("title") or "")
    ]
    assert len(filed) == 1, filed
    request_id = filed[0]["id"]
    assert "Proposed change: nothing changes until it is approved" in out, out
    assert f"Approval: /api/v1/approvals/{request_id}" in out
    assert f"Follow it: jsc approval get {request_id}" in out and "waiting_approval" in out
    assert "╭" in out and "╰" in out  # a box
    assert "→ propose_change filed change request" in out
    # nothing was applied
    info = api.get(f"/api/v1/clusters/{cid}/streams/{stream}", headers=admin_headers).json()
    assert info["config"]["max_bytes"] == -1


def test_without_the_model_a_warning_and_the_checks_answer(
    jsc, api, admin_headers, hub_cluster, fake_claude
):
    cid = hub_cluster["id"]
    stream = _stream(api, admin_headers, cid)
    question = unique(f"why is {stream} slow")
    fake_claude.script(question, [Error(529, "overloaded_error", "Overloaded")])
    result = jsc.ok("ai", "ask", question, "-c", "test-hub", "--stream", stream)
    out = result.stdout
    assert "Warning: The assistant's model is busy or failing right now" in out, out
    assert "→ diagnose" in out or "✗ diagnose" in out
    assert "deterministic checks" in out
    assert "offline: the deterministic checks" in out


def test_ask_refusals_are_sentences(jsc, api, stack, tmp_path, fake_claude):
    fails(jsc("ai", "ask", "hello", "--consumer", "c"), "--consumer needs its stream")
    fails(jsc("ai", "ask", "   "), "message", "must not be blank")
    fails(jsc("ai", "ask", "hello", "-c", "no-such-cluster"), "No cluster named")
    # another organization's conversation does not exist for this person
    question = unique("a private question")
    fake_claude.script(question, [Text("Private.")])
    owner = signup(api)
    theirs = signed_in(stack.api_url, tmp_path / "other.json", owner.email, owner.password)
    conversation_id = _conversation_id(theirs.ok("ai", "ask", question).stdout)
    fails(jsc("ai", "ask", "go on", "--conversation", conversation_id), "conversation")
    assert fails(jsc("ai", "ask", "go on", "--conversation", "not-an-id"), "conversation_id")


# -- jsc ai diagnose ---------------------------------------------------------------------------


async def test_diagnose_prints_the_findings_within_80_columns(jsc, hub_cluster, hub_nc):
    js = hub_nc.jetstream()
    name = unique("CLIDG").upper().replace("-", "_")
    await js.add_stream(
        StreamConfig(
            name=name, subjects=[f"{name.lower()}.>"], max_bytes=20_000, discard=DiscardPolicy.NEW
        )
    )
    quiet = unique("CLIOK").upper().replace("-", "_")
    await js.add_stream(StreamConfig(name=quiet, subjects=[f"{quiet.lower()}.>"]))
    try:
        await js.add_consumer(
            name,
            ConsumerConfig(
                durable_name="slow", max_ack_pending=5, ack_policy=AckPolicy.EXPLICIT, ack_wait=300
            ),
        )
        while (await js.stream_info(name)).state.bytes < 19_200:  # 96 % of max_bytes
            await js.publish(f"{name.lower()}.x", b"y" * 150)
        sub = await js.pull_subscribe_bind("slow", stream=name)
        assert len(await sub.fetch(20, timeout=5)) == 5  # the server stops at max_ack_pending
        await js.publish(f"{quiet.lower()}.x", b"fine")

        out = jsc.ok("ai", "diagnose", name, "-c", "test-hub", COLUMNS="80").stdout
        assert f"finding(s) for stream '{name}' on test-hub" in out, out
        assert "critical" in out and "What to do:" in out and "Evidence:" in out
        assert "max_ack_pending=5" in out and "max_bytes=20,000" in out, out
        assert all(len(line) <= 80 for line in out.splitlines()), out
        flat = " ".join(out.split())
        assert f"Consumer 'slow' on {name} is at max_ack_pending" in flat
        assert f"Stream {name} is 96% full" in flat
        # the worst first: both critical, the consumer's before the stream's (by code)
        assert flat.index("Consumer 'slow'") < flat.index("96% full")

        # one consumer: only its findings
        out = jsc.ok("ai", "diagnose", name, "slow", "-c", "test-hub", COLUMNS="80").stdout
        assert f"consumer 'slow' of stream '{name}'" in " ".join(out.split())
        assert "max_bytes=20,000" not in out and "max_ack_pending=5" in out

        shown = json.loads(jsc.ok("ai", "diagnose", name, "-c", "test-hub", "--json").stdout)
        codes = {f["code"] for f in shown["findings"]}
        assert {"ack_pending_near_max", "storage_near_limit"} <= codes
        assert {"cluster_id": hub_cluster["id"], "stream": name, "consumer": "slow"} in shown[
            "checked"
        ]

        out = jsc.ok("ai", "diagnose", quiet, "-c", "test-hub").stdout
        assert out.strip() == f"No problem found in stream '{quiet}' on test-hub.", out
    finally:
        await js.delete_stream(name)
        await js.delete_stream(quiet)


def test_diagnose_refusals_are_sentences(jsc, hub_cluster, api, stack, tmp_path):
    missing = unique("CLIMISSING").upper().replace("-", "_")
    fails(jsc("ai", "diagnose", missing, "-c", "test-hub"), "Stream not found")
    fails(jsc("ai", "diagnose", "bad name", "-c", "test-hub"), "stream")
    # another organization does not see this organization's cluster
    owner = signup(api)
    theirs = signed_in(stack.api_url, tmp_path / "other.json", owner.email, owner.password)
    fails(theirs("ai", "diagnose", "ANY", "-c", hub_cluster["id"]))
