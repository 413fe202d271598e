"""Parts of the Replication page (``ui/screens/replication.py``), the source design's section 11
and the mirror wizard of section 3.3: ``topology.py`` (the picture and the Replication Status
table, with Pause / Resume / Remove of a console mirror), ``pairs.py`` (DR pairs with their
objectives, the data at risk now, the last drill, and the failover controls), ``mirror_wizard.py``,
``pair_form.py`` and ``live.py`` (an operation started here, followed step by step).

The page's state keys live here so that the parts can send a person from one tab to another."""

from __future__ import annotations

TAB_KEY = "repl_tab"
TOPOLOGY, PAIRS, NEW_MIRROR, NEW_PAIR = (
    "Topology",
    "DR pairs & failover",
    "New mirror",
    "New DR pair",
)
TABS = (TOPOLOGY, PAIRS, NEW_MIRROR, NEW_PAIR)
AREA = "replication"  # where the page shows what an action did
