"""Webhook signatures of git hosts, and the push a verified delivery announces.

Three ways a delivery proves it knows the repository's webhook secret:

- GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`` with
  ``X-GitHub-Event`` (push, ping, ...) and ``X-GitHub-Delivery``;
- GitLab: ``X-Gitlab-Token: <secret>`` with ``X-Gitlab-Event`` ("Push Hook", ...) and
  ``X-Gitlab-Event-UUID``;
- generic: ``X-JSC-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`` with ``X-JSC-Delivery``
  (and optionally ``X-JSC-Event``, default "push").

Exactly one of the three signature headers must be present; the provider is the one whose header
signs, and the event and delivery id are read from that provider's headers only. Comparisons are
constant-time. A delivery without an id gets ``body:<sha256 of the body>``, so replaying the same
body is still recognised. :func:`verify` raises :class:`SignatureError` (the caller answers every
failure the same way, so nothing tells a prober which part was wrong).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SIGNATURE_HEADERS = {"x-hub-signature-256": "github", "x-gitlab-token": "gitlab",
                     "x-jsc-signature": "generic"}
EVENT_HEADERS = {"github": "x-github-event", "gitlab": "x-gitlab-event", "generic": "x-jsc-event"}
DELIVERY_HEADERS = {"github": "x-github-delivery", "gitlab": "x-gitlab-event-uuid",
                    "generic": "x-jsc-delivery"}
PUSH_EVENTS = {"github": {"push"}, "gitlab": {"Push Hook", "Tag Push Hook"}, "generic": {"push"}}
MAX_HEADER = 1024
_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_HEX_SIGNATURE = re.compile(r"^sha256=([0-9a-fA-F]{64})$")
_ZERO = re.compile(r"^0+$")


class SignatureError(Exception):
    """The delivery is not signed with the repository's secret (missing, malformed or wrong)."""


@dataclass(frozen=True)
class Delivery:
    provider: str  # github | gitlab | generic
    delivery_id: str
    event: str


@dataclass(frozen=True)
class Push:
    ref: str  # refs/heads/main, refs/tags/v1
    commit: str  # full sha
    branch: str | None  # the branch a refs/heads/ ref names; None for a tag


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: the value of X-Hub-Signature-256 / X-JSC-Signature for this body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _check_hmac(value: str, body: bytes, secret: str) -> None:
    match = _HEX_SIGNATURE.match(value.strip())
    if not match:
        raise SignatureError("the signature is not 'sha256=<64 hex digits>'")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match.group(1).lower()):
        raise SignatureError("the signature does not match the body and the secret")


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> Delivery:
    """Who sent this delivery (provider, delivery id, event), or SignatureError."""
    if not secret:
        raise SignatureError("the repository has no webhook secret")
    h = _lower(headers)
    present = [name for name in SIGNATURE_HEADERS if name in h]
    if not present:
        raise SignatureError("no signature header (X-Hub-Signature-256, X-Gitlab-Token or "
                             "X-JSC-Signature)")
    if len(present) > 1:
        raise SignatureError("more than one signature header")
    header = present[0]
    provider = SIGNATURE_HEADERS[header]
    value = h[header]
    if len(value) > MAX_HEADER:
        raise SignatureError("the signature header is too long")
    if provider == "gitlab":
        if not hmac.compare_digest(value.encode("utf-8", "surrogateescape"),
                                   secret.encode("utf-8", "surrogateescape")):
            raise SignatureError("the token does not match the secret")
    else:
        _check_hmac(value, body, secret)
    event = h.get(EVENT_HEADERS[provider], "push" if provider == "generic" else "").strip()
    delivery_id = h.get(DELIVERY_HEADERS[provider], "").strip()[:200]
    if not delivery_id:
        delivery_id = "body:" + hashlib.sha256(body).hexdigest()
    return Delivery(provider=provider, delivery_id=delivery_id, event=event[:100])


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _push(ref: Any, commit: Any) -> Push | None:
    if not isinstance(ref, str) or not isinstance(commit, str):
        return None
    commit = commit.strip().lower()
    if not _SHA.match(commit) or _ZERO.match(commit):  # all zeros: the ref was deleted
        return None
    if not ref.startswith("refs/"):
        ref = f"refs/heads/{ref}"
    if ref.startswith("refs/heads/") and len(ref) > len("refs/heads/"):
        return Push(ref=ref, commit=commit, branch=ref[len("refs/heads/"):])
    return Push(ref=ref, commit=commit, branch=None)


def push_of(provider: str, event: str, body: bytes) -> Push | None:
    """The ref and commit a push delivery announces; None for any other event (ping, merge
    request, ...), a deleted branch, or a body that is not such a push."""
    if event not in PUSH_EVENTS.get(provider, ()):
        return None
    data = _json(body)
    if data is None:
        return None
    if provider == "github":
        if data.get("deleted") is True:
            return None
        return _push(data.get("ref"), data.get("after"))
    if provider == "gitlab":
        return _push(data.get("ref"), data.get("checkout_sha") or data.get("after"))
    return _push(data.get("ref"), data.get("commit"))
