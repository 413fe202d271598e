"""Replication and disaster recovery (the source design's section 11, with the mirror wizard of
section 3.3). **Topology**: the clusters as a picture with every mirror and source as an edge
coloured by its lag, and the "Replication Status" table (lag in messages and seconds, rate,
status, when measured; Pause / Resume / Remove of the console's mirrors). **DR pairs & failover**:
each pair's objectives, whether its RPO holds now, the data a failover would lose now, the last
drill, and "Failover to …", "Pause Replication", "Test Failover". **New mirror** and **New DR
pair** for those whose role may create them.

Buttons are drawn only for what the person's role allows (the API decides anyway); a viewer sees
everything and changes nothing.
"""

from __future__ import annotations

import streamlit as st

from ui import session
from ui.client import ApiError, DrPair, Mirror, ReplicationMap
from ui.replication_tabs import AREA, NEW_MIRROR, NEW_PAIR, PAIRS, TAB_KEY, TABS, TOPOLOGY, live
from ui.replication_tabs.mirror_wizard import show_wizard
from ui.replication_tabs.pair_form import show_pair_form
from ui.replication_tabs.pairs import show_pairs
from ui.replication_tabs.topology import show_topology


def main() -> None:
    live.switch_if_asked()
    api = session.client()
    person = session.me()
    st.title("Replication & DR")
    session.show_flash(AREA)
    can_create = bool(person and person.can("replication:create"))
    tabs = TABS if can_create else (TOPOLOGY, PAIRS)
    if st.session_state.get(TAB_KEY) not in tabs:
        st.session_state[TAB_KEY] = TOPOLOGY
    shown = dict(zip(tabs, st.tabs(tabs, key=TAB_KEY, on_change="rerun"), strict=False))
    if shown[TOPOLOGY].open:
        with shown[TOPOLOGY]:
            rmap, _, mirrors = _load(with_pairs=False)
            show_topology(rmap, mirrors, person)
    if shown[PAIRS].open:
        with shown[PAIRS]:
            rmap, pairs, mirrors = _load(with_pairs=True)
            show_pairs(pairs, rmap, mirrors, person)
    for name, show in ((NEW_MIRROR, show_wizard), (NEW_PAIR, show_pair_form)):
        if name in shown and shown[name].open:
            with shown[name]:
                clusters = session.call(api.list_clusters)
                if clusters is not None:
                    show(clusters)


def _load(
    with_pairs: bool,
) -> tuple[ReplicationMap | None, list[DrPair] | None, list[Mirror] | None]:
    """The map, the pairs and the console's mirrors, fetched together; a part that failed is
    None, with its reason on the page (the rest still shows)."""
    api = session.client()
    calls = [api.replication_map, api.list_mirrors] + ([api.list_dr_pairs] if with_pairs else [])
    found = session.fetch_all(lambda fn: fn(), calls)
    for result in found:
        if isinstance(result, ApiError):
            session.show_error(result)
    rmap, mirrors = (None if isinstance(r, ApiError) else r for r in found[:2])
    pairs = None
    if with_pairs:
        pairs = None if isinstance(found[2], ApiError) else found[2]
    return rmap, pairs, mirrors


session.run_page(main)
