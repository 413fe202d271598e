"""The stream page's Metrics tab: throughput and a consumer's lag drawn from the metrics history
(the stack's collector samples the admin organization's clusters every 2 s)."""

from __future__ import annotations

from tests.waiting import wait_until

from .conftest import make_stream, remove_stream, texts, unique
from .test_ui_stream_detail import open_stream


def test_the_metrics_tab_charts_throughput_and_lag(ui_logged_in, ui_admin, ui_hub, stack):
    name = unique("UI_METRICS").replace("-", "_").upper()
    make_stream(stack, name, 30)
    ui_admin.create_consumer(ui_hub.id, name, {"durable_name": "reader", "ack_policy": "explicit"})
    try:

        def sampled():
            lag = ui_admin.consumer_lag(ui_hub.id, name, "reader", "15m")
            return lag["lag"] and lag["lag"][-1]["value"] == 30

        wait_until(sampled, "the consumer's samples in the history", 120)
        at = open_stream(ui_logged_in, ui_hub, name, "Metrics")
        assert not at.exception, texts(at.exception)
        charts = [e for e in _elements(at.main) if e.type == "vega_lite_chart"]
        assert len(charts) == 3  # throughput; the consumer's lag and its acks
        assert "Consumer reader" in " ".join(texts(at.markdown))
    finally:
        remove_stream(ui_admin, ui_hub, name)


def _elements(node) -> list:
    found = []
    for child in (
        node.children.values() if isinstance(getattr(node, "children", None), dict) else []
    ):
        found += [child, *_elements(child)]
    return found
