"""Shared by the forms: names, subjects, sizes, durations, times, headers and JSON as a person
types them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

STREAM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
CLUSTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
DOMAIN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ENVIRONMENTS = ("production", "staging", "development")
CREDENTIAL_TYPES = ("none", "user_password", "token", "creds")
STORAGE_TYPES = ("file", "memory")
RETENTION_POLICIES = ("limits", "interest", "workqueue")
DISCARD_POLICIES = ("old", "new")
SERVER_SCHEMES = ("nats", "tls")
BUCKET_NAME = re.compile(r"^[A-Za-z0-9_-]{1,240}$")
KV_KEY = re.compile(r"^[-/_=.A-Za-z0-9]+$")
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
DELIVER_POLICIES = ("all", "new", "last", "last_per_subject", "by_start_sequence", "by_start_time")
ACK_POLICIES = ("explicit", "all", "none")
# how a replay names the subject of each copy
REPLAY_MAPPINGS = ("prefix", "subject", "original", "redrive")
DEFAULT_REDRIVE_HEADER = "Nats-Original-Subject"
MAX_RATE = 1_000_000

_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
    "d": 86400 * 1_000_000_000,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$", re.IGNORECASE)
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "k": 1024,
    "m": 1024**2,
    "g": 1024**3,
    "t": 1024**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
    "ki": 1024,
    "mi": 1024**2,
    "gi": 1024**3,
    "ti": 1024**4,
}


def split_list(text: str) -> list[str]:
    """Items typed one per line or separated by commas, stripped, empties dropped."""
    return [part.strip() for part in re.split(r"[\n,]", text or "") if part.strip()]


def parse_duration(text: str) -> int:
    """``"72h"``, ``"1h30m"``, ``"7d"``, ``"90s"`` to nanoseconds; empty or ``"0"`` is 0 (no
    limit)."""
    value = (text or "").strip().replace(" ", "")
    if value in ("", "0"):
        return 0
    if value.isdigit():
        raise ValueError(
            f"Give the maximum age with a unit, for example {value}s, {value}m or {value}h."
        )
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(value):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _NS[match.group(2)]
        pos = match.end()
    if pos != len(value):
        raise ValueError(
            f'"{text.strip()}" is not a duration; write it like 72h, 30m, 1h30m or 7d.'
        )
    return int(total)


def parse_size(text: str) -> int:
    """``"1GB"``, ``"512MiB"``, ``"1048576"`` to bytes; empty or ``"-1"`` is -1 (no limit)."""
    value = (text or "").strip()
    if value in ("", "-1"):
        return -1
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f'"{value}" is not a size; write it like 1048576, 512MB or 1GiB.')
    return int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "").lower()])


def subject_problem(subject: str) -> str | None:
    """Why a NATS subject (or filter with ``*`` and ``>``) is not valid, or None."""
    if any(ch.isspace() for ch in subject):
        return f'The subject "{subject}" contains a space.'
    tokens = subject.split(".")
    if any(t == "" for t in tokens):
        return f'The subject "{subject}" has an empty part between dots.'
    for i, token in enumerate(tokens):
        if ">" in token and (token != ">" or i != len(tokens) - 1):
            return f'In "{subject}", > may only be the last part.'
        if "*" in token and token != "*":
            return f'In "{subject}", * must be a whole part, like orders.*.created.'
    return None


def server_url_problem(url: str) -> str | None:
    """Why a cluster server URL is not usable, or None. Only nats:// and tls:// are accepted."""
    parts = urlsplit(url)
    if not url.lower().startswith(tuple(f"{s}://" for s in SERVER_SCHEMES)):
        return f'The server URL "{url}" must start with nats:// or tls://.'
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        return f'The server URL "{url}" has a port that is not a number between 0 and 65535.'
    if not parts.hostname:
        return f'The server URL "{url}" has no host name.'
    return None


# --------------------------------------------------------------------------- times, headers, JSON


def parse_time(text: str) -> str | None:
    """An ISO 8601 time typed by a person, as ISO 8601 in UTC; empty is None.

    ``2024-01-15T10:30:00Z``, ``2024-01-15 10:30``, ``2024-01-15T12:30:00+02:00`` and a bare date
    are accepted; a time without an offset is UTC (as JetStream's own times are)."""
    value = (text or "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f'"{value}" is not a time; write it like 2024-01-15T10:30:00Z '
            "(UTC unless an offset such as +02:00 is given)."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_headers(text: str) -> tuple[dict[str, str], list[str]]:
    """Headers typed one per line as ``Name: value``: ({name: value}, problems)."""
    headers: dict[str, str] = {}
    problems: list[str] = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            problems.append(f'Write each header as Name: value ("{line.strip()}" is not).')
        elif not HEADER_NAME.match(name):
            problems.append(
                f'The header name "{name}" may only contain letters, digits and '
                "!#$%&'*+-.^_`|~ (no blank)."
            )
        elif name in headers:
            problems.append(f"The header {name} is given twice; give it once.")
        else:
            headers[name] = value
    return headers, problems


def parse_json(text: str, what: str = "The payload") -> Any:
    """JSON typed by a person; ValueError says where it is broken."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None


def concrete_subject_problem(subject: str) -> str | None:
    """Why a subject to publish to is not valid (wildcards not allowed), or None."""
    if problem := subject_problem(subject):
        return problem
    if any(token in ("*", ">") for token in subject.split(".")):
        return f'The subject "{subject}" has a wildcard: give a concrete subject.'
    return None


def _optional_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def subject_matches(subject: str, pattern: str) -> bool:
    """Whether a concrete ``subject`` is captured by ``pattern`` (``*`` one token, ``>`` the
    rest)."""
    tokens, wanted = subject.split("."), pattern.split(".")
    for i, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > i
        if i >= len(tokens) or token not in ("*", tokens[i]):
            return False
    return len(tokens) == len(wanted)
