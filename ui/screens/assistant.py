"""Assistant (source design §6.1 and §6.4): your conversations on the left (new, open, delete);
**Chat**: ask, and the answer streams in, with the tool calls it made folded under it, the
findings of the deterministic checks, and any change it proposed as a card linking to its
approval; **Describe what you need**: a sentence becomes a stream and consumer configuration,
created only through the normal create path.

Opened from the menu, or from a stream or consumer page ("Ask about this") with that context and a
starter question. The assistant sees what you see, and never changes anything itself.
"""

from __future__ import annotations

import streamlit as st

from ui import fmt, session, widgets
from ui.assistant_panels import cards
from ui.assistant_panels.chat import show_chat
from ui.assistant_panels.context import CONTEXT_KEY, CONVERSATION_KEY, STARTER_KEY
from ui.assistant_panels.describe import show_describe
from ui.client import ApiError, Conversation

TAB_KEY = "ai_tab"
TABS = ("Chat", "Describe what you need")
PENDING_DELETE = "ai_pending_delete"


def main() -> None:
    cards.follow()  # a proposal's "Open the approval" was clicked
    st.title("Assistant")
    session.show_flash("assistant")
    api = session.client()
    names = {c.id: c.name for c in session.call(api.list_clusters) or []}
    conversation = _open_conversation()
    side, main_column = st.columns([1, 3], gap="medium")
    with main_column:
        chat, describe = st.tabs(TABS, key=TAB_KEY, on_change="rerun")
        if chat.open:
            with chat:
                show_chat(conversation, names)
        if describe.open:
            with describe:
                show_describe()
    with side:  # drawn after the chat: a conversation it just started is listed
        show_conversations()


def _open_conversation() -> Conversation | None:
    conversation_id = st.session_state.get(CONVERSATION_KEY)
    if not conversation_id:
        return None
    try:
        return session.client().conversation(conversation_id)
    except ApiError as err:
        if err.status != 404:
            raise
        st.session_state[CONVERSATION_KEY] = None  # deleted meanwhile (another tab)
        return None


def show_conversations() -> None:
    current = st.session_state.get(CONVERSATION_KEY)
    st.button(
        "New conversation",
        key="ai_new",
        icon=":material/add_comment:",
        width="stretch",
        on_click=_new,
        type="primary" if not current else "secondary",
    )
    found = session.call(session.client().conversations)
    if found is None:
        return
    if not found:
        st.caption("No conversation yet.")
        return
    st.caption("Your conversations")
    for c in found:
        st.button(
            c.title or "(untitled)",
            key=f"ai_open_{c.id}",
            width="stretch",
            type="primary" if c.id == current else "tertiary",
            help=f"Started {fmt.when(c.created_at)}",
            on_click=_open,
            args=(c.id,),
        )
    by_id = {c.id: c for c in found}
    if current in by_id:
        st.button(
            "Delete this conversation",
            key="ai_delete",
            icon=":material/delete:",
            width="stretch",
            on_click=widgets.ask,
            args=(PENDING_DELETE, current),
        )
        widgets.confirm(
            PENDING_DELETE,
            current,
            f"Delete the conversation “{by_id[current].title}”? It cannot be brought back.",
            "Yes, delete it",
            _delete,
            args=(current,),
        )


def _new() -> None:
    state = st.session_state
    state[CONVERSATION_KEY] = None
    for key in (CONTEXT_KEY, STARTER_KEY, "ai_starter_text"):
        state.pop(key, None)


def _open(conversation_id: str) -> None:
    st.session_state[CONVERSATION_KEY] = conversation_id
    st.session_state[TAB_KEY] = TABS[0]


def _delete(conversation_id: str) -> None:
    def act() -> str:
        session.client().delete_conversation(conversation_id)
        if st.session_state.get(CONVERSATION_KEY) == conversation_id:
            st.session_state[CONVERSATION_KEY] = None
        return "The conversation is deleted."

    session.in_callback("assistant", act)


session.run_page(main)
