"""Restoring a chain (``core.backups.chain``) into a new stream with the server's own restore
(``STREAM.RESTORE``): the full item's snapshot without its end sentinel, then each incremental
item's entries, then a sentinel (``core.backups.full_snapshot``, ``core.backups.archive``).
Sequences (gaps included), timestamps, headers, consumers (configuration and ack floors) come back
as the server stored them.

``quiet_consumers`` (for verification restores only, never a real one): the restored push
consumers deliver to a private subject ``_JSC_VERIFY.<hex>.<consumer>`` without a deliver group,
so a subscriber of their original deliver subject on the target cluster receives nothing; their
state stays as backed up.

Chunks are read from the target one at a time, a couple ahead (``prefetch``), and each one's
SHA-256 is checked against the database before a byte of it is sent (``ChunkCorrupted`` names the
backup, the stream, the chunk and both digests). The archive goes to the server in messages of
up to 1 MiB with ``window`` of them awaiting the server's acknowledgement, so the restore is not
bound by round trips; the server processes one connection's messages in order.

``until`` (a point in time) drops the incremental entries written after it; a full snapshot
cannot be cut, so a chain whose full item holds messages newer than ``until`` is refused.

Whatever fails after the server began the restore (a damaged chunk, the server refusing a
message), the half-restored stream is deleted: it is this restore's (the server refuses to
restore over a name that exists)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from nats.aio.msg import Msg

from core.backups import archive
from core.backups.chain import ChainLink, ChunkRef
from core.backups.full_snapshot import FullSnapshot
from core.backups.reader import ns_of, time_ns
from core.backups.targets import BackupTarget, ChunkCorrupted, ChunkMissing
from core.jetstream.api import JetStreamApi, JetStreamError

PIECE = 1024 * 1024
WINDOW = 8
PREFETCH = 2
ACK_TIMEOUT_S = 60.0
FINISH_TIMEOUT_S = 300.0
QUIET_PREFIX = "_JSC_VERIFY"


class RestoreRefused(Exception):
    """The chain cannot be restored as asked (nothing was created)."""


class RestoreFailed(Exception):
    """The server refused the restore or a part of it; any half-restored stream was deleted."""


def restore_config(
    links: list[ChainLink], stream_name: str, subjects: list[str] | None
) -> dict[str, Any]:
    """The newest item's configuration under the new name; ``subjects`` replaces the subjects
    (``[]``: none given, the server uses the stream's name)."""
    config: dict[str, Any] = json.loads(json.dumps(links[-1].config))
    config["name"] = stream_name
    if subjects is not None:
        if subjects:
            config["subjects"] = list(subjects)
        else:
            config.pop("subjects", None)
    return config


def check_chain(links: list[ChainLink], until: datetime | None) -> None:
    if not links or links[0].kind != "full":
        raise RestoreRefused("the chain does not start with a full backup")
    for link in links:
        if link.status != "done":
            raise RestoreRefused(
                f"backup {link.backup_id} of stream '{link.stream}' did not "
                "finish; choose another backup"
            )
    if until is not None:
        full = links[0]
        last_ts = full.state.get("last_ts")
        if int(full.state.get("messages") or 0) and last_ts and time_ns(last_ts) > ns_of(until):
            raise RestoreRefused(
                f"the full backup {full.backup_id} of stream '{full.stream}' holds messages up "
                f"to {last_ts}, after {until.isoformat()}: a full backup cannot be cut; choose "
                "an older chain"
            )


async def check_chunks_present(target: BackupTarget, links: list[ChainLink]) -> None:
    """ChunkMissing for the first chunk the target does not hold."""
    for link in links:
        if not link.chunks:
            if link.kind == "full":
                raise ChunkMissing(f"{link.backup_id}/{link.stream}", target.description)
            continue  # an incremental backup that found no new message
        prefix = link.chunks[0].key.rsplit("/", 1)[0] + "/"
        present = set(await target.keys(prefix))
        for chunk in link.chunks:
            if chunk.key not in present:
                raise ChunkMissing(chunk.key, target.description)


def pad_to(links: list[ChainLink], until: datetime | None) -> int | None:
    """The last sequence the restored stream must reach beyond its last message (the newest
    item ended with deleted messages), or None."""
    if until is not None or len(links) < 2:
        return None
    carried = max([links[0].last_seq] + [c.last_seq for link in links[1:] for c in link.chunks])
    return links[-1].last_seq if links[-1].last_seq > carried else None


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def verified_chunks(
    target: BackupTarget,
    links: list[ChainLink],
    prefetch: int = PREFETCH,
) -> AsyncIterator[tuple[ChainLink, ChunkRef, bytes]]:
    """Every chunk of the chain in order, read ``prefetch`` ahead, each checked against its
    recorded SHA-256 before it is handed on."""
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=prefetch)

    async def read() -> None:
        try:
            for link in links:
                for chunk in link.chunks:
                    data = await target.get(chunk.key)
                    found = await asyncio.to_thread(_sha256_hex, data)
                    if found != chunk.sha256 or len(data) != chunk.size:
                        raise ChunkCorrupted(
                            f"backup {link.backup_id}, stream '{link.stream}': chunk {chunk.n} "
                            f"('{chunk.key}') is damaged: its SHA-256 is {found} ({len(data)} "
                            f"bytes), {chunk.sha256} ({chunk.size} bytes) was recorded",
                            key=chunk.key,
                            expected=chunk.sha256,
                            found=found,
                        )
                    await queue.put((link, chunk, data))
            await queue.put(None)
        except BaseException as exc:  # handed to the consumer
            await queue.put(exc)

    reader = asyncio.create_task(read())
    try:
        while True:
            item = await queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        reader.cancel()
        try:
            await reader
        except BaseException:
            pass


async def archive_pieces(
    target: BackupTarget,
    links: list[ChainLink],
    until: datetime | None = None,
    sent: Callable[[int], None] | None = None,
    quiet_prefix: str | None = None,
) -> AsyncIterator[bytes]:
    """The restore stream of the chain, in pieces as they become ready; ``sent(n)`` after each
    stored chunk (its stored size) is consumed; ``quiet_prefix``: push consumers deliver under
    it (``FullSnapshot``)."""
    until_ns = ns_of(until) if until is not None else None
    full = FullSnapshot(pad_to(links, until), quiet_prefix)
    current = None
    async for link, chunk, data in verified_chunks(target, links):
        if link.kind == "full":
            out = full.feed(data)
        else:
            if current == "full":
                yield full.finish()
            out = data if until_ns is None else _until(data, until_ns)
        current = link.kind
        if out:
            yield out
        if sent:
            sent(chunk.size)
    if current == "full":
        yield full.finish()
    yield archive.framed_sentinel()


def _until(data: bytes, until_ns: int) -> bytes:
    raw = archive.unframe(data)
    kept = bytearray()
    start = 0
    for found, end in archive.parse_entries(raw):
        if found.timestamp <= until_ns:
            kept += raw[start:end]
        start = end
    return archive.frame(bytes(kept))


class _Sender:
    """Publishes the archive to the restore's subject, ``window`` messages unacknowledged."""

    def __init__(self, js: JetStreamApi, subject: str, window: int = WINDOW):
        self.js, self.subject, self.window = js, subject, window
        self.piece = min(PIECE, js.nc.max_payload)
        self.sent = self.acked = 0
        self.error: str | None = None
        self._acks = asyncio.Condition()

    async def __aenter__(self) -> _Sender:
        nc = self.js.nc
        self.inbox = nc.new_inbox()
        self.sub = await nc.subscribe(f"{self.inbox}.*", cb=self._on_ack)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self.sub.unsubscribe()
        except Exception:  # the connection may be gone
            pass

    async def _on_ack(self, msg: Msg) -> None:
        if msg.data and self.error is None:
            try:
                reply = json.loads(msg.data)
                self.error = (reply.get("error") or {}).get("description") or msg.data.decode()
            except ValueError:
                self.error = msg.data[:300].decode("utf-8", "replace")
        async with self._acks:
            self.acked += 1
            self._acks.notify_all()

    async def _wait(self, outstanding: int) -> None:
        deadline = time.monotonic() + ACK_TIMEOUT_S
        async with self._acks:
            while self.sent - self.acked > outstanding and self.error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RestoreFailed("the server stopped acknowledging the restore")
                try:
                    async with asyncio.timeout(left):  # not wait_for: it can swallow a cancel
                        await self._acks.wait()
                except TimeoutError:
                    pass
        if self.error is not None:
            raise RestoreFailed(f"the server refused the restore: {self.error}")

    async def send(self, data: bytes) -> None:
        view = memoryview(data)
        for start in range(0, len(data), self.piece):
            await self._wait(self.window - 1)
            await self.js.nc.publish(
                self.subject,
                bytes(view[start : start + self.piece]),
                reply=f"{self.inbox}.{self.sent}",
            )
            self.sent += 1

    async def finish(self) -> dict[str, Any]:
        await self._wait(0)
        reply = await self.js.nc.request(self.subject, b"", timeout=FINISH_TIMEOUT_S)
        answer: dict[str, Any] = json.loads(reply.data or b"{}")
        if err := answer.get("error"):
            raise RestoreFailed(f"the server refused the restore: {err.get('description', err)}")
        answer.pop("type", None)
        return answer


async def restore_chain(
    js: JetStreamApi,
    target: BackupTarget,
    links: list[ChainLink],
    stream_name: str,
    *,
    subjects: list[str] | None = None,
    until: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    window: int = WINDOW,
    quiet_consumers: bool = False,
) -> dict[str, Any]:
    """Restore ``links`` into the new stream ``stream_name`` on ``js``'s cluster; its stream info
    (``config``, ``state``, ...). ``progress(n)``: stored bytes of the chain consumed so far;
    ``quiet_consumers``: push consumers deliver to a private subject (verification only)."""
    check_chain(links, until)
    await check_chunks_present(target, links)
    config = restore_config(links, stream_name, subjects)
    try:
        reply = await js.request(f"STREAM.RESTORE.{stream_name}", {"config": config})
    except JetStreamError as exc:
        raise RestoreFailed(
            f"the server refused to restore '{stream_name}': {exc.description}"
        ) from exc
    done = 0

    def sent(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done)

    sender = _Sender(js, reply["deliver_subject"], window)
    async with sender:
        try:
            quiet = f"{QUIET_PREFIX}.{secrets.token_hex(8)}" if quiet_consumers else None
            async for piece in archive_pieces(target, links, until, sent, quiet):
                await sender.send(piece)
            return await sender.finish()
        except BaseException:
            await asyncio.shield(_abandon(js, sender, stream_name))
            raise


async def _abandon(js: JetStreamApi, sender: _Sender, stream_name: str) -> None:
    """End the server's restore (an empty message: it stops reading) and delete whatever stream
    it made; this restore created it (the server refuses to restore over a name in use)."""
    try:
        await js.nc.request(sender.subject, b"", timeout=30)
    except Exception:  # it may have given up already; the deletion below is what matters
        pass
    deadline = time.monotonic() + 60
    while True:
        try:
            await js.stream_delete(stream_name)
            return
        except JetStreamError as exc:
            if exc.not_found:
                return
        except Exception:  # the cluster unreachable: retried until the deadline
            pass
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(0.5)
