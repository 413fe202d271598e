"""UI test helpers. The pages run in-process under Streamlit's AppTest and talk over HTTP to the
API of the session's ``stack`` (no fake API): ``ui_app`` is a fresh browser session at the login
page, ``ui_logged_in`` the same after logging in through the form, ``ui_admin`` the typed client
logged in as the admin (to set up and check what the screens did), ``ui_hub`` a cluster registered
for the stack's hub NATS server."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.client import ApiClient, ApiError, Cluster

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"
RUN_TIMEOUT = 60  # seconds for one script run: a page may probe several clusters


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


def log_in(at: AppTest, email: str, password: str) -> AppTest:
    at.text_input(key="login_email").input(email)
    at.text_input(key="login_password").input(password)
    return at.button(key="login_submit").click().run()


@pytest.fixture
def ui_app(stack, monkeypatch) -> AppTest:
    monkeypatch.setenv("JSC_API_URL", stack.api_url)
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    assert not at.exception, texts(at.exception)
    return at


@pytest.fixture
def ui_logged_in(ui_app, stack) -> AppTest:
    log_in(ui_app, stack.admin_email, stack.admin_password)
    assert not ui_app.exception, texts(ui_app.exception)
    assert texts(ui_app.title) == ["Overview"], texts(ui_app.error)
    return ui_app


@pytest.fixture(scope="session")
def ui_admin(stack):
    with ApiClient(stack.api_url) as client:
        client.login(stack.admin_email, stack.admin_password)
        yield client


@pytest.fixture(scope="module")
def ui_hub(ui_admin, stack):
    cluster = ui_admin.create_cluster({"name": unique("ui-hub"), "environment": "development",
                                    "server_urls": [stack.env["JSC_HUB_URL"]],
                                    "jetstream_domain": "hub"})
    yield cluster
    remove_cluster(ui_admin, cluster)


def remove_cluster(admin: ApiClient, cluster: Cluster) -> None:
    try:
        admin.delete_cluster(cluster.id)
    except ApiError as err:
        if err.status != 404:
            raise


def remove_stream(admin: ApiClient, cluster: Cluster, name: str) -> None:
    try:
        admin.delete_stream(cluster.id, name)
    except ApiError as err:
        if err.status != 404:
            raise
