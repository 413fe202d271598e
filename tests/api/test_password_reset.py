"""Password reset by e-mail, from the outside: the mail arrives at a real local mail server
(tests/mailbox.py), its link's token sets a new password once, ends every session of the account
and is audited in its organization only; an expired or replaced link is refused; an unknown
address gets the same answer and no mail; asking is limited per client address and per e-mail
address.

Each test asks from a client address of its own (``X-Forwarded-For``, trusted from the loopback
proxy the API runs behind), so the limits never meet the rest of the session's traffic."""

from __future__ import annotations

import itertools
import re

import httpx
import pytest
import redis

from core.password_reset import token_key
from tests.api.orgs import PASSWORD, bearer, signup
from tests.fixtures import login, unique, wait_for_audit
from tests.waiting import wait_until

FORGOT, RESET, LOGIN, ME = (
    "/api/v1/auth/forgot-password",
    "/api/v1/auth/reset-password",
    "/api/v1/auth/login",
    "/api/v1/auth/me",
)
NEW_PASSWORD = "reset-Pass-5678"


_ADDRESSES = itertools.count(1)


def address() -> dict[str, str]:
    """Headers of a client at an address no other test uses (TEST-NET-3, each one once)."""
    return {"X-Forwarded-For": f"203.0.113.{next(_ADDRESSES)}"}


def ask(api: httpx.Client, email: str, client: dict) -> httpx.Response:
    return api.post(FORGOT, json={"email": email}, headers=client)


def token_of(mailbox, email: str, stack, count: int = 1) -> str:
    """The token of the ``count``-th reset mail for ``email``: its link leads to the stack's UI."""
    mail = mailbox.wait_for(email, count)
    assert mail.subject == "Reset your JetStream Console password"
    found = re.search(r"(\S+)/\?reset=([A-Za-z0-9_-]+)", mail.text)
    assert found, mail.text
    assert found.group(1) == stack.ui_url
    return found.group(2)


def reset(api: httpx.Client, token: str, client: dict, password: str = NEW_PASSWORD):
    return api.post(RESET, json={"token": token, "password": password}, headers=client)


@pytest.fixture(scope="module")
def store(stack):
    client = redis.Redis.from_url(stack.env["JSC_REDIS_URL"], decode_responses=True)
    yield client
    client.close()


def test_a_mailed_link_sets_a_new_password_once_and_ends_every_session(api, stack, mailbox):
    client = address()
    owner, other = signup(api), signup(api)  # two organizations
    second = api.post(LOGIN, json={"email": owner.email, "password": PASSWORD}).json()

    asked = ask(api, owner.email, client)
    assert asked.status_code == 202, asked.text
    assert "If an account uses this address" in asked.json()["detail"]
    token = token_of(mailbox, owner.email, stack)

    done = reset(api, token, client)
    assert done.status_code == 204, done.text
    # every session of the account ended: its access tokens and refresh tokens stop working
    for session in (owner.tokens, second):
        assert api.get(ME, headers=bearer(session["access_token"])).status_code == 401
        assert (
            api.post(
                "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
            ).status_code
            == 401
        )
    assert api.post(LOGIN, json={"email": owner.email, "password": PASSWORD}).status_code == 401
    headers = login(api, owner.email, NEW_PASSWORD)

    again = reset(api, token, client, "another-Pass-9012")
    assert again.status_code == 400, again.text
    assert again.headers["content-type"].startswith("application/problem+json")
    assert "already used" in again.json()["detail"]
    login(api, owner.email, NEW_PASSWORD)  # the second use changed nothing

    event = wait_for_audit(api, headers, action="auth.reset_password", resource_name=owner.email)
    assert event["status"] == "success"
    wait_for_audit(api, headers, action="auth.forgot_password", resource_name=owner.email)
    theirs = api.get("/api/v1/audit/logs", params={"limit": 1000}, headers=other.headers).json()
    assert owner.email not in {e.get("resource_name") for e in theirs["items"]}


def test_an_unknown_address_gets_the_same_answer_and_no_mail(api, stack, mailbox):
    client = address()
    nobody = f"{unique('nobody')}@example.com"
    owner = signup(api)
    unknown = ask(api, nobody, client)
    known = ask(api, owner.email, client)
    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json()
    assert unknown.headers["content-type"] == known.headers["content-type"]
    token_of(mailbox, owner.email, stack)  # mailed after the unknown one was answered
    assert mailbox.to(nobody) == []


def test_an_expired_or_replaced_link_is_refused(api, stack, mailbox, store):
    client = address()
    owner = signup(api)
    assert ask(api, owner.email, client).status_code == 202
    first = token_of(mailbox, owner.email, stack)
    assert ask(api, owner.email, client).status_code == 202
    newest = token_of(mailbox, owner.email, stack, count=2)
    replaced = reset(api, first, client)
    assert replaced.status_code == 400, replaced.text  # only the newest link works

    ttl = store.ttl(token_key(newest))
    assert 0 < ttl <= stack.settings.password_reset_ttl_s
    store.pexpire(token_key(newest), 1)  # its time runs out now
    wait_until(lambda: not store.exists(token_key(newest)), "the reset token to expire")
    expired = reset(api, newest, client)
    assert expired.status_code == 400, expired.text
    assert "expired" in expired.json()["detail"]
    login(api, owner.email, PASSWORD)  # the password is unchanged


def test_bodies_are_validated_and_a_refused_password_keeps_the_link(api, stack, mailbox):
    client = address()
    owner = signup(api)
    bad_email = api.post(FORGOT, json={"email": "not an address"}, headers=client)
    assert bad_email.status_code == 422
    assert [e["field"] for e in bad_email.json()["errors"]] == ["email"]
    assert ask(api, owner.email, client).status_code == 202
    token = token_of(mailbox, owner.email, stack)

    short = reset(api, token, client, password="short")
    assert short.status_code == 422
    assert [e["field"] for e in short.json()["errors"]] == ["password"]
    extra = api.post(
        RESET, json={"token": token, "password": NEW_PASSWORD, "email": "x@y.z"}, headers=client
    )
    assert extra.status_code == 422
    assert {"field": "email", "message": "is not a known field"} in extra.json()["errors"]
    assert reset(api, token, client).status_code == 204
    login(api, owner.email, NEW_PASSWORD)


def test_asking_is_limited_per_email_and_per_client_address(api, stack):
    limits = stack.settings
    one = f"{unique('flood')}@example.com"
    client = address()
    for _ in range(limits.password_reset_per_email):
        assert ask(api, one, client).status_code == 202
    refused = ask(api, one, address())  # another address: the e-mail's own limit
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) > 0
    assert "this e-mail address" in refused.json()["detail"]

    busy = address()
    for _ in range(limits.password_reset_per_ip):
        assert ask(api, f"{unique('many')}@example.com", busy).status_code == 202
    over = ask(api, f"{unique('many')}@example.com", busy)
    assert over.status_code == 429, over.text
    assert "your address" in over.json()["detail"]


@pytest.mark.parametrize("role", ["admin", "editor", "viewer", "operator", "member"])
async def test_every_role_resets_its_own_password(api, stack, mailbox, make_member, role):
    client = address()
    headers, user_id, _ = await make_member(role, org="new")
    email = api.get(ME, headers=headers).json()["email"]
    assert ask(api, email, client).status_code == 202
    assert reset(api, token_of(mailbox, email, stack), client).status_code == 204
    assert api.get(ME, headers=headers).status_code == 401
    assert api.get(ME, headers=login(api, email, NEW_PASSWORD)).json()["id"] == str(user_id)
