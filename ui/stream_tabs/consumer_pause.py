"""Pause and resume a consumer, in the Consumers tab. "Pause…" asks for how long (``30m``, ``2h``)
or until when; a paused consumer shows until when, and "Resume" delivers again at once. JetStream
pauses only until a time: the API's ``.../pause {until}`` and ``.../resume``."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import fmt, forms, session, widgets
from ui.client import ConsumerInfo

PENDING_PAUSE = "sd_pending_pause_consumer"
AREA = "consumers"


def pause_button(cluster_id: str, stream: str, consumer: ConsumerInfo, column: Any) -> None:
    """ "Resume" for a paused consumer, else "Pause…" (which asks for how long)."""
    if consumer.paused:
        column.button(
            "Resume",
            key="sd_con_resume",
            width="stretch",
            on_click=_resume,
            args=(cluster_id, stream, consumer.name),
            help="Deliver its messages again now",
        )
    else:
        column.button(
            "Pause…",
            key="sd_con_pause",
            width="stretch",
            on_click=widgets.ask,
            args=(PENDING_PAUSE, (cluster_id, stream, consumer.name)),
            help="Stop delivering its messages for a while",
        )


def show_pause(cluster_id: str, stream: str, consumer: ConsumerInfo) -> None:
    """Until when a paused consumer is paused; the question of "Pause…" when it was clicked."""
    if consumer.paused:
        until = consumer.config.get("pause_until")
        st.info(
            f"**{consumer.name}** is paused until {fmt.when(until)}: nothing is delivered "
            "until then, or until it is resumed."
        )
        return
    target = (cluster_id, stream, consumer.name)
    if st.session_state.get(PENDING_PAUSE) != target:
        return
    st.session_state.setdefault("sd_con_pause_for", "1h")
    with st.container(border=True):
        st.text_input(
            f"Pause {consumer.name} for (30m, 2h, 1d) or until a time (UTC)",
            key="sd_con_pause_for",
            placeholder="1h or 2024-01-15T10:30:00Z",
        )
        yes, no, _ = st.columns([1, 1, 3])
        yes.button(
            "Pause deliveries", key="sd_con_pause_yes", type="primary", on_click=_pause, args=target
        )
        no.button(
            "Cancel",
            key="sd_con_pause_no",
            on_click=st.session_state.pop,
            args=(PENDING_PAUSE, None),
        )


def _pause(cluster_id: str, stream: str, name: str) -> None:
    until, problems = forms.check_pause(st.session_state.get("sd_con_pause_for", ""))
    if until is None:
        session.flash_many(AREA, "error", problems)
        return
    st.session_state.pop(PENDING_PAUSE, None)

    def act() -> str:
        state = session.client().pause_consumer(cluster_id, stream, name, until)
        return f"Consumer {name} paused until {fmt.when(state.pause_until or until)}."

    session.in_callback(AREA, act)


def _resume(cluster_id: str, stream: str, name: str) -> None:
    def act() -> str:
        session.client().resume_consumer(cluster_id, stream, name)
        return f"Consumer {name} resumed: its messages are delivered again."

    session.in_callback(AREA, act)
