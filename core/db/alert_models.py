"""Alert rules' evaluation state (issue 14): one row per rule of ``alert_rules``.

``status`` is ok / firing since ``since``; ``transitions`` numbers every change (an event's id is
derived from rule id + that number); ``pending`` holds the events recorded but not yet delivered
(removed once delivered, so a retried or repeated evaluation delivers each once). Snoozing and the
acknowledgement of the current firing live here too.

Imported by ``core.db.models`` so every model sits on the same metadata.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base
from core.db.models import _enum, _fk

ALERT_STATES = ("ok", "firing")


class AlertRuleState(Base):
    __tablename__ = "alert_rule_states"
    rule_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    status: Mapped[str] = mapped_column(_enum("alert_state", *ALERT_STATES), default="ok")
    since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    transitions: Mapped[int] = mapped_column(Integer, default=0)
    last_value: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text, default="")
    evaluated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    breach_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    firing_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    last_event_id: Mapped[uuid.UUID | None] = mapped_column()
    last_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(320))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pending: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
