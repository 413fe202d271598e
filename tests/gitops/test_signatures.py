"""Webhook signatures of GitHub, GitLab and the generic sender, and what a push names."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from gitops.signatures import Delivery, SignatureError, push_of, verify

SECRET = "a-webhook-secret-of-some-length"
SHA = "3f2d1c" + "0" * 33 + "1"
BODY = json.dumps({"ref": "refs/heads/main", "after": SHA}).encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_github():
    d = verify(
        {"X-Hub-Signature-256": sign(BODY), "X-GitHub-Event": "push", "X-GitHub-Delivery": "abc-1"},
        BODY,
        SECRET,
    )
    assert d == Delivery("github", "abc-1", "push")
    assert push_of(d, BODY).commit == SHA and push_of(d, BODY).branch == "main"


def test_gitlab():
    body = json.dumps({"ref": "refs/heads/dev", "checkout_sha": SHA, "after": "1" * 40}).encode()
    d = verify(
        {"X-Gitlab-Token": SECRET, "X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": "u-1"},
        body,
        SECRET,
    )
    assert d == Delivery("gitlab", "u-1", "push")
    assert push_of(d, body).commit == SHA and push_of(d, body).branch == "dev"


def test_generic():
    body = json.dumps({"ref": "main", "commit": SHA}).encode()
    d = verify({"x-jsc-signature": sign(body), "x-jsc-delivery": "g-1"}, body, SECRET)
    assert d == Delivery("generic", "g-1", "push") and push_of(d, body).branch == "main"


@pytest.mark.parametrize(
    "headers",
    [
        {},  # missing
        {"X-Hub-Signature-256": sign(BODY, "another-secret")},
        {"X-Hub-Signature-256": sign(BODY + b" ")},  # the body was changed
        {
            "X-Hub-Signature-256": "sha1="
            + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest()
        },
        {"X-Hub-Signature-256": "sha256="},
        {"X-Gitlab-Token": SECRET + "x"},
        {"X-Gitlab-Token": ""},
        {"X-JSC-Signature": sign(BODY, "x")},
    ],
)
def test_bad_or_missing_signatures_are_refused(headers):
    with pytest.raises(SignatureError):
        verify(headers, BODY, SECRET)


def test_an_empty_secret_never_verifies():
    with pytest.raises(SignatureError):
        verify({"X-Gitlab-Token": ""}, BODY, "")


def test_a_delivery_without_id_is_named_by_its_body():
    a = verify({"X-Hub-Signature-256": sign(BODY)}, BODY, SECRET)
    b = verify({"X-Hub-Signature-256": sign(BODY)}, BODY, SECRET)
    assert a.delivery_id == b.delivery_id and a.delivery_id.startswith("sha256:")


@pytest.mark.parametrize(
    "event,body",
    [
        ("ping", BODY),
        ("push", b"not json"),
        ("push", b"[1]"),
        ("push", json.dumps({"ref": "refs/heads/main", "after": "0" * 40}).encode()),  # deleted
        ("push", json.dumps({"ref": "refs/heads/main", "after": "xyz"}).encode()),
        ("push", json.dumps({"after": SHA}).encode()),
    ],
)
def test_what_is_not_a_push(event, body):
    assert push_of(Delivery("github", "d", event), body) is None


def test_a_tag_push_names_no_branch():
    body = json.dumps({"ref": "refs/tags/v1", "after": SHA}).encode()
    assert push_of(Delivery("github", "d", "push"), body).branch is None
