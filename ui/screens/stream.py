"""One stream: Overview (state and configuration summary), Messages (a paged browser with a live
tail, the details of a message, publish, export), Consumers (with their health; create, delete)
and Configuration (the stream's JSON config, editable: only what changed is sent).

Opened from the Streams page ("Open"), or directly, choosing the cluster and stream at the top.
Only the open tab fetches anything.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import streamlit as st

from ui import fmt, forms, session, widgets
from ui.client import Cluster, ConsumerInfo, Message, MessagePage, StreamInfo

TAB_KEY = "sd_tab"
TABS = ("Overview", "Messages", "Consumers", "Configuration")
FROM_LABELS = {"first": "The oldest message", "last": "The newest message (newest first)",
               "sequence": "A sequence", "time": "A time (UTC)"}
PAGE_SIZES = (20, 50, 100)
CURSORS = "sd_msg_cursors"          # {"for": what was browsed, "stack": cursors of the pages}
PENDING_DELETE_MSG = "sd_pending_delete_msg"
PENDING_DELETE_CONSUMER = "sd_pending_delete_consumer"
TAIL_S = 2.0
TAIL_SIZE = 20
PUBLISH_DEFAULTS: dict[str, object] = {"sd_pub_subject": "", "sd_pub_payload": "",
                                       "sd_pub_json": False, "sd_pub_headers": "",
                                       "sd_pub_msg_id": ""}
CONSUMER_DEFAULTS: dict[str, object] = {
    "sd_con_name": "", "sd_con_filters": "", "sd_con_deliver": "all", "sd_con_start_seq": None,
    "sd_con_start_time": "", "sd_con_ack": "explicit", "sd_con_ack_wait": "30s",
    "sd_con_max_deliver": -1, "sd_con_max_ack_pending": 1000, "sd_con_description": "",
}
DELIVER_LABELS = {"all": "All messages", "new": "Only new messages", "last": "The last message",
                  "last_per_subject": "The last message of each subject",
                  "by_start_sequence": "From a sequence", "by_start_time": "From a time"}


def main() -> None:
    api = session.client()
    clusters = session.call(api.list_clusters)
    if clusters is None:
        return
    st.page_link("screens/streams.py", label="Streams", icon=":material/arrow_back:")
    if not clusters:
        st.title("Stream")
        widgets.no_cluster_yet()
        return
    pick, choose, replay = st.columns([3, 3, 1], vertical_alignment="bottom")
    with pick:
        cluster = widgets.pick_cluster(clusters, key="sd_cluster")
    streams = session.call(api.list_streams, cluster.id)
    if streams is None:
        return
    names = sorted(s.name for s in streams)
    if not names:
        st.title("Stream")
        st.info(f"The cluster {cluster.name} has no stream yet.")
        return
    wanted = session.chosen_stream()
    if st.session_state.get("sd_stream") not in names:
        st.session_state["sd_stream"] = wanted if wanted in names else names[0]
    name = choose.selectbox("Stream", names, key="sd_stream")
    session.choose_stream(name)
    replay.button("Replay…", key="sd_replay", width="stretch", on_click=_to_replay,
                  args=(cluster.id, name), help="Replay messages of this stream")
    if st.session_state.get("sd_go_replay"):
        st.session_state.pop("sd_go_replay")
        st.switch_page("screens/operations.py")

    st.title(f"Stream {name}")
    session.show_flash("stream")
    info = session.call(api.stream_info, cluster.id, name)
    if info is None:
        return
    st.caption(f"On {cluster.name} ({cluster.environment}) · created {fmt.when(info.created)}"
               + (f" · {info.config['description']}" if info.config.get("description") else ""))
    tabs = st.tabs(TABS, key=TAB_KEY, on_change="rerun")
    shows = (show_overview, show_messages, show_consumers, show_configuration)
    for tab, show in zip(tabs, shows):
        if tab.open:
            with tab:
                show(cluster, info)


def _to_replay(cluster_id: str, stream: str) -> None:
    """Open the replay form of the Operations page with this stream as the source."""
    state = st.session_state
    state["replay_cluster"] = cluster_id
    state["replay_stream"] = stream
    state["ops_tab"] = "Replay messages"
    state["sd_go_replay"] = True


# --------------------------------------------------------------------------- overview


def show_overview(cluster: Cluster, info: StreamInfo) -> None:
    state, config = info.state, info.config
    cols = st.columns(4)
    cols[0].metric("Messages", f"{info.messages:,}", border=True)
    cols[1].metric("Stored", fmt.size(info.bytes), border=True)
    cols[2].metric("Consumers", info.consumer_count, border=True)
    cols[3].metric("Subjects in use", fmt.count(state.get("num_subjects")), border=True)
    left, right = st.columns(2)
    with left:
        st.subheader("State")
        widgets.facts({
            "First message": f"#{state.get('first_seq', 0):,} · {fmt.when(state.get('first_ts'))}",
            "Last message": f"#{state.get('last_seq', 0):,} · {fmt.when(state.get('last_ts'))}",
            "Deleted inside the range": fmt.count(state.get("num_deleted") or 0),
            "Leader": (info.cluster.get("leader") or "—") if info.cluster else "not clustered",
        })
    with right:
        st.subheader("Configuration")
        limits = [f"{label} {value}" for label, value in (
            ("max messages", fmt.limit(config.get("max_msgs"))),
            ("max size", fmt.size(config.get("max_bytes"))),
            ("per subject", fmt.limit(config.get("max_msgs_per_subject")))) if value]
        widgets.facts({
            "Subjects": ", ".join(info.subjects) or "—",
            "Retention": f"{str(config.get('retention', '')).capitalize()} ({', '.join(limits)})",
            "Storage": str(config.get("storage", "")).capitalize(),
            "Replicas": str(config.get("num_replicas", 1)),
            "Discard": str(config.get("discard", "")).capitalize(),
            "Max age": fmt.duration_ns(config.get("max_age")),
            "Duplicate window": fmt.duration_ns(config.get("duplicate_window")),
        })
    if info.mirror or info.sources:
        st.subheader("Copied from")
        rows = [{"Stream": s.get("name"), "Lag": s.get("lag"),
                 "Last seen": fmt.seconds((s.get("active") or 0) / 1e9)
                 if s.get("active", -1) >= 0 else "never"}
                for s in ([info.mirror] if info.mirror else []) + info.sources]
        st.dataframe(rows, hide_index=True)


# --------------------------------------------------------------------------- messages


def show_messages(cluster: Cluster, info: StreamInfo) -> None:
    state = st.session_state
    cols = st.columns([3, 3, 2, 1], vertical_alignment="bottom")
    cols[0].text_input("Subject filter", key="sd_msg_subject", placeholder="every subject",
                       help="Wildcards allowed, e.g. orders.*.eu or orders.>")
    cols[1].selectbox("Start from", tuple(FROM_LABELS), key="sd_msg_from",
                      format_func=FROM_LABELS.__getitem__)
    start = state.get("sd_msg_from", "first")
    if start == "sequence":
        cols[2].number_input("Sequence", min_value=1, step=1, key="sd_msg_seq",
                             value=max(1, int(info.state.get("first_seq") or 1)))
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
    prev.button("← Previous page", key="sd_msg_prev", disabled=not stack, on_click=_page_back,
                width="stretch")
    label.caption(f"Page {len(stack) + 1} · the stream holds #{page.first_seq:,}–"
                  f"#{page.last_seq:,}")
    nxt.button("Next page →", key="sd_msg_next", disabled=not (page.has_more and page.next_cursor),
               on_click=_page_next, args=(page.next_cursor,), width="stretch")
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
    st.dataframe([{
        "Seq": m.seq, "Subject": m.subject, "Time": fmt.when(m.time, millis=True),
        "Size": fmt.size(m.size), "Headers": len(m.headers), "Payload": _preview(m),
    } for m in messages], hide_index=True, column_config={
        "Seq": st.column_config.NumberColumn(format="%d")})


def _preview(m: Message, width: int = 80) -> str:
    if m.encoding == "base64":
        return f"(binary, {fmt.size(m.size)})"
    text = json.dumps(m.payload, ensure_ascii=False) if m.encoding == "json" else str(m.payload)
    return text if len(text) <= width else text[:width - 1] + "…"


def live_tail(cluster_id: str, stream: str, subject: str | None) -> None:
    session.run_page(lambda: _live_tail(cluster_id, stream, subject))


def _live_tail(cluster_id: str, stream: str, subject: str | None) -> None:
    page = session.call(lambda: session.client().browse_messages(
        cluster_id, stream, direction="backward", subject=subject, limit=TAIL_SIZE))
    if page is None:
        return
    if page.items:
        message_table(page.items)
    else:
        st.info("No message yet: new ones show here as they arrive.")
    st.caption(f"The newest {TAIL_SIZE} · last sequence #{page.last_seq:,} · refreshed "
               f"{datetime.now(timezone.utc):%H:%M:%S} UTC, every {TAIL_S:g} seconds")


def show_message(cluster: Cluster, info: StreamInfo, page: MessagePage) -> None:
    by_seq = {m.seq: m for m in page.items}
    if st.session_state.get("sd_msg_selected") not in by_seq:
        st.session_state["sd_msg_selected"] = page.items[0].seq
    seq = st.selectbox("Message", list(by_seq), key="sd_msg_selected",
                       format_func=lambda s: f"#{s:,} · {by_seq[s].subject}")
    m = by_seq[seq]
    with st.container(border=True):
        head, delete = st.columns([5, 1], vertical_alignment="center")
        head.markdown(f"**Message #{m.seq:,}** · `{m.subject}` · {fmt.when(m.time, millis=True)} · "
                      f"{fmt.size(m.size)}")
        delete.button("Delete…", key="sd_msg_delete", width="stretch", on_click=widgets.ask,
                      args=(PENDING_DELETE_MSG, (cluster.id, info.name, m.seq)))
        widgets.confirm(PENDING_DELETE_MSG, (cluster.id, info.name, m.seq),
                        f"Delete message #{m.seq:,} from {info.name}? It cannot be brought back.",
                        "Yes, delete it", _delete_message, args=(cluster.id, info.name, m.seq))
        if m.headers:
            st.markdown("Headers")
            st.code("\n".join(f"{k}: {v}" for k, values in m.headers.items() for v in values),
                    language=None)
        st.markdown("Payload")
        if m.encoding == "json":
            st.json(m.payload)
        elif m.encoding == "base64":
            st.caption("Not text: shown as base64.")
            st.code(str(m.payload), language=None)
        else:
            st.code(str(m.payload) or "(empty)", language=None)
        if m.truncated:
            st.caption(f"Only the beginning is shown: the payload is {fmt.size(m.size)}. "
                       "Export the messages for all of it.")


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
            st.text_input("Subject", key="sd_pub_subject",
                          placeholder=concrete[0] if concrete else ", ".join(info.subjects),
                          help=f"The stream stores {', '.join(info.subjects) or 'its sources'}.")
            st.text_area("Payload", key="sd_pub_payload", height=120)
            st.checkbox("The payload is JSON (checked, and sent compact)", key="sd_pub_json")
            left, right = st.columns(2)
            left.text_area("Headers, one per line (Name: value)", key="sd_pub_headers", height=80)
            right.text_input("Message ID (Nats-Msg-Id, optional)", key="sd_pub_msg_id",
                             help="A repeat within the stream's duplicate window is not stored "
                                  "twice.")
            st.form_submit_button("Publish", key="sd_pub_submit", type="primary",
                                  on_click=_publish, args=(cluster.id, info.name))
        session.show_flash("publish")


def _publish(cluster_id: str, stream: str) -> None:
    state = st.session_state
    body, problems = forms.check_publish_form(
        subject=state.sd_pub_subject, payload=state.sd_pub_payload, as_json=state.sd_pub_json,
        headers=state.sd_pub_headers, msg_id=state.sd_pub_msg_id)
    if body is None:
        session.flash_many("publish", "error", problems)
        return

    def act() -> str:
        ack = session.client().publish_message(cluster_id, stream, body["subject"], body["payload"],
                                               headers=body["headers"], msg_id=body["msg_id"])
        if ack.duplicate:
            return (f"Not stored again: message ID {body['msg_id']} is already in {stream} "
                    f"as #{ack.seq:,}.")
        state.sd_pub_msg_id = ""  # the rest stays, to publish another like it
        return f"Published to {body['subject']}: stored in {ack.stream} as #{ack.seq:,}."

    session.in_callback("publish", act)


def show_export(cluster: Cluster, info: StreamInfo, subject: str | None) -> None:
    api = session.client()
    what = f" on {subject}" if subject else ""
    st.caption(f"Export every message of {info.name}{what}, oldest first, with exact payloads "
               "(text, or base64 when binary).")
    left, right, _ = st.columns([1, 1, 3])
    for col, format, mime in ((left, "jsonl", "application/x-ndjson"), (right, "csv", "text/csv")):
        col.download_button(
            f"Export as {format.upper()}", key=f"sd_export_{format}", width="stretch",
            data=_exporter(api, cluster.id, info.name, format, subject),
            file_name=f"{info.name}.{format}", mime=mime, on_click="ignore")


def _exporter(api, cluster_id: str, stream: str, format: str, subject: str | None):
    """The export, fetched only when the button is clicked (in another thread: no drawing)."""

    def fetch() -> bytes:
        try:
            return api.export_messages(cluster_id, stream, format=format, subject=subject)
        except Exception as err:  # noqa: BLE001 - the file then says why, in a sentence
            return f"The export failed: {getattr(err, 'message', err)}\n".encode()

    return fetch


# --------------------------------------------------------------------------- consumers


def show_consumers(cluster: Cluster, info: StreamInfo) -> None:
    api = session.client()
    session.show_flash("consumers")
    consumers = session.call(api.list_consumers, cluster.id, info.name)
    if consumers is None:
        return
    if consumers:
        rows, notes = [], []
        for c in consumers:
            badge, why = _health(c)
            if not badge.startswith("●"):
                notes.append(f"**{c.name}**: {why}")
            rows.append({
                "Name": c.name, "Health": badge, "Pending": c.num_pending,
                "Awaiting ack": c.num_ack_pending, "Redelivered": c.num_redelivered,
                "Waiting pulls": c.num_waiting,
                "Filter": c.config.get("filter_subject")
                or ", ".join(c.config.get("filter_subjects") or []) or "every subject",
                "Deliver": c.config.get("deliver_policy", ""),
                "Ack": c.config.get("ack_policy", ""),
                "Kind": "push" if c.config.get("deliver_subject") else "pull",
                "Last delivered": c.delivered.get("stream_seq"),
                "Created": fmt.when(c.created),
            })
        st.dataframe(widgets.page_of(rows, "sd_con_page", 50, "consumers"), hide_index=True)
        for note in notes:
            st.markdown(f"- {note}")
        by_name = {c.name: c for c in consumers}
        pick, delete = st.columns([5, 1], vertical_alignment="bottom")
        chosen = pick.selectbox("Consumer", list(by_name), key="sd_con_selected")
        delete.button("Delete…", key="sd_con_delete", width="stretch", on_click=lambda: widgets.ask(
            PENDING_DELETE_CONSUMER, (cluster.id, info.name, st.session_state.sd_con_selected)))
        target = (cluster.id, info.name, chosen)
        widgets.confirm(PENDING_DELETE_CONSUMER, target,
                        f"Delete the consumer **{chosen}** of {info.name}? Its position and "
                        "pending acknowledgements are lost; the messages stay in the stream.",
                        "Yes, delete it", _delete_consumer, args=target)
        with st.expander(f"Everything about {chosen}"):
            st.json({"config": by_name[chosen].config, "delivered": by_name[chosen].delivered,
                     "ack_floor": by_name[chosen].ack_floor}, expanded=True)
    else:
        st.info(f"{info.name} has no consumer yet.")
    st.subheader("Create a consumer")
    show_consumer_form(cluster, info)


def _health(c: ConsumerInfo) -> tuple[str, str]:
    return fmt.consumer_health(c.num_pending, c.num_ack_pending, c.num_redelivered,
                               c.config.get("max_ack_pending"), c.paused)


def _delete_consumer(cluster_id: str, stream: str, name: str) -> None:
    def act() -> str:
        session.client().delete_consumer(cluster_id, stream, name)
        return f"Consumer {name} deleted from {stream}."

    session.in_callback("consumers", act)


def show_consumer_form(cluster: Cluster, info: StreamInfo) -> None:
    for key, value in CONSUMER_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    with st.form("sd_create_consumer"):
        left, right = st.columns(2)
        left.text_input("Name", key="sd_con_name", placeholder="order-processor",
                        help="A durable pull consumer: letters, digits, - and _.")
        right.text_input("Description", key="sd_con_description")
        st.text_area("Only these subjects, one per line (empty: every subject)",
                     key="sd_con_filters", height=68,
                     placeholder=info.subjects[0] if info.subjects else "")
        cols = st.columns(3)
        cols[0].selectbox("Start with", forms.DELIVER_POLICIES, key="sd_con_deliver",
                          format_func=DELIVER_LABELS.__getitem__)
        cols[1].number_input("Start sequence", min_value=1, step=1, key="sd_con_start_seq",
                             help="With “From a sequence”.")
        cols[2].text_input("Start time (UTC)", key="sd_con_start_time",
                           placeholder="2024-01-15T10:30:00Z", help="With “From a time”.")
        cols = st.columns(4)
        cols[0].selectbox("Acknowledgement", forms.ACK_POLICIES, key="sd_con_ack")
        cols[1].text_input("Ack wait", key="sd_con_ack_wait", placeholder="30s")
        cols[2].number_input("Max deliveries (-1: no limit)", min_value=-1, step=1,
                             key="sd_con_max_deliver")
        cols[3].number_input("Max awaiting ack", min_value=-1, step=100,
                             key="sd_con_max_ack_pending")
        st.form_submit_button("Create consumer", key="sd_con_submit", type="primary",
                              on_click=_create_consumer, args=(cluster.id, info.name))
    session.show_flash("consumer_form")


def _create_consumer(cluster_id: str, stream: str) -> None:
    state = st.session_state
    spec, problems = forms.check_consumer_form(
        name=state.sd_con_name, filter_subjects=state.sd_con_filters,
        deliver_policy=state.sd_con_deliver, start_seq=state.sd_con_start_seq,
        start_time=state.sd_con_start_time, ack_policy=state.sd_con_ack,
        ack_wait=state.sd_con_ack_wait, max_deliver=state.sd_con_max_deliver,
        max_ack_pending=state.sd_con_max_ack_pending, description=state.sd_con_description)
    if spec is None:
        session.flash_many("consumer_form", "error", problems)
        return

    def act() -> str:
        created = session.client().create_consumer(cluster_id, stream, spec)
        state.update(CONSUMER_DEFAULTS)
        return f"Consumer {created.name} created on {stream}."

    session.in_callback("consumer_form", act, success_area="consumers")


# --------------------------------------------------------------------------- configuration


def show_configuration(cluster: Cluster, info: StreamInfo) -> None:
    state = st.session_state
    current = json.dumps(info.config, indent=2, sort_keys=True)
    base = state.get("sd_config_base")
    identity = [cluster.id, info.name]
    if state.get("sd_config_for") != identity or "sd_config_text" not in state:
        state["sd_config_for"], state["sd_config_base"], state["sd_config_text"] = \
            identity, current, current
    elif base != current:
        if state.get("sd_config_text") == base:  # not edited: follow the server
            state["sd_config_base"] = state["sd_config_text"] = current
        else:
            st.warning("The configuration changed on the server since you began editing. "
                       "Discard your edits to see it, or save them over it.")
    st.caption("JetStream's own configuration (durations in nanoseconds; strings such as \"72h\" "
               "are accepted). Only the fields you change are sent; the server refuses a change "
               "it cannot make, such as the storage type.")
    with st.form("sd_config"):
        st.text_area("Configuration (JSON)", key="sd_config_text", height=420)
        save, discard, _ = st.columns([1, 1, 3])
        save.form_submit_button("Save changes", key="sd_config_save", type="primary",
                                on_click=_save_config, args=(cluster.id, info.name, info.config))
        discard.form_submit_button("Discard edits", key="sd_config_discard",
                                   on_click=_discard_config, args=(current,))
    session.show_flash("config")
    st.download_button("Download as JSON", data=current, file_name=f"{info.name}.json",
                       mime="application/json", key="sd_config_download", on_click="ignore")


def _discard_config(current: str) -> None:
    st.session_state["sd_config_base"] = st.session_state["sd_config_text"] = current


def _save_config(cluster_id: str, name: str, before: dict[str, Any]) -> None:
    state = st.session_state
    changes, problems = forms.config_changes(state.sd_config_text, before)
    if changes is None:
        session.flash_many("config", "error", problems)
        return
    if not changes:
        session.flash("config", "info", "Nothing changed: there is nothing to save.")
        return

    def act() -> str:
        after = session.client().update_stream(cluster_id, name, changes)
        state["sd_config_base"] = state["sd_config_text"] = json.dumps(after.config, indent=2,
                                                                       sort_keys=True)
        return f"Stream {name} updated: {', '.join(sorted(changes))}."

    session.in_callback("config", act)


session.run_page(main)
