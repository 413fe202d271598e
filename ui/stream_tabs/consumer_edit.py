"""Change a consumer, in the Consumers tab: the fields JetStream lets change on an existing
consumer (description, subjects, ack wait, deliveries, awaiting ack, redelivery delays), prefilled
from its config; only what changed is sent. A change policy sends for approval reads as such; a
refusal reads as the API's sentence."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from ui import forms, session
from ui.approval_widgets import submitted_sentence
from ui.client import ConsumerInfo, RequestSubmitted

AREA = "consumer_edit"
FIELDS = ("description", "filter_subjects", "ack_wait", "max_deliver", "max_ack_pending", "backoff")


def _key(field: str) -> str:
    return f"sd_cedit_{field}"


def _prefill(cluster_id: str, stream: str, consumer: ConsumerInfo) -> None:
    """The form follows the consumer shown (another one, or its config changed on the server)."""
    identity = json.dumps(
        [cluster_id, stream, consumer.name, {k: consumer.config.get(k) for k in forms.EDITABLE}],
        sort_keys=True,
    )
    if st.session_state.get("sd_cedit_for") != identity:
        st.session_state["sd_cedit_for"] = identity
        for field, value in forms.consumer_form_values(consumer.config).items():
            st.session_state[_key(field)] = value


def show_consumer_edit(cluster_id: str, stream: str, consumer: ConsumerInfo) -> None:
    _prefill(cluster_id, stream, consumer)
    acked = consumer.config.get("ack_policy", "explicit") != "none"
    with st.form("sd_cedit"):
        st.text_input("Description", key=_key("description"))
        st.text_area(
            "Only these subjects, one per line (empty: every subject)",
            key=_key("filter_subjects"),
            height=68,
        )
        cols = st.columns(3)
        cols[0].text_input(
            "Ack wait",
            key=_key("ack_wait"),
            placeholder="30s",
            disabled=not acked,
            help="How long a delivery may go unacknowledged before it is delivered again.",
        )
        cols[1].number_input(
            "Max deliveries (-1: no limit)", min_value=-1, step=1, key=_key("max_deliver")
        )
        cols[2].number_input(
            "Max awaiting ack (-1: no limit)",
            min_value=-1,
            step=100,
            key=_key("max_ack_pending"),
            disabled=not acked,
        )
        st.text_input(
            "Redelivery delays (empty: the ack wait each time)",
            key=_key("backoff"),
            placeholder="10s, 1m, 5m",
            help="The wait before the 1st, 2nd, … redelivery; the last one repeats.",
        )
        st.caption(
            "Where it starts, its acknowledgement and replay policies and whether it is "
            "push or pull are fixed once created: JetStream refuses to change them."
        )
        st.form_submit_button(
            "Save changes",
            key="sd_cedit_save",
            type="primary",
            on_click=_save,
            args=(cluster_id, stream, consumer.name, consumer.config),
        )
    session.show_flash(AREA)


def _save(cluster_id: str, stream: str, name: str, config: dict[str, Any]) -> None:
    state = st.session_state
    changes, problems = forms.check_consumer_edit(
        config, **{field: state.get(_key(field)) for field in FIELDS}
    )
    if changes is None:
        session.flash_many(AREA, "error", problems)
        return
    if not changes:
        session.flash(AREA, "info", "Nothing changed: there is nothing to save.")
        return

    def act() -> str:
        after = session.client().update_consumer(cluster_id, stream, name, changes)
        if isinstance(after, RequestSubmitted):
            return submitted_sentence(after)
        fields = sorted({"filter_subject" if k == "filter_subjects" else k for k in changes})
        return f"Consumer {name} updated: {', '.join(fields)}."

    session.in_callback(AREA, act, success_area="consumers")
