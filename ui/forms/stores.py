"""Key-value buckets and values, object stores and object names."""

from __future__ import annotations

from typing import Any

from ui.client import KvBucketSpec, ObjectStoreSpec
from ui.forms.common import (
    BUCKET_NAME,
    KV_KEY,
    STORAGE_TYPES,
    parse_duration,
    parse_json,
    parse_size,
)


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
        return f'The key "{key}" starts or ends with a dot.'
    if not KV_KEY.match(key) or ".." in key:
        return (
            f'The key "{key}" may only contain letters, digits and - / _ = . '
            "(dot-separated parts, no wildcards)."
        )
    return None


def check_kv_bucket_form(
    *,
    bucket: str,
    history: int = 1,
    ttl: str = "",
    max_value_size: str = "",
    replicas: int = 1,
    storage: str = "file",
    description: str = "",
) -> tuple[KvBucketSpec | None, list[str]]:
    problems: list[str] = []
    bucket = (bucket or "").strip()
    if problem := bucket_problem(bucket):
        problems.append(problem)
    if not 1 <= int(history or 0) <= 64:
        problems.append("History must keep between 1 and 64 values per key.")
    age, size = _storage_limits(
        problems, replicas, storage, ttl, max_value_size, "Maximum value size"
    )
    if problems:
        return None, problems
    spec: KvBucketSpec = {
        "bucket": bucket,
        "history": int(history),
        "ttl": age,
        "max_value_size": size,
        "replicas": int(replicas),
        "storage": storage,
    }  # type: ignore[typeddict-item]
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


def check_object_store_form(
    *,
    bucket: str,
    description: str = "",
    ttl: str = "",
    max_bytes: str = "",
    replicas: int = 1,
    storage: str = "file",
) -> tuple[ObjectStoreSpec | None, list[str]]:
    problems: list[str] = []
    bucket = (bucket or "").strip()
    if problem := bucket_problem(bucket, "object store"):
        problems.append(problem)
    age, size = _storage_limits(problems, replicas, storage, ttl, max_bytes, "Maximum size")
    if problems:
        return None, problems
    spec: ObjectStoreSpec = {
        "bucket": bucket,
        "ttl": age,
        "max_bytes": size,
        "replicas": int(replicas),
        "storage": storage,
    }  # type: ignore
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


def _storage_limits(
    problems: list[str], replicas: object, storage: str, ttl: str, size_text: str, size_label: str
) -> tuple[int, int]:
    """What KV buckets and object stores check alike: replicas, storage, time to live and a size
    limit. Appends a sentence to ``problems`` for each; returns (ttl ns, size bytes)."""
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
        size = parse_size(size_text)
        if size == 0 or size < -1:
            problems.append(f"{size_label} must be empty (no limit) or more than 0 bytes.")
    except ValueError as exc:
        problems.append(str(exc))
    return age, size
