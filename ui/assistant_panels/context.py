"""What a conversation is about (a cluster, a stream, a consumer) and the "Ask about this" button
of the stream and consumer pages: it opens the Assistant page on a new conversation with that
context and a question to start with, which the person may edit before asking."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

CONVERSATION_KEY = "ai_conversation_id"  # the open conversation (None: a new one)
CONTEXT_KEY = "ai_context"  # {cluster_id, stream, consumer} of the next new conversation
STARTER_KEY = "ai_starter"  # the question the starter box holds
GO_KEY = "ai_go"  # set by a button callback: switch to the Assistant page
PAGE = "screens/assistant.py"


def starter_question(stream: str, consumer: str | None = None) -> str:
    if consumer:
        return (
            f"Is anything wrong with the consumer {consumer} of the stream {stream}? "
            "Is it keeping up, and if not, why?"
        )
    return f"Is anything wrong with the stream {stream}? How are it and its consumers doing?"


def open_with(cluster_id: str, stream: str, consumer: str | None = None) -> None:
    """Button callback: a new conversation about this stream (or consumer), on the Assistant
    page (switched to on the next run, by :func:`follow`)."""
    state = st.session_state
    state[CONVERSATION_KEY] = None
    state[CONTEXT_KEY] = {
        "cluster_id": cluster_id,
        "stream": stream,
        **({"consumer": consumer} if consumer else {}),
    }
    state[STARTER_KEY] = starter_question(stream, consumer)
    state["ai_tab"] = "Chat"
    state[GO_KEY] = True


def ask_button(
    cluster_id: str, stream: str, consumer: str | None = None, *, key: str, column: Any = st
) -> None:
    """The "Ask about this" button (in ``column``); call :func:`follow` after it."""
    what = f"the consumer {consumer}" if consumer else f"the stream {stream}"
    column.button(
        "Ask about this",
        key=key,
        icon=":material/smart_toy:",
        width="stretch",
        on_click=open_with,
        args=(cluster_id, stream, consumer),
        help=f"Ask the assistant about {what}",
    )


def follow() -> None:
    """Switch to the Assistant page when an "Ask about this" button was clicked."""
    if st.session_state.pop(GO_KEY, False):
        st.switch_page(PAGE)


def describe(context: Mapping[str, Any] | None, cluster_names: Mapping[str, str]) -> str:
    """ "the consumer X of the stream Y on cluster Z", or "" without a context."""
    if not context:
        return ""
    cluster_id = str(context.get("cluster_id") or "")
    cluster = cluster_names.get(cluster_id, cluster_id[:8]) if cluster_id else ""
    parts = []
    if context.get("consumer"):
        parts.append(f"the consumer **{context['consumer']}** of")
    if context.get("stream"):
        parts.append(f"the stream **{context['stream']}**")
    if cluster:
        parts.append(("on " if parts else "the cluster ") + f"**{cluster}**")
    return " ".join(parts)
