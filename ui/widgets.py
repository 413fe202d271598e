"""Small widgets several screens share: the cluster picker, a pager for long lists, and the
two-step confirmation of a destructive action. Each draws with Streamlit and keeps its state in
``st.session_state`` under the key it is given."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import streamlit as st

from ui import session
from ui.client import Cluster

T = TypeVar("T")


def pick_cluster(clusters: list[Cluster], key: str, label: str = "Cluster") -> Cluster:
    """A cluster selectbox that starts on (and remembers) the cluster last chosen on any page."""
    by_id = {c.id: c for c in clusters}
    ids = list(by_id)
    if st.session_state.get(key) not in by_id:
        chosen = session.chosen_cluster()
        st.session_state[key] = chosen if chosen in by_id else ids[0]
    cluster_id = st.selectbox(
        label, ids, key=key, format_func=lambda i: f"{by_id[i].name} ({by_id[i].environment})"
    )
    session.choose_cluster(cluster_id)
    return by_id[cluster_id]


def facts(rows: dict[str, object]) -> None:
    """Named values as a two-column table without a header row."""
    lines = ["| | |", "|---|---|"]
    lines += [f"| **{name}** | {_cell(value)} |" for name, value in rows.items()]
    st.markdown("\n".join(lines))


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def chosen_cluster_or_none(api, key: str) -> Cluster | None:
    """Loads the clusters and draws the picker; None (with the reason shown) when there is none."""
    clusters = session.call(api.list_clusters)
    if clusters is None:
        return None
    if not clusters:
        no_cluster_yet()
        return None
    return pick_cluster(clusters, key=key)


def no_cluster_yet() -> None:
    st.info("No cluster is registered yet: add one first.")
    st.page_link("screens/clusters.py", label="Add a cluster", icon=":material/add:")


# --------------------------------------------------------------------------- paging


def page_of(items: Sequence[T], key: str, size: int = 50, noun: str = "items") -> list[T]:
    """The part of ``items`` on the current page, with "previous / next" under it when needed."""
    pages = max(1, -(-len(items) // size))
    page = min(int(st.session_state.get(key, 0)), pages - 1)
    st.session_state[key] = page
    shown = list(items[page * size : (page + 1) * size])
    if pages > 1:
        prev, label, nxt = st.columns([1, 3, 1], vertical_alignment="center")
        prev.button(
            "← Previous",
            key=f"{key}_prev",
            disabled=page == 0,
            on_click=_move,
            args=(key, -1),
            width="stretch",
        )
        label.caption(
            f"{noun.capitalize()} {page * size + 1:,}–{page * size + len(shown):,} "
            f"of {len(items):,} · page {page + 1} of {pages}"
        )
        nxt.button(
            "Next →",
            key=f"{key}_next",
            disabled=page >= pages - 1,
            on_click=_move,
            args=(key, 1),
            width="stretch",
        )
    return shown


def offset_pager(key: str, size: int, shown: int, has_more: bool, noun: str = "items") -> None:
    """Newer / older buttons for an API paged by ``offset`` (kept in ``st.session_state[key]``)."""
    offset = int(st.session_state.get(key, 0))
    if offset == 0 and not has_more:
        return
    prev, label, nxt = st.columns([1, 3, 1], vertical_alignment="center")
    prev.button(
        "← Newer",
        key=f"{key}_prev",
        disabled=offset == 0,
        on_click=_shift,
        args=(key, -size),
        width="stretch",
    )
    label.caption(
        f"{noun.capitalize()} {offset + 1:,}–{offset + shown:,}"
        + (" (more older)" if has_more else "")
    )
    nxt.button(
        "Older →",
        key=f"{key}_next",
        disabled=not has_more,
        on_click=_shift,
        args=(key, size),
        width="stretch",
    )


def _move(key: str, step: int) -> None:
    st.session_state[key] = max(0, int(st.session_state.get(key, 0)) + step)


def _shift(key: str, delta: int) -> None:
    st.session_state[key] = max(0, int(st.session_state.get(key, 0)) + delta)


# --------------------------------------------------------------------------- confirmation


def confirm(
    key: str,
    target: object,
    question: str,
    yes_label: str,
    on_yes: Callable[..., None],
    args: tuple = (),
    no_label: str = "No, keep it",
) -> None:
    """When ``ask(key, target)`` was clicked for this ``target``: the question, yes and no."""
    if st.session_state.get(key) != target:
        return
    st.warning(question)
    yes, no, _ = st.columns([1, 1, 3])
    yes.button(
        yes_label, key=f"{key}_yes", type="primary", on_click=_confirmed, args=(key, on_yes, args)
    )
    no.button(no_label, key=f"{key}_no", on_click=st.session_state.pop, args=(key, None))


def ask(key: str, target: object) -> None:
    """Button callback: ask the question of ``confirm(key, target, ...)`` on the next run."""
    st.session_state[key] = target


def _confirmed(key: str, on_yes: Callable[..., None], args: tuple) -> None:
    st.session_state.pop(key, None)
    on_yes(*args)
