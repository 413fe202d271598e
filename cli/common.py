"""Options and input parsing shared by the commands: the cluster option, ``--json``, sizes
(``100GB``), durations and times (``72h``, ``2h`` ago or ISO 8601), config files (``-`` for stdin)
and message payloads."""

from __future__ import annotations

import base64
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from cli.client import Api, CliError


def cluster_option() -> Any:
    return typer.Option(
        None,
        "--cluster",
        "-c",
        envvar="JSC_CLUSTER",
        show_envvar=False,
        help="Cluster name or id (default: JSC_CLUSTER, or the only cluster).",
    )


def json_option() -> Any:
    return typer.Option(False, "--json", help="Print the API's answer as JSON.")


def force_option() -> Any:
    return typer.Option(False, "--force", "-f", help="Do not ask for confirmation.")


def connect() -> Api:
    return Api.from_config()


def confirm(question: str, force: bool) -> None:
    """Ask unless ``force``; no (or no terminal to ask on) aborts with a sentence."""
    if force:
        return
    if not sys.stdin.isatty():
        raise CliError(f"{question} Refusing without confirmation: add --force.")
    if not typer.confirm(question, default=False):
        raise CliError("Cancelled; nothing was changed.")


# -- sizes, durations, times -------------------------------------------------------------------

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$", re.IGNORECASE)
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


def parse_size(value: str | None, option: str) -> int | None:
    """``1048576``, ``512MB``, ``1.5GiB``, ``-1`` (unlimited) -> bytes. K, M, G, T are powers of
    1024, as in the nats CLI."""
    if value is None:
        return None
    if value.strip() == "-1" or value.strip().lower() in ("unlimited", "none"):
        return -1
    match = _SIZE.match(value)
    if not match:
        raise CliError(f"{option}: '{value}' is not a size; use e.g. 1048576, 512MB or 10GiB.")
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * 1024 ** _POWERS[unit])


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)")
_UNIT_S = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
}


def parse_duration_s(value: str) -> float | None:
    """``90s``, ``1h30m``, ``2d`` -> seconds; None when it is not a duration."""
    text = value.strip().lower()
    if not text or _DURATION.sub("", text):
        return None
    return sum(float(n) * _UNIT_S[u] for n, u in _DURATION.findall(text))


def go_duration(value: str | None, option: str) -> str | None:
    """A duration for the API: Go-style (``72h``, ``1h30m``); days and weeks become hours."""
    if value is None:
        return None
    if value.strip() in ("0", "unlimited"):
        return "0s"
    seconds = parse_duration_s(value)
    if seconds is None:
        raise CliError(f"{option}: '{value}' is not a duration; use e.g. 30s, 15m, 72h or 7d.")
    if re.search(r"[dw]", value.lower()):
        return f"{seconds / 3600:g}h"
    return value.strip().lower()


def parse_when(value: str | None, option: str) -> str | None:
    """An ISO 8601 time (without an offset: UTC), or a duration meaning that long ago
    (``2h``), as an RFC 3339 string."""
    if value is None:
        return None
    seconds = parse_duration_s(value)
    if seconds is not None:
        return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat()
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CliError(
            f"{option}: '{value}' is neither an ISO 8601 time "
            "(2025-06-01T12:00:00Z) nor a duration ago (2h)."
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).isoformat()


def parse_future(value: str, option: str) -> str:
    """A time in the future: ISO 8601, or a duration from now (``1h``)."""
    seconds = parse_duration_s(value)
    if seconds is not None:
        return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()
    when = parse_when(value, option)
    assert when is not None
    return when


# -- files and payloads ------------------------------------------------------------------------


def read_json_config(source: str | None, option: str = "--config") -> dict:
    """A JSON object from a file, or from stdin with ``-``."""
    if source is None:
        return {}
    where = "stdin" if source == "-" else source
    try:
        text = sys.stdin.read() if source == "-" else Path(source).expanduser().read_text()
    except OSError as exc:
        raise CliError(f"{option}: cannot read {where}: {exc.strerror}.") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CliError(f"{option}: {where} is not valid JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise CliError(
            f"{option}: {where} must hold a JSON object (a stream or consumer configuration)."
        )
    return data


def read_payload(value: str | None) -> tuple[str, str]:
    """The payload to send and its encoding: the argument as text, or stdin (``-`` or no
    argument with stdin not a terminal) as text when UTF-8, else base64."""
    if value is not None and value != "-":
        return value, "text"
    if value is None and sys.stdin.isatty():
        raise CliError("Give the payload as an argument, or pipe it in (use '-' for stdin).")
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    try:
        return data.decode("utf-8"), "text"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode(), "base64"


def parse_headers(values: list[str] | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in values or []:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise CliError(f"--header: '{item}' is not NAME:VALUE.")
        headers[name.strip()] = value.strip()
    return headers


def payload_bytes(item: dict, key: str = "payload") -> bytes:
    """The exact bytes of a payload/value the API showed (JSON, text or base64)."""
    value, encoding = item.get(key), item.get("encoding")
    if encoding == "base64":
        return base64.b64decode(value or "")
    if encoding == "json":
        return json.dumps(value, ensure_ascii=False).encode()
    return ("" if value is None else str(value)).encode()


def split_values(values: list[str] | None) -> list[str] | None:
    """``--subjects a,b --subjects c`` -> [a, b, c]."""
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]
