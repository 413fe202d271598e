"""Abuse (issue 10, D), from the outside: an API key never gets more requests a minute than its
organization; a burst of bad passwords or API keys from one address is refused with 429 before
argon2 runs (counted by the API's ``jsc_argon2_checks_total`` metric, not timed); no password
reaches a log; two concurrent refreshes with one token: one wins, the family is revoked.

Each burst comes from an address of its own (``X-Forwarded-For``, which the API trusts from the
loopback proxy it runs behind), so the rest of the session's traffic from 127.0.0.1 is untouched."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time

import httpx
import pyotp
import pytest
from pydantic import SecretStr

from api.services import bootstrap
from core.bootstrap import prepare
from stack.status import summary
from tests.api.orgs import bearer, signup
from tests.fixtures import unique, wait_for_audit

LOGIN, REFRESH, KEYS, ME = (
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/api-keys",
    "/api/v1/auth/me",
)


def address() -> dict[str, str]:
    """Headers of a client at an address no other test uses (TEST-NET and benchmark ranges)."""
    return {"X-Forwarded-For": f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"}


def argon2_checks(api: httpx.Client, purpose: str) -> float:
    text = api.get("/metrics/").text
    found = re.search(rf'^jsc_argon2_checks_total{{purpose="{purpose}"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def problem_of(reply: httpx.Response, status: int) -> dict:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    return reply.json()


def refuses_past_its_limit(api: httpx.Client, headers: dict, limit: int) -> httpx.Response:
    """Requests until one is refused: within ``limit`` + 1, or two windows if one ends meanwhile."""
    for _ in range(2 * limit + 2):
        reply = api.get(ME, headers=headers)
        if reply.status_code != 200:
            return reply
    raise AssertionError(f"no request refused with a limit of {limit}")


# -- a key's rate limit is within its organization's ---------------------------------------------


def test_a_key_never_gets_more_than_its_organization(api, stack):
    owner, other = signup(api), signup(api)
    # Made while the organization had the console's default: within it.
    early = api.post(
        KEYS, headers=owner.headers, json={"name": "early", "rate_limit_per_minute": 1000}
    )
    assert early.status_code == 201, early.text
    org = api.patch(
        f"/api/v1/organizations/{owner.org_id}",
        headers=owner.headers,
        json={"rate_limit_per_minute": 30},
    )
    assert org.status_code == 200, org.text

    above = problem_of(
        api.post(
            KEYS, headers=owner.headers, json={"name": "greedy", "rate_limit_per_minute": 1_000_000}
        ),
        422,
    )
    assert [e["field"] for e in above["errors"]] == ["rate_limit_per_minute"]
    assert "at most 30" in above["detail"]
    within = api.post(
        KEYS, headers=owner.headers, json={"name": "fair", "rate_limit_per_minute": 10}
    )
    assert within.status_code == 201, within.text
    raised = problem_of(
        api.patch(
            f"{KEYS}/{within.json()['id']}",
            headers=owner.headers,
            json={"rate_limit_per_minute": 31},
        ),
        422,
    )
    assert raised["errors"][0]["field"] == "rate_limit_per_minute"
    assert (
        api.get(f"{KEYS}/{within.json()['id']}", headers=owner.headers).json()[
            "rate_limit_per_minute"
        ]
        == 10
    )
    # A key holding only the right to make keys cannot get around it either.
    narrow = api.post(
        KEYS, headers=owner.headers, json={"name": "key-maker", "scopes": ["api_keys:create:own"]}
    ).json()
    problem_of(
        api.post(
            KEYS,
            headers={"X-API-Key": narrow["key"]},
            json={
                "name": "via-key",
                "scopes": ["api_keys:create:own"],
                "rate_limit_per_minute": 31,
            },
        ),
        422,
    )

    # Enforced per request as min(key, organization): the key made at 1000 gets 30.
    headers = {"X-API-Key": early.json()["key"]}
    assert api.get(ME, headers=headers).headers["X-RateLimit-Limit"] == "30"
    refused = refuses_past_its_limit(api, headers, 30)
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
    assert "limit is 30 a minute" in refused.json()["detail"]
    # A key without a limit of its own has the organization's too, when that is lower.
    default = api.post(KEYS, headers=owner.headers, json={"name": "default"}).json()
    assert api.get(ME, headers={"X-API-Key": default["key"]}).headers["X-RateLimit-Limit"] == "30"

    # Another organization (the console's default limit) is not affected.
    theirs = api.post(
        KEYS, headers=other.headers, json={"name": "big", "rate_limit_per_minute": 1000}
    )
    assert theirs.status_code == 201, theirs.text
    assert (
        api.get(ME, headers={"X-API-Key": theirs.json()["key"]}).headers["X-RateLimit-Limit"]
        == "1000"
    )


# -- bad credentials are throttled per address before argon2 -------------------------------------


def test_a_burst_of_bad_logins_is_refused_before_argon2(api, stack):
    limit, client = stack.settings.auth_failures_per_ip, address()
    before = argon2_checks(api, "login")
    statuses = []
    for _i in range(limit + 10):  # a different (unknown) account each time: no account lockout
        reply = api.post(
            LOGIN,
            headers=client,
            json={"email": f"{unique('nobody')}@example.com", "password": "guess-1234"},
        )
        statuses.append(reply.status_code)
    assert statuses == [401] * limit + [429] * 10, statuses
    assert argon2_checks(api, "login") - before == limit  # none past the limit
    throttled = problem_of(
        api.post(
            LOGIN,
            headers=client,
            json={"email": stack.admin_email, "password": stack.admin_password},
        ),
        429,
    )
    assert "Too many" in throttled["detail"]
    assert argon2_checks(api, "login") - before == limit  # the right password is not even checked
    # Another address signs in as usual.
    assert (
        api.post(
            LOGIN,
            headers=address(),
            json={"email": stack.admin_email, "password": stack.admin_password},
        ).status_code
        == 200
    )


def test_an_ipv6_network_is_throttled_as_one_address(api, stack):
    """A client holding an IPv6 /64 (the usual end-site allocation) cannot pass the throttle by
    changing the low 64 bits each time; an IPv4-mapped address is its IPv4 address."""
    limit = stack.settings.auth_failures_per_ip
    network = f"2001:db8:{random.randrange(1, 0xFFFF):x}:{random.randrange(1, 0xFFFF):x}"
    before = argon2_checks(api, "login")
    statuses = []
    for _ in range(limit + 5):
        host = ":".join(f"{random.randrange(0x10000):x}" for _ in range(4))
        reply = api.post(
            LOGIN,
            headers={"X-Forwarded-For": f"{network}:{host}"},
            json={"email": f"{unique('nobody')}@example.com", "password": "guess-1234"},
        )
        statuses.append(reply.status_code)
    assert statuses == [401] * limit + [429] * 5, statuses
    assert argon2_checks(api, "login") - before == limit
    # Another /64 is another client.
    other = {"X-Forwarded-For": f"2001:db8:{random.randrange(1, 0xFFFF):x}:1::1"}
    assert (
        api.post(
            LOGIN,
            headers=other,
            json={"email": stack.admin_email, "password": stack.admin_password},
        ).status_code
        == 200
    )

    ipv4 = address()
    mapped = {"X-Forwarded-For": "::ffff:" + ipv4["X-Forwarded-For"]}
    for _ in range(limit):
        assert (
            api.post(
                LOGIN,
                headers=ipv4,
                json={"email": f"{unique('nobody')}@example.com", "password": "guess-1234"},
            ).status_code
            == 401
        )
    problem_of(
        api.post(
            LOGIN,
            headers=mapped,
            json={"email": stack.admin_email, "password": stack.admin_password},
        ),
        429,
    )


def test_an_invitation_is_no_way_around_the_accounts_lockout(api, stack):
    """Anyone can sign up an organization and invite any address, so accepting an invitation with
    an existing account's password is a sign-in of that account: wrong passwords count towards its
    lockout, whatever the address they come from, and a locked account joins nothing."""
    victim, attacker = signup(api), signup(api)
    invited = api.post(
        "/api/v1/users/invite",
        headers=attacker.headers,
        json={"email": victim.email, "role": "viewer"},
    )
    assert invited.status_code == 201, invited.text
    token, tries = invited.json()["token"], stack.settings.login_max_failures
    for i in range(tries):  # each guess from an address of its own: no per-address throttle
        reply = api.post(
            "/api/v1/auth/register",
            headers=address(),
            json={"token": token, "password": f"guess-{i}-1234"},
        )
        assert reply.status_code == (429 if i == tries - 1 else 401), reply.text
    refused = api.post(
        "/api/v1/auth/register",
        headers=address(),
        json={"token": token, "password": victim.password},
    )
    assert "locked" in problem_of(refused, 429)["detail"]
    assert int(refused.headers["Retry-After"]) > 0
    # The account itself is locked for sign-in too, and the attempts are in its audit trail.
    problem_of(
        api.post(
            LOGIN, headers=address(), json={"email": victim.email, "password": victim.password}
        ),
        429,
    )
    wait_for_audit(
        api,
        attacker.headers,
        action="auth.accept_invitation",
        status="failure",
        resource_name=victim.email,
    )


def test_an_invitation_asks_an_account_with_mfa_for_its_code(api, stack):
    """Joining another organization as an existing account is a sign-in of it: with MFA on, the
    password alone does not do (else a stolen password, without the second factor, would put the
    account in the thief's organization, whose admin could then reset its MFA)."""
    victim, attacker = signup(api), signup(api)
    secret = api.post("/api/v1/auth/mfa/enable", headers=victim.headers).json()["secret"]
    totp = pyotp.TOTP(secret)
    assert (
        api.post(
            "/api/v1/auth/mfa/verify", headers=victim.headers, json={"code": totp.now()}
        ).status_code
        == 200
    )
    token = api.post(
        "/api/v1/users/invite",
        headers=attacker.headers,
        json={"email": victim.email, "role": "viewer"},
    ).json()["token"]

    missing = problem_of(
        api.post(
            "/api/v1/auth/register",
            headers=address(),
            json={"token": token, "password": victim.password},
        ),
        401,
    )
    assert missing["detail"].startswith("MFA code required") and missing["mfa_required"] is True
    wrong = problem_of(
        api.post(
            "/api/v1/auth/register",
            headers=address(),
            json={"token": token, "password": victim.password, "code": "000000"},
        ),
        401,
    )
    assert "not valid" in wrong["detail"]
    members = api.get("/api/v1/users", headers=attacker.headers).json()["items"]
    assert victim.email not in [m["email"] for m in members]

    # With the code of the next step (the current one was used to turn MFA on), it joins.
    joined = api.post(
        "/api/v1/auth/register",
        headers=address(),
        json={"token": token, "password": victim.password, "code": totp.at(time.time() + 30)},
    )
    assert joined.status_code == 201, joined.text
    assert joined.json()["organization"]["id"] == attacker.org_id


def test_a_burst_of_bad_api_keys_is_refused_before_argon2(api, stack):
    limit = stack.settings.auth_failures_per_ip
    owner = signup(api)
    key = api.post(KEYS, headers=owner.headers, json={"name": "real"}).json()["key"]
    wrong = key[:13] + "x" * (len(key) - 13)  # the real key's prefix (its row), another secret

    unknown, client = address(), address()
    before = argon2_checks(api, "api_key")
    for _ in range(20):  # a prefix that names no key: refused without hashing
        reply = api.get(ME, headers={**unknown, "X-API-Key": "jsc_00000000_" + "y" * 43})
        assert reply.status_code == 401, reply.text
    assert argon2_checks(api, "api_key") == before

    statuses = [
        api.get(ME, headers={**client, "X-API-Key": wrong}).status_code for _ in range(limit + 10)
    ]
    assert statuses == [401] * limit + [429] * 10, statuses
    assert argon2_checks(api, "api_key") - before == limit
    refused = api.get(ME, headers={**client, "Authorization": f"Bearer {wrong}"})
    assert "Too many" in problem_of(refused, 429)["detail"]
    assert int(refused.headers["Retry-After"]) > 0
    problem_of(api.get(ME, headers={**client, "X-API-Key": key}), 429)  # blocked before any check
    assert argon2_checks(api, "api_key") - before == limit
    # The key itself works from another address.
    assert api.get(ME, headers={**address(), "X-API-Key": key}).status_code == 200


# -- no password in a log --------------------------------------------------------------------------


def test_the_admin_password_is_in_no_log_file(stack):
    logs = stack.data_dir / "logs"
    files = [p for p in logs.rglob("*") if p.is_file()]
    assert files, f"no log files in {logs}"
    for path in files:
        assert stack.admin_password.encode() not in path.read_bytes(), path
    # jsc up's terminal summary does not echo a password given in JSC_ADMIN_PASSWORD either.
    assert stack.admin_password not in stack.summary()


async def test_the_api_bootstrap_never_logs_a_password(api, stack, caplog):
    password = f"Given-{unique('pw')}"
    email = f"{unique('first-admin')}@example.com"
    given = stack.settings.model_copy(
        update={
            "admin_email": email,
            "admin_password": SecretStr(password),
            "admin_organization": unique("First Org"),
        }
    )
    with caplog.at_level(logging.DEBUG):
        await bootstrap(given)
    assert password not in caplog.text
    assert f"created the first admin {email}" in caplog.text
    assert api.post(LOGIN, json={"email": email, "password": password}).status_code == 200

    # Without JSC_ADMIN_PASSWORD the API creates no admin with a password nobody could see.
    caplog.clear()
    missing = stack.settings.model_copy(
        update={
            "admin_email": f"{unique('nobody')}@example.com",
            "admin_password": None,
            "admin_organization": unique("Other Org"),
        }
    )
    with caplog.at_level(logging.DEBUG):
        await bootstrap(missing)
    assert "set JSC_ADMIN_PASSWORD" in caplog.text
    assert (
        api.post(
            LOGIN, json={"email": missing.admin_email, "password": "anything-1234"}
        ).status_code
        == 401
    )


async def test_a_generated_password_is_returned_for_the_terminal_never_logged(api, stack, caplog):
    """``jsc up``'s path (``core.bootstrap.prepare`` in the launcher, which prints the summary on
    its terminal): a password it generates comes back once for the summary and reaches no log."""
    email = f"{unique('generated-admin')}@example.com"
    fresh = stack.settings.model_copy(
        update={
            "admin_email": email,
            "admin_password": None,
            "admin_organization": unique("Gen Org"),
        }
    )
    with caplog.at_level(logging.DEBUG):
        result = await prepare(fresh)
        again = await prepare(fresh)  # a second start: the password is not shown again
    password = result.generated_password
    assert result.created and password and again.generated_password is None
    assert password not in caplog.text
    assert f"password: {password}" in summary(stack.info, email, password)
    assert api.post(LOGIN, json={"email": email, "password": password}).status_code == 200


# -- refresh-token reuse ---------------------------------------------------------------------------


async def _race(base_url: str, token: str) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        return list(
            await asyncio.gather(
                *(client.post(REFRESH, json={"refresh_token": token}) for _ in range(2))
            )
        )


@pytest.mark.parametrize("attempt", range(8))
def test_two_concurrent_refreshes_one_wins_and_the_family_is_revoked(api, stack, attempt):
    account = signup(api)
    first = account.tokens
    replies = asyncio.run(_race(stack.api_url, first["refresh_token"]))
    assert sorted(r.status_code for r in replies) == [200, 401], [r.text for r in replies]
    won = next(r for r in replies if r.status_code == 200).json()
    lost = problem_of(next(r for r in replies if r.status_code == 401), 401)
    assert "already used" in lost["detail"]
    # The whole family ends: the winner's new tokens and the first access token alike.
    assert api.post(REFRESH, json={"refresh_token": won["refresh_token"]}).status_code == 401
    assert api.get(ME, headers=bearer(won["access_token"])).status_code == 401
    assert api.get(ME, headers=bearer(first["access_token"])).status_code == 401
    fresh = api.post(LOGIN, json={"email": account.email, "password": account.password}).json()
    wait_for_audit(
        api,
        bearer(fresh["access_token"]),
        action="auth.refresh",
        status="denied",
        resource_name=account.email,
    )
