"""Passwords (argon2), access tokens (JWT, HS256), refresh-token material, and encryption at
rest (AES-256-GCM) for cluster credentials and other secrets."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
import uuid
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_hasher = PasswordHasher()
# A hash to verify against when the user does not exist, so timing does not reveal it.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class TokenError(Exception):
    """An access token that is malformed, expired or not signed by us."""


def issue_access_token(
    secret: str,
    *,
    user_id: uuid.UUID,
    org_id: uuid.UUID,
    role: str,
    session_id: uuid.UUID,
    ttl_s: int,
) -> str:
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "org": str(org_id),
        "role": role,
        "sid": str(session_id),
        "iat": now,
        "exp": now + ttl_s,
        "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_access_token(secret: str, token: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    if claims.get("typ") != "access":
        raise TokenError("not an access token")
    return claims


def new_opaque_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """Refresh tokens are high-entropy random strings: a SHA-256 digest is the right store key."""
    return hashlib.sha256(token.encode()).hexdigest()


class Cipher:
    """AES-256-GCM with a random 96-bit nonce per message. The envelope is JSON-serialisable."""

    ALG = "AES-256-GCM"

    def __init__(self, key_b64: str):
        key = base64.b64decode(key_b64)
        if len(key) != 32:
            raise ValueError("JSC_ENCRYPTION_KEY must be the base64 of exactly 32 bytes")
        self._aead = AESGCM(key)

    @staticmethod
    def generate_key() -> str:
        return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()

    def encrypt(self, value: Any, *, context: str) -> dict[str, str]:
        nonce = os.urandom(12)
        plaintext = json.dumps(value).encode()
        ct = self._aead.encrypt(nonce, plaintext, context.encode())
        return {
            "alg": self.ALG,
            "nonce": base64.b64encode(nonce).decode(),
            "ct": base64.b64encode(ct).decode(),
        }

    def decrypt(self, envelope: dict[str, str], *, context: str) -> Any:
        nonce = base64.b64decode(envelope["nonce"])
        ct = base64.b64decode(envelope["ct"])
        return json.loads(self._aead.decrypt(nonce, ct, context.encode()))
