"""What a person typed, checked before anything is sent: pure functions, no Streamlit, no HTTP.

Each ``check_*`` returns ``(payload, problems)``: the JSON body to post when ``problems`` is empty,
else a list of sentences saying what to fix. The API validates again; this only spares a round trip
and gives the message next to the form.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import urlsplit

from ui.client import (ClusterSpec, ConsumerSpec, CredentialsSpec, KvBucketSpec, ObjectStoreSpec,
                       ReplaySpec, StreamConfig)

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
DELIVER_POLICIES = ("all", "new", "last", "last_per_subject", "by_start_sequence",
                    "by_start_time")
ACK_POLICIES = ("explicit", "all", "none")
# how a replay names the subject of each copy
REPLAY_MAPPINGS = ("prefix", "subject", "original", "redrive")
DEFAULT_REDRIVE_HEADER = "Nats-Original-Subject"
MAX_RATE = 1_000_000

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
        raise ValueError(f"\"{value}\" is not a time; write it like 2024-01-15T10:30:00Z "
                         "(UTC unless an offset such as +02:00 is given).") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


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
            problems.append(f"Write each header as Name: value (\"{line.strip()}\" is not).")
        elif not HEADER_NAME.match(name):
            problems.append(f"The header name \"{name}\" may only contain letters, digits and "
                            "!#$%&'*+-.^_`|~ (no blank).")
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
        raise ValueError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                         f"column {exc.colno}.") from None


def concrete_subject_problem(subject: str) -> str | None:
    """Why a subject to publish to is not valid (wildcards not allowed), or None."""
    if problem := subject_problem(subject):
        return problem
    if any(token in ("*", ">") for token in subject.split(".")):
        return f"The subject \"{subject}\" has a wildcard: give a concrete subject."
    return None


def _optional_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


# --------------------------------------------------------------------------- replay


def check_replay_form(*, cluster_id: str, stream: str, subjects: str = "",
                      start_seq: int | None = None, end_seq: int | None = None,
                      start_time: str = "", end_time: str = "",
                      destination_cluster_id: str | None = None,
                      destination_stream: str | None = None, mapping: str = "prefix",
                      destination_subject: str = "", redrive_header: str = "",
                      rate_limit: float | None = None, add_source_header: bool = True,
                      keep_original_time: bool = True,
                      dry_run: bool = False) -> tuple[ReplaySpec | None, list[str]]:
    """The body of ``POST /operations/replay``.

    ``mapping`` says how each copy's subject is named: ``prefix`` (the original subject behind
    ``destination_subject``), ``subject`` (all to ``destination_subject``), ``original`` (kept:
    only to another cluster) or ``redrive`` (taken from the header ``redrive_header``)."""
    problems: list[str] = []
    if not cluster_id:
        problems.append("Choose the source cluster.")
    stream = (stream or "").strip()
    if not stream:
        problems.append("Choose the stream to replay from.")
    filters = split_list(subjects)
    problems += [p for p in map(subject_problem, filters) if p]
    first, last = _optional_int(start_seq), _optional_int(end_seq)
    if first is not None and first < 1:
        problems.append("The first sequence must be 1 or more.")
    if last is not None and last < 1:
        problems.append("The last sequence must be 1 or more.")
    if first is not None and last is not None and last < first:
        problems.append(f"The last sequence ({last:,}) is before the first one ({first:,}).")
    since = until = None
    try:
        since = parse_time(start_time)
    except ValueError as exc:
        problems.append(str(exc))
    try:
        until = parse_time(end_time)
    except ValueError as exc:
        problems.append(str(exc))
    if since and until and until <= since:
        problems.append("The end time must be after the start time (it is not included).")

    target_cluster = destination_cluster_id or cluster_id
    same_cluster = target_cluster == cluster_id
    target_subject = (destination_subject or "").strip()
    destination: dict[str, str] = {}
    if not same_cluster:
        destination["cluster_id"] = target_cluster
    if destination_stream:
        destination["stream"] = destination_stream
    if mapping == "prefix":
        if not target_subject:
            problems.append("Give the subject prefix the copies are published under, for "
                            "example replay.")
        elif any(t in ("*", ">") for t in target_subject.split(".")) or subject_problem(target_subject):
            problems.append(f"The prefix \"{target_subject}\" must be a subject without "
                            "wildcards and without a dot at either end, like replay.orders.")
        else:
            destination["subject_prefix"] = target_subject
    elif mapping == "subject":
        if not target_subject:
            problems.append("Give the subject every copy is published to.")
        elif problem := concrete_subject_problem(target_subject):
            problems.append(problem)
        else:
            destination["subject"] = target_subject
    elif mapping == "original":
        if same_cluster:
            problems.append("On the same cluster the copies would land back in the source "
                            "stream: publish them under a prefix or to another subject, or "
                            "choose another destination cluster.")
    elif mapping == "redrive":
        header = (redrive_header or "").strip() or DEFAULT_REDRIVE_HEADER
        if not HEADER_NAME.match(header):
            problems.append(f"The header name \"{header}\" may only contain letters, digits "
                            "and !#$%&'*+-.^_`|~ (no blank).")
    else:
        problems.append("Choose how the copies' subjects are named.")
    if rate_limit is not None and rate_limit != "":
        if float(rate_limit) < 0 or float(rate_limit) > MAX_RATE:
            problems.append(f"The rate limit must be between 0 (no limit) and {MAX_RATE:,} "
                            "messages per second.")
    if problems:
        return None, problems
    spec: ReplaySpec = {"cluster_id": cluster_id, "stream": stream, "subjects": filters,
                        "destination": destination,  # type: ignore[typeddict-item]
                        "add_source_header": bool(add_source_header),
                        "keep_original_time": bool(keep_original_time), "dry_run": bool(dry_run)}
    if first is not None:
        spec["start_seq"] = first
    if last is not None:
        spec["end_seq"] = last
    if since:
        spec["start_time"] = since
    if until:
        spec["end_time"] = until
    if rate_limit:
        spec["rate_limit"] = float(rate_limit)
    if mapping == "redrive":
        spec["redrive"] = {"header": (redrive_header or "").strip() or DEFAULT_REDRIVE_HEADER}
    return spec, []


# --------------------------------------------------------------------------- messages, consumers


def check_publish_form(*, subject: str, payload: str, as_json: bool = False, headers: str = "",
                       msg_id: str = "") -> tuple[dict[str, Any] | None, list[str]]:
    """``{subject, payload, headers, msg_id}`` for ``ApiClient.publish_message``."""
    problems: list[str] = []
    subject = (subject or "").strip()
    if not subject:
        problems.append("Give the subject to publish to.")
    elif problem := concrete_subject_problem(subject):
        problems.append(problem)
    body: Any = payload or ""
    if as_json:
        try:
            body = parse_json(payload or "")
        except ValueError as exc:
            problems.append(str(exc))
    header_values, header_problems = parse_headers(headers)
    problems += header_problems
    msg_id = (msg_id or "").strip()
    if problems:
        return None, problems
    return {"subject": subject, "payload": body, "headers": header_values,
            "msg_id": msg_id or None}, []


def check_consumer_form(*, name: str, filter_subjects: str = "", deliver_policy: str = "all",
                        start_seq: int | None = None, start_time: str = "",
                        ack_policy: str = "explicit", ack_wait: str = "30s",
                        max_deliver: int = -1, max_ack_pending: int = 1000,
                        description: str = "") -> tuple[ConsumerSpec | None, list[str]]:
    """A durable pull consumer, in JetStream's field names."""
    problems: list[str] = []
    name = (name or "").strip()
    if not name:
        problems.append("Give the consumer a name.")
    elif not STREAM_NAME.match(name):
        problems.append("A consumer name may only contain letters, digits, - and _ "
                        "(up to 255 characters).")
    filters = split_list(filter_subjects)
    problems += [p for p in map(subject_problem, filters) if p]
    if deliver_policy not in DELIVER_POLICIES:
        problems.append("Choose where the consumer starts.")
    if ack_policy not in ACK_POLICIES:
        problems.append("Acknowledgement must be explicit, all or none.")
    spec: ConsumerSpec = {"durable_name": name, "deliver_policy": deliver_policy,  # type: ignore
                          "ack_policy": ack_policy}  # type: ignore[typeddict-item]
    if deliver_policy == "by_start_sequence":
        if start_seq is None or int(start_seq) < 1:
            problems.append("Give the sequence to start from (1 or more).")
        else:
            spec["opt_start_seq"] = int(start_seq)
    if deliver_policy == "by_start_time":
        try:
            when = parse_time(start_time)
        except ValueError as exc:
            problems.append(str(exc))
        else:
            if when is None:
                problems.append("Give the time to start from, like 2024-01-15T10:30:00Z.")
            else:
                spec["opt_start_time"] = when
    if ack_policy != "none":
        try:
            wait = parse_duration(ack_wait)
        except ValueError as exc:
            problems.append(str(exc).replace("maximum age", "ack wait"))
        else:
            if wait:
                spec["ack_wait"] = wait
    if max_deliver is None or int(max_deliver) == 0 or int(max_deliver) < -1:
        problems.append("Maximum deliveries must be -1 (no limit) or a positive number.")
    else:
        spec["max_deliver"] = int(max_deliver)
    if ack_policy != "none":
        if max_ack_pending is None or int(max_ack_pending) == 0 or int(max_ack_pending) < -1:
            problems.append("Maximum awaiting ack must be -1 (no limit) or a positive number.")
        else:
            spec["max_ack_pending"] = int(max_ack_pending)
    if len(filters) == 1:
        spec["filter_subject"] = filters[0]
    elif filters:
        spec["filter_subjects"] = filters
    if (description or "").strip():
        spec["description"] = description.strip()
    if problems:
        return None, problems
    return spec, []


def config_changes(text: str, current: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """What an edited JSON config changes: only the fields whose value differs, for a PATCH."""
    try:
        edited = parse_json(text, "The configuration")
    except ValueError as exc:
        return None, [str(exc)]
    if not isinstance(edited, dict):
        return None, ["The configuration must be one JSON object, { ... }."]
    problems = []
    if edited.get("name", current.get("name")) != current.get("name"):
        problems.append(f"A stream cannot be renamed: keep \"name\": \"{current.get('name')}\".")
    removed = sorted(k for k in current if k not in edited)
    if removed:
        problems.append("Fields cannot be removed, only changed: put back "
                        + ", ".join(removed) + " (with its default value to reset it).")
    if problems:
        return None, problems
    return {k: v for k, v in edited.items() if current.get(k) != v}, []


# --------------------------------------------------------------------------- KV and objects


def bucket_problem(bucket: str, what: str = "bucket") -> str | None:
    if not bucket:
        return f"Give the {what} a name."
    if not BUCKET_NAME.match(bucket):
        return f"A {what} name may only contain letters, digits, - and _ (up to 240 characters)."
    return None


def kv_key_problem(key: str) -> str | None:
    """Why a KV key is not valid, or None."""
    if not key:
        return "Give the key."
    if key.startswith(".") or key.endswith("."):
        return f"The key \"{key}\" starts or ends with a dot."
    if not KV_KEY.match(key) or ".." in key:
        return (f"The key \"{key}\" may only contain letters, digits and - / _ = . "
                "(dot-separated parts, no wildcards).")
    return None


def check_kv_bucket_form(*, bucket: str, history: int = 1, ttl: str = "",
                         max_value_size: str = "", replicas: int = 1, storage: str = "file",
                         description: str = "") -> tuple[KvBucketSpec | None, list[str]]:
    problems: list[str] = []
    bucket = (bucket or "").strip()
    if problem := bucket_problem(bucket):
        problems.append(problem)
    if not 1 <= int(history or 0) <= 64:
        problems.append("History must keep between 1 and 64 values per key.")
    if not 1 <= int(replicas or 0) <= 5:
        problems.append("Replicas must be between 1 and 5.")
    if storage not in STORAGE_TYPES:
        problems.append("Storage must be file or memory.")
    age, size = 0, -1
    try:
        age = parse_duration(ttl)
    except ValueError as exc:
        problems.append(str(exc).replace("maximum age", "time to live"))
    try:
        size = parse_size(max_value_size)
        if size == 0 or size < -1:
            problems.append("Maximum value size must be empty (no limit) or more than 0 bytes.")
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        return None, problems
    spec: KvBucketSpec = {"bucket": bucket, "history": int(history), "ttl": age,
                          "max_value_size": size, "replicas": int(replicas),
                          "storage": storage}  # type: ignore[typeddict-item]
    if (description or "").strip():
        spec["description"] = description.strip()
    return spec, []


def check_kv_value(*, key: str, value: str, as_json: bool = False) -> tuple[Any, list[str]]:
    """(key, value to send) once both are valid; a JSON value is parsed first."""
    problems = [p for p in [kv_key_problem((key or "").strip())] if p]
    parsed: Any = value or ""
    if as_json:
        try:
            parsed = parse_json(value or "", "The value")
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        return None, problems
    return ((key or "").strip(), parsed), []


def check_object_store_form(*, bucket: str, description: str = "", ttl: str = "",
                            max_bytes: str = "", replicas: int = 1,
                            storage: str = "file") -> tuple[ObjectStoreSpec | None, list[str]]:
    problems: list[str] = []
    bucket = (bucket or "").strip()
    if problem := bucket_problem(bucket, "object store"):
        problems.append(problem)
    if not 1 <= int(replicas or 0) <= 5:
        problems.append("Replicas must be between 1 and 5.")
    if storage not in STORAGE_TYPES:
        problems.append("Storage must be file or memory.")
    age, size = 0, -1
    try:
        age = parse_duration(ttl)
    except ValueError as exc:
        problems.append(str(exc).replace("maximum age", "time to live"))
    try:
        size = parse_size(max_bytes)
        if size == 0 or size < -1:
            problems.append("Maximum size must be empty (no limit) or more than 0 bytes.")
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        return None, problems
    spec: ObjectStoreSpec = {"bucket": bucket, "ttl": age, "max_bytes": size,
                             "replicas": int(replicas), "storage": storage}  # type: ignore
    if (description or "").strip():
        spec["description"] = description.strip()
    return spec, []


def object_name_problem(name: str) -> str | None:
    if not name or not name.strip():
        return "Give the object a name."
    if len(name) > 1024:
        return "An object name has at most 1,024 characters."
    if name != name.strip():
        return "An object name must not start or end with a blank."
    return None
