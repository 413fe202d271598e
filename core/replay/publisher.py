"""Pipelined JetStream publishing: each publish gets a token, its acknowledgement lands in a
table under that token (no future per message: this is the replay's hot path).

nats-py's ``publish_async`` leaves the future unresolved when JetStream answers with an error
(``APIError.from_error`` raises inside its reply handler), so a refused message would look like a
timeout. This small publisher reads every reply itself: a PubAck is recorded as is, an error as
:class:`PublishRefused` with the server's codes, "no responders" as :class:`NoStream`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

NO_RESPONDERS = "503"


@dataclass(frozen=True)
class PubAck:
    stream: str
    seq: int
    duplicate: bool = False


class PublishRefused(Exception):
    def __init__(self, code: int, err_code: int, description: str):
        super().__init__(description)
        self.code, self.err_code, self.description = code, err_code, description


class NoStream(Exception):
    """Nothing answered: no stream stores this subject."""


class AsyncPublisher:
    def __init__(self, nc: NATS):
        self.nc = nc
        self.acks: dict[int, PubAck | Exception] = {}
        self.arrived = asyncio.Event()
        self._prefix = f"{nc.new_inbox()}."
        self._cut = len(self._prefix)
        self._sub: Subscription | None = None
        self._next = 0

    async def start(self) -> AsyncPublisher:
        self._sub = await self.nc.subscribe(f"{self._prefix}*", cb=self._on_reply)
        return self

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> int:
        """Sends one message; returns the token its acknowledgement will be recorded under."""
        self._next += 1
        token = self._next
        await self.nc.publish(subject, payload, reply=f"{self._prefix}{token}", headers=headers)
        return token

    async def ack(self, token: int, timeout: float) -> PubAck:
        """The acknowledgement of ``token`` (waiting up to ``timeout``); raises the refusal,
        or ``asyncio.TimeoutError`` when none came."""
        deadline = None
        while token not in self.acks:
            loop = asyncio.get_running_loop()
            deadline = deadline or loop.time() + timeout
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), max(deadline - loop.time(), 0.001))
        result = self.acks.pop(token)
        if isinstance(result, Exception):
            raise result
        return result

    def take(self, token: int) -> PubAck | Exception | None:
        """The acknowledgement of ``token`` if it has arrived (removed from the table)."""
        return self.acks.pop(token, None)

    async def _on_reply(self, msg: Msg) -> None:
        try:
            token = int(msg.subject[self._cut :])
        except ValueError:
            return
        self.acks[token] = _read_ack(msg)
        self.arrived.set()

    async def close(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
        self.acks.clear()


def _read_ack(msg: Msg) -> PubAck | Exception:
    if msg.headers and msg.headers.get("Status") == NO_RESPONDERS and not msg.data:
        return NoStream()
    try:
        reply = json.loads(msg.data)
    except ValueError:
        return PublishRefused(500, 0, "unreadable acknowledgement")
    if err := reply.get("error"):
        return PublishRefused(
            err.get("code", 500), err.get("err_code", 0), err.get("description", "refused")
        )
    return PubAck(reply["stream"], int(reply["seq"]), bool(reply.get("duplicate")))
