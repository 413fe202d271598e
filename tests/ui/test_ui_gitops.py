"""The GitOps page against the real API, a real git remote (a local bare repository) and the
hub NATS server: an admin registers a repository from the form, presses "Sync Now" and sees the
sync applied by commit; a change made behind git's back shows in the drift table (Git (Expected)
vs Actual, "changed outside the console"), is ignored, then reverted; a broken commit's sync shows
its errors as path:line; a viewer reads everything and gets no buttons."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.api.orgs import invite, signup
from tests.gitops.api_helpers import stream_manifest
from tests.gitops.conftest import make_remote
from tests.waiting import wait_until

from .conftest import log_in, on_hub, open_page, rerun_until, texts, unique

PAGE, TITLE = "gitops.py", "GitOps: Infrastructure as Code"


def frames(at) -> list:
    return [f.value for f in at.dataframe]


def syncs_table(at):
    return next(
        (f for f in frames(at) if {"Commit", "Author", "Changes", "Status"} <= set(f.columns)), None
    )


def keys(at) -> set[str]:
    return {b.key for b in at.button if b.key}


def test_register_sync_drift_and_remediate(ui_app: AppTest, api, stack):
    admin = signup(api)
    cluster = api.post(
        "/api/v1/clusters",
        headers=admin.headers,
        json={
            "name": unique("hub"),
            "environment": "development",
            "server_urls": [stack.env["JSC_HUB_URL"]],
            "jetstream_domain": "hub",
        },
    ).json()
    remote = make_remote()
    name = unique("UIGIT").upper().replace("-", "_")
    remote.write("environments/dev/s.yaml", stream_manifest(name))
    sha = remote.commit("A stream from git", author="Jane", email="jane@example.com")

    at = log_in(ui_app, admin.email, admin.password)
    at = open_page(at, PAGE, TITLE)
    at.text_input(key="go_url").input(remote.url)
    at.text_input(key="go_env_0").input("dev")
    at.selectbox(key="go_cluster_0").select(cluster["name"])
    at.button(key="go_register_submit").click().run()
    assert not at.exception, texts(at.exception)
    assert any("registered" in s for s in texts(at.success)), (texts(at.success), texts(at.error))

    at.button(key="go_sync_now").click().run()
    assert any("Sync of" in s for s in texts(at.success)), texts(at.error)
    at = rerun_until(
        at,
        lambda a: (t := syncs_table(a)) is not None and "✅ Applied" in set(t["Status"]),
        what="the sync applied",
    )
    table = syncs_table(at)
    assert table.iloc[0]["Commit"] == sha[:7] and table.iloc[0]["Author"] == "Jane"
    assert "1 to create" in table.iloc[0]["Changes"]

    async def drift(js):
        info = await js.stream_info(name)
        info.config.max_age = 7200
        await js.update_stream(info.config)

    on_hub(stack, drift)
    at.button(key="go_scan_now").click().run()
    at = rerun_until(
        at,
        lambda a: any({"Field", "Git (Expected)", "Actual"} <= set(f.columns) for f in frames(a)),
        what="the drift table",
    )
    table = next(f for f in frames(at) if "Git (Expected)" in f.columns)
    assert list(table.iloc[0]) == ["max_age", "1h", "2h"]
    assert any("outside the console" in c for c in texts(at.caption))
    item_keys = [k for k in keys(at) if k.startswith("go_ignore_")]
    assert len(item_keys) == 1
    at.button(key=item_keys[0]).click().run()
    assert any("ignored for 1d" in s for s in texts(at.success)), texts(at.error)
    assert any("ignored until" in m for m in texts(at.markdown))
    revert = item_keys[0].replace("go_ignore_", "go_revert_")
    at.button(key=revert).click().run()
    assert any("Revert of" in s for s in texts(at.success)), texts(at.error)

    async def reverted(js):
        return (await js.stream_info(name)).config.max_age == 3600

    rerun_until(at, lambda a: on_hub(stack, reverted), timeout=120, what="the revert applied")

    # a broken commit: its sync shows the errors, path:line
    remote.write(
        "environments/dev/bad.yaml",
        "apiVersion: nats.io/v1\nkind: Stream\nmetadata:\n  name: B\nspec:\n  maxAge: soon\n",
    )
    remote.commit("broken")
    at.button(key="go_sync_now").click().run()
    at = rerun_until(
        at,
        lambda a: any("environments/dev/bad.yaml:6" in c.value for c in a.code),
        what="the failed sync's errors",
    )

    viewer = invite(api, admin, "viewer")
    seen = log_in(
        AppTest.from_file(ui_app._script_path, default_timeout=60).run(),
        viewer.email,
        viewer.password,
    )
    seen = open_page(seen, PAGE, TITLE)
    assert syncs_table(seen) is not None
    assert not {
        k
        for k in keys(seen)
        if k.startswith(("go_sync", "go_scan", "go_revert", "go_ignore", "go_update", "go_remove"))
    }

    async def cleanup(js):
        await js.delete_stream(name)

    on_hub(stack, cleanup)


def test_the_main_path_in_chromium(browser_page, stack, ui_admin, ui_hub):
    """In a real browser: the repository's header, its environments and syncs, and Sync Now."""
    from playwright.sync_api import expect

    from tests.ui.conftest import WAIT_MS
    from tests.ui.test_ui_browser import log_in as browser_log_in

    remote = make_remote()
    name = unique("UIWEB").upper().replace("-", "_")
    remote.write("environments/dev/s.yaml", stream_manifest(name))
    remote.commit("For the browser")
    repo = ui_admin.create_gitops_repo(
        {"name": unique("web"), "url": remote.url, "environments": {"dev": ui_hub.id}}
    )
    page = browser_page
    page.goto(f"{stack.ui_url}/gitops")
    browser_log_in(page, stack)
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible(timeout=WAIT_MS)
    page.get_by_role("combobox", name="Repository").click()
    page.get_by_role("option", name=repo["name"]).click()
    expect(page.get_by_text("Environment Status")).to_be_visible(timeout=WAIT_MS)
    page.get_by_role("button", name="⟳ Sync Now").click()
    expect(page.get_by_text(f"Sync of {repo['name']} started")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("Recent Syncs")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("Traceback")).to_have_count(0)
    wait_until(
        lambda: [s for s in ui_admin.list_gitops_syncs(repo["id"]) if s["status"] == "succeeded"],
        "the sync applied",
    )
    ui_admin.delete_gitops_repo(repo["id"])

    async def cleanup(js):
        await js.delete_stream(name)

    on_hub(stack, cleanup)
