"""Credential checks that cost argon2 (a password at sign-in or sign-up, an API key not in the
cache), throttled per client address *before* the hash runs, and counted.

Argon2 is slow on purpose (tens of milliseconds of CPU and 64 MiB a check), so an unauthenticated
client sending bad passwords or keys in a loop would otherwise burn the API's CPU. Kept in Redis,
shared by every API replica, with the counter of ``core.ratelimit``:

- ``ratelimit:ip:{address}:argon2``: argon2 checks of the address in the current minute; past
  ``attempts_per_minute`` the next one is refused without hashing.
- ``ratelimit:ip:{address}:auth_failures``: failed credential checks of the address (wrong
  password, unknown or wrong API key, unknown refresh token or invitation) in the window; once
  ``max_failures`` is reached every credential check from the address is refused, without
  hashing, until the window ends. Successful checks do not count, so busy honest clients behind
  one address are not locked out by their own traffic.
- ``jsc_argon2_checks_total{purpose}`` (Prometheus, ``/metrics``): argon2 work done, by purpose.

An address is a client as networks hand them out (``client_of``): an IPv6 address counts as its
/64 (one end site's usual allocation, whose low 64 bits a client changes at will), an IPv4-mapped
IPv6 address as its IPv4 address.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass

import redis.asyncio as aioredis
from prometheus_client import Counter

from core import ratelimit
from core.security import verify_password
from core.settings import Settings

IPV6_CLIENT_PREFIX = 64

ARGON2_CHECKS = Counter(
    "jsc_argon2_checks", "argon2 hashes computed or verified for a request", ["purpose"]
)


def client_of(address: str | None) -> str:
    """The throttled client of an address: an IPv6 address's /64, an IPv4(-mapped) address
    itself; anything that is not an address (or none) as given."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_CLIENT_PREFIX), strict=False))
    return str(ip)


class Throttled(Exception):
    """Refused before any argon2 work; ``retry_after_s`` says when the address may try again."""

    def __init__(self, message: str, retry_after_s: int):
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class IpThrottle:
    redis: aioredis.Redis
    address: str
    attempts_per_minute: int
    max_failures: int
    window_s: int

    @classmethod
    def of(cls, redis: aioredis.Redis, settings: Settings, address: str | None) -> IpThrottle:
        return cls(
            redis,
            client_of(address),
            settings.auth_attempts_per_ip_per_minute,
            settings.auth_failures_per_ip,
            settings.auth_failure_window_s,
        )

    def _key(self, bucket: str) -> str:
        return f"ratelimit:ip:{self.address}:{bucket}"

    async def check(self) -> None:
        """Raise ``Throttled`` while the address has used up its failed checks."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(self._key("auth_failures"))
            pipe.ttl(self._key("auth_failures"))
            count, ttl = await pipe.execute()
        if count is not None and int(count) >= self.max_failures:
            raise Throttled(
                f"Too many failed sign-ins or API keys from your address "
                f"({self.max_failures} in {self.window_s // 60 or 1} minute(s)); "
                f"retry in {max(1, int(ttl))} s.",
                max(1, int(ttl)),
            )

    async def before_argon2(self) -> None:
        """Count one argon2 check of the address; raise ``Throttled`` (without it) when over."""
        await self.check()
        state = await ratelimit.hit(
            self.redis, f"ip:{self.address}", "argon2", self.attempts_per_minute
        )
        if not state.allowed:
            raise Throttled(
                f"Too many sign-in attempts from your address: the limit is "
                f"{self.attempts_per_minute} a minute; retry in {state.reset_s} s.",
                state.reset_s,
            )

    async def failed(self) -> None:
        await ratelimit.hit(
            self.redis,
            f"ip:{self.address}",
            "auth_failures",
            self.max_failures,
            window_s=self.window_s,
        )


async def verify(password_hash: str | None, secret: str, purpose: str) -> bool:
    """argon2 verification off the event loop, counted (an unknown account verifies against a
    dummy hash, so it costs the same)."""
    ARGON2_CHECKS.labels(purpose).inc()
    return await asyncio.to_thread(verify_password, password_hash, secret)
