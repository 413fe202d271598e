"""The assistant's conversations (issue 15), stored per user.

A conversation belongs to one member of one organization and carries the context it was started
with (cluster, stream, consumer). Each turn is a row: the person's message, or the assistant's
answer with what it did (tool calls with their summaries, proposals filed, findings shown, the
notice of an absent model) and ``model_messages``, the Messages-API blocks that turn added, which
the next turn sends back to the model as the conversation so far.

Imported by ``core.db.models`` so every model sits on the same metadata.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, IdMixin, TimestampMixin
from core.db.models import _enum, _fk

TURN_ROLES = ("user", "assistant")


class AiConversation(IdMixin, TimestampMixin, Base):
    __tablename__ = "ai_conversations"
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    user_id: Mapped[uuid.UUID] = _fk("users.id")
    title: Mapped[str] = mapped_column(String(200), default="")
    context: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class AiTurn(IdMixin, Base):
    __tablename__ = "ai_turns"
    __table_args__ = (UniqueConstraint("conversation_id", "seq"),)
    conversation_id: Mapped[uuid.UUID] = _fk("ai_conversations.id")
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(_enum("ai_turn_role", *TURN_ROLES))
    text: Mapped[str] = mapped_column(Text, default="")
    tool_calls: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    proposals: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    findings: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    notice: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    usage: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    model: Mapped[str] = mapped_column(String(100), default="")
    model_messages: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
