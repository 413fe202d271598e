"""One answer of the chat: the model's turns and its tool rounds, as a stream of events for the
client, and the record of the turn to store.

``answer`` sends the conversation so far plus the person's message to the model with the tools,
streams its text, runs the tools it asks for (as the caller, through the API), sends their results
back, and repeats until the model ends its answer or ``ai_max_tool_rounds`` is reached. When the
model is absent (no key, unreachable, refusing, busy) or the person's daily budget is used, it
answers with the deterministic findings instead and says why (``offline``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ai.findings import Diagnosis
from ai.findings_text import render
from ai.model import Model, ModelUnavailable, Reply, Usage
from ai.tools.base import ApiRefused, Tool, ToolContext, ToolInputError, ToolOutcome

log = logging.getLogger(__name__)

NOTICES = {
    "no_api_key": "The assistant's model is not configured on this server",
    "unreachable": "The assistant's model cannot be reached right now",
    "refused": "The assistant's model refused the request",
    "overloaded": "The assistant's model is busy or failing right now",
    "budget": "Your daily token budget for the assistant is used up (it renews at 00:00 UTC)",
}


@dataclass
class Event:
    kind: (
        str  # conversation, text, tool_call, tool_result, finding, proposal, refused, notice, done
    )
    data: dict[str, Any]


@dataclass
class Turn:
    """What the answer did, stored as the assistant's turn."""

    text: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    proposals: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    notice: dict[str, str] | None = None
    usage: Usage = field(default_factory=Usage)
    model_messages: list[dict[str, Any]] = field(default_factory=list)
    offline: bool = False


@dataclass
class Budget:
    """How many tokens the person may still spend today; ``spend`` records what a reply cost."""

    remaining: int
    spend: Callable[[int], Awaitable[None]]


async def run_tool(
    tools: dict[str, Tool], ctx: ToolContext, name: str, given: dict[str, Any]
) -> ToolOutcome:
    tool = tools.get(name)
    if tool is None:
        return ToolOutcome(
            summary=f"no tool named {name}",
            is_error=True,
            content=f"There is no tool named '{name}'.",
        )
    try:
        return await tool.run(ctx, given if isinstance(given, dict) else {})
    except ToolInputError as exc:
        return ToolOutcome(
            summary=f"invalid input: {exc}", is_error=True, content=f"Invalid input: {exc}"
        )
    except ApiRefused as exc:
        return ToolOutcome(
            summary=f"{exc.status}: {str(exc)[:160]}",
            is_error=True,
            content=f"The console's API answered {exc.status}: {exc}",
        )
    except Exception:  # noqa: BLE001 - one broken read must not end the answer
        log.exception("the assistant's tool %s failed", name)
        return ToolOutcome(
            summary="the tool failed (see the server's log)",
            is_error=True,
            content=f"The tool '{name}' failed on the server.",
        )


def _tool_events(call: dict[str, Any], outcome: ToolOutcome, turn: Turn) -> list[Event]:
    record = {
        "id": call["id"],
        "name": call["name"],
        "input": call.get("input", {}),
        "summary": outcome.summary,
        "is_error": outcome.is_error,
    }
    turn.tool_calls.append(record)
    events = [Event("tool_result", {k: record[k] for k in ("id", "name", "summary", "is_error")})]
    for finding in outcome.findings:
        turn.findings.append(finding.model_dump(mode="json"))
        events.append(Event("finding", finding.model_dump(mode="json")))
    if outcome.proposal is not None:
        turn.proposals.append(outcome.proposal)
        events.append(Event("proposal", outcome.proposal))
    if outcome.refused is not None:
        events.append(Event("refused", {"tool": call["name"], "reason": outcome.refused}))
    return events


async def answer(
    *,
    model: Model,
    tools: dict[str, Tool],
    ctx: ToolContext,
    system: str,
    history: list[dict[str, Any]],
    message: str,
    budget: Budget,
    max_rounds: int,
) -> AsyncIterator[Event | Turn]:
    """Yields the events of the answer, then its ``Turn`` last."""
    turn = Turn()
    user = {"role": "user", "content": message}
    turn.model_messages.append(user)
    messages = [*history, user]
    definitions = [t.definition() for t in tools.values()]
    try:
        for _ in range(max_rounds):
            if budget.remaining - turn.usage.total <= 0:
                raise ModelUnavailable("budget", NOTICES["budget"])
            reply: Reply | None = None
            # the text of a later round starts a paragraph of its own
            gap = "\n\n" if turn.text and not turn.text.endswith("\n") else ""
            async for piece in model.stream(system=system, messages=messages, tools=definitions):
                if isinstance(piece, Reply):
                    reply = piece
                elif piece:
                    piece, gap = gap + piece, ""
                    turn.text += piece
                    yield Event("text", {"delta": piece})
            assert reply is not None
            turn.usage.add(reply.usage)
            await budget.spend(reply.usage.total)
            ends = reply.stop_reason != "tool_use" or not reply.tool_uses
            # an answer cut short (max_tokens) may hold a tool use nobody will answer: keep its
            # text only, so the stored conversation stays one the model accepts
            content = [b for b in reply.content if not (ends and b.get("type") == "tool_use")]
            assistant = {
                "role": "assistant",
                "content": content or [{"type": "text", "text": "(no answer)"}],
            }
            messages.append(assistant)
            turn.model_messages.append(assistant)
            if ends:
                break
            results = []
            for call in reply.tool_uses:
                yield Event(
                    "tool_call",
                    {"id": call["id"], "name": call["name"], "input": call.get("input", {})},
                )
                outcome = await run_tool(tools, ctx, call["name"], call.get("input", {}))
                for event in _tool_events(call, outcome, turn):
                    yield event
                results.append(
                    {
                        "type": "tool_result",
                        "tool_use_id": call["id"],
                        "content": outcome.content,
                        "is_error": outcome.is_error,
                    }
                )
            tool_turn = {"role": "user", "content": results}
            messages.append(tool_turn)
            turn.model_messages.append(tool_turn)
        else:
            note = "\n\n(I stopped after the maximum number of tool rounds; ask me to go on.)"
            turn.text += note
            yield Event("text", {"delta": note})
            turn.model_messages.append(
                {"role": "assistant", "content": [{"type": "text", "text": note.strip()}]}
            )
    except ModelUnavailable as exc:
        async for event in offline(exc, tools, ctx, turn):
            yield event
    yield turn


async def offline(
    exc: ModelUnavailable, tools: dict[str, Tool], ctx: ToolContext, turn: Turn
) -> AsyncIterator[Event]:
    """The answer without a model: the findings over the conversation's context (or everything
    the person can see), and why the model is absent. The stored turn keeps the conversation
    valid for the model's next answer (an answered tool round is closed with a text)."""
    turn.offline = True
    reason = NOTICES.get(exc.reason, str(exc))
    turn.notice = {
        "reason": exc.reason,
        "message": f"{reason}: {exc}" if exc.reason not in ("budget",) else reason,
    }
    yield Event("notice", turn.notice)
    call = {"id": "offline-diagnose", "name": "diagnose", "input": ctx.context.as_dict()}
    yield Event("tool_call", call)
    outcome = await run_tool(tools, ctx, "diagnose", {})
    for event in _tool_events(call, outcome, turn):
        yield event
    found = Diagnosis(findings=outcome.findings)
    body = f"{reason}, so here is what the deterministic checks found.\n\n" + (
        render(found)
        if outcome.findings
        else (
            "No problem found."
            if not outcome.is_error
            else f"The checks could not run: {outcome.summary}"
        )
    )
    prefix = "\n\n" if turn.text else ""
    turn.text += prefix + body
    yield Event("text", {"delta": prefix + body})
    # What the next answer sends back: the question and this answer's text (an unanswered tool
    # round of the failed model would make the conversation invalid).
    turn.model_messages = [
        turn.model_messages[0],
        {"role": "assistant", "content": [{"type": "text", "text": turn.text}]},
    ]


def sse(event: Event) -> str:
    return f"event: {event.kind}\ndata: {json.dumps(event.data, default=str)}\n\n"
