"""An HTTP call to a URL a user gave (a webhook, a cluster's monitoring endpoint), pinned to the
addresses the outbound policy checked: the name is resolved once, each address judged, and the
request goes to that address with the original ``Host`` (and TLS server name), so a name that
resolves elsewhere a moment later (DNS rebinding) is never reached."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from core.netpolicy import OutboundPolicy, Unresolvable, host_address


@dataclass(frozen=True)
class Pinned:
    target: httpx.URL
    addresses: list[str]
    headers: dict[str, str]  # Host: the name the URL gave
    extensions: dict[str, str]  # the TLS server name, for https to a name

    def at(self, address: str) -> httpx.URL:
        return self.target.copy_with(host=address)


async def pin(url: str, policy: OutboundPolicy) -> Pinned:
    """``OutboundRefused`` for an address the policy refuses; ``httpx.ConnectError`` for a name
    that does not resolve (as for any host that cannot be reached)."""
    target = httpx.URL(url)
    port = target.port or (443 if target.scheme == "https" else 80)
    host = target.raw_host.decode("ascii")
    try:
        addresses = await policy.resolve(host, port)
    except Unresolvable as exc:
        raise httpx.ConnectError(str(exc)) from exc
    extensions = (
        {"sni_hostname": host} if target.scheme == "https" and host_address(host) is None else {}
    )
    return Pinned(target, addresses, {"Host": target.netloc.decode("ascii")}, extensions)
