"""The assistant's conversations in PostgreSQL (``core.db.ai_models``): each belongs to one
member; another member's (or another organization's) is a 404. Also the per-user daily token
budget, counted in Redis per UTC day."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ai.loop import Turn
from api.deps import Principal
from api.errors import ProblemError
from core.db.ai_models import AiConversation, AiTurn

HISTORY_MESSAGES = 40  # the model's messages sent back as "the conversation so far"


async def own_conversation(
    db: AsyncSession, principal: Principal, conversation_id: uuid.UUID
) -> AiConversation:
    row = await db.get(AiConversation, conversation_id)
    if row is None or row.user_id != principal.user_id or row.org_id != principal.org_id:
        raise ProblemError(404, f"No conversation {conversation_id} of yours.")
    return row


def title_of(message: str) -> str:
    first = message.strip().splitlines()[0] if message.strip() else "Conversation"
    return first if len(first) <= 80 else first[:79] + "…"


async def turns_of(db: AsyncSession, conversation_id: uuid.UUID) -> list[AiTurn]:
    return list(
        (
            await db.scalars(
                select(AiTurn).where(AiTurn.conversation_id == conversation_id).order_by(AiTurn.seq)
            )
        ).all()
    )


def history(turns: list[AiTurn]) -> list[dict[str, Any]]:
    """The model's messages of the previous turns, the newest ``HISTORY_MESSAGES`` of them,
    starting at a question of the person (a conversation must start with one)."""
    messages = [m for t in turns if t.role == "assistant" for m in t.model_messages]
    messages = messages[-HISTORY_MESSAGES:]
    while messages and not (
        messages[0]["role"] == "user" and isinstance(messages[0]["content"], str)
    ):
        messages.pop(0)
    return messages


def person_messages(turns: list[AiTurn], message: str) -> list[str]:
    return [t.text for t in turns if t.role == "user"] + [message]


async def add_question(
    db: AsyncSession, conversation: AiConversation, seq: int, message: str
) -> None:
    db.add(
        AiTurn(
            conversation_id=conversation.id,
            seq=seq,
            role="user",
            text=message,
            tool_calls=[],
            proposals=[],
            findings=[],
            usage={},
            model="",
            model_messages=[],
        )
    )
    conversation.updated_at = datetime.now(UTC)


async def add_answer(
    db: AsyncSession, conversation_id: uuid.UUID, seq: int, turn: Turn, model: str
) -> None:
    db.add(
        AiTurn(
            conversation_id=conversation_id,
            seq=seq,
            role="assistant",
            text=turn.text,
            tool_calls=turn.tool_calls,
            proposals=turn.proposals,
            findings=turn.findings,
            notice=turn.notice,
            usage=turn.usage.as_dict(),
            model="" if turn.offline else model,
            model_messages=turn.model_messages,
        )
    )
    row = await db.get(AiConversation, conversation_id)
    if row is not None:
        row.updated_at = datetime.now(UTC)


async def next_seq(db: AsyncSession, conversation_id: uuid.UUID) -> int:
    """The seq of the next question: questions are odd and their answers the even number after,
    so a question asked while an answer is still streaming never takes that answer's place."""
    last = (
        await db.scalar(
            select(func.max(AiTurn.seq)).where(AiTurn.conversation_id == conversation_id)
        )
        or 0
    )
    return last + 1 if last % 2 == 0 else last + 2


async def remove(db: AsyncSession, conversation: AiConversation) -> None:
    await db.execute(delete(AiConversation).where(AiConversation.id == conversation.id))


def view(row: AiConversation) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "context": row.context,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def turn_view(turn: AiTurn) -> dict[str, Any]:
    return {
        "seq": turn.seq,
        "role": turn.role,
        "text": turn.text,
        "tool_calls": turn.tool_calls,
        "proposals": turn.proposals,
        "findings": turn.findings,
        "notice": turn.notice,
        "usage": turn.usage,
        "model": turn.model,
        "created_at": turn.created_at,
    }


# -- the daily token budget ------------------------------------------------------------------


def _budget_key(user_id: uuid.UUID, now: datetime) -> str:
    return f"ai:tokens:{user_id}:{now:%Y%m%d}"


async def tokens_used(redis: Any, user_id: uuid.UUID) -> int:
    return int(await redis.get(_budget_key(user_id, datetime.now(UTC))) or 0)


async def spend_tokens(redis: Any, user_id: uuid.UUID, tokens: int) -> None:
    key = _budget_key(user_id, datetime.now(UTC))
    await redis.incrby(key, tokens)
    await redis.expire(key, int(timedelta(days=2).total_seconds()))
