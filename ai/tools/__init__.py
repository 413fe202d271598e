"""The assistant's tools: read-only views of the console (``reads``, ``activity``), the
deterministic diagnosis and the proposal of a change (``actions``). Every one calls the console's
own API as the caller (``base.get``/``base.post``), so it can do no more than the person can."""

from __future__ import annotations

from ai.tools import actions, activity, reads
from ai.tools.base import Tool


def all_tools() -> dict[str, Tool]:
    return {t.name: t for t in (*reads.tools(), *activity.tools(), *actions.tools())}
