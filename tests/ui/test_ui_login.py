"""Login, logout and the session's tokens, through the real API."""

from __future__ import annotations

import pytest

from ui.client import ApiClient, AuthenticationRequired, Tokens
from ui.session import CLIENT_KEY, EXPIRED

from .conftest import log_in, texts


def test_login_page_is_all_a_stranger_sees(ui_app):
    assert texts(ui_app.title) == ["JetStream Console"]
    assert ui_app.text_input(key="login_email") is not None
    assert not ui_app.sidebar.button  # no navigation, no logout


def test_good_password_opens_the_overview(ui_app, stack):
    log_in(ui_app, stack.admin_email, stack.admin_password)
    assert not ui_app.exception
    assert texts(ui_app.title) == ["Overview"]
    assert any(stack.admin_email in c or "admin" in c for c in texts(ui_app.sidebar.caption))
    assert ui_app.session_state[CLIENT_KEY].tokens is not None


def test_bad_password_says_so_in_a_sentence(ui_app, stack):
    log_in(ui_app, stack.admin_email, "not-the-password")
    assert not ui_app.exception
    assert texts(ui_app.title) == ["JetStream Console"]
    [message] = texts(ui_app.error)
    assert "password" in message.lower()
    assert message.rstrip().endswith(".")
    assert "Traceback" not in message and "{" not in message


def test_empty_form_is_refused_before_sending(ui_app):
    log_in(ui_app, "", "")
    assert texts(ui_app.error) == ["Enter your email and your password."]
    client = ui_app.session_state.get(CLIENT_KEY)
    assert client is None or client.tokens is None


def test_logout_returns_to_the_login_page(ui_logged_in):
    at = ui_logged_in
    refresh_token = at.session_state[CLIENT_KEY].tokens.refresh_token
    at.sidebar.button(key="logout").click().run()
    assert texts(at.title) == ["JetStream Console"]
    # the server revoked the session: its refresh token no longer works
    with ApiClient(at.session_state[CLIENT_KEY].base_url, Tokens("revoked", refresh_token)) as c:
        with pytest.raises(AuthenticationRequired):
            c.list_clusters()


def test_a_refused_access_token_is_refreshed_once(ui_logged_in):
    at = ui_logged_in
    client = at.session_state[CLIENT_KEY]
    old = client.tokens
    client._tokens = Tokens("an-access-token-the-api-refuses", old.refresh_token)
    at.switch_page("screens/clusters.py").run()
    assert not at.exception
    assert texts(at.title) == ["Clusters"]
    assert client.tokens.access_token != "an-access-token-the-api-refuses"
    assert client.tokens.refresh_token != old.refresh_token  # rotated by POST /auth/refresh


def test_a_dead_session_goes_back_to_login(ui_logged_in):
    at = ui_logged_in
    at.session_state[CLIENT_KEY]._tokens = Tokens("refused-access", "refused-refresh-token")
    at.switch_page("screens/clusters.py").run()
    assert not at.exception
    assert texts(at.title) == ["JetStream Console"]
    assert EXPIRED in texts(at.warning)
