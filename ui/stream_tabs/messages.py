"""The Messages tab of a stream: a paged browser with a live tail, one message's details and
delete, publish, and export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from ui import fmt, forms, session, widgets
from ui.client import Cluster, Message, MessagePage, StreamInfo

FROM_LABELS = {
    "first": "The oldest message",
    "last": "The newest message (newest first)",
    "sequence": "A sequence",
    "time": "A time (UTC)",
}
PAGE_SIZES = (20, 50, 100)
CURSORS = "sd_msg_cursors"  # {"for": what was browsed, "stack": cursors of the pages}
PENDING_DELETE_MSG = "sd_pending_delete_msg"
TAIL_S = 2.0
TAIL_SIZE = 20
PUBLISH_DEFAULTS: dict[str, object] = {
    "sd_pub_subject": "",
    "sd_pub_payload": "",
    "sd_pub_json": False,
    "sd_pub_headers": "",
    "sd_pub_msg_id": "",
}


def show_messages(cluster: Cluster, info: StreamInfo) -> None:
    state = st.session_state
    cols = st.columns([3, 3, 2, 1], vertical_alignment="bottom")
    cols[0].text_input(
        "Subject filter",
        key="sd_msg_subject",
        placeholder="every subject",
        help="Wildcards allowed, e.g. orders.*.eu or orders.>",
    )
    cols[1].selectbox(
        "Start from", tuple(FROM_LABELS), key="sd_msg_from", format_func=FROM_LABELS.__getitem__
    )
    start = state.get("sd_msg_from", "first")
    if start == "sequence":
        cols[2].number_input(
            "Sequence",
            min_value=1,
            step=1,
            key="sd_msg_seq",
            value=max(1, int(info.state.get("first_seq") or 1)),
        )
    elif start == "time":
        cols[2].text_input("Time (UTC)", key="sd_msg_time", placeholder="2024-01-15T10:30:00Z")
    cols[3].selectbox("Per page", PAGE_SIZES, key="sd_msg_limit")
    live = st.toggle("Live: show the newest messages as they arrive", key="sd_msg_live")

    subject = (state.get("sd_msg_subject") or "").strip() or None
    if subject and (problem := forms.subject_problem(subject)):
        st.error(problem)
        return
    if live:
        st.fragment(live_tail, run_every=TAIL_S)(cluster.id, info.name, subject)
    else:
        browse(cluster, info, subject, start)
    show_publish(cluster, info)
    show_export(cluster, info, subject)


def browse(cluster: Cluster, info: StreamInfo, subject: str | None, start: str) -> None:
    state = st.session_state
    api = session.client()
    limit = int(state.get("sd_msg_limit") or PAGE_SIZES[0])
    options: dict[str, Any] = {"subject": subject, "limit": limit}
    if start == "last":
        options["direction"] = "backward"
    elif start == "sequence":
        options["start_seq"] = int(state.get("sd_msg_seq") or 1)
    elif start == "time":
        try:
            options["start_time"] = forms.parse_time(state.get("sd_msg_time") or "")
        except ValueError as exc:
            st.error(str(exc))
            return
    browsing = [cluster.id, info.name, json.dumps(options, sort_keys=True)]
    if (state.get(CURSORS) or {}).get("for") != browsing:
        state[CURSORS] = {"for": browsing, "stack": []}
    stack: list[str] = state[CURSORS]["stack"]
    if stack:
        options = {"cursor": stack[-1], "limit": limit}
    page = session.call(lambda: api.browse_messages(cluster.id, info.name, **options))
    if page is None:
        return
    session.show_flash("messages")
    if not page.items:
        st.info("No message here." if info.messages else "The stream holds no message yet.")
    else:
        message_table(page.items)
    prev, label, nxt = st.columns([1, 3, 1], vertical_alignment="center")
    prev.button(
        "← Previous page",
        key="sd_msg_prev",
        disabled=not stack,
        on_click=_page_back,
        width="stretch",
    )
    label.caption(
        f"Page {len(stack) + 1} · the stream holds #{page.first_seq:,}–#{page.last_seq:,}"
    )
    nxt.button(
        "Next page →",
        key="sd_msg_next",
        disabled=not (page.has_more and page.next_cursor),
        on_click=_page_next,
        args=(page.next_cursor,),
        width="stretch",
    )
    if page.items:
        show_message(cluster, info, page)


def _page_next(cursor: str | None) -> None:
    if cursor:
        st.session_state[CURSORS]["stack"].append(cursor)


def _page_back() -> None:
    stack = st.session_state[CURSORS]["stack"]
    if stack:
        stack.pop()


def message_table(messages: list[Message]) -> None:
    st.dataframe(
        [
            {
                "Seq": m.seq,
                "Subject": m.subject,
                "Time": fmt.when(m.time, millis=True),
                "Size": fmt.size(m.size),
                "Headers": len(m.headers),
                "Payload": _preview(m),
            }
            for m in messages
        ],
        hide_index=True,
        column_config={"Seq": st.column_config.NumberColumn(format="%d")},
    )


def _preview(m: Message, width: int = 80) -> str:
    if m.encoding == "base64":
        return f"(binary, {fmt.size(m.size)})"
    text = json.dumps(m.payload, ensure_ascii=False) if m.encoding == "json" else str(m.payload)
    return text if len(text) <= width else text[: width - 1] + "…"


def live_tail(cluster_id: str, stream: str, subject: str | None) -> None:
    session.run_page(lambda: _live_tail(cluster_id, stream, subject))


def _live_tail(cluster_id: str, stream: str, subject: str | None) -> None:
    page = session.call(
        lambda: session.client().browse_messages(
            cluster_id, stream, direction="backward", subject=subject, limit=TAIL_SIZE
        )
    )
    if page is None:
        return
    if page.items:
        message_table(page.items)
    else:
        st.info("No message yet: new ones show here as they arrive.")
    st.caption(
        f"The newest {TAIL_SIZE} · last sequence #{page.last_seq:,} · refreshed "
        f"{datetime.now(UTC):%H:%M:%S} UTC, every {TAIL_S:g} seconds"
    )


def show_message(cluster: Cluster, info: StreamInfo, page: MessagePage) -> None:
    by_seq = {m.seq: m for m in page.items}
    if st.session_state.get("sd_msg_selected") not in by_seq:
        st.session_state["sd_msg_selected"] = page.items[0].seq
    seq = st.selectbox(
        "Message",
        list(by_seq),
        key="sd_msg_selected",
        format_func=lambda s: f"#{s:,} · {by_seq[s].subject}",
    )
    m = by_seq[seq]
    with st.container(border=True):
        head, delete = st.columns([5, 1], vertical_alignment="center")
        head.markdown(
            f"**Message #{m.seq:,}** · `{m.subject}` · {fmt.when(m.time, millis=True)} · "
            f"{fmt.size(m.size)}"
        )
        delete.button(
            "Delete…",
            key="sd_msg_delete",
            width="stretch",
            on_click=widgets.ask,
            args=(PENDING_DELETE_MSG, (cluster.id, info.name, m.seq)),
        )
        widgets.confirm(
            PENDING_DELETE_MSG,
            (cluster.id, info.name, m.seq),
            f"Delete message #{m.seq:,} from {info.name}? It cannot be brought back.",
            "Yes, delete it",
            _delete_message,
            args=(cluster.id, info.name, m.seq),
        )
        if m.headers:
            st.markdown("Headers")
            st.code(
                "\n".join(f"{k}: {v}" for k, values in m.headers.items() for v in values),
                language=None,
            )
        st.markdown("Payload")
        if m.encoding == "json":
            st.json(m.payload)
        elif m.encoding == "base64":
            st.caption("Not text: shown as base64.")
            st.code(str(m.payload), language=None)
        else:
            st.code(str(m.payload) or "(empty)", language=None)
        if m.truncated:
            st.caption(
                f"Only the beginning is shown: the payload is {fmt.size(m.size)}. "
                "Export the messages for all of it."
            )


def _delete_message(cluster_id: str, stream: str, seq: int) -> None:
    def act() -> str:
        session.client().delete_message(cluster_id, stream, seq)
        return f"Message #{seq:,} deleted from {stream}."

    session.in_callback("messages", act)


def show_publish(cluster: Cluster, info: StreamInfo) -> None:
    for key, value in PUBLISH_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    with st.expander("Publish a message"):
        with st.form("sd_publish"):
            concrete = [s for s in info.subjects if "*" not in s and ">" not in s]
            st.text_input(
                "Subject",
                key="sd_pub_subject",
                placeholder=concrete[0] if concrete else ", ".join(info.subjects),
                help=f"The stream stores {', '.join(info.subjects) or 'its sources'}.",
            )
            st.text_area("Payload", key="sd_pub_payload", height=120)
            st.checkbox("The payload is JSON (checked, and sent compact)", key="sd_pub_json")
            left, right = st.columns(2)
            left.text_area("Headers, one per line (Name: value)", key="sd_pub_headers", height=80)
            right.text_input(
                "Message ID (Nats-Msg-Id, optional)",
                key="sd_pub_msg_id",
                help="A repeat within the stream's duplicate window is not stored twice.",
            )
            st.form_submit_button(
                "Publish",
                key="sd_pub_submit",
                type="primary",
                on_click=_publish,
                args=(cluster.id, info.name),
            )
        session.show_flash("publish")


def _publish(cluster_id: str, stream: str) -> None:
    state = st.session_state
    body, problems = forms.check_publish_form(
        subject=state.sd_pub_subject,
        payload=state.sd_pub_payload,
        as_json=state.sd_pub_json,
        headers=state.sd_pub_headers,
        msg_id=state.sd_pub_msg_id,
    )
    if body is None:
        session.flash_many("publish", "error", problems)
        return

    def act() -> str:
        ack = session.client().publish_message(
            cluster_id,
            stream,
            body["subject"],
            body["payload"],
            headers=body["headers"],
            msg_id=body["msg_id"],
        )
        if ack.duplicate:
            return (
                f"Not stored again: message ID {body['msg_id']} is already in {stream} "
                f"as #{ack.seq:,}."
            )
        state.sd_pub_msg_id = ""  # the rest stays, to publish another like it
        return f"Published to {body['subject']}: stored in {ack.stream} as #{ack.seq:,}."

    session.in_callback("publish", act)


def show_export(cluster: Cluster, info: StreamInfo, subject: str | None) -> None:
    api = session.client()
    what = f" on {subject}" if subject else ""
    st.caption(
        f"Export every message of {info.name}{what}, oldest first, with exact payloads "
        "(text, or base64 when binary). A large stream's export runs as an operation: "
        "its file then downloads from the Operations page once completed."
    )
    left, right, _ = st.columns([1, 1, 3])
    for col, format, mime in ((left, "jsonl", "application/x-ndjson"), (right, "csv", "text/csv")):
        col.download_button(
            f"Export as {format.upper()}",
            key=f"sd_export_{format}",
            width="stretch",
            data=_exporter(api, cluster.id, info.name, format, subject),
            file_name=f"{info.name}.{format}",
            mime=mime,
            on_click="ignore",
        )


def _exporter(api, cluster_id: str, stream: str, format: str, subject: str | None):
    """The export, fetched only when the button is clicked (in another thread: no drawing)."""

    def fetch() -> bytes:
        try:
            export = api.export_messages(cluster_id, stream, format=format, subject=subject)
        except Exception as err:  # noqa: BLE001 - the file then says why, in a sentence
            return f"The export failed: {getattr(err, 'message', err)}\n".encode()
        if isinstance(export, bytes):
            return export
        return (
            f"{stream} is too large to export at once: the export runs as operation "
            f"{export.id}. Download its file from the Operations page once it has "
            f"completed.\n"
        ).encode()

    return fetch
