"""A thin client of the JetStream JSON API (``$JS.API.*``) over one nats-py connection.

It sends and returns JetStream's own JSON unchanged, so every field of the server's version is
kept, and maps the API's error replies to :class:`JetStreamError`.
"""

from __future__ import annotations

import json
from typing import Any

from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

# JetStream error codes (err_code) that mean "no such thing".
STREAM_NOT_FOUND = 10059
CONSUMER_NOT_FOUND = 10014


class JetStreamError(Exception):
    """The server refused a request; ``description`` is its own message."""

    def __init__(self, code: int, err_code: int, description: str):
        super().__init__(description)
        self.code, self.err_code, self.description = code, err_code, description

    @property
    def not_found(self) -> bool:
        return self.code == 404 or self.err_code in (STREAM_NOT_FOUND, CONSUMER_NOT_FOUND)


class JetStreamUnavailable(Exception):
    """No JetStream answered (not enabled, wrong domain, or the server is unreachable)."""


class JetStreamApi:
    def __init__(self, nc: NATS, domain: str | None = None, timeout: float = 5.0):
        self.nc = nc
        self.domain = domain
        self.prefix = f"$JS.{domain}.API" if domain else "$JS.API"
        self.timeout = timeout

    async def request(self, subject: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(payload).encode() if payload is not None else b""
        try:
            msg = await self.nc.request(f"{self.prefix}.{subject}", data, timeout=self.timeout)
        except NoRespondersError as exc:
            raise JetStreamUnavailable("JetStream is not available on this cluster") from exc
        except NatsTimeoutError as exc:
            raise JetStreamUnavailable("JetStream did not answer in time") from exc
        except NatsError as exc:  # connection closed, draining, ...
            raise JetStreamUnavailable(f"the connection to the cluster failed: {exc}") from exc
        reply: dict[str, Any] = json.loads(msg.data or b"{}")
        if err := reply.get("error"):
            raise JetStreamError(
                err.get("code", 500),
                err.get("err_code", 0),
                err.get("description", "unknown JetStream error"),
            )
        return reply

    async def _paged(
        self, subject: str, key: str, payload: dict[str, Any] | None = None
    ) -> list[Any]:
        items: list[Any] = []
        while True:
            reply = await self.request(subject, {**(payload or {}), "offset": len(items)})
            page = reply.get(key) or []
            items.extend(page)
            if not page or len(items) >= reply.get("total", 0):
                return items

    # Account
    async def account_info(self) -> dict[str, Any]:
        return await self.request("INFO")

    # Streams
    async def stream_list(self, subject: str | None = None) -> list[dict[str, Any]]:
        return await self._paged(
            "STREAM.LIST", "streams", {"subject": subject} if subject else None
        )

    async def stream_info(self, name: str, subjects_filter: str | None = None) -> dict[str, Any]:
        payload = {"subjects_filter": subjects_filter} if subjects_filter else None
        return _strip_type(await self.request(f"STREAM.INFO.{name}", payload))

    async def stream_create(self, config: dict[str, Any]) -> dict[str, Any]:
        return _strip_type(await self.request(f"STREAM.CREATE.{config['name']}", config))

    async def stream_update(self, config: dict[str, Any]) -> dict[str, Any]:
        return _strip_type(await self.request(f"STREAM.UPDATE.{config['name']}", config))

    async def stream_delete(self, name: str) -> None:
        await self.request(f"STREAM.DELETE.{name}")

    async def stream_purge(self, name: str, request: dict[str, Any]) -> int:
        reply = await self.request(f"STREAM.PURGE.{name}", request or None)
        return int(reply.get("purged", 0))

    # Consumers
    async def consumer_list(self, stream: str) -> list[dict[str, Any]]:
        return await self._paged(f"CONSUMER.LIST.{stream}", "consumers")

    async def consumer_info(self, stream: str, name: str) -> dict[str, Any]:
        return _strip_type(await self.request(f"CONSUMER.INFO.{stream}.{name}"))

    async def consumer_create(
        self, stream: str, config: dict[str, Any], action: str | None = None
    ) -> dict[str, Any]:
        """Create (``action="create"``), update (``"update"``) or either (None) a consumer."""
        name = config.get("durable_name") or config.get("name")
        subject = f"CONSUMER.CREATE.{stream}.{name}" if name else f"CONSUMER.CREATE.{stream}"
        payload: dict[str, Any] = {"stream_name": stream, "config": config}
        if action:
            payload["action"] = action
        return _strip_type(await self.request(subject, payload))

    async def consumer_delete(self, stream: str, name: str) -> None:
        await self.request(f"CONSUMER.DELETE.{stream}.{name}")


def _strip_type(reply: dict[str, Any]) -> dict[str, Any]:
    reply.pop("type", None)
    return reply
