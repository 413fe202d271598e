"""What a person typed, checked before anything is sent: pure functions, no Streamlit, no HTTP.

Each ``check_*`` returns ``(payload, problems)``: the JSON body to post when ``problems`` is empty,
else a list of sentences saying what to fix. The API validates again; this only spares a round trip
and gives the message next to the form.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ui.client import ClusterSpec, CredentialsSpec, StreamConfig

STREAM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
CLUSTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
DOMAIN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ENVIRONMENTS = ("production", "staging", "development")
CREDENTIAL_TYPES = ("none", "user_password", "token", "creds")
STORAGE_TYPES = ("file", "memory")
RETENTION_POLICIES = ("limits", "interest", "workqueue")
DISCARD_POLICIES = ("old", "new")
SERVER_SCHEMES = ("nats", "tls")

_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
       "m": 60 * 1_000_000_000, "h": 3600 * 1_000_000_000, "d": 86400 * 1_000_000_000}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
               "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4,
               "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
               "ki": 1024, "mi": 1024**2, "gi": 1024**3, "ti": 1024**4}


def split_list(text: str) -> list[str]:
    """Items typed one per line or separated by commas, stripped, empties dropped."""
    return [part.strip() for part in re.split(r"[\n,]", text or "") if part.strip()]


def parse_duration(text: str) -> int:
    """``"72h"``, ``"1h30m"``, ``"7d"``, ``"90s"`` to nanoseconds; empty or ``"0"`` is 0 (no limit)."""
    value = (text or "").strip().replace(" ", "")
    if value in ("", "0"):
        return 0
    if value.isdigit():
        raise ValueError(f"Give the maximum age with a unit, for example {value}s, {value}m or {value}h.")
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(value):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _NS[match.group(2)]
        pos = match.end()
    if pos != len(value):
        raise ValueError(f"\"{text.strip()}\" is not a duration; write it like 72h, 30m, 1h30m or 7d.")
    return int(total)


def parse_size(text: str) -> int:
    """``"1GB"``, ``"512MiB"``, ``"1048576"`` to bytes; empty or ``"-1"`` is -1 (no limit)."""
    value = (text or "").strip()
    if value in ("", "-1"):
        return -1
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f"\"{value}\" is not a size; write it like 1048576, 512MB or 1GiB.")
    return int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "").lower()])


def subject_problem(subject: str) -> str | None:
    """Why a NATS subject (or filter with ``*`` and ``>``) is not valid, or None."""
    if any(ch.isspace() for ch in subject):
        return f"The subject \"{subject}\" contains a space."
    tokens = subject.split(".")
    if any(t == "" for t in tokens):
        return f"The subject \"{subject}\" has an empty part between dots."
    for i, token in enumerate(tokens):
        if ">" in token and (token != ">" or i != len(tokens) - 1):
            return f"In \"{subject}\", > may only be the last part."
        if "*" in token and token != "*":
            return f"In \"{subject}\", * must be a whole part, like orders.*.created."
    return None


def server_url_problem(url: str) -> str | None:
    """Why a cluster server URL is not usable, or None. Only nats:// and tls:// are accepted."""
    parts = urlsplit(url)
    if not url.lower().startswith(tuple(f"{s}://" for s in SERVER_SCHEMES)):
        return f"The server URL \"{url}\" must start with nats:// or tls://."
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        return f"The server URL \"{url}\" has a port that is not a number between 0 and 65535."
    if not parts.hostname:
        return f"The server URL \"{url}\" has no host name."
    return None


def check_stream_form(*, name: str, subjects: str, storage: str = "file",
                      retention: str = "limits", max_msgs: int = -1, max_bytes: str = "",
                      max_age: str = "", num_replicas: int = 1,
                      discard: str = "old") -> tuple[StreamConfig | None, list[str]]:
    problems: list[str] = []
    name = (name or "").strip()
    if not name:
        problems.append("Give the stream a name.")
    elif not STREAM_NAME.match(name):
        problems.append("A stream name may only contain letters, digits, - and _ "
                        "(up to 255 characters).")
    subject_list = split_list(subjects)
    if not subject_list:
        problems.append("Give at least one subject, for example orders.>.")
    problems += [p for p in map(subject_problem, subject_list) if p]
    if storage not in STORAGE_TYPES:
        problems.append("Storage must be file or memory.")
    if retention not in RETENTION_POLICIES:
        problems.append("Retention must be limits, interest or workqueue.")
    if discard not in DISCARD_POLICIES:
        problems.append("Discard must be old or new.")
    if max_msgs is None or int(max_msgs) < -1 or int(max_msgs) == 0:
        problems.append("Maximum messages must be -1 (no limit) or a positive number.")
    if not 1 <= int(num_replicas or 0) <= 5:
        problems.append("Replicas must be between 1 and 5.")
    size, age = -1, 0
    try:
        size = parse_size(max_bytes)
        if size == 0 or size < -1:
            problems.append("Maximum size must be empty (no limit) or more than 0 bytes.")
    except ValueError as exc:
        problems.append(str(exc))
    try:
        age = parse_duration(max_age)
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        return None, problems
    config: StreamConfig = {"name": name, "subjects": subject_list, "storage": storage,
                            "retention": retention, "max_msgs": int(max_msgs), "max_bytes": size,
                            "max_age": age, "num_replicas": int(num_replicas), "discard": discard}
    return config, []


def check_cluster_form(*, name: str, server_urls: str, environment: str = "development",
                       description: str = "", jetstream_domain: str = "",
                       monitoring_url: str = "", credentials_type: str = "none",
                       username: str = "", password: str = "", token: str = "",
                       creds: str = "") -> tuple[ClusterSpec | None, list[str]]:
    problems: list[str] = []
    name = (name or "").strip()
    if not name:
        problems.append("Give the cluster a name.")
    elif not CLUSTER_NAME.match(name):
        problems.append("A cluster name starts with a letter or digit and may then contain "
                        "letters, digits, -, _ and . (up to 63 characters).")
    if environment not in ENVIRONMENTS:
        problems.append("Environment must be production, staging or development.")
    urls = split_list(server_urls)
    if not urls:
        problems.append("Give at least one server URL, for example nats://127.0.0.1:4222.")
    problems += [p for p in map(server_url_problem, urls) if p]
    monitoring = (monitoring_url or "").strip()
    if monitoring and not re.match(r"^https?://\S+$", monitoring, re.IGNORECASE):
        problems.append("The monitoring URL must start with http:// or https://.")
    domain = (jetstream_domain or "").strip()
    if domain and not DOMAIN.match(domain):
        problems.append("A JetStream domain may only contain letters, digits, - and _ "
                        "(up to 64 characters).")
    credentials: CredentialsSpec = {"type": "none"}
    if credentials_type == "user_password":
        if not username.strip() or not password:
            problems.append("User and password credentials need both a user name and a password.")
        credentials = {"type": "user_password", "username": username.strip(), "password": password}
    elif credentials_type == "token":
        if not token.strip():
            problems.append("Token credentials need the token.")
        credentials = {"type": "token", "token": token.strip()}
    elif credentials_type == "creds":
        if "-----BEGIN NATS USER JWT-----" not in creds:
            problems.append("Paste the whole .creds file: it starts with -----BEGIN NATS USER JWT-----.")
        credentials = {"type": "creds", "creds": creds}
    elif credentials_type != "none":
        problems.append("Credentials must be none, user and password, token or a .creds file.")
    if problems:
        return None, problems
    spec: ClusterSpec = {"name": name, "description": (description or "").strip(),
                         "environment": environment, "server_urls": urls,
                         "jetstream_domain": domain or None, "monitoring_url": monitoring or None,
                         "credentials": credentials}
    return spec, []
