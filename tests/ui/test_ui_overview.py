"""Overview: the clusters with their health, stream counts and the totals."""

from __future__ import annotations

from .conftest import remove_stream, texts, unique


def test_overview_shows_each_cluster_with_health_and_streams(ui_logged_in, ui_admin, ui_hub):
    name = unique("UI_OVERVIEW").replace("-", "_")
    ui_admin.create_stream(
        ui_hub.id, {"name": name, "subjects": [f"{name}.>"], "storage": "memory"}
    )
    try:
        at = ui_logged_in.run()  # refresh after the stream was created
        assert not at.exception
        assert texts(at.title) == ["Overview"]
        metrics = {m.label: m.value for m in at.metric}
        assert set(metrics) >= {"Clusters", "Healthy", "Streams", "Consumers", "Messages"}
        assert int(metrics["Clusters"]) >= 1
        assert int(metrics["Streams"]) >= 1

        table = at.dataframe[0].value
        row = table[table["Cluster"] == ui_hub.name].iloc[0]
        assert "Healthy" in row["Health"]
        expected = len(ui_admin.list_streams(ui_hub.id))
        assert row["Streams"] == expected >= 1
    finally:
        remove_stream(ui_admin, ui_hub, name)
