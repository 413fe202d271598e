"""Pipelined JetStream publishing with acknowledgements as futures.

nats-py's ``publish_async`` leaves the future unresolved when JetStream answers with an error
(``APIError.from_error`` raises inside its reply handler), so a refused message would look like a
timeout. This small publisher reads every reply itself: a PubAck resolves the future, an error
sets :class:`PublishRefused` with the server's codes, "no responders" sets :class:`NoStream`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

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
        self._pending: dict[str, asyncio.Future] = {}
        self._prefix = f"{nc.new_inbox()}."
        self._sub = None
        self._next = 0

    async def start(self) -> "AsyncPublisher":
        self._sub = await self.nc.subscribe(f"{self._prefix}*", cb=self._on_reply)
        return self

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> asyncio.Future:
        self._next += 1
        token = str(self._next)
        future = asyncio.get_running_loop().create_future()
        self._pending[token] = future
        await self.nc.publish(subject, payload, reply=self._prefix + token, headers=headers)
        return future

    async def _on_reply(self, msg: Msg) -> None:
        future = self._pending.pop(msg.subject[len(self._prefix):], None)
        if future is None or future.done():
            return
        if msg.headers and msg.headers.get("Status") == NO_RESPONDERS and not msg.data:
            future.set_exception(NoStream())
            return
        try:
            reply = json.loads(msg.data)
        except ValueError:
            future.set_exception(PublishRefused(500, 0, "unreadable acknowledgement"))
            return
        if err := reply.get("error"):
            future.set_exception(PublishRefused(err.get("code", 500), err.get("err_code", 0),
                                                err.get("description", "refused")))
        else:
            future.set_result(PubAck(reply["stream"], int(reply["seq"]),
                                     bool(reply.get("duplicate"))))

    async def close(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
        for future in self._pending.values():
            if not future.done():
                future.cancel()
        self._pending.clear()
