"""The Consumers tab of a stream: the list with each one's health, create, delete, and on the
chosen consumer "Ask about this" (the Assistant, with that consumer as the context), pause or
resume (``consumer_pause.py``) and a change form (``consumer_edit.py``)."""

from __future__ import annotations

import streamlit as st

from ui import fmt, forms, session, widgets
from ui.approval_widgets import submitted_sentence
from ui.assistant_panels import context as assistant
from ui.client import Cluster, ConsumerInfo, RequestSubmitted, StreamInfo
from ui.stream_tabs.consumer_edit import show_consumer_edit
from ui.stream_tabs.consumer_pause import pause_button, show_pause

PENDING_DELETE_CONSUMER = "sd_pending_delete_consumer"
CONSUMER_DEFAULTS: dict[str, object] = {
    "sd_con_name": "",
    "sd_con_filters": "",
    "sd_con_deliver": "all",
    "sd_con_start_seq": None,
    "sd_con_start_time": "",
    "sd_con_ack": "explicit",
    "sd_con_ack_wait": "30s",
    "sd_con_max_deliver": -1,
    "sd_con_max_ack_pending": 1000,
    "sd_con_description": "",
}
DELIVER_LABELS = {
    "all": "All messages",
    "new": "Only new messages",
    "last": "The last message",
    "last_per_subject": "The last message of each subject",
    "by_start_sequence": "From a sequence",
    "by_start_time": "From a time",
}


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
            rows.append(
                {
                    "Name": c.name,
                    "Health": badge,
                    "Pending": c.num_pending,
                    "Awaiting ack": c.num_ack_pending,
                    "Redelivered": c.num_redelivered,
                    "Waiting pulls": c.num_waiting,
                    "Filter": c.config.get("filter_subject")
                    or ", ".join(c.config.get("filter_subjects") or [])
                    or "every subject",
                    "Deliver": c.config.get("deliver_policy", ""),
                    "Ack": c.config.get("ack_policy", ""),
                    "Kind": "push" if c.config.get("deliver_subject") else "pull",
                    "Last delivered": c.delivered.get("stream_seq"),
                    "Created": fmt.when(c.created),
                }
            )
        st.dataframe(widgets.page_of(rows, "sd_con_page", 50, "consumers"), hide_index=True)
        for note in notes:
            st.markdown(f"- {note}")
        by_name = {c.name: c for c in consumers}
        pick, ask, pause, delete = st.columns([4, 1, 1, 1], vertical_alignment="bottom")
        chosen = pick.selectbox("Consumer", list(by_name), key="sd_con_selected")
        assistant.ask_button(cluster.id, info.name, chosen, key="sd_con_ask", column=ask)
        pause_button(cluster.id, info.name, by_name[chosen], pause)
        delete.button(
            "Delete…",
            key="sd_con_delete",
            width="stretch",
            on_click=lambda: widgets.ask(
                PENDING_DELETE_CONSUMER, (cluster.id, info.name, st.session_state.sd_con_selected)
            ),
        )
        target = (cluster.id, info.name, chosen)
        widgets.confirm(
            PENDING_DELETE_CONSUMER,
            target,
            f"Delete the consumer **{chosen}** of {info.name}? Its position and "
            "pending acknowledgements are lost; the messages stay in the stream.",
            "Yes, delete it",
            _delete_consumer,
            args=target,
        )
        show_pause(cluster.id, info.name, by_name[chosen])
        with st.expander(f"Change {chosen}"):
            show_consumer_edit(cluster.id, info.name, by_name[chosen])
        with st.expander(f"Everything about {chosen}"):
            st.json(
                {
                    "config": by_name[chosen].config,
                    "delivered": by_name[chosen].delivered,
                    "ack_floor": by_name[chosen].ack_floor,
                },
                expanded=True,
            )
    else:
        st.info(f"{info.name} has no consumer yet.")
    st.subheader("Create a consumer")
    show_consumer_form(cluster, info)


def _health(c: ConsumerInfo) -> tuple[str, str]:
    return fmt.consumer_health(
        c.num_pending,
        c.num_ack_pending,
        c.num_redelivered,
        c.config.get("max_ack_pending"),
        c.paused,
    )


def _delete_consumer(cluster_id: str, stream: str, name: str) -> None:
    def act() -> str:
        sent = session.client().delete_consumer(cluster_id, stream, name)
        if sent is not None:
            return submitted_sentence(sent)
        return f"Consumer {name} deleted from {stream}."

    session.in_callback("consumers", act)


def show_consumer_form(cluster: Cluster, info: StreamInfo) -> None:
    for key, value in CONSUMER_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    with st.form("sd_create_consumer"):
        left, right = st.columns(2)
        left.text_input(
            "Name",
            key="sd_con_name",
            placeholder="order-processor",
            help="A durable pull consumer: letters, digits, - and _.",
        )
        right.text_input("Description", key="sd_con_description")
        st.text_area(
            "Only these subjects, one per line (empty: every subject)",
            key="sd_con_filters",
            height=68,
            placeholder=info.subjects[0] if info.subjects else "",
        )
        cols = st.columns(3)
        cols[0].selectbox(
            "Start with",
            forms.DELIVER_POLICIES,
            key="sd_con_deliver",
            format_func=DELIVER_LABELS.__getitem__,
        )
        cols[1].number_input(
            "Start sequence",
            min_value=1,
            step=1,
            key="sd_con_start_seq",
            help="With “From a sequence”.",
        )
        cols[2].text_input(
            "Start time (UTC)",
            key="sd_con_start_time",
            placeholder="2024-01-15T10:30:00Z",
            help="With “From a time”.",
        )
        cols = st.columns(4)
        cols[0].selectbox("Acknowledgement", forms.ACK_POLICIES, key="sd_con_ack")
        cols[1].text_input("Ack wait", key="sd_con_ack_wait", placeholder="30s")
        cols[2].number_input(
            "Max deliveries (-1: no limit)", min_value=-1, step=1, key="sd_con_max_deliver"
        )
        cols[3].number_input(
            "Max awaiting ack", min_value=-1, step=100, key="sd_con_max_ack_pending"
        )
        st.form_submit_button(
            "Create consumer",
            key="sd_con_submit",
            type="primary",
            on_click=_create_consumer,
            args=(cluster.id, info.name),
        )
    session.show_flash("consumer_form")


def _create_consumer(cluster_id: str, stream: str) -> None:
    state = st.session_state
    spec, problems = forms.check_consumer_form(
        name=state.sd_con_name,
        filter_subjects=state.sd_con_filters,
        deliver_policy=state.sd_con_deliver,
        start_seq=state.sd_con_start_seq,
        start_time=state.sd_con_start_time,
        ack_policy=state.sd_con_ack,
        ack_wait=state.sd_con_ack_wait,
        max_deliver=state.sd_con_max_deliver,
        max_ack_pending=state.sd_con_max_ack_pending,
        description=state.sd_con_description,
    )
    if spec is None:
        session.flash_many("consumer_form", "error", problems)
        return

    def act() -> str:
        created = session.client().create_consumer(cluster_id, stream, spec)
        state.update(CONSUMER_DEFAULTS)
        if isinstance(created, RequestSubmitted):
            return submitted_sentence(created)
        return f"Consumer {created.name} created on {stream}."

    session.in_callback("consumer_form", act, success_area="consumers")
