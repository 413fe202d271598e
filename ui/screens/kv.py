"""KV stores of a cluster: the buckets (create, delete: ``ui.bucket_page``), the keys of one
(filtered, paged), a key's value and history, putting and deleting a key."""

from __future__ import annotations

import json

import streamlit as st

from ui import fmt, forms, session, widgets
from ui.bucket_page import BucketPage, SizeInput, show_page
from ui.client import ApiClient, Cluster, KvBucket, KvBucketSpec, KvEntry

BUCKET_DEFAULTS: dict[str, object] = {
    "kv_new_bucket": "",
    "kv_new_history": 1,
    "kv_new_ttl": "",
    "kv_new_max_value_size": "",
    "kv_new_replicas": 1,
    "kv_new_storage": "file",
    "kv_new_description": "",
}
PUT_DEFAULTS: dict[str, object] = {"kv_put_key": "", "kv_put_value": "", "kv_put_json": False}
PENDING_DELETE_KEY = "kv_pending_delete_key"
KEYS_LIMIT = 10_000
PAGE_SIZE = 50


# --------------------------------------------------------------------------- keys


def show_keys(cluster: Cluster, bucket: KvBucket) -> None:
    api = session.client()
    st.subheader(f"Keys of {bucket.bucket}")
    session.show_flash("kv_keys")
    key_filter = st.text_input(
        "Key filter",
        key="kv_filter",
        placeholder="every key, or orders.*",
        help="Parts separated by dots; * stands for one part, > (last) for the rest.",
    ).strip()
    keys = session.call(
        lambda: api.kv_keys(cluster.id, bucket.bucket, key_filter or None, KEYS_LIMIT)
    )
    if keys is not None:
        if keys.items:
            shown = widgets.page_of(keys.items, "kv_keys_page", PAGE_SIZE, "keys")
            st.dataframe([{"Key": k} for k in shown], hide_index=True)
            if keys.truncated:
                st.caption(f"Only the first {KEYS_LIMIT:,} keys are listed: narrow the filter.")
            show_entry(cluster, bucket, keys.items)
        else:
            st.info("No key matches." if key_filter else f"{bucket.bucket} holds no key yet.")
    show_put_form(cluster, bucket)


def show_entry(cluster: Cluster, bucket: KvBucket, keys: list[str]) -> None:
    api = session.client()
    if st.session_state.get("kv_key") not in keys:
        st.session_state["kv_key"] = keys[0]
    pick, delete = st.columns([5, 1], vertical_alignment="bottom")
    key = pick.selectbox("Key", keys, key="kv_key")
    delete.button(
        "Delete key…",
        key="kv_delete_key",
        width="stretch",
        on_click=lambda: widgets.ask(
            PENDING_DELETE_KEY, (cluster.id, bucket.bucket, st.session_state.kv_key)
        ),
    )
    widgets.confirm(
        PENDING_DELETE_KEY,
        (cluster.id, bucket.bucket, key),
        f"Delete the key **{key}**? Its history is kept (up to {bucket.history} "
        "value(s)); reading it answers “not found” until it is put again.",
        "Yes, delete it",
        _delete_key,
        args=(cluster.id, bucket.bucket, key),
    )
    entry = session.call(api.kv_get, cluster.id, bucket.bucket, key)
    if entry is None:
        return
    with st.container(border=True):
        st.markdown(
            f"**{entry.key}** · revision {entry.revision:,} · "
            f"{fmt.when(entry.created, millis=True)} · {fmt.size(entry.size)}"
        )
        show_value(entry)
    history = session.call(api.kv_history, cluster.id, bucket.bucket, key)
    if history:
        st.markdown(f"History (the bucket keeps {bucket.history} value(s) per key)")
        st.dataframe(
            [
                {
                    "Revision": e.revision,
                    "Operation": e.operation,
                    "Time": fmt.when(e.created, millis=True),
                    "Size": fmt.size(e.size),
                    "Value": _preview(e),
                }
                for e in reversed(history)
            ],
            hide_index=True,
        )


def show_value(entry: KvEntry) -> None:
    if entry.encoding == "json":
        st.json(entry.value)
    elif entry.encoding == "base64":
        st.caption("Not text: shown as base64.")
        st.code(str(entry.value), language=None)
    else:
        st.code(str(entry.value) or "(empty)", language=None)
    if entry.truncated:
        st.caption(f"Only the beginning is shown: the value is {fmt.size(entry.size)}.")


def _preview(entry: KvEntry, width: int = 60) -> str:
    if entry.operation != "PUT":
        return ""
    if entry.encoding == "base64":
        return f"(binary, {fmt.size(entry.size)})"
    text = json.dumps(entry.value) if entry.encoding == "json" else str(entry.value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _delete_key(cluster_id: str, bucket: str, key: str) -> None:
    def act() -> str:
        session.client().kv_delete(cluster_id, bucket, key)
        return f"Key {key} deleted from {bucket}."

    session.in_callback("kv_keys", act)


def show_put_form(cluster: Cluster, bucket: KvBucket) -> None:
    for key, value in PUT_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    with st.expander("Put a value", expanded=bucket.keys == 0):
        with st.form("kv_put"):
            st.text_input("Key", key="kv_put_key", placeholder="config.feature-x")
            st.text_area("Value", key="kv_put_value", height=100)
            st.checkbox("The value is JSON (checked, and stored compact)", key="kv_put_json")
            st.form_submit_button(
                "Put",
                key="kv_put_submit",
                type="primary",
                on_click=_put,
                args=(cluster.id, bucket.bucket),
            )
        session.show_flash("kv_put")


def _put(cluster_id: str, bucket: str) -> None:
    state = st.session_state
    checked, problems = forms.check_kv_value(
        key=state.kv_put_key, value=state.kv_put_value, as_json=state.kv_put_json
    )
    if checked is None:
        session.flash_many("kv_put", "error", problems)
        return
    key, value = checked

    def act() -> str:
        revision = session.client().kv_put(cluster_id, bucket, key, value)
        state.update(PUT_DEFAULTS)
        state["kv_key"] = key
        return f"Stored {key} in {bucket} (revision {revision:,})."

    session.in_callback("kv_put", act)


# --------------------------------------------------------------------------- the page


def _history_input(cols: list) -> None:
    cols[0].number_input(
        "History (values per key)", min_value=1, max_value=64, step=1, key="kv_new_history"
    )


def _checked(state) -> tuple[KvBucketSpec | None, list[str]]:
    return forms.check_kv_bucket_form(
        bucket=state.kv_new_bucket,
        history=state.kv_new_history,
        ttl=state.kv_new_ttl,
        max_value_size=state.kv_new_max_value_size,
        replicas=state.kv_new_replicas,
        storage=state.kv_new_storage,
        description=state.kv_new_description,
    )


PAGE: BucketPage[KvBucket] = BucketPage(
    title="KV stores",
    area="kv",
    key="kv",
    thing="bucket",
    label="Bucket",
    none_yet="KV bucket",
    create_heading="Create a bucket",
    create_button="Create bucket",
    name_placeholder="config",
    ttl_placeholder="none, or 24h",
    size=SizeInput("Max value size", "max_value_size", "no limit, or 1MiB"),
    defaults=BUCKET_DEFAULTS,
    list_buckets=ApiClient.list_kv_buckets,
    create=ApiClient.create_kv_bucket,
    delete=ApiClient.delete_kv_bucket,
    row=lambda b: {
        "Bucket": b.bucket,
        "Keys": b.keys,
        "Values": b.values,
        "Size": fmt.size(b.bytes),
        "History": b.history,
        "TTL": fmt.duration_ns(b.ttl),
        "Max value size": fmt.size(b.max_value_size),
        "Storage": b.storage,
        "Replicas": b.replicas,
        "Description": b.description,
    },
    delete_question=lambda b: (
        f"Delete the bucket **{b.bucket}** and its {b.keys:,} key(s)? "
        "Every value and its history is lost for good."
    ),
    checked=_checked,
    own_inputs=1,
    limits=_history_input,
)


def main() -> None:
    show_page(PAGE, show_keys)


session.run_page(main)
