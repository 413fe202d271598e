"""Time-based one-time passwords (RFC 6238, ``pyotp``) as a second sign-in factor.

The secret is stored sealed with AES-256-GCM (bound to the user's id) in ``users.mfa_secret``;
``users.mfa_enabled`` turns true only once a first code has been verified. A code is accepted in
the current 30-second step or the one either side, and only once: ``mfa_used:{user}:{code}`` in
Redis refuses a replay while the code could still be valid.
"""

from __future__ import annotations

import json
import uuid

import pyotp
import redis.asyncio as aioredis

from core.security import Cipher

ISSUER = "JetStream Console"
VALID_WINDOW = 1  # steps either side of now
REPLAY_TTL_S = 30 * (2 * VALID_WINDOW + 1)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def seal(cipher: Cipher, user_id: uuid.UUID, secret: str) -> str:
    return json.dumps(cipher.encrypt(secret, context=f"user:{user_id}:mfa"))


def unseal(cipher: Cipher, user_id: uuid.UUID, sealed: str) -> str:
    secret: str = cipher.decrypt(json.loads(sealed), context=f"user:{user_id}:mfa")
    return secret


async def check_code(
    redis: aioredis.Redis, user_id: uuid.UUID, secret: str, code: str | None
) -> bool:
    """Whether ``code`` is valid now and was not used before (it is then used up)."""
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    if not pyotp.TOTP(secret).verify(code, valid_window=VALID_WINDOW):
        return False
    return bool(await redis.set(f"mfa_used:{user_id}:{code}", "1", nx=True, ex=REPLAY_TTL_S))
