"""Writing git from what a cluster runs.

- :func:`manifest`: one resource's live config as a manifest document, in the source design's
  format (``nats.io/v1``, a stream with its consumers inline) or NACK's
  (``jetstream.nats.io/v1beta2``), durations as Go strings, server-managed fields left out. What it
  writes loads back (``gitops.loader``) to the same config, so a plan against the cluster is empty.
- :func:`export_environment`: a cluster's resources as files (``<stream or bucket>.yaml``).
- :func:`set_fields`: a manifest file with some fields of one resource set to new values, the rest
  of the file (other documents, comments, key order) untouched: "update git from the cluster".
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from gitops.manifests import (
    API_DESIGN,
    API_NACK,
    CONSUMER_FIELDS,
    KV_FIELDS,
    OBJECT_STORE_FIELDS,
    STREAM_FIELDS,
)
from gitops.planner import DURATION_FIELDS, Live

FORMATS = ("nats", "nack")
KIND_NAMES = {
    "stream": "Stream",
    "consumer": "Consumer",
    "kv": "KeyValue",
    "object_store": "ObjectStore",
}
_FIELDS = {
    "stream": STREAM_FIELDS,
    "consumer": CONSUMER_FIELDS,
    "kv": KV_FIELDS,
    "object_store": OBJECT_STORE_FIELDS,
}
# Written by the server, or the resource's identity (written apart): never a manifest's field.
_SKIP = {
    "created",
    "ts",
    "name",
    "durable_name",
    "bucket",
    "stream_name",
    "cluster",
    "state",
    "first_seq",
    "pause_until",
}
_UNITS = (
    ("h", 3_600_000_000_000),
    ("m", 60_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
)


def go_duration(ns: int) -> str:
    """Nanoseconds as a Go duration string ("1h30m", "500ms", "0s")."""
    if not ns:
        return "0s"
    out, rest = "", int(ns)
    for unit, size in _UNITS:
        if rest >= size:
            out += f"{rest // size}{unit}"
            rest %= size
    return out


def _reverse(kind: str) -> dict[str, str]:
    """API field → manifest key (the first key naming it)."""
    out: dict[str, str] = {}
    for key, api in _FIELDS[kind].items():
        if api is not None and api not in out:
            out[api] = key
    return out


# Durations of the API that NACK writes as Go strings, beyond those the planner normalises.
_DURATIONS = DURATION_FIELDS | {"max_expires", "priority_timeout"}


def _duration(value: Any) -> Any:
    return go_duration(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _transform_out(value: Any, dest_key: str = "dest") -> Any:
    """A subject transform / republish with NACK's names (source, dest / destination)."""
    if not isinstance(value, dict):
        return value
    out = {"source": value.get("src", ""), dest_key: value.get("dest", "")}
    if value.get("headers_only"):
        out["headers_only"] = True  # NACK's RePublish spells it so
    return out


def _source_out(value: Any) -> Any:
    """A mirror or source with NACK's names (optStartSeq, externalApiPrefix, ...)."""
    if not isinstance(value, dict):
        return value
    names = {
        "name": "name",
        "opt_start_seq": "optStartSeq",
        "opt_start_time": "optStartTime",
        "filter_subject": "filterSubject",
        "domain": "domain",
    }
    out: dict[str, Any] = {}
    for key, item in value.items():
        if item in (None, "", [], {}):
            continue
        if key in names:
            out[names[key]] = item
        elif key == "external" and isinstance(item, dict):
            if item.get("api"):
                out["externalApiPrefix"] = item["api"]
            if item.get("deliver"):
                out["externalDeliverPrefix"] = item["deliver"]
        elif key == "subject_transforms" and isinstance(item, list):
            out["subjectTransforms"] = [_transform_out(t) for t in item]
        else:
            out[key] = item
    return out


def _value(api_field: str, value: Any) -> Any:
    """An API value as a manifest writes it: durations as Go strings, nested settings with the
    manifest formats' (NACK's) names, server metadata left out."""
    if api_field in _DURATIONS:
        if isinstance(value, list):
            return [_duration(v) for v in value]
        return _duration(value)
    if api_field == "metadata" and isinstance(value, dict):
        return {k: v for k, v in value.items() if not k.startswith("_nats.")} or None
    if api_field == "mirror":
        return _source_out(value)
    if api_field == "sources" and isinstance(value, list):
        return [_source_out(v) for v in value]
    if api_field == "subject_transform":
        return _transform_out(value)
    if api_field == "republish":
        return _transform_out(value, "destination")
    if api_field == "consumer_limits" and isinstance(value, dict):
        limits = {
            "inactiveThreshold": _duration(value.get("inactive_threshold")),
            "maxAckPending": value.get("max_ack_pending"),
        }
        return {k: v for k, v in limits.items() if v is not None} or None
    return value


def spec_of(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    names = _reverse(kind)
    spec = {}
    for api_field, value in config.items():
        if api_field in _SKIP or api_field not in names or value is None:
            continue
        value = _value(api_field, value)
        if value is None or value == {} or value == []:
            continue
        spec[names[api_field]] = value
    return spec


def manifest(resource: Live, fmt: str = "nats", consumers: list[Live] | None = None) -> dict:
    """One resource as a manifest document (a dict to dump). In the design format a stream
    carries ``consumers`` inline; in NACK's each consumer is a document of its own."""
    spec = spec_of(resource.kind, resource.config)
    kind = KIND_NAMES[resource.kind]
    if fmt == "nack":
        if resource.kind == "stream":
            spec = {"name": resource.name, **spec}
        elif resource.kind == "consumer":
            spec = {"streamName": resource.stream, "durableName": resource.name, **spec}
        else:
            spec = {"bucket": resource.name, **spec}
        meta = re.sub(r"[^a-z0-9-]+", "-", resource.name.lower()).strip("-")[:63] or "resource"
        return {"apiVersion": API_NACK, "kind": kind, "metadata": {"name": meta}, "spec": spec}
    if resource.kind == "consumer":
        spec = {"streamName": resource.stream, "durableName": resource.name, **spec}
    if resource.kind == "stream" and consumers:
        spec["consumers"] = [
            {"name": c.name, "durableName": c.name, **spec_of("consumer", c.config)}
            for c in consumers
        ]
    return {
        "apiVersion": API_DESIGN,
        "kind": kind,
        "metadata": {"name": resource.name},
        "spec": spec,
    }


def dump(documents: list[dict]) -> str:
    return yaml.safe_dump_all(
        documents,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        explicit_start=True,
    )


def export_environment(live: list[Live], fmt: str = "nats", prefix: str = "") -> dict[str, str]:
    """File name → manifest text, one file per stream (with its consumers) or bucket."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    mine = [r for r in live if (r.stream or r.name).startswith(prefix)]
    consumers: dict[str, list[Live]] = {}
    for r in mine:
        if r.kind == "consumer":
            consumers.setdefault(r.stream, []).append(r)
    files: dict[str, str] = {}
    for r in sorted(mine, key=lambda r: (r.kind, r.name)):
        if r.kind == "consumer":
            continue
        own = sorted(consumers.get(r.name, []), key=lambda c: c.name) if r.kind == "stream" else []
        docs = [manifest(r, fmt, own)]
        if fmt == "nack":
            docs += [manifest(c, fmt) for c in own]
        stem = {"stream": "", "kv": "kv-", "object_store": "objects-"}[r.kind]
        files[f"{stem}{r.name}.yaml"] = dump(docs)
    return files


def _flow(value: Any) -> str:
    """A YAML scalar or flow collection for one line."""
    return json.dumps(value, ensure_ascii=False)


def set_fields(text: str, line: int, kind: str, values: dict[str, Any]) -> str:
    """``text`` with the given API fields of the resource whose mapping starts at ``line``
    (1-based: its document, or its inline consumer item) set to ``values``: a key present in that
    mapping has its value replaced (a block under it too); a missing one is added to its spec."""
    lines = text.splitlines(keepends=True)
    names = _reverse(kind)
    start = line - 1
    end = _mapping_end(lines, start)
    for api_field, value in values.items():
        key = names.get(api_field)
        if key is None:
            continue
        rendered = _flow(_value(api_field, value))
        found = _find_key(lines, start, end, key)
        if found is None:
            indent, at = _spec_insert_point(lines, start, end)
            lines.insert(at, f"{indent}{key}: {rendered}\n")
            end += 1
            continue
        index, prefix = found  # "    " or "  - " (a key on an item's first line keeps its dash)
        block_end = index + 1
        while block_end < end and _is_child(lines[block_end], " " * len(prefix)):
            block_end += 1
        lines[index:block_end] = [f"{prefix}{key}: {rendered}\n"]
        end -= block_end - index - 1
    return "".join(lines)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _mapping_end(lines: list[str], start: int) -> int:
    first = lines[start]
    if first.lstrip().startswith("- "):  # an inline consumer item: up to its next sibling
        base = _indent(first)
        i = start + 1
        while i < len(lines) and (
            not lines[i].strip() or _indent(lines[i]) > base and not lines[i].startswith("---")
        ):
            i += 1
        return i
    i = start + 1
    while i < len(lines) and not lines[i].startswith("---"):
        i += 1
    return i


def _find_key(lines: list[str], start: int, end: int, key: str) -> tuple[int, str] | None:
    pattern = re.compile(rf"^(\s*(?:- )?)({re.escape(key)}):(\s|$)")
    depth = None
    for i in range(start, end):
        match = pattern.match(lines[i])
        if match and (depth is None or _indent(lines[i]) <= depth):
            return i, match.group(1)
        if lines[i].strip().startswith("consumers:") and not lines[start].lstrip().startswith("- "):
            depth = _indent(lines[i])  # keys of the stream, not of its inline consumers
    return None


def _is_child(line: str, indent: str) -> bool:
    stripped = line.strip()
    if not stripped:
        return True
    return _indent(line) > len(indent) or (
        _indent(line) == len(indent) and stripped.startswith("- ")
    )


def _spec_insert_point(lines: list[str], start: int, end: int) -> tuple[str, int]:
    if lines[start].lstrip().startswith("- "):
        return " " * (_indent(lines[start]) + 2), start + 1
    for i in range(start, end):
        if lines[i].rstrip() == "spec:":
            following = next((line for line in lines[i + 1 : end] if line.strip()), "  x")
            return " " * max(_indent(following), 2), i + 1
    return "  ", end


def remove_resource(text: str, line: int) -> str:
    """``text`` without the resource whose mapping starts at ``line`` (its whole document, or its
    inline consumer item): git then no longer asks for what the cluster no longer has."""
    lines = text.splitlines(keepends=True)
    start = line - 1
    end = _mapping_end(lines, start)
    if not lines[start].lstrip().startswith("- "):
        while start > 0 and (lines[start - 1].startswith("#") or not lines[start - 1].strip()):
            start -= 1  # its leading comments go with it
        if end < len(lines) and lines[end].startswith("---"):
            end += 1  # and the separator after it
    return "".join(lines[:start] + lines[end:])
