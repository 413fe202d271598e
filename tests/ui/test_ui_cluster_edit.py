"""Clusters page, the chosen cluster: its server information read live (version, server name,
cluster, JetStream domain, the account's usage against its limits) and its edit form (only what
changed is sent; credentials stay write-only: blank fields keep the stored secret). An admin edits;
the other roles read the information without the form, and the API refuses them; another
organization's admin neither sees nor changes the cluster."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from ui import forms
from ui.client import ApiClient, ApiError, Cluster

from .conftest import open_page, remove_cluster, texts, unique
from .members import member_client, member_ui


def open_cluster(at: AppTest, cluster: Cluster) -> AppTest:
    at = open_page(at, "clusters.py", "Clusters", cluster=cluster)
    assert at.selectbox(key="clusters_selected").value == cluster.id
    return at


def markdown(at: AppTest) -> str:
    return "\n".join(texts(at.markdown))


@pytest.fixture
def hub_copy(ui_admin, stack):
    """A cluster of this test's own on the hub server (it may be edited)."""
    cluster = ui_admin.create_cluster(
        {
            "name": unique("ui-edit"),
            "environment": "development",
            "server_urls": [stack.env["JSC_HUB_URL"]],
            "jetstream_domain": "hub",
        }
    )
    yield cluster
    remove_cluster(ui_admin, cluster)


def test_the_server_information_of_the_chosen_cluster(ui_logged_in, ui_admin, hub_copy):
    at = open_cluster(ui_logged_in, hub_copy)
    assert [t.label for t in at.tabs] == ["Server information", "Edit"]
    info = ui_admin.cluster_info(hub_copy.id)
    shown = markdown(at)
    assert f"| **Version** | {info.version} |" in shown
    assert f"| **Server name** | {info.server_name} |" in shown
    assert "| **JetStream domain** | hub |" in shown
    assert "| **Cluster** |" in shown
    [usage] = [d.value.set_index("Resource") for d in at.dataframe if "Resource" in d.value]
    assert list(usage.index) == ["Memory", "Storage", "Streams", "Consumers"]
    assert usage.loc["Streams", "Used"] == f"{info.streams:,}"
    assert usage.loc["Streams", "Limit"] == "unlimited"  # the stack's APP account has none
    assert any("JetStream API requests served" in c for c in texts(at.caption))


def test_edit_a_cluster_through_the_form(ui_logged_in, ui_admin, hub_copy):
    at = open_cluster(ui_logged_in, hub_copy)
    assert at.text_input(key="cluster_edit_name").value == hub_copy.name  # current values
    assert at.text_input(key="cluster_edit_domain").value == "hub"
    assert at.text_input(key="cluster_edit_password").value == ""  # secrets are never shown
    renamed = unique("ui-edited")
    at.text_input(key="cluster_edit_name").input(renamed)
    at.selectbox(key="cluster_edit_environment").select("staging")
    at.text_input(key="cluster_edit_description").input("edited from the UI")
    at.text_input(key="cluster_edit_monitoring_url").input("http://127.0.0.1:8222")
    at.button(key="cluster_edit_submit").click().run()
    assert not at.exception, texts(at.exception)
    assert f"Cluster {renamed} saved (name, environment, description, monitoring URL)." in texts(
        at.success
    ), texts(at.error)
    stored = ui_admin.cluster(hub_copy.id)
    assert (stored.name, stored.environment, stored.description, stored.monitoring_url) == (
        renamed,
        "staging",
        "edited from the UI",
        "http://127.0.0.1:8222",
    )
    assert stored.jetstream_domain == "hub" and stored.server_urls == hub_copy.server_urls
    row = at.dataframe[0].value.set_index("Name").loc[renamed]
    assert row["Environment"] == "staging"
    assert at.text_input(key="cluster_edit_name").value == renamed  # the form holds what is stored

    at.text_input(key="cluster_edit_domain").input("")  # a blank domain removes it
    at.button(key="cluster_edit_submit").click().run()
    assert f"Cluster {renamed} saved (JetStream domain)." in texts(at.success), texts(at.error)
    assert ui_admin.cluster(hub_copy.id).jetstream_domain is None

    at.button(key="cluster_edit_submit").click().run()  # nothing changed: nothing sent
    assert any(i.startswith("Nothing to save") for i in texts(at.info)), texts(at.info)


def test_blank_secret_fields_keep_the_stored_credentials(ui_logged_in, ui_admin, stack):
    cluster = ui_admin.create_cluster(
        {
            "name": unique("ui-secret"),
            "environment": "development",
            "server_urls": [stack.env["JSC_HUB_URL"]],
            "credentials": {"type": "user_password", "username": "app", "password": "s3cret-pass"},
        }
    )
    try:
        at = open_cluster(ui_logged_in, cluster)
        assert at.selectbox(key="cluster_edit_credentials_type").value == "user_password"
        assert at.text_input(key="cluster_edit_username").value == ""
        at.text_input(key="cluster_edit_description").input("credentials untouched")
        at.button(key="cluster_edit_submit").click().run()
        assert f"Cluster {cluster.name} saved (description)." in texts(at.success), texts(at.error)
        assert ui_admin.cluster(cluster.id).credentials_type == "user_password"

        at.text_input(key="cluster_edit_password").input("only-the-password")
        at.button(key="cluster_edit_submit").click().run()
        assert texts(at.error) == [
            "To change the user and password give both: the stored ones are never shown (leave "
            "both blank to keep them)."
        ]

        at.selectbox(key="cluster_edit_credentials_type").select("none")
        at.text_input(key="cluster_edit_password").input("")
        at.button(key="cluster_edit_submit").click().run()
        assert f"Cluster {cluster.name} saved (credentials)." in texts(at.success), texts(at.error)
        assert ui_admin.cluster(cluster.id).credentials_type == "none"
        assert at.selectbox(key="cluster_edit_credentials_type").value == "none"
    finally:
        remove_cluster(ui_admin, cluster)


def test_a_refused_edit_names_the_problem_and_changes_nothing(
    ui_logged_in, ui_admin, hub_copy, ui_hub
):
    at = open_cluster(ui_logged_in, hub_copy)
    at.text_input(key="cluster_edit_name").input("")
    at.text_area(key="cluster_edit_server_urls").input("http://127.0.0.1:4222")
    at.button(key="cluster_edit_submit").click().run()
    assert texts(at.error) == [
        "Give the cluster a name.",
        'The server URL "http://127.0.0.1:4222" must start with nats:// or tls://.',
    ]
    assert at.text_input(key="cluster_edit_name").value == ""  # kept, to be corrected
    assert ui_admin.cluster(hub_copy.id).name == hub_copy.name

    at.text_input(key="cluster_edit_name").input(ui_hub.name)  # the API refuses a taken name
    at.text_area(key="cluster_edit_server_urls").input("\n".join(hub_copy.server_urls))
    at.button(key="cluster_edit_submit").click().run()
    assert any(ui_hub.name in e and "already exists" in e for e in texts(at.error)), texts(at.error)
    assert ui_admin.cluster(hub_copy.id).name == hub_copy.name


@pytest.mark.parametrize("role", ["editor", "viewer", "operator", "member"])
async def test_other_roles_read_the_information_without_the_form(
    role, make_member, hub_copy, stack, monkeypatch
):
    monkeypatch.setenv("JSC_API_URL", stack.api_url)
    headers, _, _ = await make_member(role)
    at = open_cluster(member_ui(stack, headers), hub_copy)
    assert [t.label for t in at.tabs] == ["Server information"]
    assert "| **JetStream domain** | hub |" in markdown(at)
    assert not [w for w in at.text_input if (w.key or "").startswith("cluster_edit_")]
    with member_client(stack, headers) as client:  # the API decides, not the hidden form
        with pytest.raises(ApiError) as refused:
            client.update_cluster(hub_copy.id, {"description": f"by a {role}"})
    assert refused.value.status == 403
    assert ui_admin_description(stack, hub_copy) == ""


def ui_admin_description(stack, cluster: Cluster) -> str:
    with ApiClient(stack.api_url) as admin:
        admin.login(stack.admin_email, stack.admin_password)
        return admin.cluster(cluster.id).description


async def test_another_organization_neither_sees_nor_edits_the_cluster(
    make_member, hub_copy, stack, monkeypatch
):
    monkeypatch.setenv("JSC_API_URL", stack.api_url)
    headers, _, _ = await make_member("admin", org="new")
    at = open_page(member_ui(stack, headers), "clusters.py", "Clusters")
    names = list(at.dataframe[0].value["Name"]) if at.dataframe else []
    assert hub_copy.name not in names
    with member_client(stack, headers) as client:
        for attempt in (
            lambda: client.update_cluster(hub_copy.id, {"description": "theirs"}),
            lambda: client.cluster_info(hub_copy.id),
        ):
            with pytest.raises(ApiError) as refused:
                attempt()
            assert refused.value.status == 404
    assert ui_admin_description(stack, hub_copy) == ""


# --------------------------------------------------------------------------- the form's checks

CLUSTER = Cluster(
    id="c1",
    name="east",
    description="",
    environment="production",
    server_urls=("nats://a:4222",),
    jetstream_domain="hub",
    monitoring_url=None,
    credentials_type="token",
    tls_enabled=True,
    status="healthy",
    version="2.12",
    created_at=None,
    updated_at=None,
)
SAME = {
    "name": "east",
    "server_urls": "nats://a:4222",
    "environment": "production",
    "jetstream_domain": "hub",
}


def changes(**typed):
    return forms.check_cluster_changes(CLUSTER, **{**SAME, **typed})


def test_an_edit_sends_only_what_changed():
    assert changes() == ({}, [])
    assert changes(name=" west ", server_urls="nats://a:4222, nats://b:4222") == (
        {"name": "west", "server_urls": ["nats://a:4222", "nats://b:4222"]},
        [],
    )
    assert changes(jetstream_domain="", monitoring_url="http://a:8222") == (
        {"jetstream_domain": None, "monitoring_url": "http://a:8222"},
        [],
    )


def test_credentials_are_sent_only_when_typed():
    assert changes(credentials_type="token") == ({}, [])  # blank: the stored token stays
    assert changes(token=" t0ken ") == ({"credentials": {"type": "token", "token": "t0ken"}}, [])
    assert changes(credentials_type="none") == ({"credentials": {"type": "none"}}, [])
    assert changes(credentials_type="user_password", username="u") == (
        None,
        ["User and password credentials need both a user name and a password."],
    )
    assert changes(credentials_type="creds", creds="nonsense")[1] == [
        "Paste the whole .creds file: it starts with -----BEGIN NATS USER JWT-----."
    ]


def test_tls_is_kept_replaced_or_removed():
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    assert changes(tls_choice="keep", ca_pem=pem) == ({}, [])
    assert changes(tls_choice="remove") == ({"tls": None}, [])
    assert changes(tls_choice="replace", ca_pem=pem) == (
        {"tls": {"insecure_skip_verify": False, "ca_pem": pem}},
        [],
    )
    assert changes(tls_choice="replace", cert_pem=pem, ca_pem="not a pem")[1] == [
        "The CA certificate must be in PEM form (it starts with -----BEGIN ...).",
        "A client certificate and its key go together: give both or neither.",
    ]
