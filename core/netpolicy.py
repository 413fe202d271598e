"""Outbound URL policy: which addresses the server may call on a user's behalf (a cluster's NATS
servers, a webhook's receiver; git remotes later), so the API is neither a way into the internal
network (SSRF) nor a port scanner.

An address is allowed when it is a public (globally routable, unicast) address, or when it lies in a
network the operator allows for that kind of URL (``JSC_ALLOWED_CLUSTER_NETWORKS``,
``JSC_ALLOWED_WEBHOOK_NETWORKS``: CIDRs separated by commas). Everything else is refused by default:
loopback, private (RFC 1918, unique-local), link-local, shared (100.64/10), unspecified (0.0.0.0,
::), multicast, reserved, and the cloud metadata endpoints; those last pass only when the setting
names one alone (``169.254.169.254/32``), never as part of a wider network allowed. An IPv6 address
that carries an IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible, 6to4, Teredo, NAT64) must
pass for the IPv4 address too. A name is judged by every address it resolves to (all must pass), so
the decimal, hex and short forms of an IP (``2130706433``, ``0x7f000001``, ``127.1``) and names that
resolve inside are judged like the address they stand for.

The check runs when a URL is stored (a name that does not resolve yet is accepted there) and again
when it is called; a caller that can should connect to the address it checked
(:meth:`OutboundPolicy.resolve` answers them), so a DNS answer that changes in between (rebinding)
cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK = "127.0.0.0/8,::1/128"
# Instance metadata services (AWS, GCP, Azure, OpenStack; AWS over IPv6; Alibaba): never public,
# named here so a refusal can say what they are.
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_V4_COMPATIBLE = ipaddress.ip_network("::/96")
RESOLVE_TIMEOUT_S = 3.0


class OutboundRefused(ValueError):
    """The URL points to an address the platform does not let the server call."""


class Unresolvable(OSError):
    """The host name does not resolve (now)."""


def parse_networks(value: str | Iterable[str] | None) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` -> networks; a ValueError names the entry that is not one."""
    items = value.replace(";", ",").split(",") if isinstance(value, str) else list(value or ())
    networks = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"'{item}' is not a network: give CIDRs such as 10.0.0.0/8 or "
                "::1/128, separated by commas"
            ) from None
    return tuple(networks)


def join_networks(*values: str | None) -> str:
    """Several comma-separated lists as one, without repeats, in order."""
    seen: dict[str, None] = {}
    for value in values:
        for network in parse_networks(value):
            seen.setdefault(str(network))
    return ",".join(seen)


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, 6to4, Teredo, NAT64)."""
    if ip.version == 4:
        return []
    found: list[IPAddress] = []
    if ip.ipv4_mapped:
        found.append(ip.ipv4_mapped)
    elif ip in _V4_COMPATIBLE and int(ip) > 1:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour:
        found.append(ip.sixtofour)
    if ip.teredo:
        found.append(ip.teredo[1])
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def kind(ip: IPAddress) -> str | None:
    """What makes an address non-public ("loopback", "private", ...), or None for a public one."""
    for address in (*_embedded(ip), ip):  # what it carries says more than its own range
        if address in METADATA:
            return "cloud metadata"
        if address.is_unspecified:
            return "unspecified"
        if address.is_loopback:
            return "loopback"
        if address.is_link_local:
            return "link-local"
        if address.is_multicast:
            return "multicast"
        if address.is_private:
            return "private"
        if not address.is_global or address.is_reserved:
            return "reserved"
    if ip.version == 6 and ip in _V4_COMPATIBLE:
        return "reserved"  # ::/96 without a usable IPv4 address in it
    return None


def host_address(host: str) -> IPAddress | None:
    """The IP a URL's host is written as (``[::1]``, ``fe80::1%25eth0``), or None for a name."""
    text = unquote(host).strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def url_host(url: str) -> tuple[str, int | None]:
    """The host and port a URL names (``nats://[::1]:4222`` -> ``("::1", 4222)``)."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # e.g. an unclosed "[": judged as the name it is
        return url.partition("://")[2].rpartition("@")[2].split("/")[0], None
    try:
        port = parts.port
    except ValueError:
        port = None
    return hostname or "", port


@dataclass(frozen=True)
class OutboundPolicy:
    """Where one kind of URL (``what``: "cluster", "webhook") may point."""

    what: str
    setting: str
    allowed: tuple[Network, ...] = ()

    @classmethod
    def of(cls, what: str, setting: str, networks: str | Iterable[str] | None) -> OutboundPolicy:
        return cls(what, setting, parse_networks(networks))

    def permits(self, ip: IPAddress | str) -> bool:
        ip = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
        ip = ip.ipv4_mapped or ip if ip.version == 6 else ip
        if any(a in METADATA for a in (*_embedded(ip), ip)):
            # A wide network allowed (link-local, 0.0.0.0/0) means its services, not the
            # instance's credentials: a metadata endpoint passes only when named on its own.
            return any(
                n.num_addresses == 1 and ip in n for n in self.allowed if n.version == ip.version
            )
        if any(ip.version == n.version and ip in n for n in self.allowed):
            return True
        return kind(ip) is None

    def refusal(self, host: str, ip: IPAddress | None = None) -> OutboundRefused:
        named_kind = kind(ip) if ip is not None else None
        what = (
            f"{'an' if named_kind[0] in 'aeiou' else 'a'} {named_kind} address"
            if named_kind
            else "an address outside the networks the platform allows"
        )
        named = "" if ip is not None else " (a name is judged by the addresses it resolves to)"
        return OutboundRefused(
            f"'{host}' is {what}{named}; {self.what} URLs may point to public addresses and to "
            f"the networks an operator allows in {self.setting} only. Use a public address, or "
            f"ask an operator to allow your network."
        )

    def check_address(self, host: str, ip: IPAddress) -> None:
        if not self.permits(ip):
            raise self.refusal(host, ip if host_address(host) is not None else None)

    async def resolve(self, host: str, port: int | None = None) -> list[str]:
        """Every address ``host`` stands for, each checked; raises OutboundRefused when one is not
        allowed, Unresolvable when the name does not resolve."""
        if not host.strip("[]"):  # clients read no host as "this machine"
            raise OutboundRefused(f"a {self.what} URL needs a host name or address")
        literal = host_address(host)
        if literal is not None:
            self.check_address(host, literal)
            return [str(literal)]
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_S
            )
        except (TimeoutError, OSError, UnicodeError) as exc:
            raise Unresolvable(f"'{host}' does not resolve: {exc or type(exc).__name__}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
        if not addresses:
            raise Unresolvable(f"'{host}' does not resolve")
        for address in addresses:
            self.check_address(host, ipaddress.ip_address(address))
        return addresses

    async def check_stored(self, host: str, port: int | None = None) -> None:
        """The check when a URL is stored: refused addresses raise; a name that does not resolve
        (yet) is accepted, as it is checked again at every call."""
        try:
            await self.resolve(host, port)
        except Unresolvable:
            pass
