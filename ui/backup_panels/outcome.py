"""What a panel shows once it started something: the operation followed live (progress in
bytes, then its result), or the approval request it waits on with the way to it."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

import streamlit as st

from ui import session
from ui.approval_widgets import submitted_sentence
from ui.client import OperationStarted, RequestSubmitted
from ui.replication_tabs import live


def idempotency_key(prefix: str, spec: Mapping[str, Any]) -> str:
    """One key per filled-in form: a second click sends the same key (the API answers with the
    same operation); another body gets another key."""
    nonce = st.session_state.setdefault(f"{prefix}_idempotency", uuid.uuid4().hex)
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()
    return f"{nonce}-{digest[:16]}"


def started_key(prefix: str) -> str:
    return f"{prefix}_started"


def remember(prefix: str, started: OperationStarted | RequestSubmitted) -> str:
    """Keep what a start answered for the panel ``prefix``; the sentence to flash."""
    st.session_state[started_key(prefix)] = started
    st.session_state.pop(f"{prefix}_idempotency", None)  # the next form is another request
    if isinstance(started, RequestSubmitted):
        return submitted_sentence(started)
    st.session_state[f"{prefix}_op_live"] = True
    return (
        f"Operation {started.id[:8]} started; it is followed below and listed on the "
        "Operations page."
    )


def has_outcome(prefix: str) -> bool:
    return st.session_state.get(started_key(prefix)) is not None


def show_outcome(prefix: str, names: Mapping[str, str], again_label: str) -> None:
    session.show_flash(prefix)
    started = st.session_state.get(started_key(prefix))
    if isinstance(started, RequestSubmitted):
        live.show_request(started, key=f"{prefix}_req")
        if started.operation_id:
            live.follow(started.operation_id, f"{prefix}_op", dict(names), missing_ok=True)
    elif isinstance(started, OperationStarted):
        live.follow(started.id, f"{prefix}_op", dict(names))
    st.button(
        again_label,
        key=f"{prefix}_again",
        icon=":material/add:",
        on_click=st.session_state.pop,
        args=(started_key(prefix), None),
    )
