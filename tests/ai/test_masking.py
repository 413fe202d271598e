"""ai.masking, as tables: what is masked (with which placeholder), what stays readable, and the
payload truncation. Pure: no stack."""

from __future__ import annotations

import base64
import json
import random
import uuid

import pytest

from ai.masking import is_secret_key, mask_text, mask_value, truncate_payload

PEM_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1c2x9Qm3Zr8tW0u5y3b1xk\n"
    "q9m2Lr0c3hX7yP1sZb0w==\n-----END RSA PRIVATE KEY-----"
)
NATS_CREDS = (
    "-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJqdGkiOiJBQk"
    "MifQ.c2lnbmF0dXJl\n------END NATS USER JWT------\n\n************************* IMPORTANT "
    "*************************\n-----BEGIN USER NKEY SEED-----\n"
    "SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY\n------END USER NKEY SEED------\n"
)
SEED = "SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PUBLIC_NKEY = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4"  # a user's public key
SERVER_ID = "NDJWE4SOUJOJT2TFZZ2A5GCXKIDEVTGAC3XYMBZKHSBZQVJYZWOIZ7T5"

MASKED = [
    # (text, secret that must be gone, placeholder that must be there)
    ("contact alice@example.org today", "alice@example.org", "[email]"),
    ("mail: Bob.Smith+ops@mail.eu.example.com.", "Bob.Smith+ops@mail.eu.example.com", "[email]"),
    ("card 4111 1111 1111 1111 on file", "4111 1111 1111 1111", "[card ****1111]"),
    ("card 5500-0000-0000-0004", "5500-0000-0000-0004", "[card ****0004]"),
    ("amex 378282246310005.", "378282246310005", "[card ****0005]"),
    ("pan=4012888888881881", "4012888888881881", "[card ****1881]"),
    (f"token {JWT}", JWT, "[jwt]"),
    ("Authorization: Bearer abc123.DEF-456_ghi", "abc123.DEF-456_ghi", "Authorization: [masked]"),
    ("curl -H 'X: Bearer t0k3n-value-123456'", "t0k3n-value-123456", "Bearer [token]"),
    ("sent Basic dXNlcjpwYXNzd29yZA== to it", "dXNlcjpwYXNzd29yZA==", "Basic [token]"),
    ("key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "sk-ant-api03-AbCdEf", "[api key]"),
    ("openai sk-proj-1234567890abcdefghijklmnop", "sk-proj-1234567890", "[api key]"),
    ("aws AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE", "[api key]"),
    (
        "gh ghp_16C7e42F292c6912E7710c838347Ae178B4a end",
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "[api key]",
    ),
    (
        "slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "xoxb-1234567890",
        "[api key]",
    ),
    ("google AIzaSyA-1234567890abcdefghijklmnopqrstu", "AIzaSyA-1234567890", "[api key]"),
    (
        "console jsc_ab12cd34_Zx9-Q2mLkP0aVb7Rt5yUw3sDf1gHj",
        "Zx9-Q2mLkP0aVb7Rt5yUw3sDf1gHj",
        "jsc_ab12cd34_[api key]",
    ),
    (PEM_KEY, "MIIEpAIBAAKCAQEA1c2x9Qm3Zr8tW0u5y3b1xk", "[private key]"),
    (
        "cut -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        "MIIEvQIBADAN",
        "[private key]",
    ),
    (NATS_CREDS, SEED, "[nats credentials]"),
    (NATS_CREDS, "eyJ0eXAiOiJKV1Qi", "[nats credentials]"),
    (f"seed {SEED} leaked", SEED, "[nkey seed]"),
    ("password=hunter2 user=bob", "hunter2", "password=[masked] user=bob"),
    ("DB_PASSWORD: s3cr3t!", "s3cr3t!", "DB_PASSWORD: [masked]"),
    (
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI",
        "AWS_SECRET_ACCESS_KEY=[masked]",
    ),
    ('{"user": "bob", "password": "hunter2"}', "hunter2", '"password": "[masked]"'),
    ('{"api_key": 12345678}', "12345678", '"api_key": "[masked]"'),
    ('{\\"client_secret\\": \\"abc def\\"}', "abc def", '\\"client_secret\\": \\"[masked]\\"'),
    (
        "https://example.com/cb?access_token=abc.def&state=1",
        "abc.def",
        "access_token=[masked]&state=1",
    ),
    ("x-api-key: 0123-abcd", "0123-abcd", "x-api-key: [masked]"),
    (
        "nats://app:pa55word@nats.example.com:4222",
        "pa55word",
        "nats://app:[masked]@nats.example.com",
    ),
    ("nats://s3cr3tt0k3n@10.0.0.1:4222", "s3cr3tt0k3n", "nats://[masked]@10.0.0.1:4222"),
    (
        "digest 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "9f86d081884c7d659a2f",
        "[secret]",
    ),
    ("blob q8Zt0Yk2+Lw9aB3nR7xV/1mP4sE6uJ5cH0dG2fK8= end", "q8Zt0Yk2+Lw9aB3n", "[secret]"),
    ("hex 0123456789abcdef0123456789ABCDEF", "0123456789abcdef0123456789ABCDEF", "[secret]"),
]

KEPT = [
    "Consumer orders-worker on ORDERS lags by 1,204 messages since 2024-11-28T10:15:00Z.",
    "cluster 3f2c9a0e-8d41-4b7a-9c55-1e2f3a4b5c6d and stream 123e4567-e89b-12d3-a456-426614174000",
    "12345678-1234-1234-1234-123456789012",  # an all-digit UUID is not a card
    "subjects orders.eu.west.> and events.*.created; queue jsc-operations",
    f"server {SERVER_ID} account ADKJWE4SOUJOJT2TFZZ2A5GCXKIDEVTGAC3XYMBZKHSBZQVJYZWOIZ7T "
    f"user {PUBLIC_NKEY}",
    "jsc_mirror_0123456789abcdef0123456789abcdef and jsc_events, jsc_dr_active",
    "ORDERS_EU_WEST_1_ARCHIVE_2024_BACKUP_STREAM and "
    "orders-processor-v2-eu-west-1-primary-consumer",
    "/var/lib/jsc/data/jetstream/ORDERS/msgs/1.blk and https://nats.example.com:8222/jsz?accounts=1",
    "timestamps 1700000000000 1732790100123456789 and sequence 4111 and 0.41111111111111111",
    "max_tokens: 2048, tokens: 15, token_count=3, password_hint: ask bob, secret_name: db",
    "the password is wrong; a token expired; Bearer tokens are short; Basic information here",
    "git@github.com:acme/jsc-config.git at commit 3f2a9c0e1b4d5f6a7b8c9d0e1f2a3b4c5d6e7f80",
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUJ3\n-----END CERTIFICATE-----",
    "password: null, token: '' and secret=***",
    "ThisIsAVeryLongJavaClassNameForTheFactory and snake_case_identifier_that_is_long_enough",
]


@pytest.mark.parametrize("text, secret, placeholder", MASKED)
def test_secrets_in_text_are_masked(text, secret, placeholder):
    masked = mask_text(text)
    assert secret not in masked and placeholder in masked, masked
    assert mask_text(masked) == masked  # masking twice changes nothing more


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_text_stays_as_it_is(text):
    assert mask_text(text) == text


def test_masked_text_keeps_its_surroundings():
    text = (
        "alice@example.org paid with 4111 1111 1111 1111 for ORDERS (cluster "
        "3f2c9a0e-8d41-4b7a-9c55-1e2f3a4b5c6d)."
    )
    assert mask_text(text) == (
        "[email] paid with [card ****1111] for ORDERS (cluster "
        "3f2c9a0e-8d41-4b7a-9c55-1e2f3a4b5c6d)."
    )


def test_card_numbers_need_luhn_and_one_kind_of_separator():
    assert mask_text("4111 1111 1111 1112") == "4111 1111 1111 1112"  # Luhn fails
    assert mask_text("4111 1111-1111 1111") == "4111 1111-1111 1111"  # mixed separators
    assert mask_text("14111111111111111") == "14111111111111111"  # no issuer starts with 1


def test_random_secrets_are_masked_whatever_their_alphabet():
    rng = random.Random(15)
    for _ in range(300):
        raw = rng.randbytes(rng.choice([24, 32, 48]))
        for secret in (
            raw.hex(),
            base64.b64encode(raw).decode(),
            base64.urlsafe_b64encode(raw).decode().rstrip("="),
        ):
            masked = mask_text(f"value {secret} end")
            assert secret not in masked, secret


@pytest.mark.parametrize(
    "name, secret",
    [
        ("password", True),
        ("db_password", True),
        ("apiKey", True),
        ("x-api-key", True),
        ("access_token", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("client_secret", True),
        ("Authorization", True),
        ("credentials", True),
        ("private_key", True),
        ("jwt", True),
        ("max_tokens", False),
        ("token_count", False),
        ("password_hint", False),
        ("name", False),
        ("secret_name", False),
        ("key", False),
        ("nkey", False),
        ("subject", False),
    ],
)
def test_secret_key_names(name, secret):
    assert is_secret_key(name) is secret


def test_mask_value_walks_dicts_and_lists():
    cluster_id = str(uuid.uuid4())
    value = {
        "cluster_id": cluster_id,
        "stream": "ORDERS",
        "config": {
            "subjects": ["orders.>"],
            "max_bytes": 1_000_000,
            "description": "mail ops@example.com",
        },
        "credentials": {"user": "app", "password": "hunter2", "extra": [1, "x"], "none": None},
        "headers": {
            "Authorization": ["Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"],
            "Nats-Msg-Id": "9f86d081884c7d659a2feaa0c55ad015",
        },
        "payload": '{"card": "4111111111111111", "email": "bob@example.org", "ok": "plain words"}',
        "card_as_number": 4111111111111111,
        "has_password": True,
        "commit": "3f2a9c0e1b4d5f6a7b8c9d0e1f2a3b4c5d6e7f80",
        "alice@example.org": "a key that is an address",
        "items": ({"token": "t-1"}, "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz012"),
        "ratio": 0.5,
        "count": 3,
        "empty": "",
    }
    masked = mask_value(value)
    assert masked["cluster_id"] == cluster_id and masked["stream"] == "ORDERS"
    assert masked["config"] == {
        "subjects": ["orders.>"],
        "max_bytes": 1_000_000,
        "description": "mail [email]",
    }
    assert masked["credentials"] == {
        "user": "[masked]",
        "password": "[masked]",
        "extra": ["[masked]", "[masked]"],
        "none": None,
    }
    assert masked["headers"] == {
        "Authorization": ["[masked]"],
        "Nats-Msg-Id": "9f86d081884c7d659a2feaa0c55ad015",
    }
    payload = json.loads(masked["payload"])  # still JSON
    assert payload == {"card": "[card ****1111]", "email": "[email]", "ok": "plain words"}
    assert masked["card_as_number"] == "[card ****1111]"
    assert masked["has_password"] is True
    assert masked["commit"] == value["commit"]
    assert "alice@example.org" not in masked and masked["[email]"] == "a key that is an address"
    assert masked["items"] == [{"token": "[masked]"}, "[api key]"]
    assert (masked["ratio"], masked["count"], masked["empty"]) == (0.5, 3, "")
    assert value["credentials"]["password"] == "hunter2"  # the input is not changed


# -- truncate_payload --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, limit, expected",
    [
        (b"", 512, ("", False, "utf-8")),
        (b'{"order": 1}', 512, ('{"order": 1}', False, "utf-8")),
        (b"abcdef", 4, ("abcd", True, "utf-8")),
        ("héllo wörld".encode(), 512, ("héllo wörld", False, "utf-8")),
        # "é" is two bytes: a cut at byte 5 would split the third, so the text ends before it
        ("ééé".encode(), 5, ("éé", True, "utf-8")),
        ("日本語のテキスト".encode(), 7, ("日本", True, "utf-8")),
        ("😀😀".encode(), 7, ("😀", True, "utf-8")),
        (b"line one\nline\ttwo\r\n", 512, ("line one\nline\ttwo\r\n", False, "utf-8")),
        (b"\x00\x01\x02\xff", 512, ("AAEC/w==", False, "base64")),
        (b"\x08\x96\x01", 512, ("CJYB", False, "base64")),  # protobuf: valid UTF-8, still binary
        (bytes(range(256)), 8, (base64.b64encode(bytes(range(6))).decode(), True, "base64")),
        ("plain str", 512, ("plain str", False, "utf-8")),
    ],
)
def test_truncate_payload(data, limit, expected):
    text, truncated, encoding = truncate_payload(data, limit)
    assert (text, truncated, encoding) == expected
    assert len(text.encode() if encoding == "utf-8" else text) <= limit


def test_truncate_payload_of_long_binary_stays_within_the_limit():
    text, truncated, encoding = truncate_payload(random.Random(1).randbytes(5000))
    assert encoding == "base64" and truncated and len(text) <= 512
    assert len(base64.b64decode(text)) == 384


def test_truncate_payload_refuses_a_tiny_limit():
    with pytest.raises(ValueError, match="limit"):
        truncate_payload(b"abc", 0)
