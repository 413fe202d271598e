"""An incremental backup: the messages of a stream with ``after_seq < seq <= upto_seq``, as
archive entries (subject, raw headers, payload, sequence, original timestamp in ns),
snappy-framed in chunks of at most 8 MiB, each a self-contained framed stream that the server's
restore reads after a full snapshot (``core.backups.archive``).

Each chunk says the last sequence it carries: a retried attempt starts after it. The message
checksum (``core.backups.checksum``) is updated as the chunks are made; a resumed attempt feeds
it the messages of the chunks already stored first (``replay_chunk``).

A message larger than a chunk's room makes a chunk of its own, larger than 8 MiB (servers allow
payloads up to 64 MiB); everything else stays under the bound. Deletions of messages older than
``after_seq`` are not carried: a chain restores what was written, as it was when stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from core.backups import archive
from core.backups.checksum import MessageChecksum
from core.backups.reader import read_range
from core.jetstream.api import JetStreamApi

CHUNK_BYTES = 8 * 1024 * 1024
# room left in a chunk for the framing (8 bytes per 64 KiB block and the stream identifier)
RAW_BYTES = CHUNK_BYTES - 4 * 1024


@dataclass
class IncrementalChunk:
    data: bytes  # snappy-framed archive entries
    first_seq: int
    last_seq: int
    messages: int
    raw_bytes: int  # of the entries before framing


async def incremental_chunks(
    js: JetStreamApi,
    stream: str,
    after_seq: int,
    upto_seq: int,
    checksum: MessageChecksum,
    *,
    raw_bytes: int = RAW_BYTES,
    retention: str | None = None,
) -> AsyncIterator[IncrementalChunk]:
    """The chunks of (``after_seq``, ``upto_seq``], in order; ``checksum`` sees every message."""
    pending = bytearray()
    first = last = count = 0
    async for batch in read_range(js, stream, after_seq + 1, upto_seq, retention=retention):
        for m in batch:
            encoded = archive.entry(m.subject, m.timestamp, m.seq, m.header, m.payload)
            if pending and len(pending) + len(encoded) > raw_bytes:
                yield IncrementalChunk(
                    archive.frame(bytes(pending)), first, last, count, len(pending)
                )
                pending.clear()
                count = 0
            if not count:
                first = m.seq
            pending += encoded
            last = m.seq
            count += 1
            checksum.update(m.seq, m.subject, m.payload)
    if pending:
        yield IncrementalChunk(archive.frame(bytes(pending)), first, last, count, len(pending))


def replay_chunk(data: bytes, checksum: MessageChecksum) -> tuple[int, int]:
    """Feed ``checksum`` the messages of a stored chunk; (messages, raw bytes)."""
    raw = archive.unframe(data)
    count = 0
    for found, _ in archive.parse_entries(raw):
        checksum.update(found.seq, found.name, found.payload)
        count += 1
    return count, len(raw)
