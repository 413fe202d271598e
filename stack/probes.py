"""Small health probes (TCP, HTTP, Redis PING) used while starting and by ``jsc status``."""

from __future__ import annotations

import asyncio
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from typing import TypeVar

from stack.ports import HOST

T = TypeVar("T")


def tcp(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_get(url: str, timeout: float = 1.0) -> tuple[int | None, str]:
    """(status, body) of GET ``url``; (None, why) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read(4096).decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read(4096).decode(errors="replace")
    except (OSError, ValueError) as e:
        return None, str(e)


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """The HTTP status of GET ``url``, or None when nothing answers."""
    return http_get(url, timeout)[0]


def http_ok(url: str, timeout: float = 1.0) -> bool:
    return http_status(url, timeout) == 200


def redis_ping(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on a fresh event loop in a helper thread.

    The caller may itself be inside a running loop (a pytest-asyncio session, for instance)."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(make())
        except BaseException as e:  # noqa: BLE001 - handed back to the caller
            box["error"] = e

    thread = threading.Thread(target=target, name="jsc-async", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
