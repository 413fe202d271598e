"""Object stores in the format of the Go and Python clients, so each reads what the other wrote.

A bucket is the stream ``OBJ_<bucket>``. An object's data is a run of chunks on
``$O.<bucket>.C.<nuid>`` (a fresh NUID per upload); its description is the last message on
``$O.<bucket>.M.<base64url(name)>``: the ObjectInfo JSON (``name``, ``description``, ``headers``,
``metadata``, ``options.max_chunk_size``, ``bucket``, ``nuid``, ``size``, ``chunks``,
``digest: "SHA-256=<base64url>"``, ``deleted``), published with ``Nats-Rollup: sub``. As in the Go
client the stored ``mtime`` is zero and the time shown is the description message's own.

Neither direction holds an object in memory: an upload publishes each chunk as it arrives, with a
bounded window of acknowledgements in flight, then the description; a download reads the chunks in
batches (direct gets) and hands them on one by one, checking the size and digest at the end.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import json
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import aclosing
from typing import Any

from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.nuid import NUID

from core.jetstream.api import JetStreamApi, JetStreamError, JetStreamUnavailable
from core.jetstream.buckets import (  # noqa: F401 (BUCKET_PATTERN: one for both)
    BUCKET_PATTERN,
    BucketConfig,
    BucketKind,
    BucketNotFound,
    StreamBucket,
    common_status,
)
from core.jetstream.messages import StreamReader

DEFAULT_CHUNK_SIZE = 128 * 1024
DIGEST_PREFIX = "SHA-256="
ZERO_TIME = "0001-01-01T00:00:00Z"
ROLLUP = {"Nats-Rollup": "sub"}
STREAM_PREFIX = "OBJ_"


class ObjectNotFound(Exception):
    pass


class DigestMismatch(Exception):
    """What was read back is not what the description promises."""


def stream_name(bucket: str) -> str:
    return STREAM_PREFIX + bucket


def meta_subject(bucket: str, name: str) -> str:
    return f"$O.{bucket}.M.{base64.urlsafe_b64encode(name.encode()).decode()}"


def chunk_subject(bucket: str, nuid: str) -> str:
    return f"$O.{bucket}.C.{nuid}"


def digest_of(sha: Any) -> str:
    return DIGEST_PREFIX + base64.urlsafe_b64encode(sha.digest()).decode()


class ObjectStoreConfig(BucketConfig):
    """A bucket to create. ``ttl`` is a duration (ns or "72h"), 0 for none."""

    def stream_config(self) -> dict[str, Any]:
        """The stream, as the Go client configures an object store."""
        return self.bucket_stream(
            stream_name(self.bucket), [f"$O.{self.bucket}.C.>", f"$O.{self.bucket}.M.>"]
        )


def store_status(info: dict[str, Any]) -> dict[str, Any]:
    config, state = info["config"], info.get("state") or {}
    return common_status(
        info, STREAM_PREFIX, sealed=bool(config.get("sealed")), size=state.get("bytes", 0)
    )


class _AckWindow:
    """Publishes in order with at most ``size`` JetStream acknowledgements outstanding."""

    def __init__(self, js: JetStreamApi, size: int = 8):
        self.js, self.size = js, size
        self.sent = self.acked = 0

    async def __aenter__(self) -> _AckWindow:
        self.inbox = self.js.nc.new_inbox()
        self.sub = await self.js.nc.subscribe(f"{self.inbox}.*")
        return self

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self.sub.unsubscribe()
        except NatsError:
            pass

    async def publish(self, subject: str, data: bytes) -> None:
        while self.sent - self.acked >= self.size:
            await self._one_ack()
        try:
            await self.js.nc.publish(subject, data, reply=f"{self.inbox}.{self.sent}")
        except NatsError as exc:
            raise JetStreamUnavailable(f"the connection to the cluster failed: {exc}") from exc
        self.sent += 1

    async def drain(self) -> None:
        while self.acked < self.sent:
            await self._one_ack()

    async def _one_ack(self) -> None:
        try:
            msg = await self.sub.next_msg(timeout=self.js.timeout)
        except NatsTimeoutError as exc:
            raise JetStreamUnavailable("JetStream did not acknowledge a chunk in time") from exc
        self.acked += 1
        headers = {getattr(k, "value", k): v for k, v in (msg.headers or {}).items()}
        if not msg.data and headers.get("Status") == "503":
            raise JetStreamUnavailable("no stream takes the object's chunks")
        reply = json.loads(msg.data or b"{}")
        if err := reply.get("error"):
            raise JetStreamError(
                err.get("code", 500),
                err.get("err_code", 0),
                err.get("description", "unknown JetStream error"),
            )


class ObjectStore(StreamBucket):
    """One bucket of a cluster."""

    STREAM_PREFIX = STREAM_PREFIX

    def __init__(self, js: JetStreamApi, bucket: str, info: dict[str, Any]):
        super().__init__(js, bucket, info)
        self.reader = StreamReader(
            js,
            self.stream,
            direct=bool(info["config"].get("allow_direct")),
            batch_bytes=2 * 1024 * 1024,
        )

    # -- descriptions ---------------------------------------------------------------------------
    async def info(self, name: str, show_deleted: bool = False) -> dict[str, Any]:
        """The object's ObjectInfo (``mtime``: when it was last written); ObjectNotFound."""
        msg = await self.reader.last(meta_subject(self.bucket, name))
        if msg is None:
            raise ObjectNotFound(f"no object '{name}' in bucket '{self.bucket}'")
        info: dict[str, Any] = json.loads(msg.data)
        if info.get("deleted") and not show_deleted:
            raise ObjectNotFound(f"object '{name}' of bucket '{self.bucket}' was deleted")
        info["mtime"] = msg.time
        return info

    async def list(
        self,
        show_deleted: bool = False,
        limit: int = 10_000,
    ) -> tuple[list[dict[str, Any]], bool]:
        """Descriptions of the objects, by name, and whether there were more than ``limit``."""
        found, _ = await self.reader.last_per_subject(f"$O.{self.bucket}.M.>", limit=1_000_000)
        infos = []
        for msg in found:
            try:
                info = json.loads(msg.data)
            except ValueError:
                continue
            if info.get("deleted") and not show_deleted:
                continue
            info["mtime"] = msg.time
            infos.append(info)
        infos.sort(key=lambda i: i.get("name") or "")
        return infos[:limit], len(infos) > limit

    async def _write_meta(self, info: dict[str, Any]) -> None:
        stored = {k: v for k, v in info.items() if v is not None}
        stored["mtime"] = ZERO_TIME
        try:
            reply = await self.js.nc.request(
                meta_subject(self.bucket, info["name"]),
                json.dumps(stored).encode(),
                timeout=self.js.timeout,
                headers=ROLLUP,
            )
        except NatsTimeoutError as exc:
            raise JetStreamUnavailable("JetStream did not acknowledge in time") from exc
        except NatsError as exc:
            raise JetStreamUnavailable(f"the connection to the cluster failed: {exc}") from exc
        ack = json.loads(reply.data or b"{}")
        if err := ack.get("error"):
            raise JetStreamError(
                err.get("code", 500),
                err.get("err_code", 0),
                err.get("description", "unknown JetStream error"),
            )

    async def _purge_chunks(self, nuid: str) -> None:
        await self.js.stream_purge(self.stream, {"filter": chunk_subject(self.bucket, nuid)})

    # -- data -----------------------------------------------------------------------------------
    async def put(
        self,
        name: str,
        source: AsyncIterable[bytes],
        *,
        description: str | None = None,
        headers: dict[str, builtins.list[str]] | None = None,
        metadata: dict[str, str] | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> tuple[dict[str, Any], bool]:
        """Store ``source`` as ``name`` (replacing any object of that name) and return its
        description and whether it replaced one. On any failure the new chunks are purged."""
        try:
            existing: dict[str, Any] | None = await self.info(name, show_deleted=True)
        except ObjectNotFound:
            existing = None
        nuid = NUID().next().decode()
        subject = chunk_subject(self.bucket, nuid)
        sha, size, chunks = hashlib.sha256(), 0, 0
        buffer = bytearray()
        try:
            async with _AckWindow(self.js) as window:
                async for piece in source:
                    buffer += piece
                    while len(buffer) >= chunk_size:
                        chunk = bytes(buffer[:chunk_size])
                        del buffer[:chunk_size]
                        sha.update(chunk)
                        await window.publish(subject, chunk)
                        size, chunks = size + len(chunk), chunks + 1
                if buffer:
                    chunk = bytes(buffer)
                    buffer.clear()
                    sha.update(chunk)
                    await window.publish(subject, chunk)
                    size, chunks = size + len(chunk), chunks + 1
                await window.drain()
            info: dict[str, Any] = {
                "name": name,
                "description": description or None,
                "headers": headers or None,
                "metadata": metadata or None,
                "options": {"max_chunk_size": chunk_size},
                "bucket": self.bucket,
                "nuid": nuid,
                "size": size,
                "chunks": chunks,
                "digest": digest_of(sha),
            }
            await self._write_meta(info)
        except BaseException:
            try:
                await self._purge_chunks(nuid)
            except Exception:  # the original failure is what the caller needs to see
                pass
            raise
        replaced = existing is not None and not existing.get("deleted")
        if existing is not None and replaced and existing.get("nuid"):
            await self._purge_chunks(existing["nuid"])
        return await self.info(name), replaced

    async def resolve(self, name: str, hops: int = 0) -> tuple[ObjectStore, dict[str, Any]]:
        """The store and description holding the data of ``name``, links followed."""
        info = await self.info(name)
        link = (info.get("options") or {}).get("link")
        if not link:
            return self, info
        if not link.get("name") or hops >= 8:
            raise ObjectNotFound(f"object '{name}' links to a whole bucket, or links too deep")
        target = (
            self
            if link.get("bucket") == self.bucket
            else await ObjectStore.open(self.js, link.get("bucket") or "")
        )
        return await target.resolve(link["name"], hops + 1)

    async def read(self, info: dict[str, Any]) -> AsyncIterator[bytes]:
        """The object's chunks in order; DigestMismatch at the end when size or digest differ."""
        size = int(info.get("size") or 0)
        sha, seen, next_seq = hashlib.sha256(), 0, 1
        subject = chunk_subject(self.bucket, info.get("nuid") or "")
        # Direct gets may be answered by a replica a little behind the leader: whatever they do
        # not have yet is then read from the leader (message gets).
        readers = [self.reader] + (
            [StreamReader(self.js, self.stream)] if self.reader.direct else []
        )
        for reader in readers:
            if seen >= size:
                break
            async with aclosing(reader.scan(next_seq, subject, batch=32)) as chunks:
                async for msg in chunks:
                    sha.update(msg.data)
                    seen += len(msg.data)
                    next_seq = msg.seq + 1
                    yield msg.data
        if seen != size:
            raise DigestMismatch(
                f"read {seen} bytes of object '{info.get('name')}', its description says {size}"
            )
        if size and info.get("digest") and digest_of(sha) != info["digest"]:
            raise DigestMismatch(
                f"the SHA-256 of object '{info.get('name')}' differs from its description"
            )

    async def delete(self, name: str) -> dict[str, Any]:
        """Mark the object deleted (as the Go client does) and purge its chunks."""
        info = await self.info(name)
        marker = {**info, "deleted": True, "size": 0, "chunks": 0, "digest": None}
        await self._write_meta(marker)
        if info.get("nuid"):
            await self._purge_chunks(info["nuid"])
        return info

    async def update_meta(
        self,
        name: str,
        *,
        description: str | None,
        headers: dict[str, builtins.list[str]] | None,
        metadata: dict[str, str] | None,
    ) -> dict[str, Any]:
        """Replace the description, headers and metadata of an object; its data stays."""
        info = await self.info(name)
        info.update(description=description, headers=headers, metadata=metadata)
        await self._write_meta(info)
        return await self.info(name)


OBJECT_STORES = BucketKind(
    label="object store",
    stream_prefix=STREAM_PREFIX,
    subjects="$O.>",
    status=store_status,
    config=ObjectStoreConfig,
    store=ObjectStore,
)
list_stores, create_store = OBJECT_STORES.list, OBJECT_STORES.create
delete_store = OBJECT_STORES.delete
