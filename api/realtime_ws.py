"""The WebSocket ``/ws/v1/realtime`` (the source design §3.2), over the same live readers, access
rules and resume semantics as the server-sent events.

Client messages:
- ``{"type": "auth", "token": ...}`` first (an access token, an API key or a realtime token),
  answered ``{"type": "auth_ok"}``; anything else first, or a refused token, ends the connection
  (close code 4401, 4429 when rate limited) after an ``error`` message;
- ``{"type": "subscribe", "channels": [...], "last_event_id"?: n}``: ``{"type": "subscribed"}``,
  then the latest message of each subject (or everything after ``last_event_id``), then live;
  a refused channel answers ``{"type": "error", "message", "status", "channels"}`` and nothing of
  that subscribe is read;
- ``{"type": "unsubscribe", "channels": [...]}``: ``{"type": "unsubscribed"}``;
- ``{"type": "ping"}``: ``{"type": "pong"}``.

Server messages: ``{"type": "stream_metrics" | "consumer_metrics" | "cluster_metrics" | "alert" |
"operation", "id": seq, "channel": ..., "cluster_id"?, "stream_name"?, "consumer_name"?,
"operation_id"?, "data": {...}}``, ``{"type": "heartbeat"}`` every ``realtime_heartbeat_s``,
``{"type": "error", ...}``. A client too slow for its subscriptions gets an ``error`` and is
closed with code 1013 (try again later: resume with the last ``id``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from api import realtime_auth
from api.deps import Principal
from api.errors import ProblemError
from api.realtime_access import Channel, Scope, authorize, events_of, parse
from api.services import Services
from core.live.reader import LiveReader

log = logging.getLogger(__name__)
AUTH_TIMEOUT_S = 10.0
SEND_TIMEOUT_S = 10.0


class Session:
    """One authenticated WebSocket: its subscriptions (one reader per subscribe message)."""

    def __init__(self, websocket: WebSocket, services: Services, principal: Principal):
        self.ws, self.services, self.principal = websocket, services, principal
        self.scope = Scope(services, principal)
        self.lock = asyncio.Lock()
        self.channels: dict[str, Channel] = {}
        self.pumps: dict[asyncio.Task, tuple[LiveReader, dict[str, Channel]]] = {}
        self.closed = asyncio.Event()

    async def send(self, message: dict[str, Any]) -> None:
        async with self.lock:
            await asyncio.wait_for(
                self.ws.send_text(json.dumps(message, default=str)), SEND_TIMEOUT_S
            )

    async def error(self, message: str, **extra: Any) -> None:
        await self.send({"type": "error", "message": message, **extra})

    async def subscribe(self, names: Any, last_event_id: Any) -> None:
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return await self.error("channels: a list of channel names.", status=422)
        if last_event_id is not None and (
            not isinstance(last_event_id, int)
            or isinstance(last_event_id, bool)
            or last_event_id < 0
        ):
            return await self.error(
                "last_event_id: an event id (a non-negative integer).", status=422
            )
        try:
            wanted = [ch for ch in parse(self.principal, names) if ch.name not in self.channels]
            await authorize(self.ws, self.services, self.principal, wanted, self.scope)
        except ProblemError as exc:
            return await self.error(exc.detail, status=exc.status, channels=names)
        if not wanted:
            return await self.send({"type": "subscribed", "channels": []})
        settings = self.services.settings
        reader = LiveReader(
            self.services.events.nc,
            [ch.filter for ch in wanted],
            after=last_event_id,
            queue_size=settings.realtime_queue_size,
            slow_after_s=settings.realtime_slow_client_s,
        )
        try:
            await reader.start()
        except Exception as exc:
            await reader.close()
            return await self.error(f"The internal event stream is unavailable: {exc}", status=503)
        mine = {ch.name: ch for ch in wanted}
        self.channels.update(mine)
        await self.send({"type": "subscribed", "channels": list(mine)})
        self.pumps[asyncio.create_task(self._pump(reader, mine))] = (reader, mine)

    async def unsubscribe(self, names: Any) -> None:
        if not isinstance(names, list):
            return await self.error("channels: a list of channel names.", status=422)
        gone = [n for n in names if isinstance(n, str) and n in self.channels]
        for name in gone:
            del self.channels[name]
        for task, (reader, mine) in list(self.pumps.items()):
            for name in gone:
                mine.pop(name, None)
            if not mine:
                task.cancel()
                del self.pumps[task]
                await reader.close()
        await self.send({"type": "unsubscribed", "channels": gone})

    async def _pump(self, reader: LiveReader, mine: dict[str, Channel]) -> None:
        dropped = asyncio.create_task(reader.dropped.wait())
        try:
            while not reader.dropped.is_set():
                nxt = asyncio.create_task(reader.next(3600))
                await asyncio.wait({nxt, dropped}, return_when=asyncio.FIRST_COMPLETED)
                if not nxt.done():
                    nxt.cancel()
                    break
                msg = nxt.result()
                if msg is None:
                    continue
                for event in await events_of(msg, list(mine.values()), self.scope):
                    await self.send(
                        {
                            "type": event.type,
                            "id": event.seq,
                            "channel": event.channel,
                            **event.about,
                            "data": event.data,
                        }
                    )
            with contextlib.suppress(Exception):
                await self.error(
                    "Too slow: events were waiting too long; reconnect and "
                    "subscribe again with last_event_id.",
                    status=429,
                    last_event_id=reader.last_seq,
                )
            self.closed.set()
        except (TimeoutError, WebSocketDisconnect, RuntimeError):
            self.closed.set()  # a client that does not read, or is gone
        finally:
            dropped.cancel()

    async def heartbeat(self) -> None:
        """Every ``realtime_heartbeat_s``; a connection whose session ended (or whose API key was
        revoked) since it opened is closed instead (4401)."""
        while True:
            await asyncio.sleep(self.services.settings.realtime_heartbeat_s)
            if not await realtime_auth.still_signed_in(self.services, self.principal):
                with contextlib.suppress(Exception):
                    await self.error(
                        "The session this connection came from has ended (or its "
                        "API key was revoked); sign in again.",
                        status=401,
                    )
                    await self.ws.close(code=4401)
                return
            await self.send({"type": "heartbeat"})

    async def close(self) -> None:
        for task, (reader, _) in self.pumps.items():
            task.cancel()
            await reader.close()
        self.pumps.clear()


async def _authenticate(websocket: WebSocket, services: Services) -> Principal | None:
    try:
        first = json.loads(await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_S))
    except (TimeoutError, ValueError):
        first = None
    if not isinstance(first, dict) or first.get("type") != "auth":
        await websocket.send_text(
            json.dumps(
                {
                    "type": "error",
                    "status": 401,
                    "message": 'Send {"type": "auth", "token": ...} first.',
                }
            )
        )
        await websocket.close(code=4401)
        return None
    try:
        token = first.get("token")
        return await realtime_auth.resolve(
            websocket, services, token if isinstance(token, str) else None
        )
    except ProblemError as exc:
        await websocket.send_text(
            json.dumps({"type": "error", "status": exc.status, "message": exc.detail})
        )
        await websocket.close(code=4429 if exc.status == 429 else 4401)
        return None


async def _receive(session: Session) -> None:
    while True:
        try:
            message = json.loads(await session.ws.receive_text())
        except ValueError:
            await session.error("Messages are JSON objects with a 'type'.", status=422)
            continue
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "subscribe":
            await session.subscribe(message.get("channels"), message.get("last_event_id"))
        elif kind == "unsubscribe":
            await session.unsubscribe(message.get("channels"))
        elif kind == "ping":
            await session.send({"type": "pong"})
        else:
            await session.error("type: one of subscribe, unsubscribe, ping.", status=422)


async def serve_websocket(websocket: WebSocket) -> None:
    await websocket.accept()
    websocket.state.request_id = uuid.uuid4().hex  # audit records of refusals name it
    services: Services = websocket.app.state.services
    principal = await _authenticate(websocket, services)
    if principal is None:
        return
    session = Session(websocket, services, principal)
    await session.send({"type": "auth_ok"})
    tasks = [
        asyncio.create_task(_receive(session)),
        asyncio.create_task(session.heartbeat()),
        asyncio.create_task(session.closed.wait()),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if session.closed.is_set():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(websocket.close(code=1013), 2)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await session.close()
