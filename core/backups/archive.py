"""The server's snapshot format (v2, nats-server ≥ 2.14) and the framing its restore reads.

A snapshot is an S2-compressed stream (the snappy framing format: a chunk is one type byte and a
3-byte little-endian length; ``0xff`` the stream identifier ``S2sTwO``, ``0x00`` a compressed
block, ``0x01`` an uncompressed one, both starting with the masked CRC-32C of the uncompressed
data) of an archive: the magic ``NATSARC1``, then entries. An entry is
``uvarint(len(name)) varint(timestamp ns) uvarint(sequence) uvarint(header size)
uvarint(payload size) name header payload`` (``varint`` zig-zags like Go's
``binary.PutVarint``). The entries are ``state.json``, ``consumers/<name>``, one per message
(name = subject), and an end sentinel whose five fields are all zero. The server flushes its S2
writer after every entry, so every entry ends a block.

The server's S2 reader also takes snappy framing (identifier ``sNaPpY``) and a stream identifier
in the middle of a stream, so the console writes archive entries with ``cramjam.snappy`` and a
chain restores as::

    full snapshot without its sentinel block + incremental entries (snappy-framed) + sentinel

(tests/backups/test_engine_archive.py proves it against the real server). When the newest point
of a chain ends with deleted messages, the head of the snapshot is rewritten so that its
``state.json`` says the chain's last sequence (``rewrite_head``): the server pads the restored
stream up to it, as it does for a snapshot.

Only the few blocks at a snapshot's head and tail are ever decoded here (``decode_block``: a
small pure-Python S2 block decoder); the rest passes through as the server wrote it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import cramjam

MAGIC = b"NATSARC1"
SENTINEL = b"\x00" * 5
S2_IDENTIFIER = b"\xff\x06\x00\x00S2sTwO"
SNAPPY_IDENTIFIER = b"\xff\x06\x00\x00sNaPpY"
COMPRESSED, UNCOMPRESSED, IDENTIFIER = 0x00, 0x01, 0xFF
MAX_DECODED_BLOCK = 4 * 1024 * 1024  # the head/tail blocks decoded here are small


class ArchiveError(Exception):
    """Bytes that are not what the server's snapshot format says they should be."""


# -- varints -----------------------------------------------------------------------------------

def uvarint(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def varint(value: int) -> bytes:
    """Go's ``binary.PutVarint``: zig-zag, then unsigned."""
    return uvarint((value << 1) ^ (value >> 63) if value < 0 else value << 1)


def read_uvarint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ArchiveError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ArchiveError("varint overflows 64 bits")


def read_varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    raw, pos = read_uvarint(data, pos)
    return (raw >> 1) ^ -(raw & 1), pos


# -- CRC-32C (Castagnoli), masked as the framing format does -----------------------------------

def _table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# -- entries -----------------------------------------------------------------------------------

def entry(name: bytes, timestamp_ns: int, seq: int, header: bytes, payload: bytes) -> bytes:
    """One archive entry (a message: ``name`` is its subject)."""
    return b"".join((uvarint(len(name)), varint(timestamp_ns), uvarint(seq),
                     uvarint(len(header)), uvarint(len(payload)), name, header, payload))


@dataclass(frozen=True)
class Entry:
    name: bytes
    timestamp: int
    seq: int
    header: bytes
    payload: bytes

    @property
    def is_sentinel(self) -> bool:
        return not self.name and not self.timestamp and not self.seq \
            and not self.header and not self.payload


def parse_entries(data: bytes, pos: int = 0) -> Iterator[tuple[Entry, int]]:
    """The entries of ``data`` from ``pos`` (no magic), each with the position after it;
    ArchiveError when the last one is cut."""
    view = memoryview(data)
    while pos < len(data):
        name_len, p = read_uvarint(view, pos)
        ts, p = read_varint(view, p)
        seq, p = read_uvarint(view, p)
        hsize, p = read_uvarint(view, p)
        psize, p = read_uvarint(view, p)
        end = p + name_len + hsize + psize
        if end > len(data):
            raise ArchiveError("truncated entry")
        name = bytes(view[p:p + name_len])
        header = bytes(view[p + name_len:p + name_len + hsize])
        yield Entry(name, ts, seq, header, bytes(view[p + name_len + hsize:end])), end
        pos = end


# -- framing -----------------------------------------------------------------------------------

def frame(data: bytes) -> bytes:
    """``data`` snappy-framed (with its stream identifier), as the server's S2 reader reads it."""
    return bytes(cramjam.snappy.compress(data)) if data else b""


def unframe(data: bytes) -> bytes:
    """The bytes a snappy-framed ``data`` holds (the console's own chunks)."""
    return bytes(cramjam.snappy.decompress(data)) if data else b""


def framed_sentinel() -> bytes:
    return frame(SENTINEL)


@dataclass(frozen=True)
class Block:
    kind: int
    start: int  # of its 4-byte chunk header
    end: int

    def body(self, data: bytes) -> bytes:
        return data[self.start + 4:self.end]


def blocks(data: bytes, pos: int = 0) -> Iterator[Block]:
    """The framing chunks of ``data`` from ``pos`` (headers only; a cut last one raises)."""
    while pos < len(data):
        if pos + 4 > len(data):
            raise ArchiveError("truncated chunk header")
        length = data[pos + 1] | data[pos + 2] << 8 | data[pos + 3] << 16
        end = pos + 4 + length
        if end > len(data):
            raise ArchiveError("truncated chunk")
        yield Block(data[pos], pos, end)
        pos = end


def decode_block(kind: int, body: bytes) -> bytes:
    """The data of one framing chunk (compressed or not), its CRC checked."""
    if kind not in (COMPRESSED, UNCOMPRESSED):
        raise ArchiveError(f"chunk type 0x{kind:02x} holds no data")
    if len(body) < 4:
        raise ArchiveError("chunk without its checksum")
    expected = int.from_bytes(body[:4], "little")
    data = body[4:] if kind == UNCOMPRESSED else s2_decode(body[4:])
    if masked_crc(data) != expected:
        raise ArchiveError("chunk checksum mismatch")
    return data


def s2_decode(src: bytes) -> bytes:
    """Decode one S2 block (snappy's format plus S2's repeat copies). Pure Python: for the small
    blocks at the head and tail of a snapshot only."""
    length, s = read_uvarint(src, 0)
    if length > MAX_DECODED_BLOCK:
        raise ArchiveError(f"block of {length} bytes is too large to decode here")
    dst = bytearray()
    offset = 0
    n = len(src)
    try:
        while s < n:
            tag = src[s]
            kind = tag & 0x03
            if kind == 0:  # literal
                x = tag >> 2
                if x < 60:
                    s += 1
                else:
                    extra = x - 59
                    x = int.from_bytes(src[s + 1:s + 1 + extra], "little")
                    s += 1 + extra
                size = x + 1
                if s + size > n:
                    raise ArchiveError("corrupt block: literal past the end")
                dst += src[s:s + size]
                s += size
                continue
            if kind == 1:  # copy, 1-byte offset (offset 0: S2 repeat)
                size = (tag >> 2) & 0x7
                toffset = ((tag & 0xE0) << 3) | src[s + 1]
                s += 2
                if toffset == 0:
                    if size == 5:
                        size = src[s] + 4
                        s += 1
                    elif size == 6:
                        size = int.from_bytes(src[s:s + 2], "little") + (1 << 8)
                        s += 2
                    elif size == 7:
                        size = int.from_bytes(src[s:s + 3], "little") + (1 << 16)
                        s += 3
                else:
                    offset = toffset
                size += 4
            elif kind == 2:
                offset = int.from_bytes(src[s + 1:s + 3], "little")
                size = 1 + (tag >> 2)
                s += 3
            else:
                offset = int.from_bytes(src[s + 1:s + 5], "little")
                size = 1 + (tag >> 2)
                s += 5
            if offset <= 0 or offset > len(dst) or len(dst) + size > length:
                raise ArchiveError("corrupt block: bad copy")
            start = len(dst) - offset
            if size <= offset:
                dst += dst[start:start + size]
            else:  # overlapping: the last ``offset`` bytes repeated
                pattern = bytes(dst[start:])
                dst += (pattern * (size // offset + 1))[:size]
    except IndexError:
        raise ArchiveError("corrupt block: cut short") from None
    if len(dst) != length:
        raise ArchiveError("corrupt block: wrong length")
    return bytes(dst)


# -- a full snapshot as the head of a chain ---------------------------------------------------

class FullSnapshot:
    """Passes a full snapshot's bytes on (``feed``, then ``finish``) as the start of a restore
    stream: its last data block is held back and, at ``finish``, re-framed without the end
    sentinel (ArchiveError when the snapshot does not end with exactly the sentinel). With
    ``last_seq``, ``state.json`` (in the first data block) is rewritten to say that last sequence
    when it says less, so the server pads the restored stream up to it.

    Only the first and last data blocks are ever decoded (each at most the S2 writer's block size,
    1 MiB for the server); memory holds at most one block beyond what ``feed`` is given."""

    def __init__(self, last_seq: int | None = None):
        self.last_seq = last_seq
        self._buf = bytearray()
        self._held: bytes | None = None  # the latest complete data block (its framing chunk)
        self._trailing = bytearray()  # non-data chunks after it
        self._first = True  # the held block is the first data block
        self.state: dict | None = None  # state.json, once the first data block is decoded
        self.total = 0

    def feed(self, data: bytes) -> bytes:
        """What can be sent now of the snapshot so far."""
        self.total += len(data)
        self._buf += data
        out = bytearray()
        pos = 0
        buf = self._buf
        while len(buf) - pos >= 4:
            length = buf[pos + 1] | buf[pos + 2] << 8 | buf[pos + 3] << 16
            end = pos + 4 + length
            if end > len(buf):
                break
            kind = buf[pos]
            if kind in (COMPRESSED, UNCOMPRESSED):
                if self._held is not None:
                    out += self._release(self._held, last=False)
                    out += self._trailing
                    self._trailing.clear()
                self._held = bytes(buf[pos:end])
            elif kind == IDENTIFIER or kind >= 0x80:
                if self._held is None:
                    out += buf[pos:end]
                else:
                    self._trailing += buf[pos:end]
            else:
                raise ArchiveError(f"unknown chunk type 0x{kind:02x} in the snapshot")
            pos = end
        del buf[:pos]
        return bytes(out)

    def finish(self) -> bytes:
        """The held last block without the sentinel (skippable chunks after it are dropped)."""
        if self._buf:
            raise ArchiveError("the snapshot ends in the middle of a chunk (truncated)")
        if self._held is None:
            raise ArchiveError("the snapshot holds no data")
        return self._release(self._held, last=True)

    def _release(self, chunk: bytes, last: bool) -> bytes:
        first, self._first = self._first, False
        rewrite = first and self.last_seq is not None
        if not (last or rewrite):
            return chunk
        data = decode_block(chunk[0], chunk[4:])
        head = self._rewritten_head(data) if rewrite else None
        if last:
            data = data if head is None else head
            if not data.endswith(SENTINEL):
                raise ArchiveError("the snapshot does not end with the server's end-of-backup "
                                   "sentinel (truncated, or not a v2 snapshot)")
            return frame(data[:-len(SENTINEL)])
        # snappy framing for the rewritten block, then S2 again for the server's blocks
        return chunk if head is None else frame(head) + S2_IDENTIFIER

    def _rewritten_head(self, data: bytes) -> bytes | None:
        """The first block with state.json saying ``last_seq`` (None: it already does)."""
        if data[:len(MAGIC)] != MAGIC:
            raise ArchiveError("not a v2 snapshot (no NATSARC1 magic)")
        try:
            found, after = next(parse_entries(data, len(MAGIC)))
        except (ArchiveError, StopIteration):
            raise ArchiveError("the snapshot's first block does not hold its state.json") from None
        if found.name != b"state.json":
            raise ArchiveError("the snapshot does not start with state.json")
        self.state = json.loads(found.payload)
        if int(self.state.get("last_seq", 0)) >= self.last_seq:
            return None
        state = {**self.state, "last_seq": self.last_seq}
        payload = json.dumps(state, separators=(",", ":")).encode()
        return MAGIC + entry(b"state.json", found.timestamp, 0, b"", payload) + data[after:]
