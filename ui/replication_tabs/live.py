"""An operation started from the Replication page, followed where it was started: its progress
bar, its steps (a failover's measure, fence, catch up, promote, ...) and its result, refreshed
every few seconds while it runs; or, when it waits for approval, the request and a way to it."""

from __future__ import annotations

import streamlit as st

from ui import fmt, operation_view, session
from ui.approval_widgets import submitted_sentence
from ui.client import ApiError, AuthenticationRequired, Operation, RequestSubmitted

REFRESH_S = 2.0
GO_KEY = "repl_go"  # a page to open on the next run (switching from a callback is not allowed)


def go_to(page: str, **state: object) -> None:
    """Button callback: open ``screens/<page>`` next, with these session values set."""
    st.session_state.update(state)
    st.session_state[GO_KEY] = page


def switch_if_asked() -> None:
    page = st.session_state.pop(GO_KEY, None)
    if page:
        st.switch_page(f"screens/{page}")


def show_request(sent: RequestSubmitted, key: str) -> None:
    """A change sent for approval: what it is, why, and the way to the request."""
    st.info(submitted_sentence(sent))
    st.button(
        "Open the approval request",
        key=f"{key}_open_request",
        icon=":material/approval:",
        on_click=go_to,
        args=("approvals.py",),
        kwargs={"apr_tab": "My requests"},
    )


def follow(op_id: str, key: str, names: dict[str, str], *, missing_ok: bool = False) -> None:
    """The operation's progress, step by step; polled while it is still going. With
    ``missing_ok`` (it waits for approval) an operation not made yet is said so, not an error."""
    live_key = f"{key}_live"
    live = bool(st.session_state.get(live_key, True))
    st.fragment(_live, run_every=REFRESH_S if live else None)(op_id, key, names, live, missing_ok)


def _live(op_id: str, key: str, names: dict[str, str], live: bool, missing_ok: bool) -> None:
    # a fragment reruns on its own, outside run_page: guard it the same way
    session.run_page(lambda: _show(op_id, key, names, live, missing_ok))


def _show(op_id: str, key: str, names: dict[str, str], live: bool, missing_ok: bool) -> None:
    try:
        op = session.client().get_operation(op_id)
    except ApiError as err:
        if isinstance(err, AuthenticationRequired) or not (missing_ok and err.status == 404):
            raise
        st.caption(f"It runs as operation {op_id[:8]} once approved; its steps show here then.")
        return
    moving = not op.finished
    st.session_state[f"{key}_live"] = moving
    if moving != live:
        st.rerun()  # start or stop polling
    show_operation(op, key, names)


def show_operation(op: Operation, key: str, names: dict[str, str]) -> None:
    title = operation_view.describe(op, names) or op.type.capitalize()
    st.markdown(f"**{title}**")
    p = op.progress
    if op.status == "waiting_approval":
        fraction, told = 0.0, "it starts once the request is approved"
    elif op.status == "completed":
        fraction, told = 1.0, (f"{p.done:,} {p.unit}" if not p.steps else _current_step(op))
    else:
        fraction = p.fraction or (_steps_fraction(op) if p.steps else 0.0)
        told = (
            fmt.progress_text(
                p.done,
                p.total,
                p.unit,
                None if op.finished else p.rate_per_s,
                None if op.finished else p.eta_s,
            )
            if not p.steps
            else _current_step(op)
        )
    st.progress(fraction, text=f"{fmt.status(op.status)} · {told}")
    operation_view.show_steps(op, key=f"{key}_steps")
    if op.error:
        st.error(f"The operation failed: {op.error}")
    if op.result:
        operation_view.show_result(op, names)
    st.button(
        "Open in Operations",
        key=f"{key}_open_op",
        icon=":material/sync:",
        on_click=go_to,
        args=("operations.py",),
        kwargs={"ops_selected": op.id, "ops_tab": "Operations"},
    )
    if not op.finished:
        st.caption(f"Refreshing every {REFRESH_S:g} seconds while it runs · operation {op.id}")


def _steps_fraction(op: Operation) -> float:
    steps = op.progress.steps
    finished = sum(1 for s in steps if s.status in ("done", "skipped"))
    return finished / len(steps) if steps else 0.0


def _current_step(op: Operation) -> str:
    running = [s for s in op.progress.steps if s.status == "running"]
    if running:
        return operation_view.STEP_LABELS.get(running[0].name, running[0].name)
    done = sum(1 for s in op.progress.steps if s.status in ("done", "skipped"))
    return f"{done} of {len(op.progress.steps)} steps"
