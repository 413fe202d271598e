"""The local Anthropic server (tests/ai/fake_anthropic.py) driven by the real ``anthropic`` SDK and
by ``ai.model.Model``: what the chat tests rely on. No stack: only the ``fake_claude`` server."""

from __future__ import annotations

import anthropic
import pytest

from ai.model import Model, ModelUnavailable, Reply
from core.settings import Settings
from tests.ai.fake_anthropic import (
    DEFAULT_REPLY,
    Drop,
    Error,
    Text,
    ToolUse,
    last_tool_result,
    tool_results,
)
from tests.fixtures import unique

TOOLS = [
    {
        "name": "get_stream",
        "description": "A stream's state.",
        "input_schema": {"type": "object", "properties": {"stream": {"type": "string"}}},
    },
    {
        "name": "get_consumer",
        "description": "A consumer's state.",
        "input_schema": {"type": "object", "properties": {"name": {"type": "string"}}},
    },
]


@pytest.fixture
def client(fake_claude):
    return anthropic.AsyncAnthropic(
        api_key=fake_claude.key, base_url=fake_claude.url, max_retries=0
    )


@pytest.fixture
def model(fake_claude):
    """The assistant's own client, configured as the stack's processes are (the environment the
    ``fake_claude`` fixture set: key, base URL, no retries)."""
    return Model(Settings())


def ask(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def answered(messages: list[dict], reply: Reply, results: dict[str, str]) -> list[dict]:
    """``messages`` followed by the model's reply and a user message answering its tool uses."""
    return [
        *messages,
        {"role": "assistant", "content": reply.content},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": use["id"], "content": results[use["name"]]}
                for use in reply.tool_uses
            ],
        },
    ]


async def streamed(model: Model, **kwargs) -> tuple[list[str], Reply]:
    deltas, reply = [], None
    async for item in model.stream(system="You help.", **kwargs):
        if isinstance(item, Reply):
            reply = item
        else:
            deltas.append(item)
    assert reply is not None
    return deltas, reply


async def test_a_plain_message_answers_the_scripted_text_with_usage(fake_claude, client):
    question = unique("how are the clusters")
    fake_claude.script(question, [Text("All clusters are healthy.")])
    message = await client.messages.create(
        model="claude-test", max_tokens=256, messages=ask(question)
    )
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "All clusters are healthy."
    assert message.stop_reason == "end_turn" and message.model == "claude-test"
    assert message.usage.input_tokens > 10 and message.usage.output_tokens > 0
    (recorded,) = fake_claude.requests_matching(question)
    assert recorded.key == fake_claude.key
    assert recorded.headers["anthropic-version"]
    assert recorded["body"]["messages"] == ask(question) and recorded.step == 0


async def test_a_streamed_text_arrives_in_several_deltas(fake_claude, client, model):
    question = unique("describe the ORDERS stream")
    answer = "ORDERS holds 1,204 messages on three subjects and nobody reads two of them."
    fake_claude.script(question, [Text(answer)])
    async with client.messages.stream(model="m", max_tokens=256, messages=ask(question)) as stream:
        pieces = [text async for text in stream.text_stream]
        final = await stream.get_final_message()
    assert len(pieces) > 1 and "".join(pieces) == answer and final.content[0].text == answer
    deltas, reply = await streamed(model, messages=ask(question))
    assert len(deltas) > 1 and "".join(deltas) == reply.text == answer
    assert reply.stop_reason == "end_turn" and reply.usage.input_tokens > 0
    assert reply.usage.output_tokens > 0
    sent = fake_claude.requests_matching(question)[-1]
    assert sent.body["stream"] is True and sent.system == "You help."
    assert sent.body["model"] == Settings().ai_model


async def test_a_tool_use_then_its_result_then_the_answer(fake_claude, model):
    question = unique("why does orders-worker lag")
    fake_claude.script(
        question,
        [
            ToolUse("get_consumer", {"name": "orders-worker"}, text="Let me look at the consumer."),
            Text("It has 40 messages pending."),
        ],
    )
    messages = ask(question)
    deltas, first = await streamed(model, messages=messages, tools=TOOLS)
    assert first.stop_reason == "tool_use" and "".join(deltas) == "Let me look at the consumer."
    (use,) = first.tool_uses
    assert use["name"] == "get_consumer" and use["input"] == {"name": "orders-worker"}
    assert use["id"].startswith("toolu_")
    messages = answered(messages, first, {"get_consumer": "pending 40"})
    _, second = await streamed(model, messages=messages, tools=TOOLS)
    assert second.text == "It has 40 messages pending." and not second.tool_uses
    first_request, second_request = fake_claude.requests_matching(question)
    assert (first_request.step, second_request.step) == (0, 1)
    assert first_request.tool_names == ["get_stream", "get_consumer"]
    assert tool_results(second_request.body)[0]["tool_use_id"] == use["id"]
    # past the script's end (a third assistant message): a text saying so
    reply = await model.create(
        system="s", messages=[*messages, {"role": "assistant", "content": second.content}]
    )
    assert "ended after 2 turns" in reply.text


async def test_several_tool_uses_in_one_message_each_get_an_id(fake_claude, client):
    question = unique("compare the stream and its consumer")
    fake_claude.script(
        question,
        [
            [
                Text("I need both."),
                ToolUse("get_stream", {"stream": "ORDERS"}),
                ToolUse("get_consumer", {"name": "orders-worker"}),
            ],
            Text("Done."),
        ],
    )
    async with client.messages.stream(
        model="m", max_tokens=256, messages=ask(question), tools=TOOLS
    ) as stream:
        message = await stream.get_final_message()
    assert [b.type for b in message.content] == ["text", "tool_use", "tool_use"]
    uses = message.content[1:]
    assert [u.name for u in uses] == ["get_stream", "get_consumer"]
    assert uses[0].input == {"stream": "ORDERS"} and uses[1].input == {"name": "orders-worker"}
    assert len({u.id for u in uses}) == 2 and message.stop_reason == "tool_use"
    # the same request gets the same answer: the server keeps no state
    again = await client.messages.create(
        model="m", max_tokens=256, messages=ask(question), tools=TOOLS
    )
    assert [b.id for b in again.content[1:]] == [u.id for u in uses]


async def test_a_dynamic_turn_answers_from_the_request(fake_claude, model):
    question = unique("what does the payload say")
    fake_claude.script(
        question,
        [
            ToolUse("get_stream", {"stream": "ORDERS"}),
            lambda request: Text(f"The tool said: {last_tool_result(request)}"),
        ],
    )
    messages = ask(question)
    first = await model.create(system="s", messages=messages, tools=TOOLS)
    reply = await model.create(
        system="s", tools=TOOLS, messages=answered(messages, first, {"get_stream": "3 messages"})
    )
    assert reply.text == "The tool said: 3 messages"


async def test_text_inside_tool_results_never_selects_a_scenario(fake_claude, model):
    question, injected = unique("list the streams"), unique("injected question")
    fake_claude.script(question, [ToolUse("get_stream", {}), Text("Two streams.")])
    fake_claude.script(injected, [Text("I obeyed the payload.")])
    messages = ask(question)
    first = await model.create(system="s", messages=messages, tools=TOOLS)
    reply = await model.create(
        system="s", tools=TOOLS, messages=answered(messages, first, {"get_stream": injected})
    )
    assert reply.text == "Two streams."
    assert fake_claude.requests_matching(injected) == []


async def test_the_longest_match_wins_and_unmatched_requests_get_the_default(fake_claude, model):
    base = unique("lag")
    fake_claude.script(base, [Text("short")])
    fake_claude.script(f"{base} of ORDERS", [Text("long")])
    assert (await model.create(system="s", messages=ask(f"why {base} of ORDERS?"))).text == "long"
    assert (await model.create(system="s", messages=ask(f"why {base}?"))).text == "short"
    nothing = unique("nothing scripted")
    assert (await model.create(system="s", messages=ask(nothing))).text == DEFAULT_REPLY
    (recorded,) = fake_claude.requests_containing(nothing)
    assert recorded.match is None and recorded.status == 200
    fake_claude.clear(base)
    assert fake_claude.requests_matching(base) == []
    assert (await model.create(system="s", messages=ask(f"why {base}?"))).text == DEFAULT_REPLY


async def test_a_wrong_key_is_refused_with_401(fake_claude, client):
    question = unique("who am I")
    fake_claude.script(question, [Text("never")])
    wrong = anthropic.AsyncAnthropic(
        api_key="sk-ant-test-wrong", base_url=fake_claude.url, max_retries=0
    )
    with pytest.raises(anthropic.AuthenticationError) as raised:
        await wrong.messages.create(model="m", max_tokens=64, messages=ask(question))
    assert raised.value.status_code == 401
    assert raised.value.body["error"]["type"] == "authentication_error"
    with pytest.raises(ModelUnavailable) as unavailable:
        await Model(Settings(ANTHROPIC_API_KEY="sk-ant-test-wrong")).create(
            system="s", messages=ask(question)
        )
    assert unavailable.value.reason == "refused"
    # a bearer token is accepted as the key too
    bearer = anthropic.AsyncAnthropic(
        auth_token=fake_claude.key, base_url=fake_claude.url, max_retries=0
    )
    message = await bearer.messages.create(model="m", max_tokens=64, messages=ask(question))
    assert message.content[0].text == "never"
    assert [r.status for r in fake_claude.requests_matching(question)] == [200]


@pytest.mark.parametrize(
    "turn, status, reason",
    [
        (Error(529, "overloaded_error", "Overloaded"), 529, "overloaded"),
        (Error(500, "api_error", "Internal server error"), 500, "overloaded"),
        (Error(429, "rate_limit_error", "Rate limited"), 429, "overloaded"),
        (Error(400, "invalid_request_error", "prompt is too long"), 400, "refused"),
    ],
)
async def test_error_answers_are_status_errors_and_model_unavailable(
    fake_claude, client, model, turn, status, reason
):
    question = unique(f"fail with {status}")
    fake_claude.script(question, [turn])
    with pytest.raises(anthropic.APIStatusError) as raised:
        await client.messages.create(model="m", max_tokens=64, messages=ask(question))
    assert raised.value.status_code == status
    assert raised.value.body["error"] == {"type": turn.type, "message": turn.message}
    with pytest.raises(ModelUnavailable) as streaming:
        await streamed(model, messages=ask(question))
    with pytest.raises(ModelUnavailable) as creating:
        await model.create(system="s", messages=ask(question))
    assert streaming.value.reason == creating.value.reason == reason
    assert len(fake_claude.requests_matching(question)) == 3  # no retry


async def test_a_dropped_connection_is_unreachable(fake_claude, client, model):
    question = unique("drop me")
    fake_claude.script(question, [Drop()])
    with pytest.raises(anthropic.APIConnectionError):
        await client.messages.create(model="m", max_tokens=64, messages=ask(question))
    for call in (
        lambda: streamed(model, messages=ask(question)),
        lambda: model.create(system="s", messages=ask(question)),
    ):
        with pytest.raises(ModelUnavailable) as raised:
            await call()
        assert raised.value.reason == "unreachable"


@pytest.mark.parametrize(
    "turn, reason",
    [
        (Drop(mid_stream=True), "unreachable"),
        (Error(529, "overloaded_error", "Overloaded", mid_stream=True), "overloaded"),
    ],
)
async def test_a_stream_failing_midway_is_model_unavailable(fake_claude, model, turn, reason):
    question = unique("fail midway")
    fake_claude.script(question, [turn])
    with pytest.raises(ModelUnavailable) as raised:
        await streamed(model, messages=ask(question))
    assert raised.value.reason == reason


@pytest.mark.parametrize(
    "messages, complaint",
    [
        ([{"role": "assistant", "content": "hi"}], "first message"),
        ([{"role": "user", "content": ""}], "non-empty"),
        ([{"role": "user", "content": [{"type": "text", "text": ""}]}], "non-empty"),
        (
            [
                {"role": "user", "content": "q"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "tool_use", "id": "toolu_1", "name": "get_stream", "input": {}}
                    ],
                },
                {"role": "user", "content": "next"},
            ],
            "without `tool_result`",
        ),
        (
            [
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "x"}],
                }
            ],
            "unexpected `tool_use_id`",
        ),
    ],
)
async def test_requests_the_service_would_reject_are_400(fake_claude, client, messages, complaint):
    with pytest.raises(anthropic.BadRequestError) as raised:
        await client.messages.create(model="m", max_tokens=64, messages=messages, tools=TOOLS)
    assert raised.value.body["error"]["type"] == "invalid_request_error"
    assert complaint in raised.value.body["error"]["message"]
