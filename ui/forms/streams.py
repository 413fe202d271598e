"""Streams, publishing a message, consumers, and a stream's edited configuration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ui.client import ConsumerSpec, StreamConfig
from ui.forms.common import (
    ACK_POLICIES,
    DELIVER_POLICIES,
    DISCARD_POLICIES,
    RETENTION_POLICIES,
    STORAGE_TYPES,
    STREAM_NAME,
    concrete_subject_problem,
    parse_duration,
    parse_headers,
    parse_json,
    parse_size,
    parse_time,
    split_list,
    subject_problem,
)


def check_stream_form(
    *,
    name: str,
    subjects: str,
    storage: str = "file",
    retention: str = "limits",
    max_msgs: int = -1,
    max_bytes: str = "",
    max_age: str = "",
    num_replicas: int = 1,
    discard: str = "old",
) -> tuple[StreamConfig | None, list[str]]:
    problems: list[str] = []
    name = (name or "").strip()
    if not name:
        problems.append("Give the stream a name.")
    elif not STREAM_NAME.match(name):
        problems.append(
            "A stream name may only contain letters, digits, - and _ (up to 255 characters)."
        )
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
    config: StreamConfig = {
        "name": name,
        "subjects": subject_list,
        "storage": storage,
        "retention": retention,
        "max_msgs": int(max_msgs),
        "max_bytes": size,
        "max_age": age,
        "num_replicas": int(num_replicas),
        "discard": discard,
    }
    return config, []


def check_publish_form(
    *, subject: str, payload: str, as_json: bool = False, headers: str = "", msg_id: str = ""
) -> tuple[dict[str, Any] | None, list[str]]:
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
    return {
        "subject": subject,
        "payload": body,
        "headers": header_values,
        "msg_id": msg_id or None,
    }, []


def check_consumer_form(
    *,
    name: str,
    filter_subjects: str = "",
    deliver_policy: str = "all",
    start_seq: int | None = None,
    start_time: str = "",
    ack_policy: str = "explicit",
    ack_wait: str = "30s",
    max_deliver: int = -1,
    max_ack_pending: int = 1000,
    description: str = "",
) -> tuple[ConsumerSpec | None, list[str]]:
    """A durable pull consumer, in JetStream's field names."""
    problems: list[str] = []
    name = (name or "").strip()
    if not name:
        problems.append("Give the consumer a name.")
    elif not STREAM_NAME.match(name):
        problems.append(
            "A consumer name may only contain letters, digits, - and _ (up to 255 characters)."
        )
    filters = split_list(filter_subjects)
    problems += [p for p in map(subject_problem, filters) if p]
    if deliver_policy not in DELIVER_POLICIES:
        problems.append("Choose where the consumer starts.")
    if ack_policy not in ACK_POLICIES:
        problems.append("Acknowledgement must be explicit, all or none.")
    spec: ConsumerSpec = {
        "durable_name": name,
        "deliver_policy": deliver_policy,  # type: ignore
        "ack_policy": ack_policy,
    }  # type: ignore[typeddict-item]
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


def config_changes(
    text: str, current: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, list[str]]:
    """What an edited JSON config changes: only the fields whose value differs, for a PATCH."""
    try:
        edited = parse_json(text, "The configuration")
    except ValueError as exc:
        return None, [str(exc)]
    if not isinstance(edited, dict):
        return None, ["The configuration must be one JSON object, { ... }."]
    problems = []
    if edited.get("name", current.get("name")) != current.get("name"):
        problems.append(f'A stream cannot be renamed: keep "name": "{current.get("name")}".')
    removed = sorted(k for k in current if k not in edited)
    if removed:
        problems.append(
            "Fields cannot be removed, only changed: put back "
            + ", ".join(removed)
            + " (with its default value to reset it)."
        )
    if problems:
        return None, problems
    return {k: v for k, v in edited.items() if current.get(k) != v}, []
