"""The users page signs a member out everywhere: their sessions in the organization end (their
access token is refused at its next request) and the page says how many ended."""

from __future__ import annotations

import httpx

from .conftest import open_page, texts


async def test_sign_a_member_out_everywhere(ui_logged_in, make_member, stack):
    headers, user_id, _ = await make_member("viewer")
    me = httpx.get(f"{stack.api_url}/api/v1/auth/me", headers=headers)
    assert me.status_code == 200, me.text
    at = open_page(ui_logged_in, "users.py", "Users")
    at.selectbox(key="users_selected").select(str(user_id)).run()
    at.button(key="users_sign_out").click().run()
    assert not at.exception, texts(at.exception)
    assert f"{me.json()['email']} was signed out of 1 session." in texts(at.success), texts(
        at.error
    )
    assert httpx.get(f"{stack.api_url}/api/v1/auth/me", headers=headers).status_code == 401
    at.button(key="users_sign_out").click().run()
    assert f"{me.json()['email']} was signed out of 0 sessions." in texts(at.success)
