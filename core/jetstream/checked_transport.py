"""The TCP transport the console's NATS connections use: every connection it opens, the first and
each reconnect, goes only to an address the outbound policy (``core.netpolicy``) allows.

nats-py connects to more than the URLs a tenant stored: a cluster's servers announce others in
INFO (``connect_urls``) and the client reconnects to them, and it resolves a name again at each
attempt. So the check cannot stop at the stored URLs: this transport resolves the server's host,
checks every address and connects to a checked one (a DNS answer that changes after the check is
never used); TLS still names the URL's host (nats-py passes it to ``connect_tls``). A refused
address raises :class:`AddressRefused`, an ``OSError`` nats-py handles like a server that does not
answer (it tries the next one). :class:`CheckedClient` is the nats-py client that always uses it;
its WebSocket connections (``ws://``, ``wss://``) are checked at each attempt too, not pinned (the
WebSocket client resolves the name itself).
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import ParseResult

from nats.aio.client import DEFAULT_BUFFER_SIZE, Client, Srv
from nats.aio.transport import TcpTransport

from core.netpolicy import OutboundPolicy, OutboundRefused, Unresolvable

DEFAULT_PORT = 4222


class AddressRefused(OSError):
    """The server's address is outside the networks the policy allows."""

    def __init__(self, refusal: OutboundRefused):
        super().__init__(str(refusal))
        self.refusal = refusal


class CheckedTcpTransport(TcpTransport):
    def __init__(self, policy: OutboundPolicy):
        super().__init__()  # type: ignore[no-untyped-call]  # nats-py leaves it unannotated
        self.policy = policy

    async def connect(self, uri: ParseResult, buffer_size: int, connect_timeout: int) -> None:
        host, port = uri.hostname or "", uri.port or DEFAULT_PORT
        try:
            addresses = await self.policy.resolve(host, port)
        except OutboundRefused as exc:
            raise AddressRefused(exc) from None
        except Unresolvable as exc:
            raise ConnectionError(str(exc)) from None
        failed: Exception | None = None
        for address in addresses:  # each checked; the next one when one does not answer
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host=address, port=port, limit=buffer_size),
                    connect_timeout,
                )
            except (TimeoutError, OSError) as exc:
                failed = exc
                continue
            # As TcpTransport keeps them (the TLS upgrade replaces the io pair, not the bare one).
            self._bare_io_reader = self._io_reader = reader
            self._bare_io_writer = self._io_writer = writer
            return
        raise failed or ConnectionError(f"'{host}' has no address to connect to")


class CheckedClient(Client):
    """A nats-py client whose TCP connections all go through :class:`CheckedTcpTransport`.

    nats-py makes a plain ``TcpTransport`` whenever it holds none that has connected yet (after a
    first attempt fails too), so the choice is made here, at every connection attempt."""

    def __init__(self, policy: OutboundPolicy):
        super().__init__()
        self._policy = policy

    async def _connect_to_server(self, s: Srv) -> None:  # nats-py 2.16's, with our transport
        if s.uri.scheme in ("ws", "wss"):  # aiohttp resolves again: checked, not pinned
            try:
                await self._policy.resolve(s.uri.hostname or "", s.uri.port)
            except OutboundRefused as exc:
                raise AddressRefused(exc) from None
            except Unresolvable:
                pass  # the WebSocket client fails on it like on any server it cannot reach
            return await super()._connect_to_server(s)
        s.last_attempt = time.monotonic()
        if not isinstance(self._transport, CheckedTcpTransport):
            self._transport = CheckedTcpTransport(self._policy)
        await self._transport.connect(
            s.uri, buffer_size=DEFAULT_BUFFER_SIZE, connect_timeout=self.options["connect_timeout"]
        )
