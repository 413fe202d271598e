"""Purge a stream, in its Overview tab, dry run first: the person says what to purge (every
message, below a sequence, all but the newest N; optionally only on one subject), "Preview" asks
the API's dry run what that would remove, and only then "Purge" does it. Changing the form drops
the preview. A purge policy sends for approval reads as such; a refusal reads as the API's
sentence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from ui import fmt, forms, session
from ui.approval_widgets import submitted_sentence
from ui.client import ApiError, AuthenticationRequired, PurgeResult, RequestSubmitted, StreamInfo

AREA = "purge"
PREVIEW = "sd_purge_preview"  # {"for": [cluster, stream], "spec": {...}, "result": PurgeResult}


def _spec() -> dict[str, Any] | None:
    state = st.session_state
    spec, _ = forms.check_purge_form(
        what=state.get("sd_purge_what", "all"),
        subject=state.get("sd_purge_subject", ""),
        sequence=state.get("sd_purge_seq"),
        keep=state.get("sd_purge_keep"),
    )
    return spec


def would_remove(result: PurgeResult, stream: str, spec: dict[str, Any]) -> str:
    """The dry run's answer in a sentence."""
    on = f" on {spec['subject']}" if spec.get("subject") else ""
    size = ("about " if result.bytes_estimated else "") + fmt.size(result.bytes)
    plural = "" if result.messages == 1 else "s"
    return (
        f"The dry run says this purge would remove **{result.messages:,} message{plural}**"
        f"{on} ({size}) from {stream}. Nothing was removed yet."
    )


def show_purge(cluster_id: str, info: StreamInfo) -> None:
    state = st.session_state
    state.setdefault("sd_purge_what", "all")
    left, right = st.columns(2)
    left.radio(
        "What to purge",
        forms.PURGE_MODES,
        key="sd_purge_what",
        format_func=forms.PURGE_LABELS.__getitem__,
    )
    right.text_input(
        "Only messages on this subject (optional)",
        key="sd_purge_subject",
        placeholder=info.subjects[0] if info.subjects else "",
    )
    if state.sd_purge_what == "below":
        right.number_input(
            "Below sequence",
            min_value=1,
            step=1,
            key="sd_purge_seq",
            value=None,
            help="Messages before this sequence go; it stays.",
        )
    elif state.sd_purge_what == "keep":
        right.number_input("Keep the newest", min_value=0, step=1, key="sd_purge_keep", value=None)
    st.button(
        "Preview the purge",
        key="sd_purge_dry_run",
        on_click=_preview,
        args=(cluster_id, info.name),
        help="A dry run: says what would go, removes nothing",
    )
    session.show_flash(AREA)
    preview = state.get(PREVIEW)
    spec = _spec()
    if not preview or preview["for"] != [cluster_id, info.name] or preview["spec"] != spec:
        return
    result: PurgeResult = preview["result"]
    if result.messages == 0:
        st.info("The dry run found nothing to purge: no message matches.")
        return
    st.warning(would_remove(result, info.name, spec) + " Purge them?")
    yes, no, _ = st.columns([1, 1, 3])
    yes.button(
        f"Yes, purge {result.messages:,}",
        key="sd_purge_yes",
        type="primary",
        on_click=_purge,
        args=(cluster_id, info.name, spec),
    )
    no.button("Cancel", key="sd_purge_no", on_click=state.pop, args=(PREVIEW, None))


def _quietly(fn: Callable[[], None]) -> None:
    """Like ``session.in_callback``, without a success message: the page shows the result."""
    try:
        fn()
    except AuthenticationRequired:
        session.forget()
        session.flash("login", "warning", session.EXPIRED)
    except ApiError as err:
        session.flash(AREA, "error", session.error_text(err))


def _preview(cluster_id: str, stream: str) -> None:
    state = st.session_state
    state.pop(PREVIEW, None)
    spec, problems = forms.check_purge_form(
        what=state.get("sd_purge_what", "all"),
        subject=state.get("sd_purge_subject", ""),
        sequence=state.get("sd_purge_seq"),
        keep=state.get("sd_purge_keep"),
    )
    if spec is None:
        session.flash_many(AREA, "error", problems)
        return

    def dry_run() -> None:
        result = session.client().purge_stream(cluster_id, stream, spec, dry_run=True)
        if isinstance(result, RequestSubmitted):  # a dry run never waits; should it, say so
            session.flash(AREA, "info", submitted_sentence(result))
            return
        state[PREVIEW] = {"for": [cluster_id, stream], "spec": spec, "result": result}

    _quietly(dry_run)


def _purge(cluster_id: str, stream: str, spec: dict[str, Any]) -> None:
    st.session_state.pop(PREVIEW, None)

    def act() -> str:
        done = session.client().purge_stream(cluster_id, stream, spec)  # type: ignore[arg-type]
        if isinstance(done, RequestSubmitted):
            return submitted_sentence(done)
        plural = "" if done.purged == 1 else "s"
        return f"Purged {done.purged:,} message{plural} from {stream}."

    session.in_callback(AREA, act)
