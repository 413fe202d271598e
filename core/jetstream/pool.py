"""One pooled, reconnecting nats-py connection per registered cluster, shared by the process.

Before connecting, every server URL's host is resolved and checked against the outbound policy
(``JSC_ALLOWED_CLUSTER_NETWORKS``, ``core.netpolicy``): a cluster stored before the policy, or
whose name now resolves inside, is not connected; nor, at any reconnect, is a server the cluster
announces or a name that resolves elsewhere since (``core.jetstream.checked_transport``). Why
a connection failed is logged here, in detail; the caller only learns that the cluster could not
be reached, so the API does not say which ports are open where."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from nats.aio.client import Client as NATS

from core.jetstream.api import JetStreamApi
from core.jetstream.checked_transport import CheckedClient
from core.jetstream.connection import ClusterEndpoint
from core.netpolicy import OutboundPolicy, OutboundRefused, Unresolvable, url_host
from core.settings import get_settings

log = logging.getLogger(__name__)


class ClusterUnreachable(Exception):
    """No server of the cluster could be reached. Its message is for anyone (no address, port or
    socket error); ``reason`` is the detail, for the server log."""

    def __init__(self, name: str, reason: str, message: str | None = None):
        super().__init__(message or f"could not connect to the cluster '{name}'")
        self.name, self.reason = name, reason


class ClusterAddressRefused(ClusterUnreachable):
    """A server URL of the cluster points where the outbound policy does not allow."""

    def __init__(self, name: str, refusal: OutboundRefused):
        super().__init__(name, str(refusal), f"cluster '{name}' is not connected: {refusal}")


class ClusterPool:
    def __init__(
        self,
        connect_timeout: float = 2.0,
        request_timeout: float = 5.0,
        policy: OutboundPolicy | None = None,
    ):
        """``policy`` (where cluster URLs may point) defaults to the settings'."""
        self._conns: dict[str, tuple[str, NATS]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self._policy = policy

    @property
    def policy(self) -> OutboundPolicy:
        if self._policy is None:  # read when first needed, not when the pool is made
            self._policy = get_settings().cluster_policy
        return self._policy

    async def _check(self, endpoint: ClusterEndpoint) -> None:
        for url in endpoint.server_urls:
            host, port = url_host(url)
            try:
                await self.policy.resolve(host, port)
            except Unresolvable:
                pass  # nats-py fails on it like on any server it cannot reach
            except OutboundRefused as exc:
                log.warning(
                    "cluster %s (%s): %s:%s not connected: %s",
                    endpoint.name,
                    endpoint.cluster_id,
                    host,
                    port,
                    exc,
                )
                raise ClusterAddressRefused(endpoint.name, exc) from None

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
            log.warning("cluster %s (%s): %s", endpoint.name, endpoint.cluster_id, exc)

        await self._check(endpoint)
        # Every (re)connect, to the stored servers and to those they announce, checked too.
        nc = CheckedClient(self.policy)
        connecting = nc.connect(
            **endpoint.connect_options(),
            name=f"jsc:{endpoint.name}",
            # nats-py annotates an int but takes any number of seconds
            connect_timeout=self.connect_timeout,  # type: ignore[arg-type]
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            allow_reconnect=True,
            error_cb=_on_error,
        )
        try:
            # A TLS handshake with a server that does not speak TLS can stall past connect_timeout.
            await asyncio.wait_for(connecting, timeout=self.connect_timeout * 2)
            return nc
        except TimeoutError as exc:
            raise self._unreachable(endpoint, "timed out while connecting") from exc
        except Exception as exc:  # nats-py raises several kinds for "cannot connect"
            raise self._unreachable(endpoint, str(exc) or type(exc).__name__) from exc

    @staticmethod
    def _unreachable(endpoint: ClusterEndpoint, reason: str) -> ClusterUnreachable:
        servers = ", ".join(
            "{}:{}".format(*url_host(url)) for url in endpoint.server_urls
        )  # no userinfo
        log.warning(
            "cluster %s (%s) at %s: could not connect: %s",
            endpoint.name,
            endpoint.cluster_id,
            servers,
            reason,
        )
        return ClusterUnreachable(endpoint.name, reason)

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


def server_info(nc: NATS) -> dict[str, Any]:
    """The INFO the connected server sent (version, server id and name, cluster, ...)."""
    return dict(nc._server_info or {})
