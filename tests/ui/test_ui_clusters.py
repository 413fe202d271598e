"""Clusters: the list with each one's health, the add form (checked before sending), removal."""

from __future__ import annotations

from .conftest import remove_cluster, texts, unique


def open_clusters(at):
    at.switch_page("screens/clusters.py").run()
    assert not at.exception, texts(at.exception)
    assert texts(at.title) == ["Clusters"]
    return at


def fill_form(at, *, name: str, urls: str, domain: str = "") -> None:
    at.text_input(key="cluster_name").input(name)
    at.text_area(key="cluster_server_urls").input(urls)
    at.text_input(key="cluster_domain").input(domain)


def test_add_a_cluster_through_the_form(ui_logged_in, ui_admin, stack):
    at = open_clusters(ui_logged_in)
    name = unique("ui-added")
    fill_form(at, name=name, urls=stack.env["JSC_HUB_URL"], domain="hub")
    at.selectbox(key="cluster_environment").select("staging")
    at.button(key="cluster_submit").click().run()
    try:
        assert not at.exception
        assert f"Cluster {name} added." in texts(at.success), texts(at.error)
        table = at.dataframe[0].value
        row = table[table["Name"] == name].iloc[0]
        assert row["Environment"] == "staging"
        assert "Healthy" in row["Health"]
        assert at.text_input(key="cluster_name").value == ""  # the form is cleared
        stored = [c for c in ui_admin.list_clusters() if c.name == name]
        assert [c.server_urls for c in stored] == [(stack.env["JSC_HUB_URL"],)]
    finally:
        for cluster in [c for c in ui_admin.list_clusters() if c.name == name]:
            remove_cluster(ui_admin, cluster)


def test_an_invalid_server_url_is_refused_before_sending(ui_logged_in, ui_admin):
    at = open_clusters(ui_logged_in)
    name = unique("ui-refused")
    fill_form(at, name=name, urls="http://127.0.0.1:4222")
    at.button(key="cluster_submit").click().run()
    assert not at.exception
    assert texts(at.error) == [
        'The server URL "http://127.0.0.1:4222" must start with nats:// or tls://.'
    ]
    assert not at.success
    assert at.text_input(key="cluster_name").value == name  # kept, to be corrected
    assert name not in [c.name for c in ui_admin.list_clusters()]

    fill_form(at, name=name, urls="")
    at.button(key="cluster_submit").click().run()
    assert texts(at.error) == ["Give at least one server URL, for example nats://127.0.0.1:4222."]
    assert name not in [c.name for c in ui_admin.list_clusters()]


def test_each_cluster_shows_its_health(ui_logged_in, ui_hub, ui_admin):
    at = open_clusters(ui_logged_in)
    table = at.dataframe[0].value
    row = table[table["Name"] == ui_hub.name].iloc[0]
    health = ui_admin.cluster_health(ui_hub.id)
    assert health.status == "healthy"
    assert "Healthy" in row["Health"]
    assert row["RTT"].endswith("ms")


def test_remove_a_cluster_after_confirming(ui_logged_in, ui_admin, stack):
    doomed = ui_admin.create_cluster(
        {
            "name": unique("ui-doomed"),
            "environment": "development",
            "server_urls": [stack.env["JSC_HUB_URL"]],
        }
    )
    try:
        at = open_clusters(ui_logged_in)
        at.selectbox(key="clusters_selected").select(doomed.id)
        at.button(key="clusters_delete").click().run()
        assert any(doomed.name in w for w in texts(at.warning))
        assert doomed.id in [c.id for c in ui_admin.list_clusters()]  # nothing removed yet

        at.button(key="clusters_cancel_delete").click().run()
        assert not at.warning
        assert doomed.id in [c.id for c in ui_admin.list_clusters()]

        at.button(key="clusters_delete").click().run()
        at.button(key="clusters_confirm_delete").click().run()
        assert not at.exception
        assert f"Cluster {doomed.name} removed." in texts(at.success)
        assert doomed.id not in [c.id for c in ui_admin.list_clusters()]
        names = list(at.dataframe[0].value["Name"]) if at.dataframe else []
        assert doomed.name not in names
    finally:
        remove_cluster(ui_admin, doomed)
