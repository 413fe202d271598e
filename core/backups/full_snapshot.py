"""A full snapshot (the server's, format v2: ``core.backups.archive``) as the start of a chain's
restore stream::

    full snapshot, its last block re-framed without the sentinel
    + incremental entries (snappy-framed) + the sentinel (snappy-framed)

(proven against the real server by tests/backups/test_engine_restore.py).

The snapshot's head (``state.json``, then exactly as many ``consumers/<name>`` entries as its
``consumer_count`` says, which is how the server's restore reads them) is rewritten when asked:

- ``last_seq``: when the chain's newest point ends with deleted messages, ``state.json`` says the
  chain's last sequence, and the server pads the restored stream up to it as it does for a
  snapshot;
- ``quiet_prefix`` (verification restores only): every push consumer (one with a
  ``deliver_subject``) delivers to ``<quiet_prefix>.<consumer>`` instead, without a
  ``deliver_group``, so a restored copy never delivers the backup's messages to a subscriber of
  the original deliver subject on the target cluster. Nothing else changes: pull consumers pass
  as they are, and every consumer's state (delivered, ack floor, pending) stays as backed up.

The head lies in the first decoded block(s): those are decoded (``archive.decode_block``) until
it is complete (at most ``MAX_HEAD`` bytes, else ArchiveError) and re-framed with snappy,
followed by an S2 stream identifier for the server's blocks after them, which pass through as
the server wrote them. The last block is held back and re-framed without the end sentinel.
"""

from __future__ import annotations

import json
from typing import Any

from core.backups.archive import (
    COMPRESSED,
    IDENTIFIER,
    MAGIC,
    S2_IDENTIFIER,
    SENTINEL,
    UNCOMPRESSED,
    ArchiveError,
    Entry,
    decode_block,
    entry,
    frame,
    parse_entries,
)

MAX_HEAD = 16 * 1024 * 1024  # decoded bytes gathered for the head (thousands of consumers)
CONSUMER = b"consumers/"


class FullSnapshot:
    """Passes a full snapshot's bytes on (``feed``, then ``finish``) as the start of a restore
    stream: its last data block is held back and, at ``finish``, re-framed without the end
    sentinel (ArchiveError when the snapshot does not end with exactly the sentinel). With
    ``last_seq`` or ``quiet_prefix``, the head is rewritten (see the module).

    Memory holds at most the head (``MAX_HEAD``) or one block beyond what ``feed`` is given."""

    def __init__(self, last_seq: int | None = None, quiet_prefix: str | None = None):
        self.last_seq = last_seq
        self.quiet_prefix = quiet_prefix
        self._rest = b""  # an incomplete framing chunk from the previous feed
        # the latest data block: a chunk passed through as is (memoryview), or decoded data to
        # re-frame (bytes: the rewritten head)
        self._held: memoryview | bytes | None = None
        self._trailing: list[Any] = []  # non-data chunks after it
        # the decoded start of the snapshot while its head is gathered (None: not rewritten)
        self._head: bytearray | None = bytearray() if last_seq is not None or quiet_prefix else None
        self.state: dict[str, Any] | None = None  # state.json, when the head was decoded
        self.quieted: list[str] = []  # the push consumers given a private deliver subject
        self.total = 0

    def feed(self, data: bytes) -> bytes:
        """What can be sent now of the snapshot so far (blocks passed through are not copied
        but once, into the result)."""
        self.total += len(data)
        buf = self._rest + data if self._rest else bytes(data)
        out: list[Any] = []
        pos = 0
        while len(buf) - pos >= 4:
            end = pos + 4 + (buf[pos + 1] | buf[pos + 2] << 8 | buf[pos + 3] << 16)
            if end > len(buf):
                break
            kind = buf[pos]
            chunk = memoryview(buf)[pos:end]
            if kind in (COMPRESSED, UNCOMPRESSED):
                if self._head is None:
                    self._hold(chunk, out)
                else:
                    self._gather(self._head, kind, chunk, out)
            elif kind == IDENTIFIER or kind >= 0x80:
                (out if self._held is None else self._trailing).append(chunk)
            else:
                raise ArchiveError(f"unknown chunk type 0x{kind:02x} in the snapshot")
            pos = end
        self._rest = buf[pos:]
        return b"".join(out)

    def finish(self) -> bytes:
        """The held last block without the sentinel (skippable chunks after it are dropped)."""
        if self._rest:
            raise ArchiveError("the snapshot ends in the middle of a chunk (truncated)")
        if self._head:  # the snapshot ended before its head did
            head = self._rewritten_head(bytes(self._head))
            if head is None:
                raise ArchiveError(
                    "the snapshot ends inside its state.json or consumers (truncated)"
                )
            self._head, self._held = None, head
        if self._held is None:
            raise ArchiveError("the snapshot holds no data")
        return bytes(self._release(self._held, last=True))

    def _hold(self, block: memoryview | bytes, out: list[Any]) -> None:
        if self._held is not None:
            out.append(self._release(self._held, last=False))
            out.extend(self._trailing)
            self._trailing = []
        self._held = block

    def _gather(self, gathered: bytearray, kind: int, chunk: memoryview, out: list[Any]) -> None:
        """``gathered``: ``self._head``, grown in place."""
        gathered += decode_block(kind, bytes(chunk[4:]))
        head = self._rewritten_head(bytes(gathered))
        if head is not None:
            self._head = None
            self._hold(head, out)
        elif len(gathered) > MAX_HEAD:
            raise ArchiveError(
                f"the snapshot's state.json and consumers take more than {MAX_HEAD} bytes: "
                "too many consumers to rewrite them for this restore"
            )

    @staticmethod
    def _release(held: memoryview | bytes, last: bool) -> memoryview | bytes:
        if isinstance(held, memoryview):  # the server's block
            if not last:
                return held
            data = decode_block(held[0], bytes(held[4:]))
        else:
            data = held
        if last:
            if not data.endswith(SENTINEL):
                raise ArchiveError(
                    "the snapshot does not end with the server's end-of-backup "
                    "sentinel (truncated, or not a v2 snapshot)"
                )
            return frame(data[: -len(SENTINEL)])
        # snappy framing for the rewritten head, then S2 again for the server's blocks
        return frame(data) + S2_IDENTIFIER

    def _rewritten_head(self, data: bytes) -> bytes | None:
        """``data`` (the decoded start of the snapshot) with its head rewritten, or None when
        the head does not end in it yet."""
        if len(data) >= len(MAGIC) and data[: len(MAGIC)] != MAGIC:
            raise ArchiveError("not a v2 snapshot (no NATSARC1 magic)")
        found = _entry_at(data, len(MAGIC))
        if found is None:
            return None
        state_entry, pos = found
        if state_entry.name != b"state.json":
            raise ArchiveError("the snapshot does not start with state.json")
        state = json.loads(state_entry.payload)
        parts = [MAGIC, self._state_entry(state_entry, state)]
        if self.quiet_prefix is not None:
            count = int(state.get("consumer_count") or 0)
            quieted = []
            for n in range(count):
                found = _entry_at(data, pos)
                if found is None:
                    return None
                consumer, end = found
                if not consumer.name.startswith(CONSUMER):
                    raise ArchiveError(
                        f"state.json counts {count} consumers but entry {n + 1} "
                        f"after it is {consumer.name[:80]!r}"
                    )
                rewritten = self._quiet(consumer)
                parts.append(data[pos:end] if rewritten is None else rewritten)
                if rewritten is not None:
                    quieted.append(consumer.name[len(CONSUMER) :].decode())
                pos = end
            self.quieted = quieted
        self.state = state
        parts.append(data[pos:])
        return b"".join(parts)

    def _state_entry(self, found: Entry, state: dict[str, Any]) -> bytes:
        if self.last_seq is None or int(state.get("last_seq", 0)) >= self.last_seq:
            return entry(found.name, found.timestamp, found.seq, found.header, found.payload)
        payload = json.dumps({**state, "last_seq": self.last_seq}, separators=(",", ":"))
        return entry(b"state.json", found.timestamp, 0, b"", payload.encode())

    def _quiet(self, consumer: Entry) -> bytes | None:
        """A push consumer's entry delivering to ``<quiet_prefix>.<name>`` (None: a pull
        consumer, unchanged)."""
        try:
            body = json.loads(consumer.payload)
        except ValueError:
            raise ArchiveError(f"consumer entry {consumer.name[:80]!r} is not JSON") from None
        config = body.get("config") if isinstance(body, dict) else None
        if not isinstance(config, dict):
            raise ArchiveError(f"consumer entry {consumer.name[:80]!r} has no config")
        if not config.get("deliver_subject"):
            return None
        name = consumer.name[len(CONSUMER) :].decode()
        config = {**config, "deliver_subject": f"{self.quiet_prefix}.{name}"}
        config.pop("deliver_group", None)
        payload = json.dumps({**body, "config": config}, separators=(",", ":")).encode()
        return entry(consumer.name, consumer.timestamp, consumer.seq, consumer.header, payload)


def _entry_at(data: bytes, pos: int) -> tuple[Entry, int] | None:
    """The entry at ``pos`` and the position after it; None when ``data`` ends before it does."""
    try:
        return next(parse_entries(data, pos))
    except StopIteration:
        return None
    except ArchiveError as exc:
        if str(exc).startswith("truncated"):
            return None
        raise
