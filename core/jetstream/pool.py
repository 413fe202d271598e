"""One pooled, reconnecting nats-py connection per registered cluster, shared by the process."""

from __future__ import annotations

import asyncio
import logging

import nats
from nats.aio.client import Client as NATS

from core.jetstream.api import JetStreamApi
from core.jetstream.connection import ClusterEndpoint

log = logging.getLogger(__name__)


class ClusterUnreachable(Exception):
    """No server of the cluster could be reached."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"cluster '{name}' is unreachable: {reason}")
        self.name, self.reason = name, reason


class ClusterPool:
    def __init__(self, connect_timeout: float = 2.0, request_timeout: float = 5.0):
        self._conns: dict[str, tuple[str, NATS]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout

    async def connection(self, endpoint: ClusterEndpoint) -> NATS:
        lock = self._locks.setdefault(endpoint.cluster_id, asyncio.Lock())
        async with lock:
            current = self._conns.get(endpoint.cluster_id)
            if current and current[0] == endpoint.fingerprint and not current[1].is_closed:
                return current[1]
            if current:
                await _close(current[1])
            nc = await self._connect(endpoint)
            self._conns[endpoint.cluster_id] = (endpoint.fingerprint, nc)
            return nc

    async def jetstream(self, endpoint: ClusterEndpoint) -> JetStreamApi:
        nc = await self.connection(endpoint)
        if not nc.is_connected:
            raise ClusterUnreachable(endpoint.name, "reconnecting to the cluster")
        return JetStreamApi(nc, endpoint.jetstream_domain, timeout=self.request_timeout)

    async def _connect(self, endpoint: ClusterEndpoint) -> NATS:
        async def _on_error(exc: Exception) -> None:
            log.warning("cluster %s: %s", endpoint.name, exc)

        connecting = nats.connect(
            **endpoint.connect_options(), name=f"jsc:{endpoint.name}",
            connect_timeout=self.connect_timeout, max_reconnect_attempts=-1,
            reconnect_time_wait=1, allow_reconnect=True, error_cb=_on_error,
        )
        try:
            # A TLS handshake with a server that does not speak TLS can stall past connect_timeout.
            return await asyncio.wait_for(connecting, timeout=self.connect_timeout * 2)
        except asyncio.TimeoutError as exc:
            raise ClusterUnreachable(endpoint.name, "timed out while connecting") from exc
        except Exception as exc:  # nats-py raises several kinds for "cannot connect"
            raise ClusterUnreachable(endpoint.name, str(exc) or type(exc).__name__) from exc

    async def forget(self, cluster_id: str) -> None:
        current = self._conns.pop(cluster_id, None)
        if current:
            await _close(current[1])

    async def close(self) -> None:
        for cluster_id in list(self._conns):
            await self.forget(cluster_id)


async def _close(nc: NATS) -> None:
    try:
        await asyncio.wait_for(nc.close(), timeout=2)
    except Exception:  # closing a broken connection may fail; it is gone either way
        pass


def server_info(nc: NATS) -> dict:
    """The INFO the connected server sent (version, server id and name, cluster, ...)."""
    return dict(nc._server_info or {})
