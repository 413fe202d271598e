"""Who sent a push notification, and what it says: the signatures of GitHub, GitLab and a generic
HMAC sender, checked in constant time, and the branch and commit a push names.

- GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>``, ``X-GitHub-Event``,
  ``X-GitHub-Delivery``.
- GitLab: ``X-Gitlab-Token: <secret>``, ``X-Gitlab-Event``, ``X-Gitlab-Event-UUID``.
- Generic: ``X-JSC-Signature: sha256=<hex HMAC-SHA256(secret, body)>``, ``X-JSC-Delivery``,
  optional ``X-JSC-Event`` (default ``push``).

A delivery without its id gets one derived from the body's digest, so a replay is still seen.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

SHA_LEN = 40


class SignatureError(Exception):
    """No valid signature: the request is not from who holds the secret."""


@dataclass(frozen=True)
class Delivery:
    provider: str  # "github" | "gitlab" | "generic"
    delivery_id: str
    event: str  # "push", "ping", or the provider's event name


@dataclass(frozen=True)
class Push:
    ref: str
    branch: str | None  # None when the ref is not a branch (a tag)
    commit: str


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _hmac_ok(secret: str, body: bytes, header: str) -> bool:
    algorithm, _, given = header.strip().partition("=")
    if algorithm.lower() != "sha256" or not given:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())


def _delivery_id(given: str | None, body: bytes) -> str:
    return (given or "").strip()[:200] or "sha256:" + hashlib.sha256(body).hexdigest()


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> Delivery:
    """The delivery, when the request carries a valid signature for ``secret``; else
    :class:`SignatureError`."""
    h = _lower(headers)
    if not secret:
        raise SignatureError("no webhook secret")
    if "x-hub-signature-256" in h:
        if not _hmac_ok(secret, body, h["x-hub-signature-256"]):
            raise SignatureError("bad GitHub signature")
        return Delivery(
            "github",
            _delivery_id(h.get("x-github-delivery"), body),
            h.get("x-github-event", "push").strip().lower(),
        )
    if "x-gitlab-token" in h:
        if not hmac.compare_digest(h["x-gitlab-token"].encode(), secret.encode()):
            raise SignatureError("bad GitLab token")
        event = h.get("x-gitlab-event", "Push Hook").strip().lower()
        return Delivery(
            "gitlab",
            _delivery_id(h.get("x-gitlab-event-uuid"), body),
            "push" if event == "push hook" else event,
        )
    if "x-jsc-signature" in h:
        if not _hmac_ok(secret, body, h["x-jsc-signature"]):
            raise SignatureError("bad signature")
        return Delivery(
            "generic",
            _delivery_id(h.get("x-jsc-delivery"), body),
            h.get("x-jsc-event", "push").strip().lower(),
        )
    raise SignatureError("no signature")


def push_of(delivery: Delivery, body: bytes) -> Push | None:
    """The branch and commit a push names; None when the body is not a push this platform acts on
    (a branch deletion, no commit, not JSON)."""
    if delivery.event != "push":
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    ref = data.get("ref")
    commit = data.get("checkout_sha") or data.get("after") or data.get("commit")
    if not isinstance(ref, str) or not isinstance(commit, str):
        return None
    commit = commit.strip().lower()
    if len(commit) != SHA_LEN or set(commit) - set("0123456789abcdef") or set(commit) == {"0"}:
        return None  # a deleted branch pushes the all-zero sha
    branch = ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else None
    if branch is None and not ref.startswith("refs/"):
        branch = ref  # the generic sender may name the branch alone
    return Push(ref=ref, branch=branch, commit=commit)
