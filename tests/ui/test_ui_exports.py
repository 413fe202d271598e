"""A large export from the UI: the stream page's download says the export runs as an operation
(the API answered 202), and the Operations page shows that operation and, once completed, offers
its file, the same records the stream holds. The test stack's inline limit is 300 messages."""

from __future__ import annotations

import json

from tests.waiting import wait_until
from ui.client import OperationStarted
from ui.screens.operations import SELECTED
from ui.stream_tabs.messages import _exporter

from .conftest import make_stream, open_page, remove_stream, rerun_until, texts, unique

COUNT = 320  # over the test stack's JSC_EXPORT_INLINE_MAX_MESSAGES (300)


def test_a_large_export_runs_as_an_operation_whose_file_the_operations_page_offers(
    ui_logged_in, ui_admin, ui_hub, stack
):
    name = unique("UI-EXPORT").upper()
    make_stream(stack, name, COUNT)
    try:
        # The stream page's button: its file says where the export went, never a JSON body.
        told = _exporter(ui_admin, ui_hub.id, name, "jsonl", None)().decode()
        assert told.startswith(
            f"{name} is too large to export at once: the export runs as operation "
        ), told
        assert "Operations page" in told

        started = ui_admin.export_messages(ui_hub.id, name, format="jsonl")
        assert isinstance(started, OperationStarted), started
        wait_until(
            lambda: ui_admin.get_operation(started.id).status == "completed",
            "the export operation to complete",
            timeout=180,
        )

        at = ui_logged_in
        at.session_state[SELECTED] = started.id
        at = open_page(at, "operations.py", "Operations")
        at = rerun_until(
            at,
            lambda a: any(
                b.key == f"export_download_{started.id}" for b in a.get("download_button")
            ),
            what="the export's download button",
        )
        assert f"Export of {name}" in " ".join(texts(at.subheader)), texts(at.subheader)
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Records"].replace(",", "") == str(COUNT), metrics

        records = [
            json.loads(line) for line in ui_admin.download_export(started.id).decode().splitlines()
        ]
        assert [r["seq"] for r in records] == list(range(1, COUNT + 1))
        assert records[0]["subject"] == f"{name}.a" and records[1]["subject"] == f"{name}.b"
    finally:
        remove_stream(ui_admin, ui_hub, name)
