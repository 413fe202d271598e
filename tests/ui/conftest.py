"""UI test helpers. The pages run in-process under Streamlit's AppTest and talk over HTTP to the
API of the session's ``stack`` (no fake API): ``ui_app`` is a fresh browser session at the login
page, ``ui_logged_in`` the same after logging in through the form, ``ui_admin`` the typed client
logged in as the admin (to set up and check what the screens did), ``ui_hub`` a cluster registered
for the stack's hub NATS server, ``ui_dr`` one for its dr server (linked to hub by a leafnode)."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nats
import pytest
from nats.js.api import StreamConfig
from streamlit.testing.v1 import AppTest

from ui.client import ApiClient, ApiError, Cluster
from ui.session import CLUSTER_KEY

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
    cluster = ui_admin.create_cluster(
        {
            "name": unique("ui-hub"),
            "environment": "development",
            "server_urls": [stack.env["JSC_HUB_URL"]],
            "jetstream_domain": "hub",
        }
    )
    yield cluster
    remove_cluster(ui_admin, cluster)


@pytest.fixture(scope="module")
def ui_dr(ui_admin, stack):
    cluster = ui_admin.create_cluster(
        {
            "name": unique("ui-dr"),
            "environment": "staging",
            "server_urls": [stack.env["JSC_DR_URL"]],
            "jetstream_domain": "dr",
        }
    )
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


# --------------------------------------------------------------------------- helpers for the pages


def rerun_until(
    at: AppTest,
    predicate,
    timeout: float = 60.0,
    every: float = 0.3,
    what: str = "the page to show it",
) -> AppTest:
    """Rerun the page until ``predicate(at)`` holds (a live page refreshes itself; AppTest does
    not run timers, so the test reruns it)."""
    deadline = time.monotonic() + timeout
    while True:
        at.run()
        assert not at.exception, texts(at.exception)
        if predicate(at):
            return at
        assert time.monotonic() < deadline, (
            f"waited {timeout}s for {what}; errors: {texts(at.error)}"
        )
        time.sleep(every)


def open_page(
    at: AppTest, script: str, title: str | None = None, cluster: Cluster | None = None
) -> AppTest:
    """Switch to ``screens/<script>``; with ``cluster``, as the cluster chosen last (so the page
    does not first wait on another one, which other tests may have left unreachable)."""
    if cluster is not None:
        at.session_state[CLUSTER_KEY] = cluster.id
    at.switch_page(f"screens/{script}").run()
    assert not at.exception, texts(at.exception)
    if title is not None:
        assert texts(at.title) == [title], (texts(at.title), texts(at.error))
    return at


def on_hub(stack, work):
    """Run ``await work(js)`` against the hub NATS server (a connection of its own); its result."""

    async def main():
        nc = await nats.connect(stack.env["JSC_HUB_URL"])
        try:
            return await work(nc.jetstream())
        finally:
            await nc.close()

    # in a thread of its own: Playwright's sync API keeps an event loop running in this one
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


def make_stream(
    stack,
    name: str,
    count: int = 0,
    subjects: list[str] | None = None,
    payload=lambda i: f'{{"n": {i}}}'.encode(),
) -> None:
    """A memory stream ``name`` capturing ``<name>.>`` holding ``count`` messages, published
    round-robin to ``<name>.a`` and ``<name>.b``."""
    subjects = subjects or [f"{name}.a", f"{name}.b"]

    async def work(js):
        await js.add_stream(StreamConfig(name=name, subjects=[f"{name}.>"], storage="memory"))
        pending = []
        for i in range(count):
            pending.append(await js.publish_async(subjects[i % len(subjects)], payload(i)))
            if len(pending) >= 1000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)

    on_hub(stack, work)


# -- a real browser ------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 30_000


@pytest.fixture
def browser_page(stack):
    """Headless Chromium on a new page; skipped, with the reason, where Chromium is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"{CHROMIUM} is not installed (apt-get install chromium); "
            f"`which chromium` finds {shutil.which('chromium')!r}"
        )
    from playwright.sync_api import sync_playwright

    assert stack.ui_url, "the stack was started without its UI"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 900})
        finally:
            browser.close()
