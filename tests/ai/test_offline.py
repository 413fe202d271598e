"""The answer without a model, run by the chat's own loop (``ai.loop.answer``) against the real
API as the caller: with no API key configured, and with the person's daily budget used up. (The
stack's API has a key for the scripted server; these two situations are settings of a process,
so the loop runs here with settings of its own.)"""

from __future__ import annotations

import httpx

from ai.guard import ProposalGuard
from ai.loop import Budget, Event, Turn, answer
from ai.model import Model
from ai.tools import all_tools
from ai.tools.base import ChatContext, ToolContext
from core.settings import Settings
from tests.fixtures import unique


async def _answer(
    stack, headers, context: ChatContext, *, key: str | None, remaining: int, message: str
) -> tuple[list[Event], Turn]:
    settings = Settings(ANTHROPIC_API_KEY=key)
    spent: list[int] = []

    async def spend(tokens: int) -> None:
        spent.append(tokens)

    events, turn = [], None
    async with httpx.AsyncClient(base_url=stack.api_url, headers=headers, timeout=60) as api:
        ctx = ToolContext(
            api=api,
            context=context,
            conversation_id="test",
            may_propose=ProposalGuard(message, [message], context),
        )
        async for item in answer(
            model=Model(settings),
            tools=all_tools(),
            ctx=ctx,
            system="test",
            history=[],
            message=message,
            budget=Budget(remaining, spend),
            max_rounds=4,
        ):
            if isinstance(item, Turn):
                turn = item
            else:
                events.append(item)
    assert turn is not None and not spent
    return events, turn


def _stream_with_a_stalled_consumer(api, headers, cid: str) -> str:
    name = unique("OFF").upper().replace("-", "_")
    assert (
        api.post(
            f"/api/v1/clusters/{cid}/streams",
            headers=headers,
            json={
                "name": name,
                "subjects": [f"{name.lower()}.>"],
                "storage": "memory",
                "max_msgs": 10,
            },
        ).status_code
        == 201
    )
    for i in range(10):
        assert api.post(
            f"/api/v1/clusters/{cid}/streams/{name}/messages",
            headers=headers,
            json={"subject": f"{name.lower()}.x", "payload": {"i": i}},
        ).status_code in (200, 201)
    return name


async def test_without_a_key_the_answer_is_the_findings(api, admin_headers, hub_cluster, stack):
    cid = hub_cluster["id"]
    stream = _stream_with_a_stalled_consumer(api, admin_headers, cid)
    events, turn = await _answer(
        stack,
        admin_headers,
        ChatContext(cid, stream),
        key=None,
        remaining=10_000,
        message="why is it full?",
    )
    notice = next(e for e in events if e.kind == "notice")
    assert notice.data["reason"] == "no_api_key" and "not configured" in notice.data["message"]
    assert turn.offline and turn.notice["reason"] == "no_api_key"
    assert [e.data["name"] for e in events if e.kind == "tool_call"] == ["diagnose"]
    codes = [f["code"] for f in turn.findings]
    assert "storage_near_limit" in codes  # 10 of max_msgs 10
    assert "storage_near_limit" in turn.text or "limit" in turn.text
    # what the next answer will send the model is a valid conversation
    assert [m["role"] for m in turn.model_messages] == ["user", "assistant"]


async def test_a_used_budget_answers_with_the_findings_without_calling_the_model(
    api, admin_headers, hub_cluster, stack, fake_claude
):
    cid = hub_cluster["id"]
    message = unique("budget question")
    before = len(fake_claude.requests_matching(message))
    events, turn = await _answer(
        stack, admin_headers, ChatContext(cid), key="sk-ant-test", remaining=0, message=message
    )
    assert turn.notice["reason"] == "budget" and "00:00 UTC" in turn.notice["message"]
    assert len(fake_claude.requests_matching(message)) == before  # the model was never asked
    assert any(e.kind == "tool_result" for e in events)
