"""TOTP MFA: enable (secret sealed at rest), verify, sign-in then needs the code (once), disable;
an admin can reset it. Lockout after repeated failed sign-ins, ended early by an admin."""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid

import pyotp
from sqlalchemy import select

from core.db.models import User
from core.security import Cipher
from tests.api.orgs import PASSWORD, invite, signup
from tests.fixtures import wait_for_audit

LOGIN = "/api/v1/auth/login"
MFA = "/api/v1/auth/mfa"


def code(totp: pyotp.TOTP, steps: int = 0) -> str:
    """A code of the current 30-second step (or one next to it: each code is accepted once)."""
    return totp.at(time.time() + 30 * steps)


async def test_enable_verify_login_with_code_disable(api, db_sessions, stack):
    owner = signup(api)
    setup = api.post(f"{MFA}/enable", headers=owner.headers)
    assert setup.status_code == 200, setup.text
    secret, uri = setup.json()["secret"], setup.json()["provisioning_uri"]
    assert uri.startswith("otpauth://totp/") and "issuer=JetStream%20Console" in uri
    assert urllib.parse.quote(owner.email) in uri or owner.email in uri
    async with db_sessions() as db:
        user = await db.scalar(select(User).where(User.id == uuid.UUID(owner.user_id)))
    assert secret not in user.mfa_secret and not user.mfa_enabled
    cipher = Cipher(stack.env["JSC_ENCRYPTION_KEY"])
    assert (
        cipher.decrypt(json.loads(user.mfa_secret), context=f"user:{owner.user_id}:mfa") == secret
    )

    # Not on until a first code is verified.
    assert api.post(LOGIN, json={"email": owner.email, "password": PASSWORD}).status_code == 200
    totp = pyotp.TOTP(secret)
    first_code = code(totp)
    wrong = api.post(f"{MFA}/verify", headers=owner.headers, json={"code": "000000"})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "code"
    assert api.post(f"{MFA}/verify", headers=owner.headers, json={"code": first_code}).json() == {
        "mfa_enabled": True
    }
    assert api.get("/api/v1/auth/me", headers=owner.headers).json()["mfa_enabled"] is True
    assert api.post(f"{MFA}/enable", headers=owner.headers).status_code == 409

    missing = api.post(LOGIN, json={"email": owner.email, "password": PASSWORD})
    assert missing.status_code == 401
    assert missing.json()["detail"].startswith("MFA code required")
    assert missing.json()["mfa_required"] is True
    bad = api.post(LOGIN, json={"email": owner.email, "password": PASSWORD, "code": "123456"})
    assert bad.status_code == 401 and "not valid" in bad.json()["detail"]
    wrong_password = api.post(
        LOGIN, json={"email": owner.email, "password": "nope-nope", "code": code(totp, 1)}
    )
    assert wrong_password.status_code == 401
    assert wrong_password.json()["detail"] == "Incorrect email or password."
    good = code(totp, 1)
    used = {first_code, good}
    ok = api.post(LOGIN, json={"email": owner.email, "password": PASSWORD, "code": good})
    assert ok.status_code == 200, ok.text
    replay = api.post(LOGIN, json={"email": owner.email, "password": PASSWORD, "code": good})
    assert replay.status_code == 401  # a code is good once
    event = wait_for_audit(api, owner.headers, action="auth.login", status="failure")
    assert event["resource_name"] == owner.email

    assert (
        api.request(
            "DELETE", f"{MFA}/disable", headers=owner.headers, json={"code": "000000"}
        ).status_code
        == 400
    )
    # A code valid now that no earlier step of this test used (a 30 s boundary may have passed).
    unused = next(c for c in (code(totp, s) for s in (-1, 0, 1)) if c not in used)
    off = api.request("DELETE", f"{MFA}/disable", headers=owner.headers, json={"code": unused})
    assert off.status_code == 200 and off.json() == {"mfa_enabled": False}
    assert api.post(LOGIN, json={"email": owner.email, "password": PASSWORD}).status_code == 200
    assert (
        api.request(
            "DELETE", f"{MFA}/disable", headers=owner.headers, json={"code": code(totp)}
        ).status_code
        == 409
    )


def test_an_admin_resets_a_members_mfa(api):
    owner = signup(api)
    person = invite(api, owner, "viewer")
    secret = api.post(f"{MFA}/enable", headers=person.headers).json()["secret"]
    api.post(f"{MFA}/verify", headers=person.headers, json={"code": pyotp.TOTP(secret).now()})
    assert api.post(LOGIN, json={"email": person.email, "password": PASSWORD}).status_code == 401
    assert (
        api.delete(f"/api/v1/users/{person.user_id}/mfa", headers=person.headers).status_code == 403
    )
    reset = api.delete(f"/api/v1/users/{person.user_id}/mfa", headers=owner.headers)
    assert reset.status_code == 200 and reset.json() == {"mfa_enabled": False}
    assert api.post(LOGIN, json={"email": person.email, "password": PASSWORD}).status_code == 200


def test_lockout_after_repeated_failed_sign_ins(api, stack):
    owner = signup(api)
    person = invite(api, owner, "viewer")
    attempts = stack.settings.login_max_failures
    for _ in range(attempts - 1):
        assert (
            api.post(LOGIN, json={"email": person.email, "password": "wrong-password"}).status_code
            == 401
        )
    locking = api.post(LOGIN, json={"email": person.email, "password": "wrong-password"})
    assert locking.status_code == 429
    assert int(locking.headers["Retry-After"]) > 0 and "locked" in locking.json()["detail"]
    right = api.post(LOGIN, json={"email": person.email, "password": PASSWORD})
    assert (
        right.status_code == 429
        and int(right.headers["Retry-After"]) <= stack.settings.login_lockout_s
    )
    event = wait_for_audit(
        api, owner.headers, action="auth.login", status="denied", user_id=person.user_id
    )
    assert "locked" in event["error_message"]
    # Unknown addresses are refused alike, and lock alike (nothing tells them apart).
    for _ in range(attempts):
        api.post(LOGIN, json={"email": "nobody-" + person.email, "password": "x-wrong-1"})
    assert (
        api.post(
            LOGIN, json={"email": "nobody-" + person.email, "password": "x-wrong-1"}
        ).status_code
        == 429
    )

    assert api.post(f"/api/v1/users/{person.user_id}/unlock", headers=owner.headers).json() == {
        "locked": False
    }
    assert api.post(LOGIN, json={"email": person.email, "password": PASSWORD}).status_code == 200
