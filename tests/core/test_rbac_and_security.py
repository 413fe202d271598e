"""The built-in roles of the source design as an allow/deny table; tokens and encryption."""

from __future__ import annotations

import uuid

import pytest
from cryptography.exceptions import InvalidTag

from core.rbac import allows, permissions_for_role
from core.security import (
    Cipher,
    TokenError,
    decode_access_token,
    hash_password,
    issue_access_token,
    verify_password,
)

TABLE = [
    # permission           admin  editor viewer operator
    ("clusters:read", True, True, True, True),
    ("clusters:create", True, False, False, False),
    ("clusters:delete", True, False, False, False),
    ("streams:read", True, True, True, True),
    ("streams:create", True, True, False, False),
    ("streams:update", True, True, False, False),
    ("streams:delete", True, False, False, False),
    ("streams:purge", True, False, False, False),
    ("consumers:create", True, True, False, False),
    ("consumers:delete", True, True, False, False),
    ("consumers:pause", True, False, False, True),
    ("messages:publish", True, True, False, True),
    ("kv_stores:update", True, True, False, True),
    ("audit_logs:read", True, False, False, False),
    ("users:manage", True, False, False, False),
]


@pytest.mark.parametrize("permission, admin, editor, viewer, operator", TABLE)
def test_builtin_roles(permission, admin, editor, viewer, operator):
    expected = {"admin": admin, "editor": editor, "viewer": viewer, "operator": operator}
    for role, allowed in expected.items():
        assert allows(permissions_for_role(role), permission) is allowed, (role, permission)


def test_unknown_role_has_nothing_and_manage_covers_every_action():
    assert not allows(permissions_for_role("nobody"), "clusters:read")
    assert allows(frozenset({"streams:manage:*"}), "streams:purge")
    assert not allows(frozenset({"streams:manage:*"}), "consumers:read")
    assert allows(frozenset({"streams:read:team:1"}), "streams:read", scope="team:1")
    assert not allows(frozenset({"streams:read:team:1"}), "streams:read", scope="team:2")


def test_passwords():
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2")
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "wrong")
    assert not verify_password(None, "anything")


def test_access_tokens():
    ids = dict(user_id=uuid.uuid4(), org_id=uuid.uuid4(), session_id=uuid.uuid4())
    token = issue_access_token("k" * 32, role="viewer", ttl_s=60, **ids)
    claims = decode_access_token("k" * 32, token)
    assert claims["role"] == "viewer" and claims["sub"] == str(ids["user_id"])
    with pytest.raises(TokenError):
        decode_access_token("another-key" * 3, token)
    with pytest.raises(TokenError):
        decode_access_token("k" * 32, issue_access_token("k" * 32, role="x", ttl_s=-10, **ids))


def test_cipher_round_trip_is_bound_to_its_context():
    cipher = Cipher(Cipher.generate_key())
    envelope = cipher.encrypt({"password": "p"}, context="cluster:1")
    assert 'p"' not in envelope["ct"]
    assert cipher.decrypt(envelope, context="cluster:1") == {"password": "p"}
    with pytest.raises(InvalidTag):
        cipher.decrypt(envelope, context="cluster:2")
    with pytest.raises(ValueError):
        Cipher("c2hvcnQ=")


def test_token_lifetimes_default_to_15_minutes_and_7_days(monkeypatch):
    from core.settings import Settings

    for key in ("JSC_ACCESS_TOKEN_TTL_S", "JSC_REFRESH_TOKEN_TTL_S"):
        monkeypatch.delenv(key, raising=False)
    settings = Settings()
    assert settings.access_token_ttl_s == 15 * 60
    assert settings.refresh_token_ttl_s == 7 * 24 * 3600


def test_server_metadata_is_never_a_users_change():
    from core.audit import config_diff

    before = {"max_msgs": -1, "metadata": {"_nats.ver": "2.14.0", "owner": "a"}}
    after = {"max_msgs": -1, "metadata": {"_nats.ver": "2.15.1", "_nats.level": "1", "owner": "a"}}
    assert config_diff(before, after) == {}
    after["metadata"]["owner"] = "b"
    assert config_diff(before, after) == {
        "metadata": {"before": {"owner": "a"}, "after": {"owner": "b"}}
    }
