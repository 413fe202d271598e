""" "Describe what you need" (source design §6.4): a sentence becomes a stream (and consumer)
configuration, validated by the API's own models and compared with the stream of that name on the
chosen cluster. The assistant creates nothing: "Create" sends the configuration through the same
create calls as the Streams page (so policy, quotas and approval apply as to anyone's)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from ui import approval_text as text
from ui import session, widgets
from ui.approval_widgets import md, submitted_sentence
from ui.client import RequestSubmitted

AREA = "ai_describe"
TEXT_KEY = "ai_cfg_text"
DRAFT_KEY = "ai_cfg_draft"  # {"result": configure's answer, "cluster_id": ..., "cluster": name}
EXAMPLE = (
    "A stream for order events from the web shop, kept 7 days, highly available, and a "
    "consumer that processes each order once with retries."
)


def show_describe() -> None:
    api = session.client()
    st.caption(
        "Say what the stream is for; the assistant drafts its configuration in "
        "JetStream's own fields. Nothing is created until you click Create, which goes "
        "through the normal path (policies, quotas and approvals apply)."
    )
    cluster = widgets.chosen_cluster_or_none(api, key="ai_cfg_cluster")
    st.text_area("What do you need?", key=TEXT_KEY, height=100, placeholder=EXAMPLE)
    st.button(
        "Draft the configuration",
        key="ai_cfg_submit",
        type="primary",
        icon=":material/auto_awesome:",
        on_click=_draft,
        args=(cluster.id if cluster else None, cluster.name if cluster else ""),
    )
    session.show_flash(AREA)
    draft = st.session_state.get(DRAFT_KEY)
    if draft:
        show_draft(draft)


def _draft(cluster_id: str | None, cluster_name: str) -> None:
    description = str(st.session_state.get(TEXT_KEY) or "").strip()
    if not description:
        session.flash(AREA, "error", "Describe what you need first.")
        return
    st.session_state.pop(DRAFT_KEY, None)

    def act() -> str:
        result = session.client().configure(description, cluster_id)
        st.session_state[DRAFT_KEY] = {
            "result": result,
            "cluster_id": cluster_id,
            "cluster": cluster_name,
        }
        config = (result.get("stream") or {}).get("config")
        name = config.get("name") if isinstance(config, dict) else None
        return f"Drafted a configuration{f' for {name}' if name else ''}: check it below."

    session.in_callback(AREA, act)


def show_draft(draft: Mapping[str, Any]) -> None:
    result, cluster = draft["result"], draft.get("cluster") or ""
    stream, consumer = result.get("stream") or {}, result.get("consumer")
    name = (
        (stream.get("config") or {}).get("name") if isinstance(stream.get("config"), dict) else None
    )
    if result.get("explanation"):
        st.markdown("\n".join(f"- {md(str(line))}" for line in result["explanation"]))
    left, right = st.columns(2)
    with left:
        st.subheader(f"Stream {name or ''}".strip())
        show_part(stream, "stream")
    with right:
        st.subheader("Consumer")
        if consumer:
            show_part(consumer, "consumer")
        else:
            st.caption("No consumer was asked for.")
    if result.get("exists"):
        st.warning(
            f"A stream named {name} already exists on {cluster}: here is what would "
            "change. Change it from its page (Configuration), where the change goes "
            "through the usual checks."
        )
        rows = drafted_changes(result.get("diff") or {})
        if rows:
            st.dataframe(rows, hide_index=True, key="ai_cfg_diff")
        else:
            st.caption("It already has every value the draft sets.")
        return
    if not draft.get("cluster_id"):
        st.info("Choose a cluster to create it on.")
        return
    st.button(
        f"Create on {cluster}",
        key="ai_cfg_create",
        type="primary",
        disabled=not stream.get("valid"),
        icon=":material/add:",
        on_click=_create,
        args=(draft,),
        help=None if stream.get("valid") else "Fix the errors first: draft again.",
    )


def drafted_changes(diff: Mapping[str, Any]) -> list[dict[str, str]]:
    """The fields the draft sets to another value than the stream has (a field the draft leaves
    out is not a change: the API's diff lists it as going to nothing)."""
    return [
        {
            "Field": field,
            "Now": text.value_text(change.get("before")),
            "Drafted": text.value_text(change.get("after")),
        }
        for field, change in diff.items()
        if change.get("after") is not None
    ]


def show_part(part: Mapping[str, Any], what: str) -> None:
    if part.get("valid"):
        st.success(f"A valid {what} configuration.", icon=":material/check_circle:")
    else:
        st.error(
            f"This {what} configuration is not valid:\n\n"
            + "\n".join(
                f"- **{e.get('field')}**: {md(str(e.get('message')))}"
                for e in part.get("errors") or []
            )
        )
    st.json(part.get("config") or {}, expanded=True)


def _create(draft: Mapping[str, Any]) -> None:
    result, cluster_id = draft["result"], str(draft["cluster_id"])
    stream = result["stream"]["config"]
    consumer = result.get("consumer")

    def act() -> str:
        api = session.client()
        made = api.create_stream(cluster_id, stream)
        if isinstance(made, RequestSubmitted):
            said = submitted_sentence(made)
            if consumer:
                said += "\n\nThe consumer can be created once the stream exists."
            return said
        said = f"Stream {made.name} created on {draft.get('cluster')}."
        if consumer and consumer.get("valid"):
            added = api.create_consumer(cluster_id, made.name, consumer["config"])
            said += " " + (
                submitted_sentence(added)
                if isinstance(added, RequestSubmitted)
                else f"Consumer {added.name} created."
            )
        st.session_state.pop(DRAFT_KEY, None)
        return said

    session.in_callback(AREA, act)
