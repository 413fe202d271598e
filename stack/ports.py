"""Every port of the local stack, in one place, and the checks made before anything starts.

A port is chosen, in this order: an explicit argument (``--api-port``, ``--ui-port``), the
environment variable ``JSC_<NAME>_PORT`` (e.g. ``JSC_HUB_PORT``, ``JSC_POSTGRES_PORT``), a free port
when auto ports are on (``auto_ports=True`` or ``JSC_STACK_AUTO_PORTS=1``), else the default below.
Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterable, Mapping

from stack.errors import StackError

HOST = "127.0.0.1"

# name -> (default port, what uses it)
PORTS: dict[str, tuple[int, str]] = {
    "api": (8000, "the HTTP API"),
    "ui": (8501, "the Streamlit UI"),
    "hub": (4222, "NATS hub (clients)"),
    "hub_monitor": (8222, "NATS hub (monitoring)"),
    "hub_leaf": (7422, "NATS hub (leafnode link from dr)"),
    "dr": (4223, "NATS dr (clients)"),
    "dr_monitor": (8223, "NATS dr (monitoring)"),
    "temporal": (7233, "Temporal (gRPC frontend)"),
    "temporal_http": (7243, "Temporal (HTTP API)"),
    "temporal_metrics": (7244, "Temporal (metrics)"),
    "postgres": (55432, "PostgreSQL"),
    "redis": (56379, "Redis"),
}


def env_name(name: str) -> str:
    return f"JSC_{name.upper()}_PORT"


def auto_ports_requested(environ: Mapping[str, str]) -> bool:
    return environ.get("JSC_STACK_AUTO_PORTS", "").strip().lower() in ("1", "true", "yes", "on")


def free_port(taken: Iterable[int] = ()) -> int:
    """A port nothing listens on right now (the kernel's choice), not one of ``taken``."""
    taken = set(taken)
    while True:
        with socket.socket() as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port not in taken:
            return port


def resolve(
    names: Iterable[str],
    explicit: Mapping[str, int | None],
    *,
    auto: bool,
    environ: Mapping[str, str],
) -> dict[str, int]:
    """The port of each named service (see the module's docstring for the order of precedence)."""
    chosen: dict[str, int] = {}
    for name in names:
        port = explicit.get(name)
        if port is None and environ.get(env_name(name)):
            try:
                port = int(environ[env_name(name)])
            except ValueError:
                raise StackError(
                    f"{env_name(name)}={environ[env_name(name)]!r} is not a port number"
                ) from None
        if port is None:
            port = free_port(chosen.values()) if auto else PORTS[name][0]
        if not 0 < port < 65536:
            raise StackError(f"port {port} for {PORTS[name][1]} is out of range")
        chosen[name] = port
    clash = {p for p in chosen.values() if list(chosen.values()).count(p) > 1}
    if clash:
        users = [f"{PORTS[n][1]}" for n, p in chosen.items() if p in clash]
        raise StackError(f"port {min(clash)} is given to more than one service: {', '.join(users)}")
    return chosen


def is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:port now (same rules as the servers:
    SO_REUSEADDR)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
            s.listen(1)
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def check_free(ports: Mapping[str, int]) -> None:
    """Raise a StackError naming every port already taken, and the service that needs it."""
    taken = [(name, port) for name, port in ports.items() if not is_free(port)]
    if taken:
        lines = [
            f"  port {port} ({PORTS[name][1]}): already in use; set {_how_to_move(name)}"
            for name, port in taken
        ]
        raise StackError(
            "cannot start the local stack, ports are taken:\n"
            + "\n".join(lines)
            + "\n(is another `jsc up` or another server running? "
            "`jsc status` shows a stack's ports)"
        )


def _how_to_move(name: str) -> str:
    if name in ("api", "ui"):
        return f"--{name}-port"
    return f"{env_name(name)}, or JSC_STACK_AUTO_PORTS=1 for free ports"
