"""Desired resources read from manifests, in two formats that may be mixed in one repository.

* the source design's: ``apiVersion: nats.io/v1``; kinds Stream (with inline ``consumers``),
  Consumer, KeyValue, ObjectStore; the name is ``metadata.name``;
* NACK's CRDs: ``apiVersion: jetstream.nats.io/v1beta2``; the same kinds; the JetStream name is
  ``spec.name`` (streams), ``spec.durableName`` (consumers) or ``spec.bucket`` (buckets), distinct
  from ``metadata.name``. Connection fields (servers, creds, tls...) are ignored with a warning.

Both use camelCase fields; they are translated to the names the console API uses (JetStream's own
for streams and consumers: ``max_bytes``, ``num_replicas``, ``ack_policy``...; the console's bucket
configs for KeyValue and ObjectStore). Durations stay as given (Go strings or nanoseconds); the
validator turns them into nanoseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

API_DESIGN = "nats.io/v1"
API_NACK = "jetstream.nats.io/v1beta2"
API_VERSIONS = (API_DESIGN, API_NACK)
KINDS = {
    "Stream": "stream",
    "Consumer": "consumer",
    "KeyValue": "kv",
    "ObjectStore": "object_store",
}

ResourceKind = Literal["stream", "consumer", "kv", "object_store"]


@dataclass
class Resource:
    kind: ResourceKind
    name: str
    stream: str | None  # consumers only
    config: dict[str, Any]
    source: str  # path relative to the repository root
    line: int  # 1-based line of the document (or inline consumer)
    field_lines: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def key(self) -> tuple[str, str | None, str]:
        return (self.kind, self.stream, self.name)

    def describe(self) -> str:
        return (
            f"consumer {self.stream}/{self.name}"
            if self.kind == "consumer"
            else f"{self.kind} {self.name}"
        )


class ManifestError(Exception):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message, self.line = message, line


# Connection / operator fields that mean nothing to the console: ignored with a warning.
CONNECTION_FIELDS = {
    "account",
    "creds",
    "nkey",
    "servers",
    "tls",
    "tlsFirst",
    "jsDomain",
    "preventDelete",
    "preventUpdate",
}

_SOURCE = {
    "name": "name",
    "optStartSeq": "opt_start_seq",
    "optStartTime": "opt_start_time",
    "filterSubject": "filter_subject",
    "subjectTransforms": "subject_transforms",
    "externalApiPrefix": None,
    "externalDeliverPrefix": None,
    "domain": "domain",
}

STREAM_FIELDS = {
    "name": "name",
    "description": "description",
    "subjects": "subjects",
    "retention": "retention",
    "maxConsumers": "max_consumers",
    "maxMsgs": "max_msgs",
    "maxBytes": "max_bytes",
    "discard": "discard",
    "discardPerSubject": "discard_new_per_subject",
    "maxAge": "max_age",
    "maxMsgsPerSubject": "max_msgs_per_subject",
    "maxMsgSize": "max_msg_size",
    "storage": "storage",
    "replicas": "num_replicas",
    "noAck": "no_ack",
    "duplicateWindow": "duplicate_window",
    "placement": "placement",
    "mirror": "mirror",
    "sources": "sources",
    "sealed": "sealed",
    "denyDelete": "deny_delete",
    "denyPurge": "deny_purge",
    "allowRollup": "allow_rollup_hdrs",
    "compression": "compression",
    "firstSequence": "first_seq",
    "subjectTransform": "subject_transform",
    "republish": "republish",
    "allowDirect": "allow_direct",
    "mirrorDirect": "mirror_direct",
    "allowMsgTtl": "allow_msg_ttl",
    "subjectDeleteMarkerTtl": "subject_delete_marker_ttl",
    "allowMsgCounter": "allow_msg_counter",
    "allowAtomicPublish": "allow_atomic",
    "allowMsgSchedules": "allow_msg_schedules",
    "persistMode": "persist_mode",
    "consumerLimits": "consumer_limits",
    "metadata": "metadata",
}
CONSUMER_FIELDS = {
    "name": "name",
    "durableName": "durable_name",
    "description": "description",
    "deliverPolicy": "deliver_policy",
    "optStartSeq": "opt_start_seq",
    "optStartTime": "opt_start_time",
    "deliverSubject": "deliver_subject",
    "deliverGroup": "deliver_group",
    "ackPolicy": "ack_policy",
    "ackWait": "ack_wait",
    "maxDeliver": "max_deliver",
    "backoff": "backoff",
    "filterSubject": "filter_subject",
    "filterSubjects": "filter_subjects",
    "replayPolicy": "replay_policy",
    "sampleFreq": "sample_freq",
    "maxWaiting": "max_waiting",
    "rateLimitBps": "rate_limit_bps",
    "maxAckPending": "max_ack_pending",
    "flowControl": "flow_control",
    "headersOnly": "headers_only",
    "heartbeatInterval": "idle_heartbeat",
    "idleHeartbeat": "idle_heartbeat",
    "maxRequestBatch": "max_batch",
    "maxRequestExpires": "max_expires",
    "maxRequestMaxBytes": "max_bytes",
    "inactiveThreshold": "inactive_threshold",
    "pauseUntil": "pause_until",
    "priorityPolicy": "priority_policy",
    "pinnedTtl": "priority_timeout",
    "priorityGroups": "priority_groups",
    "replicas": "num_replicas",
    "memStorage": "mem_storage",
    "metadata": "metadata",
}
KV_FIELDS = {
    "bucket": "bucket",
    "description": "description",
    "maxValueSize": "max_value_size",
    "history": "history",
    "ttl": "ttl",
    "maxBytes": "max_bytes",
    "storage": "storage",
    "replicas": "replicas",
    "compression": "compression",
    "metadata": "metadata",
}
OBJECT_STORE_FIELDS = {
    "bucket": "bucket",
    "description": "description",
    "ttl": "ttl",
    "maxBytes": "max_bytes",
    "storage": "storage",
    "replicas": "replicas",
    "compression": "compression",
    "metadata": "metadata",
}
# Known to NACK but not (yet) configurable through the console's bucket API: ignored, with a
# warning.
_BUCKET_UNSUPPORTED = {"placement", "republish", "mirror", "sources", "limitMarkerTtl"}
# The source design's non-JetStream extras on a stream.
_DESIGN_EXTRAS = {"schema"}


def _line(obj: Any, key: Any = None, default: int | None = None) -> int | None:
    if key is not None:
        lines = getattr(obj, "key_lines", None) or {}
        if key in lines:
            return lines[key]
    return getattr(obj, "line", default)


def _camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _source(value: Any, line: int | None) -> Any:
    """A mirror or source: NACK's external prefixes become JetStream's ``external``."""
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in ("externalApiPrefix", "externalDeliverPrefix"):
            ext = out.setdefault("external", {})
            ext["api" if key == "externalApiPrefix" else "deliver"] = item
        elif key == "subjectTransforms" and isinstance(item, list):
            out["subject_transforms"] = [_transform(t) for t in item]
        elif key in _SOURCE:
            out[_SOURCE[key]] = item
        else:
            out[_camel_to_snake(key)] = item  # the model names what it does not know
    return out


def _transform(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    names = {
        "source": "src",
        "dest": "dest",
        "destination": "dest",
        "src": "src",
        "headersOnly": "headers_only",
    }
    return {names.get(k, _camel_to_snake(k)): v for k, v in value.items()}


def _nested(key: str, value: Any, line: int | None) -> Any:
    if value is None:
        return None
    if key in ("mirror",):
        return _source(value, line)
    if key == "sources" and isinstance(value, list):
        return [_source(v, line) for v in value]
    if key in ("subjectTransform", "republish"):
        return _transform(value)
    if key == "consumerLimits" and isinstance(value, dict):
        return {_camel_to_snake(k): v for k, v in value.items()}
    if key == "placement" and isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def translate(
    spec: dict,
    fields: dict[str, str],
    what: str,
    doc_line: int,
    warnings: list[tuple[int, str]],
    skip: set[str] = frozenset(),
) -> tuple[dict, dict]:
    """camelCase spec -> (config with API names, {api field: line}). Unknown fields raise."""
    config: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key, value in spec.items():
        line = _line(spec, key, doc_line) or doc_line
        if key in skip:
            continue
        if key in CONNECTION_FIELDS:
            warnings.append(
                (
                    line,
                    f"{what}: '{key}' is a connection setting of NACK; ignored "
                    "(the console connects with the environment's cluster)",
                )
            )
            continue
        if key not in fields:
            raise ManifestError(f"{what}: unknown field '{key}'", line)
        if value is None:
            continue
        api = fields[key]
        config[api] = _nested(key, value, line)
        lines[api] = line
    return config, lines


def resources_from_document(
    doc: dict, source: str, warnings: list[tuple[int, str]]
) -> list[Resource]:
    """The resources one YAML document declares ([] for documents of other kinds, with a
    warning)."""
    doc_line = _line(doc, default=1) or 1
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if api_version not in API_VERSIONS:
        warnings.append(
            (
                doc_line,
                f"apiVersion {api_version!r} kind {kind!r} is not a JetStream manifest; skipped",
            )
        )
        return []
    if kind not in KINDS:
        warnings.append((doc_line, f"kind {kind!r} of {api_version} is not managed; skipped"))
        return []
    metadata = doc.get("metadata") or {}
    spec = doc.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(metadata, dict):
        raise ManifestError("metadata must be a mapping", _line(doc, "metadata", doc_line))
    if not isinstance(spec, dict):
        raise ManifestError("spec must be a mapping", _line(doc, "spec", doc_line))
    nack = api_version == API_NACK
    meta_name = metadata.get("name")
    rkind = KINDS[kind]

    def make(rk, name, stream, config, lines, line) -> Resource:
        if not isinstance(name, str) or not name:
            raise ManifestError(
                f"{kind}: no name (give {'spec' if nack else 'metadata'}."
                f"{'bucket' if rk in ('kv', 'object_store') else 'name'})",
                line,
            )
        return Resource(
            kind=rk,
            name=name,
            stream=stream,
            config=config,
            source=source,
            line=line,
            field_lines=lines,
        )

    if rkind == "stream":
        extras = _DESIGN_EXTRAS | {"consumers"} if not nack else set()
        for extra in sorted(_DESIGN_EXTRAS & set(spec)) if not nack else []:
            warnings.append(
                (
                    _line(spec, extra, doc_line),
                    f"Stream: '{extra}' is not a JetStream setting; ignored",
                )
            )
        config, lines = translate(spec, STREAM_FIELDS, "Stream", doc_line, warnings, extras)
        name = config.get("name") or (None if nack else meta_name)
        if nack and not name:
            name = meta_name  # NACK requires spec.name; be lenient
        config["name"] = name
        out = [make("stream", name, None, config, lines, doc_line)]
        inline = spec.get("consumers") if not nack else None
        if inline is not None:
            if not isinstance(inline, list):
                raise ManifestError(
                    "Stream: consumers must be a list", _line(spec, "consumers", doc_line)
                )
            for item in inline:
                item_line = _line(item, default=doc_line) or doc_line
                if not isinstance(item, dict):
                    raise ManifestError("Stream: each consumer must be a mapping", item_line)
                out.append(_consumer(item, name, source, item_line, warnings, make, inline_of=name))
        return out
    if rkind == "consumer":
        stream = spec.get("streamName", spec.get("stream"))
        if not isinstance(stream, str) or not stream:
            raise ManifestError("Consumer: no stream (give spec.streamName)", doc_line)
        return [
            _consumer(
                spec,
                stream,
                source,
                doc_line,
                warnings,
                make,
                meta_name=None if nack else meta_name,
            )
        ]
    fields = KV_FIELDS if rkind == "kv" else OBJECT_STORE_FIELDS
    for extra in sorted(_BUCKET_UNSUPPORTED & set(spec)):
        warnings.append(
            (
                _line(spec, extra, doc_line),
                f"{kind}: '{extra}' is not supported by the console's bucket API; ignored",
            )
        )
    config, lines = translate(spec, fields, kind, doc_line, warnings, _BUCKET_UNSUPPORTED)
    name = config.get("bucket") or (None if nack else meta_name)
    if not nack and name:
        config["bucket"] = name
    return [make(rkind, name, None, config, lines, doc_line)]


def _consumer(
    spec: dict,
    stream: str,
    source: str,
    line: int,
    warnings,
    make,
    meta_name: str | None = None,
    inline_of: str | None = None,
) -> Resource:
    config, lines = translate(
        spec, CONSUMER_FIELDS, "Consumer", line, warnings, {"streamName", "stream"}
    )
    name = config.get("durable_name") or config.get("name") or meta_name
    if name and not config.get("durable_name") and not config.get("name"):
        config["durable_name"] = name
    return make("consumer", name, stream, config, lines, line)
