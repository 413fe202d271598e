"""The chat: what it is about (with "Run the checks": the deterministic checks alone, as finding
cards), the open conversation's turns, then a question (typed in the chat box, or the
starter question an "Ask about this" button left) whose answer streams in as it is written
(``st.write_stream`` over the text deltas), the tool being run shown meanwhile, and the tool
calls, findings, proposals and notice drawn under it once it ends."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import streamlit as st

from ui import session
from ui.approval_widgets import md
from ui.assistant_panels import cards
from ui.assistant_panels.context import CONTEXT_KEY, CONVERSATION_KEY, STARTER_KEY, describe
from ui.client import Answer, ApiError, AuthenticationRequired, Conversation

INPUT_KEY = "ai_input"
STARTER_TEXT_KEY = "ai_starter_text"
SENT_KEY = "ai_starter_sent"  # the starter question, once Ask was clicked
CHECKS_KEY = "ai_checks_result"  # {"context": ..., "diagnosis": ...} of "Run the checks"
PLACEHOLDER = "Ask about your streams, consumers, lag, limits, mirrors…"


def show_chat(conversation: Conversation | None, cluster_names: Mapping[str, str]) -> None:
    state = st.session_state
    context = conversation.context if conversation else state.get(CONTEXT_KEY)
    about = describe(context, cluster_names)
    if about:
        line, check, clear = st.columns([4, 1, 1], vertical_alignment="center")
        line.caption(f"About {about}")
        check.button(
            "Run the checks",
            key="ai_checks",
            on_click=_run_checks,
            args=(context,),
            help="The deterministic checks only, without the model",
        )
        if conversation is None:
            clear.button(
                "Clear",
                key="ai_context_clear",
                on_click=_clear_context,
                help="Ask without this context",
            )
        show_checks(context, about)
    if conversation is not None:
        for i, turn in enumerate(conversation.turns):
            show_turn(turn, key=f"ai_t{i}")
    elif not about:
        st.caption(
            "The assistant reads your clusters, streams, consumers, metrics, alerts and "
            "requests with your own rights. It never changes anything itself: a change it "
            "proposes waits for a person's approval."
        )
    question = _starter() if conversation is None else None
    typed = st.chat_input(PLACEHOLDER, key=INPUT_KEY)
    question = question or typed
    if question:
        ask(question, conversation, context)


def _starter() -> str | None:
    """The starter box an "Ask about this" left (the question, to edit, and Ask); the question
    once Ask was clicked."""
    state = st.session_state
    if (sent := state.pop(SENT_KEY, None)) is not None:
        return sent
    starter = state.get(STARTER_KEY)
    if not starter:
        return None
    if state.get(STARTER_TEXT_KEY) is None:
        state[STARTER_TEXT_KEY] = starter
    with st.form("ai_starter_form", border=True):
        st.text_area("Question", key=STARTER_TEXT_KEY, height=80)
        st.form_submit_button(
            "Ask",
            key="ai_starter_ask",
            type="primary",
            icon=":material/send:",
            on_click=_send_starter,
        )
    return None


def _send_starter() -> None:
    state = st.session_state
    question = str(state.get(STARTER_TEXT_KEY) or "").strip()
    if question:
        state[SENT_KEY] = question
        state.pop(STARTER_KEY, None)
        state.pop(STARTER_TEXT_KEY, None)


def _run_checks(context: Mapping[str, Any]) -> None:
    """Button callback: the deterministic checks over the context, kept for the page."""
    state = st.session_state
    try:
        found: dict[str, Any] = {
            "diagnosis": session.client().diagnose(
                context.get("cluster_id"), context.get("stream"), context.get("consumer")
            )
        }
    except AuthenticationRequired:
        session.forget()
        session.flash("login", "warning", session.EXPIRED)
        return
    except ApiError as err:
        found = {"error": session.error_text(err)}
    state[CHECKS_KEY] = {"context": dict(context), **found}


def show_checks(context: Mapping[str, Any], about: str) -> None:
    """What the last "Run the checks" found for this context: finding cards, or none."""
    checked = st.session_state.get(CHECKS_KEY)
    if not checked or checked["context"] != dict(context):
        return
    if "error" in checked:
        st.error(checked["error"])
        return
    diagnosis = checked["diagnosis"]
    findings = sorted(
        diagnosis.get("findings") or [],
        key=lambda f: cards.SEVERITY_ORDER.get(str(f.get("severity")), 3),
    )
    if not findings:
        st.success(f"No problem found in {about}.", icon=":material/check_circle:")
    for i, finding in enumerate(findings):
        cards.finding_card(finding, key=f"ai_check_{i}")
    for error in diagnosis.get("errors") or []:
        st.caption(f"Not checked: {md(str(error))}")


def _clear_context() -> None:
    st.session_state.pop(CONTEXT_KEY, None)
    st.session_state.pop(STARTER_KEY, None)
    st.session_state.pop(STARTER_TEXT_KEY, None)


def show_turn(turn: Mapping[str, Any], key: str) -> None:
    if turn.get("role") == "user":
        with st.chat_message("user"):
            st.markdown(md(str(turn.get("text") or "")))
        return
    answer = Answer.from_turn(turn)
    with st.chat_message("assistant"):
        if answer.text:
            st.markdown(md(answer.text))
        cards.show_extras(answer, key)


def ask(
    question: str, conversation: Conversation | None, context: Mapping[str, Any] | None
) -> None:
    """Ask, and draw the answer as it streams in."""
    with st.chat_message("user"):
        st.markdown(md(question))
    answer = Answer()
    with st.chat_message("assistant"):
        working = st.empty()
        try:
            events = session.client().chat(
                question,
                conversation_id=conversation.id if conversation else None,
                context=None if conversation else context,
            )
            st.write_stream(_text_of(events, answer, working))
        except AuthenticationRequired:
            raise  # the page sends the person to the login (session.run_page)
        except ApiError as err:
            working.empty()
            session.show_error(err)
            return
        working.empty()
        if answer.done is None:
            st.warning("The answer ended before it was complete.")
        cards.show_extras(answer, key="ai_live")
    if answer.conversation_id:
        st.session_state[CONVERSATION_KEY] = answer.conversation_id
        st.session_state.pop(CONTEXT_KEY, None)


def _text_of(events, answer: Answer, working) -> Iterator[str]:
    """The text deltas, for ``st.write_stream``; every event goes into ``answer``, and the tool
    being run shows in ``working`` meanwhile."""
    for event in events:
        answer.add(event)
        if event.kind == "text":  # the server starts each tool round's text on a paragraph
            working.empty()
            yield md(str(event.data.get("delta") or ""))
        elif event.kind == "tool_call":
            working.caption(f":material/build: Reading `{event.data.get('name')}`…")
        elif event.kind == "notice":
            working.info(md(str(event.data.get("message") or "")), icon=":material/cloud_off:")
