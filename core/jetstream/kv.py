"""Key-value buckets: a bucket is the stream ``KV_<bucket>`` capturing ``$KV.<bucket>.>``, created
with the configuration the Go and Python clients use, so every NATS client reads and writes it.

Writes and watches go through nats-py's ``KeyValue``; reads of a key (latest or any revision) and
of its history use message gets (``core.jetstream.messages``), which carry the time of each
revision and create nothing on the server.
"""

from __future__ import annotations

import re
from typing import Any

import nats.js.errors as js_errors
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.kv import KeyValue
from pydantic import Field

from core.jetstream.api import JetStreamApi, JetStreamError, JetStreamUnavailable
from core.jetstream.buckets import (  # noqa: F401 (BUCKET_PATTERN, BucketNotFound: one for both)
    BUCKET_PATTERN,
    BucketConfig,
    BucketKind,
    BucketNotFound,
    StreamBucket,
    common_status,
)
from core.jetstream.messages import (
    DEFAULT_PAYLOAD_LIMIT,
    StoredMessage,
    StreamReader,
    describe_payload,
    format_time,
)

STREAM_PREFIX = "KV_"
_KEY = re.compile(r"^[-/_=.a-zA-Z0-9]+$")
_KEY_TOKEN = re.compile(r"^[-/_=a-zA-Z0-9]+$")
KV_OPERATION = "KV-Operation"
MARKER_REASON = "Nats-Marker-Reason"  # server-placed markers (TTL, age) since 2.11


class KeyNotFound(Exception):
    pass


class KeyExists(Exception):
    """A create-only put, or a put expecting another revision, found the key otherwise."""


def stream_name(bucket: str) -> str:
    return STREAM_PREFIX + bucket


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid key; None when it is."""
    if not key:
        return "is empty"
    if key.startswith(".") or key.endswith("."):
        return f"'{key}' starts or ends with a dot"
    if not _KEY.match(key) or ".." in key:
        return (
            f"'{key}' is not a key: use letters, digits and - / _ = . "
            "(dot-separated tokens, no wildcards)"
        )
    return None


def key_filter_problem(keys: str) -> str | None:
    """Why ``keys`` is not a key filter (a key whose tokens may be ``*``, or ``>`` last)."""
    tokens = keys.split(".")
    for i, token in enumerate(tokens):
        if token == ">" and i == len(tokens) - 1 or token == "*":
            continue
        if not _KEY_TOKEN.match(token):
            return (
                f"'{keys}' is not a key filter: tokens of letters, digits and - / _ =, "
                "'*' for one token, '>' last for the rest"
            )
    return None


class KvBucketConfig(BucketConfig):
    """A bucket to create. ``ttl`` is a duration (ns or "72h"), 0 for none."""

    history: int = Field(default=1, ge=1, le=64, description="revisions kept per key")
    max_value_size: int = Field(default=-1, ge=-1)

    def stream_config(self) -> dict[str, Any]:
        """The stream, as the Go client configures a bucket."""
        window = 2 * 60 * 10**9
        return self.bucket_stream(
            stream_name(self.bucket),
            [f"$KV.{self.bucket}.>"],
            max_msgs_per_subject=self.history,
            max_msgs=-1,
            max_msg_size=self.max_value_size,
            max_consumers=-1,
            duplicate_window=min(window, self.ttl) if self.ttl else window,
            deny_delete=True,
            deny_purge=False,
        )


def bucket_status(info: dict[str, Any]) -> dict[str, Any]:
    """A bucket's settings and state from its stream's info."""
    config, state = info["config"], info.get("state") or {}
    return common_status(
        info,
        STREAM_PREFIX,
        history=config.get("max_msgs_per_subject"),
        max_value_size=config.get("max_msg_size", -1),
        values=state.get("messages", 0),
        bytes=state.get("bytes", 0),
        keys=state.get("num_subjects", 0),
    )


def operation_of(headers: dict[str, list[str]] | dict[str, str] | None) -> str:
    """PUT, DEL or PURGE, from a stored message's headers."""

    def first(name: str) -> str | None:
        value = (headers or {}).get(name)
        return value[0] if isinstance(value, list) else value

    if op := first(KV_OPERATION):
        return op
    reason = first(MARKER_REASON)
    if reason in ("MaxAge", "Purge"):
        return "PURGE"
    return "DEL" if reason == "Remove" else "PUT"


def entry_json(
    bucket: str,
    key: str,
    revision: int,
    created: str | None,
    operation: str,
    value: bytes,
    payload_limit: int | None = DEFAULT_PAYLOAD_LIMIT,
    delta: int | None = None,
) -> dict[str, Any]:
    described = describe_payload(value, payload_limit)
    entry = {
        "bucket": bucket,
        "key": key,
        "revision": revision,
        "created": created,
        "operation": operation,
        "value": described.pop("payload"),
        **described,
    }
    if delta is not None:
        entry["delta"] = delta
    return entry


def watch_entry_json(
    bucket: str, entry: KeyValue.Entry, payload_limit: int | None = DEFAULT_PAYLOAD_LIMIT
) -> dict[str, Any]:
    # nats-py annotates ``created`` as int; it holds the message's datetime
    created = format_time(entry.created) if entry.created else None  # type: ignore[arg-type]
    return entry_json(
        bucket,
        entry.key,
        entry.revision or 0,
        created,
        entry.operation or "PUT",
        entry.value or b"",
        payload_limit,
        delta=entry.delta,
    )


def _translate(exc: Exception) -> Exception:
    """nats-py's errors as the console's (the API maps those to statuses)."""
    if isinstance(exc, js_errors.KeyWrongLastSequenceError):
        return KeyExists(exc.description or "the key's revision differs")
    if isinstance(exc, js_errors.APIError):
        return JetStreamError(
            exc.code or 500, exc.err_code or 0, exc.description or "unknown JetStream error"
        )
    if isinstance(exc, (NatsTimeoutError, js_errors.ServiceUnavailableError, NoRespondersError)):
        return JetStreamUnavailable("JetStream did not answer in time")
    if isinstance(exc, NatsError):
        return JetStreamUnavailable(f"the connection to the cluster failed: {exc}")
    return exc


class KvBucket(StreamBucket):
    """One bucket of a cluster."""

    STREAM_PREFIX = STREAM_PREFIX

    def __init__(self, js: JetStreamApi, bucket: str, info: dict[str, Any]):
        super().__init__(js, bucket, info)
        self.prefix = f"$KV.{bucket}."
        direct = bool(info["config"].get("allow_direct"))
        self.reader = StreamReader(js, self.stream, direct=direct)
        self.kv = KeyValue(
            name=bucket,
            stream=self.stream,
            pre=self.prefix,
            js=js.nc.jetstream(prefix=js.prefix, timeout=js.timeout),
            direct=direct,
        )

    def _entry(self, msg: StoredMessage, payload_limit: int | None) -> dict[str, Any]:
        return entry_json(
            self.bucket,
            msg.subject[len(self.prefix) :],
            msg.seq,
            msg.time,
            operation_of(msg.headers),
            msg.data,
            payload_limit,
        )

    async def get(
        self,
        key: str,
        revision: int | None = None,
        payload_limit: int | None = DEFAULT_PAYLOAD_LIMIT,
    ) -> dict[str, Any]:
        """The latest value (KeyNotFound when absent or deleted), or the entry at ``revision``
        (which may be a delete marker)."""
        subject = self.prefix + key
        if revision is None:
            msg = await self.reader.last(subject)
            if msg is None:
                raise KeyNotFound(f"no key '{key}' in bucket '{self.bucket}'")
            if operation_of(msg.headers) != "PUT":
                raise KeyNotFound(
                    f"key '{key}' of bucket '{self.bucket}' was deleted (revision {msg.seq})"
                )
        else:
            msg = await self.reader.get(revision)
            if msg is None or msg.subject != subject:
                raise KeyNotFound(
                    f"key '{key}' of bucket '{self.bucket}' has no revision {revision}"
                )
        return self._entry(msg, payload_limit)

    async def exists(self, key: str) -> bool:
        """Whether the key has a live (not deleted) value."""
        msg = await self.reader.last(self.prefix + key)
        return msg is not None and operation_of(msg.headers) == "PUT"

    async def has_history(self, key: str) -> bool:
        return await self.reader.last(self.prefix + key) is not None

    async def history(
        self,
        key: str,
        payload_limit: int | None = DEFAULT_PAYLOAD_LIMIT,
    ) -> list[dict[str, Any]]:
        """Every revision kept of the key, oldest first (delete markers included)."""
        return [self._entry(m, payload_limit) async for m in self.reader.scan(1, self.prefix + key)]

    async def put(self, key: str, value: bytes, expected_revision: int | None = None) -> int:
        """The new revision. With ``expected_revision`` the put happens only if the key is at
        that revision (0: the key does not exist), else KeyExists."""
        try:
            if expected_revision is None:
                return await self.kv.put(key, value)
            return await self.kv.update(key, value, last=expected_revision)
        except Exception as exc:
            raise _translate(exc) from exc

    async def create(self, key: str, value: bytes) -> int:
        """Put only if the key has no live value (a deleted key may be created again)."""
        try:
            return await self.kv.create(key, value)
        except Exception as exc:
            raise _translate(exc) from exc

    async def delete(self, key: str, purge: bool = False) -> None:
        """A delete marker (history kept), or with ``purge`` a marker that drops the history."""
        try:
            if purge:
                await self.kv.purge(key)
            else:
                await self.kv.delete(key)
        except Exception as exc:
            raise _translate(exc) from exc

    async def keys(self, keys: str = ">", limit: int = 1000) -> tuple[list[str], bool]:
        """Live keys matching the filter, sorted, at most ``limit``, and whether more matched.

        Reads the last entry of each key (headers only) with an ephemeral pull consumer that
        acknowledges nothing: nothing is delivered before it is asked for, so the consumer's
        ``num_pending`` at creation is exactly what there is to read, and each entry's own
        ``num_pending`` says when the last one arrived. (nats-py's watcher decides that it has
        caught up from a consumer info that can overtake deliveries still in flight on a busy
        server, and then reports no keys at all.)"""
        found: list[str] = []
        config = {
            "deliver_policy": "last_per_subject",
            "ack_policy": "none",
            "headers_only": True,
            "filter_subject": f"{self.prefix}{keys}",
            "inactive_threshold": 30_000_000_000,
            "mem_storage": True,
        }
        try:
            created = await self.js.consumer_create(self.stream, config)
        except JetStreamError as exc:
            raise _translate(exc) from exc
        name, remaining = created["name"], int(created.get("num_pending", 0))
        try:
            sub = await self.kv._js.pull_subscribe_bind(consumer=name, stream=self.stream)
            while remaining > 0 and len(found) <= limit:
                try:
                    batch = await sub.fetch(min(remaining, 1000), timeout=self.js.timeout)
                except NatsTimeoutError as exc:
                    raise JetStreamUnavailable("JetStream stopped sending the keys") from exc
                for msg in batch:
                    remaining = msg.metadata.num_pending
                    operation = (msg.headers or {}).get(KV_OPERATION)
                    if operation not in ("DEL", "PURGE"):
                        found.append(msg.subject[len(self.prefix) :])
            await sub.unsubscribe()
        finally:
            try:
                await self.js.consumer_delete(self.stream, name)
            except (JetStreamError, JetStreamUnavailable):
                pass  # the server removes it when idle
        return sorted(found[:limit]), len(found) > limit

    async def watch(
        self, keys: str = ">", include_history: bool = False, ignore_deletes: bool = False
    ) -> KeyValue.KeyWatcher:
        """nats-py's watcher: current values (or every revision), ``None`` once caught up, then
        every change. Stop it with ``await watcher.stop()``."""
        try:
            return await self.kv.watch(
                keys,
                include_history=include_history,
                ignore_deletes=ignore_deletes,
                inactive_threshold=30,
            )
        except Exception as exc:
            raise _translate(exc) from exc


KV = BucketKind(
    label="KV bucket",
    stream_prefix=STREAM_PREFIX,
    subjects="$KV.>",
    status=bucket_status,
    config=KvBucketConfig,
    store=KvBucket,
)
list_buckets, create_bucket, delete_bucket = KV.list, KV.create, KV.delete
