"""gitops.signatures: GitHub, GitLab and generic webhook signatures, and the push they announce."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from gitops.signatures import Delivery, Push, SignatureError, push_of, sign, verify

SECRET = "a-webhook-secret-of-32-characters!"
SHA = "0123456789abcdef0123456789abcdef01234567"
BODY = json.dumps({"ref": "refs/heads/main", "after": SHA, "head_commit": {"id": SHA}}).encode()


def github_sig(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github(body: bytes = BODY, **extra) -> dict[str, str]:
    return {"X-Hub-Signature-256": github_sig(body), "X-GitHub-Event": "push",
            "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", **extra}


# --- verify -----------------------------------------------------------------------------------

def test_github_good_signature():
    assert verify(github(), BODY, SECRET) == Delivery("github", "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                                                      "push")


def test_headers_are_case_insensitive_and_the_hex_may_be_upper_case():
    headers = {k.lower(): v for k, v in github().items()}
    headers["x-hub-signature-256"] = "sha256=" + headers["x-hub-signature-256"][7:].upper()
    assert verify(headers, BODY, SECRET).provider == "github"


def test_sign_is_what_verify_expects():
    assert sign(SECRET, BODY) == github_sig(BODY)


@pytest.mark.parametrize("headers", [
    github(**{"X-Hub-Signature-256": github_sig(BODY, "another secret")}),  # wrong secret
    github(**{"X-Hub-Signature-256": github_sig(BODY + b" ")}),  # another body
    github(**{"X-Hub-Signature-256": github_sig(BODY)[7:]}),  # no sha256= prefix
    github(**{"X-Hub-Signature-256": "sha1=" + hmac.new(SECRET.encode(), BODY, "sha1").hexdigest()}),
    github(**{"X-Hub-Signature-256": "sha256="}),
    github(**{"X-Hub-Signature-256": "sha256=" + "z" * 64}),
    github(**{"X-Hub-Signature-256": github_sig(BODY)[:-2]}),  # truncated
    github(**{"X-Hub-Signature-256": github_sig(BODY) + "00"}),  # too long
    github(**{"X-Hub-Signature-256": "sha256=" + "a" * 5000}),
])
def test_github_bad_signatures(headers):
    with pytest.raises(SignatureError):
        verify(headers, BODY, SECRET)


def test_missing_signature():
    for headers in ({}, {"X-GitHub-Event": "push", "X-GitHub-Delivery": "d"},
                    {"X-Gitlab-Event": "Push Hook"},
                    {"X-Hub-Signature": "sha1=" + hmac.new(SECRET.encode(), BODY, "sha1").hexdigest()}):
        with pytest.raises(SignatureError, match="no signature"):
            verify(headers, BODY, SECRET)


def test_a_repository_without_a_secret_accepts_nothing():
    for secret in ("", None):
        with pytest.raises(SignatureError):
            verify(github(), BODY, secret)
    with pytest.raises(SignatureError):  # even a signature made with the empty key
        verify({"X-Hub-Signature-256": github_sig(BODY, "")}, BODY, "")


def test_gitlab_token():
    headers = {"X-Gitlab-Token": SECRET, "X-Gitlab-Event": "Push Hook",
               "X-Gitlab-Event-UUID": "2b2c7b13-1b9e-4b49-9a1d-1c0a4b0d1d7e"}
    assert verify(headers, BODY, SECRET) == Delivery(
        "gitlab", "2b2c7b13-1b9e-4b49-9a1d-1c0a4b0d1d7e", "Push Hook")
    for token in (SECRET[:-1], SECRET + "x", SECRET.upper(), "", github_sig(BODY), " " + SECRET):
        with pytest.raises(SignatureError):
            verify({**headers, "X-Gitlab-Token": token}, BODY, SECRET)


def test_generic_signature_with_delivery_and_default_event():
    body = json.dumps({"ref": "main", "commit": SHA}).encode()
    headers = {"X-JSC-Signature": sign(SECRET, body), "X-JSC-Delivery": "d-1"}
    assert verify(headers, body, SECRET) == Delivery("generic", "d-1", "push")
    with pytest.raises(SignatureError):
        verify({**headers, "X-JSC-Signature": sign("other", body)}, body, SECRET)


def test_a_delivery_without_an_id_is_named_by_its_body():
    first = verify({"X-Hub-Signature-256": github_sig(BODY), "X-GitHub-Event": "push"}, BODY, SECRET)
    again = verify({"X-Hub-Signature-256": github_sig(BODY), "X-GitHub-Event": "push"}, BODY, SECRET)
    assert first.delivery_id == again.delivery_id == "body:" + hashlib.sha256(BODY).hexdigest()


def test_provider_header_combinations():
    # two signature headers: refused, even when both are right
    both = {**github(), "X-Gitlab-Token": SECRET}
    with pytest.raises(SignatureError, match="more than one"):
        verify(both, BODY, SECRET)
    with pytest.raises(SignatureError):
        verify({**github(), "X-JSC-Signature": sign(SECRET, BODY)}, BODY, SECRET)
    # a GitLab token with GitHub's event headers: the event and id are GitLab's (absent)
    mixed = {"X-Gitlab-Token": SECRET, "X-GitHub-Event": "push", "X-GitHub-Delivery": "gh-1"}
    delivery = verify(mixed, BODY, SECRET)
    assert delivery.provider == "gitlab" and delivery.event == ""
    assert delivery.delivery_id.startswith("body:")
    assert push_of(delivery.provider, delivery.event, BODY) is None
    # a GitHub signature with GitLab's event header: GitHub's event header counts (absent)
    delivery = verify({"X-Hub-Signature-256": github_sig(BODY), "X-Gitlab-Event": "Push Hook"},
                      BODY, SECRET)
    assert delivery.provider == "github" and delivery.event == ""


# --- push_of ----------------------------------------------------------------------------------

def test_github_push_gives_ref_commit_and_branch():
    assert push_of("github", "push", BODY) == Push("refs/heads/main", SHA, "main")
    body = json.dumps({"ref": "refs/heads/team/feature-1", "after": SHA.upper()}).encode()
    assert push_of("github", "push", body) == Push("refs/heads/team/feature-1", SHA, "team/feature-1")


def test_a_tag_push_has_no_branch():
    body = json.dumps({"ref": "refs/tags/v1.2", "after": SHA}).encode()
    assert push_of("github", "push", body) == Push("refs/tags/v1.2", SHA, None)
    body = json.dumps({"ref": "refs/tags/v1.2", "checkout_sha": SHA}).encode()
    assert push_of("gitlab", "Tag Push Hook", body) == Push("refs/tags/v1.2", SHA, None)


def test_ping_and_other_events_are_not_pushes():
    ping = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    assert push_of("github", "ping", ping) is None
    assert push_of("github", "pull_request", BODY) is None
    assert push_of("github", "", BODY) is None
    assert push_of("gitlab", "Merge Request Hook", BODY) is None
    assert push_of("generic", "release", BODY) is None
    assert push_of("bitbucket", "push", BODY) is None


def test_a_deleted_branch_is_not_a_push_to_sync():
    deleted = json.dumps({"ref": "refs/heads/main", "after": "0" * 40, "deleted": True}).encode()
    assert push_of("github", "push", deleted) is None
    gitlab = json.dumps({"ref": "refs/heads/main", "after": "0" * 40, "checkout_sha": None}).encode()
    assert push_of("gitlab", "Push Hook", gitlab) is None


def test_gitlab_push_prefers_checkout_sha():
    other = "f" * 40
    body = json.dumps({"ref": "refs/heads/main", "before": other, "after": other,
                       "checkout_sha": SHA}).encode()
    assert push_of("gitlab", "Push Hook", body) == Push("refs/heads/main", SHA, "main")


def test_generic_push_with_a_branch_name_or_a_full_ref():
    assert push_of("generic", "push", json.dumps({"ref": "main", "commit": SHA}).encode()) == \
        Push("refs/heads/main", SHA, "main")
    assert push_of("generic", "push",
                   json.dumps({"ref": "refs/heads/prod", "commit": SHA}).encode()).branch == "prod"


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b"null", json.dumps({"ref": "refs/heads/main"}).encode(),
    json.dumps({"ref": "refs/heads/main", "after": "abc"}).encode(),
    json.dumps({"ref": "refs/heads/main", "after": 123}).encode(),
    json.dumps({"ref": ["main"], "after": SHA}).encode(), b"\xff\xfe",
])
def test_bodies_that_are_not_pushes(body):
    assert push_of("github", "push", body) is None
