"""What the KV and object-store pages share: a cluster's buckets as a paged table, the picker of
one with its "Delete …" button (confirmed, and perhaps sent for approval), the page's frame around
that bucket's contents, and the create form (name, description, the kind's own limits, time to
live, a size limit, replicas, storage).

A page describes its kind with a ``BucketPage``; its widget keys all start with ``BucketPage.key``
and name the ``thing`` ("kv_bucket", "kv_delete_bucket", "obj_store", "obj_delete_store", ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import streamlit as st

from ui import forms, session, widgets
from ui.approval_widgets import submitted_sentence
from ui.client import ApiClient, Cluster, RequestSubmitted

PAGE_SIZE = 50


class Bucket(Protocol):
    @property
    def bucket(self) -> str: ...


B = TypeVar("B", bound=Bucket)


@dataclass(frozen=True)
class SizeInput:
    """The kind's size limit in the create form."""

    label: str  # "Max value size"
    field: str  # "max_value_size": the state key is "<key>_new_<field>"
    placeholder: str  # "no limit, or 1MiB"


@dataclass(frozen=True)
class BucketPage(Generic[B]):
    """One kind of bucket, as its page shows it."""

    title: str  # "KV stores"
    area: str  # flash area of the page: "kv"
    key: str  # widget key prefix: "kv"
    thing: str  # in widget keys and buttons: "bucket" ("kv_bucket", "Delete bucket…")
    label: str  # in the picker and sentences: "Bucket" ("Bucket x deleted from y.")
    none_yet: str  # "KV bucket": "The cluster c has no KV bucket yet."
    create_heading: str  # "Create a bucket"
    create_button: str  # "Create bucket"
    name_placeholder: str
    ttl_placeholder: str
    size: SizeInput
    defaults: Mapping[str, object]  # the create form's state keys and their values
    list_buckets: Callable[[ApiClient, str], list[B]]
    create: Callable[[ApiClient, str, Any], B | RequestSubmitted]
    delete: Callable[[ApiClient, str, str], RequestSubmitted | None]
    row: Callable[[B], dict[str, object]]  # a bucket's row in the table
    delete_question: Callable[[B], str]
    checked: Callable[[Mapping[str, Any]], tuple[Any, list[str]]]  # the form's spec, problems
    own_inputs: int = 0  # how many inputs of its own the kind draws first in the form's row
    limits: Callable[[list[Any]], None] | None = None  # draws them, one per column given

    def k(self, suffix: str) -> str:
        return f"{self.key}_{suffix}"


def show_page(page: BucketPage[B], contents: Callable[[Cluster, B], None]) -> None:
    """The whole page: cluster picker, buckets, the picked one's ``contents``, the create form."""
    api = session.client()
    st.title(page.title)
    cluster = widgets.chosen_cluster_or_none(api, key=page.k("cluster"))
    if cluster is None:
        return
    session.show_flash(page.area)
    buckets = session.call(page.list_buckets, api, cluster.id)
    if buckets is None:
        return
    if buckets:
        st.dataframe(
            [
                page.row(b)
                for b in widgets.page_of(
                    buckets, page.k(f"{page.thing}s_page"), PAGE_SIZE, f"{page.thing}s"
                )
            ],
            hide_index=True,
        )
        contents(cluster, pick_bucket(page, cluster, buckets))
    else:
        st.info(f"The cluster {cluster.name} has no {page.none_yet} yet.")
    st.subheader(page.create_heading)
    show_create_form(page, cluster)


def pick_bucket(page: BucketPage[B], cluster: Cluster, buckets: list[B]) -> B:
    selected, pending = page.k(page.thing), page.k(f"pending_delete_{page.thing}")
    by_name = {b.bucket: b for b in buckets}
    if st.session_state.get(selected) not in by_name:
        st.session_state[selected] = buckets[0].bucket
    pick, delete = st.columns([5, 1], vertical_alignment="bottom")
    name = pick.selectbox(page.label, list(by_name), key=selected)
    delete.button(
        f"Delete {page.thing}…",
        key=page.k(f"delete_{page.thing}"),
        width="stretch",
        on_click=lambda: widgets.ask(pending, (cluster.id, st.session_state[selected])),
    )
    widgets.confirm(
        pending,
        (cluster.id, name),
        page.delete_question(by_name[name]),
        "Yes, delete it",
        _delete,
        args=(page, cluster, name),
    )
    return by_name[name]


def _delete(page: BucketPage[B], cluster: Cluster, name: str) -> None:
    def act() -> str:
        sent = page.delete(session.client(), cluster.id, name)
        if sent is not None:
            return submitted_sentence(sent)
        st.session_state.pop(page.k(page.thing), None)
        return f"{page.label} {name} deleted from {cluster.name}."

    session.in_callback(page.area, act)


def show_create_form(page: BucketPage[B], cluster: Cluster) -> None:
    for key, value in page.defaults.items():
        st.session_state.setdefault(key, value)
    with st.form(page.k(f"create_{page.thing}")):
        left, right = st.columns(2)
        left.text_input(
            "Name",
            key=page.k("new_bucket"),
            placeholder=page.name_placeholder,
            help="Letters, digits, - and _.",
        )
        right.text_input("Description", key=page.k("new_description"))
        own = page.own_inputs
        cols = st.columns(own + 4)
        if page.limits is not None:
            page.limits(cols[:own])
        cols[own].text_input(
            "Time to live", key=page.k("new_ttl"), placeholder=page.ttl_placeholder
        )
        cols[own + 1].text_input(
            page.size.label, key=page.k(f"new_{page.size.field}"), placeholder=page.size.placeholder
        )
        cols[own + 2].number_input(
            "Replicas", min_value=1, max_value=5, step=1, key=page.k("new_replicas")
        )
        cols[own + 3].selectbox("Storage", forms.STORAGE_TYPES, key=page.k("new_storage"))
        st.form_submit_button(
            page.create_button,
            key=page.k("new_submit"),
            type="primary",
            on_click=_create,
            args=(page, cluster),
        )
    session.show_flash(page.k("form"))


def _create(page: BucketPage[B], cluster: Cluster) -> None:
    state = st.session_state
    spec, problems = page.checked(state)
    if spec is None:
        session.flash_many(page.k("form"), "error", problems)
        return

    def act() -> str:
        created = page.create(session.client(), cluster.id, spec)
        state.update(page.defaults)
        if isinstance(created, RequestSubmitted):
            return submitted_sentence(created)
        state[page.k(page.thing)] = created.bucket
        return f"{page.label} {created.bucket} created on {cluster.name}."

    session.in_callback(page.k("form"), act, success_area=page.area)
