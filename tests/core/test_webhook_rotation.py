"""Webhook secret rotation, the pure parts (no server): a delivery during the grace is signed with
the new and the replaced secret in one ``X-JSC-Signature`` (new first, comma-separated), a
receiver's ``verify`` accepts either, a second rotation replaces the previous secret, a grace of 0
or an unreadable replaced secret leaves no previous one, and after the grace only the new signs.
The same through the API and a real delivery: tests/api/test_webhook_rotation.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.exceptions import InvalidTag

from core.db.models import Webhook
from core.notify.delivery import (
    open_secret,
    previous_valid_until,
    rotate_secret,
    seal_secret,
    signing_secrets,
)
from core.notify.webhooks import sign, signature_header, signed_headers, verify
from core.security import Cipher

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
DAY = 24 * 3600
BODY = b'{"text":"hello"}'


@pytest.fixture
def cipher() -> Cipher:
    return Cipher(Cipher.generate_key())


def hook(cipher: Cipher, secret: str = "the-first-secret-0123") -> Webhook:
    webhook_id = uuid.uuid4()
    return Webhook(
        id=webhook_id,
        org_id=uuid.uuid4(),
        name="h",
        url="https://h.example/x",
        secret=seal_secret(cipher, webhook_id, secret),
        events=[],
        enabled=True,
    )


def test_one_secret_one_signature():
    header = signed_headers("s" * 20, "test", "d-1", BODY, timestamp=1_700_000_000)
    assert header["X-JSC-Signature"] == sign("s" * 20, 1_700_000_000, BODY)
    assert "," not in header["X-JSC-Signature"]
    assert verify("s" * 20, 1_700_000_000, BODY, header["X-JSC-Signature"])


def test_two_secrets_two_signatures_either_verifies():
    header = signature_header(["new-secret-abcdefgh", "old-secret-abcdefgh"], 1_700_000_000, BODY)
    first, second = header.split(",")
    assert first == sign("new-secret-abcdefgh", 1_700_000_000, BODY)  # the new one first
    assert second == sign("old-secret-abcdefgh", 1_700_000_000, BODY)
    for secret in ("new-secret-abcdefgh", "old-secret-abcdefgh"):
        assert verify(secret, 1_700_000_000, BODY, header)
        assert verify(secret, 1_700_000_000, BODY, header.replace(",", ", "))  # spaces tolerated
    assert not verify("another-secret-abcd", 1_700_000_000, BODY, header)
    assert not verify("new-secret-abcdefgh", 1_700_000_001, BODY, header)
    assert not verify("new-secret-abcdefgh", 1_700_000_000, BODY + b" ", header)
    assert not verify("new-secret-abcdefgh", 1_700_000_000, BODY, "")
    with pytest.raises(ValueError):
        signature_header([], 1, BODY)


def test_rotation_keeps_the_replaced_secret_for_the_grace(cipher):
    webhook = hook(cipher)
    assert signing_secrets(cipher, webhook, NOW) == ["the-first-secret-0123"]
    until = rotate_secret(cipher, webhook, "the-second-secret-012", grace_s=DAY, now=NOW)
    assert until == NOW + timedelta(seconds=DAY)
    assert open_secret(cipher, webhook) == "the-second-secret-012"
    assert "the-first-secret-0123" not in str(webhook.previous_secret)  # sealed
    assert signing_secrets(cipher, webhook, NOW) == [
        "the-second-secret-012",
        "the-first-secret-0123",
    ]
    assert previous_valid_until(webhook, NOW) == until
    almost = until - timedelta(seconds=1)
    assert len(signing_secrets(cipher, webhook, almost)) == 2
    # from the end of the grace on, only the new secret signs
    assert signing_secrets(cipher, webhook, until) == ["the-second-secret-012"]
    assert previous_valid_until(webhook, until) is None


def test_rotating_again_replaces_the_previous_secret(cipher):
    webhook = hook(cipher)
    rotate_secret(cipher, webhook, "the-second-secret-012", grace_s=DAY, now=NOW)
    later = NOW + timedelta(hours=1)
    until = rotate_secret(cipher, webhook, "the-third-secret-0123", grace_s=DAY, now=later)
    assert until == later + timedelta(seconds=DAY)
    assert signing_secrets(cipher, webhook, later) == [
        "the-third-secret-0123",
        "the-second-secret-012",
    ]


def test_no_grace_no_previous_secret(cipher):
    webhook = hook(cipher)
    assert rotate_secret(cipher, webhook, "the-second-secret-012", grace_s=0, now=NOW) is None
    assert webhook.previous_secret is None and webhook.previous_valid_until is None
    assert signing_secrets(cipher, webhook, NOW) == ["the-second-secret-012"]


def test_a_secret_sealed_with_a_lost_key_is_rotated_without_grace(cipher):
    webhook = hook(Cipher(Cipher.generate_key()))  # sealed with a key this server lacks
    with pytest.raises(InvalidTag):
        signing_secrets(cipher, webhook, NOW)
    assert rotate_secret(cipher, webhook, "the-second-secret-012", grace_s=DAY, now=NOW) is None
    assert signing_secrets(cipher, webhook, NOW) == ["the-second-secret-012"]


def test_an_unreadable_previous_secret_is_left_out(cipher):
    webhook = hook(cipher)
    rotate_secret(cipher, webhook, "the-second-secret-012", grace_s=DAY, now=NOW)
    webhook.previous_secret = Cipher(Cipher.generate_key()).encrypt("x", context="webhook:x")
    assert signing_secrets(cipher, webhook, NOW) == ["the-second-secret-012"]
