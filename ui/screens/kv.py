"""KV stores of a cluster: the buckets (create, delete), the keys of one (filtered, paged), a key's
value and history, putting and deleting a key."""

from __future__ import annotations

import json

import streamlit as st

from ui import fmt, forms, session, widgets
from ui.approval_widgets import submitted_sentence
from ui.client import Cluster, KvBucket, KvEntry, RequestSubmitted

BUCKET_DEFAULTS: dict[str, object] = {
    "kv_new_bucket": "", "kv_new_history": 1, "kv_new_ttl": "", "kv_new_max_value_size": "",
    "kv_new_replicas": 1, "kv_new_storage": "file", "kv_new_description": "",
}
PUT_DEFAULTS: dict[str, object] = {"kv_put_key": "", "kv_put_value": "", "kv_put_json": False}
PENDING_DELETE_BUCKET = "kv_pending_delete_bucket"
PENDING_DELETE_KEY = "kv_pending_delete_key"
KEYS_LIMIT = 10_000
PAGE_SIZE = 50


def main() -> None:
    api = session.client()
    st.title("KV stores")
    cluster = widgets.chosen_cluster_or_none(api, key="kv_cluster")
    if cluster is None:
        return
    session.show_flash("kv")
    buckets = session.call(api.list_kv_buckets, cluster.id)
    if buckets is None:
        return
    if buckets:
        show_buckets(buckets)
        bucket = pick_bucket(cluster, buckets)
        show_keys(cluster, bucket)
    else:
        st.info(f"The cluster {cluster.name} has no KV bucket yet.")
    st.subheader("Create a bucket")
    show_bucket_form(cluster)


def show_buckets(buckets: list[KvBucket]) -> None:
    st.dataframe([{
        "Bucket": b.bucket, "Keys": b.keys, "Values": b.values, "Size": fmt.size(b.bytes),
        "History": b.history, "TTL": fmt.duration_ns(b.ttl),
        "Max value size": fmt.size(b.max_value_size), "Storage": b.storage,
        "Replicas": b.replicas, "Description": b.description,
    } for b in widgets.page_of(buckets, "kv_buckets_page", PAGE_SIZE, "buckets")],
        hide_index=True)


def pick_bucket(cluster: Cluster, buckets: list[KvBucket]) -> KvBucket:
    by_name = {b.bucket: b for b in buckets}
    if st.session_state.get("kv_bucket") not in by_name:
        st.session_state["kv_bucket"] = buckets[0].bucket
    pick, delete = st.columns([5, 1], vertical_alignment="bottom")
    name = pick.selectbox("Bucket", list(by_name), key="kv_bucket")
    bucket = by_name[name]
    delete.button("Delete bucket…", key="kv_delete_bucket", width="stretch",
                  on_click=lambda: widgets.ask(PENDING_DELETE_BUCKET,
                                               (cluster.id, st.session_state.kv_bucket)))
    widgets.confirm(PENDING_DELETE_BUCKET, (cluster.id, name),
                    f"Delete the bucket **{name}** and its {bucket.keys:,} key(s)? Every value "
                    "and its history is lost for good.", "Yes, delete it", _delete_bucket,
                    args=(cluster, name))
    return bucket


def _delete_bucket(cluster: Cluster, name: str) -> None:
    def act() -> str:
        sent = session.client().delete_kv_bucket(cluster.id, name)
        if sent is not None:
            return submitted_sentence(sent)
        st.session_state.pop("kv_bucket", None)
        return f"Bucket {name} deleted from {cluster.name}."

    session.in_callback("kv", act)


# --------------------------------------------------------------------------- keys


def show_keys(cluster: Cluster, bucket: KvBucket) -> None:
    api = session.client()
    st.subheader(f"Keys of {bucket.bucket}")
    session.show_flash("kv_keys")
    key_filter = st.text_input("Key filter", key="kv_filter", placeholder="every key, or orders.*",
                               help="Parts separated by dots; * stands for one part, > (last) "
                                    "for the rest.").strip()
    keys = session.call(lambda: api.kv_keys(cluster.id, bucket.bucket, key_filter or None,
                                            KEYS_LIMIT))
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
    delete.button("Delete key…", key="kv_delete_key", width="stretch",
                  on_click=lambda: widgets.ask(PENDING_DELETE_KEY, (
                      cluster.id, bucket.bucket, st.session_state.kv_key)))
    widgets.confirm(PENDING_DELETE_KEY, (cluster.id, bucket.bucket, key),
                    f"Delete the key **{key}**? Its history is kept (up to {bucket.history} "
                    "value(s)); reading it answers “not found” until it is put again.",
                    "Yes, delete it", _delete_key, args=(cluster.id, bucket.bucket, key))
    entry = session.call(api.kv_get, cluster.id, bucket.bucket, key)
    if entry is None:
        return
    with st.container(border=True):
        st.markdown(f"**{entry.key}** · revision {entry.revision:,} · "
                    f"{fmt.when(entry.created, millis=True)} · {fmt.size(entry.size)}")
        show_value(entry)
    history = session.call(api.kv_history, cluster.id, bucket.bucket, key)
    if history:
        st.markdown(f"History (the bucket keeps {bucket.history} value(s) per key)")
        st.dataframe([{"Revision": e.revision, "Operation": e.operation,
                       "Time": fmt.when(e.created, millis=True), "Size": fmt.size(e.size),
                       "Value": _preview(e)} for e in reversed(history)], hide_index=True)


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
    return text if len(text) <= width else text[:width - 1] + "…"


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
            st.form_submit_button("Put", key="kv_put_submit", type="primary", on_click=_put,
                                  args=(cluster.id, bucket.bucket))
        session.show_flash("kv_put")


def _put(cluster_id: str, bucket: str) -> None:
    state = st.session_state
    checked, problems = forms.check_kv_value(key=state.kv_put_key, value=state.kv_put_value,
                                            as_json=state.kv_put_json)
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


# --------------------------------------------------------------------------- new bucket


def show_bucket_form(cluster: Cluster) -> None:
    for key, value in BUCKET_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    with st.form("kv_create_bucket"):
        left, right = st.columns(2)
        left.text_input("Name", key="kv_new_bucket", placeholder="config",
                        help="Letters, digits, - and _.")
        right.text_input("Description", key="kv_new_description")
        cols = st.columns(5)
        cols[0].number_input("History (values per key)", min_value=1, max_value=64, step=1,
                             key="kv_new_history")
        cols[1].text_input("Time to live", key="kv_new_ttl", placeholder="none, or 24h")
        cols[2].text_input("Max value size", key="kv_new_max_value_size",
                           placeholder="no limit, or 1MiB")
        cols[3].number_input("Replicas", min_value=1, max_value=5, step=1, key="kv_new_replicas")
        cols[4].selectbox("Storage", forms.STORAGE_TYPES, key="kv_new_storage")
        st.form_submit_button("Create bucket", key="kv_new_submit", type="primary",
                              on_click=_create_bucket, args=(cluster,))
    session.show_flash("kv_form")


def _create_bucket(cluster: Cluster) -> None:
    state = st.session_state
    spec, problems = forms.check_kv_bucket_form(
        bucket=state.kv_new_bucket, history=state.kv_new_history, ttl=state.kv_new_ttl,
        max_value_size=state.kv_new_max_value_size, replicas=state.kv_new_replicas,
        storage=state.kv_new_storage, description=state.kv_new_description)
    if spec is None:
        session.flash_many("kv_form", "error", problems)
        return

    def act() -> str:
        created = session.client().create_kv_bucket(cluster.id, spec)
        state.update(BUCKET_DEFAULTS)
        if isinstance(created, RequestSubmitted):
            return submitted_sentence(created)
        state["kv_bucket"] = created.bucket
        return f"Bucket {created.bucket} created on {cluster.name}."

    session.in_callback("kv_form", act, success_area="kv")


session.run_page(main)
