"""jsc login / logout, the credentials file, token refresh, API keys, and what a person sees when
the API refuses or cannot be reached."""

from __future__ import annotations

import json
import stat

from tests.cli.conftest import fails, unique


def test_login_stores_a_private_session_and_logout_ends_it(
    jsc_fresh, stack, hub_cluster, api, admin_headers
):
    fails(jsc_fresh("cluster", "ls"), "Not signed in", "jsc login")
    bad = jsc_fresh(
        "login",
        "--url",
        stack.api_url,
        "--email",
        stack.admin_email,
        "--password",
        "not-the-password",
    )
    fails(bad, "Incorrect email or password.")
    assert not jsc_fresh.config.exists()

    # the password prompted (hidden), the email given
    result = jsc_fresh.ok(
        "login",
        "--url",
        f"{stack.api_url}/api/v1/",
        "--email",
        stack.admin_email,
        input=f"{stack.admin_password}\n",
    )
    assert f"Signed in to {stack.api_url} as {stack.admin_email}" in result.stdout
    mode = stat.S_IMODE(jsc_fresh.config.stat().st_mode)
    assert mode == 0o600, oct(mode)
    stored = json.loads(jsc_fresh.config.read_text())
    assert stored["url"] == stack.api_url and stored["access_token"] and stored["refresh_token"]

    listed = json.loads(jsc_fresh.ok("cluster", "ls", "--json").stdout)
    assert hub_cluster["id"] in {c["id"] for c in listed["items"]}
    assert "test-hub" in jsc_fresh.ok("cluster", "ls").stdout

    session_token = stored["access_token"]
    jsc_fresh.ok("logout")
    assert (
        api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {session_token}"}).status_code
        == 401
    )
    stored = json.loads(jsc_fresh.config.read_text())
    assert stored["access_token"] is None and stored["url"] == stack.api_url
    fails(jsc_fresh("cluster", "ls"), "Not signed in")
    assert "Not signed in" in jsc_fresh.ok("logout").stdout


def test_an_expired_access_token_is_refreshed_once(jsc_fresh, stack, hub_cluster):
    jsc_fresh.ok(
        "login",
        "--url",
        stack.api_url,
        "--email",
        stack.admin_email,
        "--password",
        stack.admin_password,
    )
    stored = json.loads(jsc_fresh.config.read_text())
    refresh_token = stored["refresh_token"]
    stored["access_token"] = "not-a-valid-token"
    jsc_fresh.config.write_text(json.dumps(stored))

    jsc_fresh.ok("cluster", "info", hub_cluster["id"], "--json")
    rotated = json.loads(jsc_fresh.config.read_text())
    assert rotated["refresh_token"] != refresh_token  # single-use: a new pair was stored
    assert rotated["access_token"] != "not-a-valid-token"
    jsc_fresh.ok("cluster", "ls")  # the new access token works as is

    # a spent refresh token is not accepted again: the person is told to sign in
    rotated["access_token"], rotated["refresh_token"] = "not-a-valid-token", refresh_token
    jsc_fresh.config.write_text(json.dumps(rotated))
    fails(jsc_fresh("cluster", "ls"), "Your session with", "jsc login")


def test_api_key_and_url_from_the_environment(jsc_fresh, stack, api, admin_headers, hub_cluster):
    reply = api.post("/api/v1/api-keys", json={"name": unique("cli")}, headers=admin_headers)
    assert reply.status_code == 201, reply.text
    key = reply.json()["key"]
    env = {"JSC_API_URL": stack.api_url, "JSC_API_KEY": key}
    result = jsc_fresh.ok("cluster", "ls", "--json", **env)
    assert hub_cluster["id"] in result.stdout
    assert not jsc_fresh.config.exists()  # nothing stored for a key
    fails(jsc_fresh("cluster", "ls", JSC_API_URL=stack.api_url, JSC_API_KEY="jsc_wrong"), "Error: ")


def test_unreachable_api_and_refusals_are_sentences(jsc, jsc_fresh, hub_cluster):
    fails(
        jsc_fresh(
            "login", "--url", "http://127.0.0.1:9", "--email", "a@example.com", "--password", "x"
        ),
        "Cannot reach the JetStream Console API at http://127.0.0.1:9",
    )
    fails(
        jsc("cluster", "ls", JSC_API_URL="http://127.0.0.1:9", JSC_API_KEY="jsc_any"),
        "Cannot reach",
    )
    # the stored session belongs to another API: its tokens are not sent there
    fails(
        jsc("cluster", "ls", JSC_API_URL="http://127.0.0.1:9"),
        "Not signed in to http://127.0.0.1:9",
    )
    fails(
        jsc("stream", "ls", "-c", "no-such-cluster"),
        "No cluster named 'no-such-cluster'",
        "test-hub",
    )
    fails(jsc("stream", "info", unique("missing"), "-c", "test-hub"), "not found")
    fails(
        jsc("op", "get", "00000000-0000-0000-0000-000000000000"),
        "No operation with id 00000000-0000-0000-0000-000000000000",
    )


def test_two_processes_refreshing_do_not_spend_the_token_twice(jsc_fresh, stack, monkeypatch):
    """A refresh token is single-use (a second use revokes the session): a jsc that finds the
    tokens already rotated by another jsc uses those instead of refreshing again."""
    from cli.client import Api

    jsc_fresh.ok(
        "login",
        "--url",
        stack.api_url,
        "--email",
        stack.admin_email,
        "--password",
        stack.admin_password,
    )
    monkeypatch.setenv("JSC_CONFIG", str(jsc_fresh.config))
    for name in ("JSC_API_URL", "JSC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    first, second = Api.from_config(), Api.from_config()  # both read the same pair
    with first, second:
        first.creds.access_token = second.creds.access_token = "expired"
        assert first.get("/auth/me")["email"] == stack.admin_email  # refreshed: a new pair
        assert second.get("/auth/me")["email"] == stack.admin_email  # took the new pair
        assert second.creds.refresh_token == first.creds.refresh_token
        first.creds.access_token = "expired"
        assert first.get("/auth/me")["email"] == stack.admin_email  # the session is alive
    jsc_fresh.ok("cluster", "ls")
