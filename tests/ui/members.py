"""UI test helpers for people other than the stack's admin: a browser session (AppTest) logged
in as a member made by ``make_member``, and the typed client with that member's token."""

from __future__ import annotations

import httpx
from streamlit.testing.v1 import AppTest

from tests.fixtures import PASSWORD
from ui.client import ApiClient, Tokens

from .conftest import APP, RUN_TIMEOUT, log_in, texts


def member_ui(stack, headers: dict[str, str]) -> AppTest:
    """A fresh browser session logged in as the member of ``headers`` (set ``JSC_API_URL``
    first)."""
    email = httpx.get(f"{stack.api_url}/api/v1/auth/me", headers=headers).json()["email"]
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    log_in(at, email, PASSWORD)
    assert not at.exception, texts(at.exception)
    assert texts(at.title) == ["Overview"], texts(at.error)
    return at


def member_client(stack, headers: dict[str, str]) -> ApiClient:
    """The typed client with the member's access token (no refresh token: not needed here)."""
    return ApiClient(
        stack.api_url, Tokens(headers["Authorization"].split(" ", 1)[1], "no-refresh-token")
    )
