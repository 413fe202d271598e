"""The server's snapshot format (v2, nats-server ≥ 2.14) and the framing its restore reads.

A snapshot is an S2-compressed stream (the snappy framing format: a chunk is one type byte and a
3-byte little-endian length; ``0xff`` the stream identifier ``S2sTwO``, ``0x00`` a compressed
block, ``0x01`` an uncompressed one, both starting with the masked CRC-32C of the uncompressed
data) of an archive: the magic ``NATSARC1``, then entries. An entry is
``uvarint(len(name)) varint(timestamp ns) uvarint(sequence) uvarint(header size)
uvarint(payload size) name header payload`` (``varint`` zig-zags like Go's
``binary.PutVarint``). The entries are ``state.json``, ``consumers/<name>``, one per message
(name = subject), and an end sentinel whose five fields are all zero. The server's S2 writer
emits blocks of up to 1 MiB of archive (measured with nats-server 2.15.1: its flushes do not cut
a block per entry), so the sentinel is the end of the last block, compressed with what precedes.

The server's S2 reader also takes snappy framing (identifier ``sNaPpY``) and a stream identifier
in the middle of a stream, so the console writes archive entries with ``cramjam.snappy``
(``frame``) and a chain restores as a full snapshot re-framed at its head and tail
(``core.backups.full_snapshot``) followed by snappy-framed entries and the sentinel.

``s2_decode`` is a small pure-Python S2 block decoder (about 0.1 s a block), for the few blocks
at the head and tail of a snapshot that are ever decoded; the rest passes through as the server
wrote it.
"""

from __future__ import annotations

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
    return b"".join(
        (
            uvarint(len(name)),
            varint(timestamp_ns),
            uvarint(seq),
            uvarint(len(header)),
            uvarint(len(payload)),
            name,
            header,
            payload,
        )
    )


@dataclass(frozen=True)
class Entry:
    name: bytes
    timestamp: int
    seq: int
    header: bytes
    payload: bytes

    @property
    def is_sentinel(self) -> bool:
        return (
            not self.name
            and not self.timestamp
            and not self.seq
            and not self.header
            and not self.payload
        )


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
        name = bytes(view[p : p + name_len])
        header = bytes(view[p + name_len : p + name_len + hsize])
        yield Entry(name, ts, seq, header, bytes(view[p + name_len + hsize : end])), end
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
        return data[self.start + 4 : self.end]


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
                    x = int.from_bytes(src[s + 1 : s + 1 + extra], "little")
                    s += 1 + extra
                size = x + 1
                if s + size > n:
                    raise ArchiveError("corrupt block: literal past the end")
                dst += src[s : s + size]
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
                        size = int.from_bytes(src[s : s + 2], "little") + (1 << 8)
                        s += 2
                    elif size == 7:
                        size = int.from_bytes(src[s : s + 3], "little") + (1 << 16)
                        s += 3
                else:
                    offset = toffset
                size += 4
            elif kind == 2:
                offset = int.from_bytes(src[s + 1 : s + 3], "little")
                size = 1 + (tag >> 2)
                s += 3
            else:
                offset = int.from_bytes(src[s + 1 : s + 5], "little")
                size = 1 + (tag >> 2)
                s += 5
            if offset <= 0 or offset > len(dst) or len(dst) + size > length:
                raise ArchiveError("corrupt block: bad copy")
            start = len(dst) - offset
            if size <= offset:
                dst += dst[start : start + size]
            else:  # overlapping: the last ``offset`` bytes repeated
                pattern = bytes(dst[start:])
                dst += (pattern * (size // offset + 1))[:size]
    except IndexError:
        raise ArchiveError("corrupt block: cut short") from None
    if len(dst) != length:
        raise ArchiveError("corrupt block: wrong length")
    return bytes(dst)
