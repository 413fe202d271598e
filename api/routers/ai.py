"""The assistant's chat and its conversations.

``POST /api/v1/ai/chat`` answers as server-sent events (``ai.loop``): ``conversation``, ``text``
deltas, ``tool_call`` / ``tool_result``, ``finding``, ``proposal``, ``refused``, ``notice`` (the
model is absent and why), and ``done`` with the token usage. Its tools call this API as the
caller (``api.ai_client``), so the assistant sees exactly what the person sees. Conversations are
stored per user; nobody else (not even an admin) reads them.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ai.guard import ProposalGuard
from ai.loop import Budget, Event, Turn, answer, sse
from ai.model import Model
from ai.prompts import system_prompt
from ai.tools import all_tools
from ai.tools.base import ChatContext, ToolContext
from api import ai_store
from api.ai_client import caller_api
from api.deps import Db, Principal, Svc, audit, current_principal, streamed
from api.errors import ProblemError, problem_responses
from core.db.ai_models import AiConversation
from core.jetstream.config import Name

router = APIRouter(prefix="/api/v1/ai", tags=["ai"])
NOT_FOUND = {"404": "No such conversation of yours."}
BUSY = {"409": "The conversation is answering another message."}
ERRORS = problem_responses(
    **{
        "401": "Not signed in.",
        "422": "Invalid input, the field named.",
        "429": "Too many requests (Retry-After).",
    }
)


def _printable(value: str, *, newlines: bool = False) -> str:
    allowed = "\n\r\t" if newlines else ""
    if any((ord(c) < 32 and c not in allowed) or 0x7F <= ord(c) < 0xA0 for c in value):
        raise ValueError("must not contain control characters")
    return value


class ContextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cluster_id: uuid.UUID | None = None
    stream: Name | None = None
    consumer: Name | None = None

    @model_validator(mode="after")
    def _consumer_needs_stream(self) -> ContextIn:
        if self.consumer and not self.stream:
            raise ValueError("a consumer needs its stream: give 'stream' too")
        if self.stream and not self.cluster_id:
            raise ValueError("a stream needs its cluster: give 'cluster_id' too")
        return self


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conversation_id: uuid.UUID | None = None
    message: str = Field(min_length=1, max_length=8000, description="the person's question")
    context: ContextIn | None = None

    @field_validator("message")
    @classmethod
    def _message(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return _printable(value, newlines=True)


def model_of(request: Request) -> Model:
    """One client per process, made at the first chat."""
    state = request.app.state
    if getattr(state, "ai_model", None) is None:
        state.ai_model = Model(request.app.state.services.settings)
    return state.ai_model


def _context(body: ChatIn, conversation: AiConversation | None) -> ChatContext:
    given = body.context.model_dump(mode="json", exclude_none=True) if body.context else None
    stored = conversation.context if conversation is not None else {}
    return ChatContext(**(given if given is not None else stored))


CHAT_EVENTS = {
    200: {
        "description": "Server-sent events: conversation, text, tool_call, "
        "tool_result, finding, proposal, refused, notice, done.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.post(
    "/chat",
    response_class=Response,
    responses={**CHAT_EVENTS, **ERRORS, **problem_responses(**NOT_FOUND, **BUSY)},
)
async def chat(
    body: ChatIn,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(current_principal),
):
    """Ask the assistant; the answer streams as server-sent events."""
    conversation = (
        await ai_store.own_conversation(db, principal, body.conversation_id)
        if body.conversation_id
        else None
    )
    context = _context(body, conversation)
    new = conversation is None
    if conversation is None:
        conversation = AiConversation(
            id=uuid.uuid4(),
            org_id=principal.org_id,
            user_id=principal.user_id,
            title=ai_store.title_of(body.message),
            context=context.as_dict(),
        )
        db.add(conversation)
        await db.flush()
    elif body.context is not None:
        conversation.context = context.as_dict()
    turns = await ai_store.turns_of(db, conversation.id)
    seq = await ai_store.next_seq(db, conversation.id)
    await ai_store.add_question(db, conversation, seq, body.message)
    try:
        await db.flush()
    except IntegrityError:  # the same conversation asked twice at once
        raise ProblemError(
            409,
            "This conversation is answering another message; ask again when that answer has ended.",
        ) from None
    await audit(
        request,
        principal,
        action="ai.chat",
        resource_type="ai_conversation",
        resource_id=str(conversation.id),
        resource_name=conversation.title,
        cluster_id=context.cluster_id and uuid.UUID(context.cluster_id),
        changes={"new": new, "context": context.as_dict(), "message_chars": len(body.message)},
        db=db,
    )
    conversation_id, title = conversation.id, conversation.title
    history = ai_store.history(turns)
    guard = ProposalGuard(body.message, ai_store.person_messages(turns, body.message), context)
    model = model_of(request)
    settings = svc.settings
    used = await ai_store.tokens_used(svc.redis, principal.user_id)

    async def spend(tokens: int) -> None:
        await ai_store.spend_tokens(svc.redis, principal.user_id, tokens)

    async def save(turn: Turn) -> None:
        async with svc.sessions() as own, own.begin():
            await ai_store.add_answer(own, conversation_id, seq + 1, turn, model.name)

    async def events():
        yield sse(Event("conversation", {"conversation_id": str(conversation_id), "title": title}))
        turn = Turn()
        async with caller_api(request) as api:
            tool_ctx = ToolContext(
                api=api, context=context, conversation_id=str(conversation_id), may_propose=guard
            )
            try:
                async for item in answer(
                    model=model,
                    tools=all_tools(),
                    ctx=tool_ctx,
                    system=system_prompt(
                        email=principal.email, role=principal.role, context=context
                    ),
                    history=history,
                    message=body.message,
                    budget=Budget(settings.ai_daily_tokens_per_user - used, spend),
                    max_rounds=settings.ai_max_tool_rounds,
                ):
                    if isinstance(item, Turn):
                        turn = item
                    else:
                        yield sse(item)
            finally:
                # stored even when the client went away mid-answer
                await asyncio.shield(save(turn))
        yield sse(
            Event(
                "done",
                {
                    "conversation_id": str(conversation_id),
                    "usage": turn.usage.as_dict(),
                    "model": "" if turn.offline else model.name,
                    "offline": turn.offline,
                },
            )
        )

    return await streamed(
        db,
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/conversations")
async def list_conversations(
    db: Db,
    principal: Principal = Depends(current_principal),
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """The caller's own conversations, the most recent first."""
    rows = (
        await db.scalars(
            select(AiConversation)
            .where(
                AiConversation.user_id == principal.user_id,
                AiConversation.org_id == principal.org_id,
            )
            .order_by(AiConversation.updated_at.desc())
            .limit(limit)
        )
    ).all()
    return {"items": [ai_store.view(r) for r in rows]}


@router.get("/conversations/{conversation_id}")
async def read_conversation(
    conversation_id: uuid.UUID, db: Db, principal: Principal = Depends(current_principal)
) -> dict[str, Any]:
    row = await ai_store.own_conversation(db, principal, conversation_id)
    turns = await ai_store.turns_of(db, row.id)
    return {**ai_store.view(row), "turns": [ai_store.turn_view(t) for t in turns]}


@router.delete("/conversations/{conversation_id}", status_code=204)
async def delete_conversation(
    conversation_id: uuid.UUID,
    request: Request,
    db: Db,
    principal: Principal = Depends(current_principal),
) -> Response:
    row = await ai_store.own_conversation(db, principal, conversation_id)
    title = row.title
    await ai_store.remove(db, row)
    await audit(
        request,
        principal,
        action="ai.conversation.delete",
        resource_type="ai_conversation",
        resource_id=str(conversation_id),
        resource_name=title,
        db=db,
    )
    return Response(status_code=204)
