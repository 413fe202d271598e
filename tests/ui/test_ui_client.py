"""The typed API client against the real API: errors carry the API's sentence, refresh is once."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
from streamlit.testing.v1 import AppTest

from ui.client import ApiClient, ApiError, ApiUnavailable, AuthenticationRequired, Tokens

from .conftest import APP, log_in, texts, unique


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_login_carries_the_apis_sentence(stack):
    with ApiClient(stack.api_url) as client:
        with pytest.raises(ApiError) as err:
            client.login(stack.admin_email, "wrong")
    assert err.value.status == 401
    assert "password" in err.value.message.lower()
    assert not client.logged_in


def test_invalid_input_names_the_field(ui_admin):
    with pytest.raises(ApiError) as err:
        ui_admin.create_cluster(
            {"name": "-not valid-", "environment": "development", "server_urls": ["http://x"]}
        )
    assert err.value.status == 422
    fields = {fe.field for fe in err.value.field_errors}
    assert {"name", "server_urls"} <= fields
    assert err.value.message


def test_unknown_things_are_404_with_a_sentence(ui_admin, ui_hub):
    with pytest.raises(ApiError) as err:
        ui_admin.delete_stream(ui_hub.id, unique("NO-SUCH-STREAM"))
    assert err.value.status == 404
    assert err.value.message and "Traceback" not in err.value.message


def test_an_unreachable_api_is_a_sentence():
    url = f"http://127.0.0.1:{closed_port()}"
    with ApiClient(url) as client, pytest.raises(ApiUnavailable) as err:
        client.login("a@example.com", "x")
    assert err.value.status == 0
    assert err.value.message.startswith(f"The API at {url} cannot be reached")


def test_the_login_page_says_when_the_api_is_down(monkeypatch):
    monkeypatch.setenv("JSC_API_URL", f"http://127.0.0.1:{closed_port()}")
    at = AppTest.from_file(APP, default_timeout=30).run()
    log_in(at, "admin@example.com", "whatever")
    assert not at.exception
    [message] = texts(at.error)
    assert "cannot be reached" in message


def test_concurrent_401s_refresh_only_once(stack):
    """Refresh tokens rotate and a reused one revokes the session: one refresh for all threads."""
    with ApiClient(stack.api_url) as client:
        good = client.login(stack.admin_email, stack.admin_password)
        client._tokens = Tokens("refused-by-the-api", good.refresh_token)
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: len(client.list_clusters()), range(8)))
        assert len(set(results)) == 1
        assert client.tokens.refresh_token != good.refresh_token
        client.list_clusters()  # the session is still alive (a reuse would have revoked it)
        client.logout()
        assert not client.logged_in
        client._tokens = Tokens("refused-by-the-api", good.refresh_token)
        with pytest.raises(AuthenticationRequired):
            client.list_clusters()
