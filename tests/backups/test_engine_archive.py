"""The archive format pieces that need no server: varints as Go writes them, the S2 block decoder
(against snappy's own blocks, which S2 reads too), entries, the held-back tail of a snapshot, and
its head rewritten (``last_seq``; push consumers quieted for a verification, over several blocks,
or refused loudly)."""

from __future__ import annotations

import json
import os

import cramjam
import pytest

from core.backups import archive
from core.backups.full_snapshot import FullSnapshot


@pytest.mark.parametrize(
    "value", [0, 1, 63, 64, -1, -64, 127, 128, 300, 2**40, -(2**40), 1_700_000_000_123_456_789]
)
def test_varints_round_trip(value):
    encoded = archive.varint(value)
    assert archive.read_varint(encoded, 0) == (value, len(encoded))
    if value >= 0:
        assert archive.read_uvarint(archive.uvarint(value), 0)[0] == value


def test_go_varint_bytes():
    # binary.PutVarint(-1) = 0x01, PutVarint(1) = 0x02, PutUvarint(300) = 0xac 0x02
    assert archive.varint(-1) == b"\x01" and archive.varint(1) == b"\x02"
    assert archive.uvarint(300) == b"\xac\x02"


def test_s2_decoder_reads_snappy_blocks():
    data = os.urandom(200) + b"abcabcabc" * 700 + os.urandom(50) + b"\x00" * 5000
    assert archive.s2_decode(bytes(cramjam.snappy.compress_raw(data))) == data
    with pytest.raises(archive.ArchiveError):
        archive.s2_decode(bytes(cramjam.snappy.compress_raw(data))[:-10])


def test_entries_parse_back():
    raw = archive.entry(b"a.b", 1_700_000_000_000_000_001, 42, b"NATS/1.0\r\nA: 1\r\n\r\n", b"xyz")
    raw += archive.SENTINEL
    found = [e for e, _ in archive.parse_entries(raw)]
    assert found[0] == archive.Entry(
        b"a.b", 1_700_000_000_000_000_001, 42, b"NATS/1.0\r\nA: 1\r\n\r\n", b"xyz"
    )
    assert found[1].is_sentinel


def _decode(stream: bytes) -> bytes:
    """What a mixed S2/snappy framed stream holds."""
    return b"".join(
        archive.decode_block(b.kind, b.body(stream))
        for b in archive.blocks(stream)
        if b.kind in (archive.COMPRESSED, archive.UNCOMPRESSED)
    )


def _snapshot_like(entries: bytes) -> bytes:
    """A stream shaped like the server's: S2 identifier, then blocks (here stored ones)."""
    out = bytearray(archive.S2_IDENTIFIER)
    for start in range(0, len(entries), 4096):
        block = entries[start : start + 4096]
        crc = archive.masked_crc(block).to_bytes(4, "little")
        out += bytes((archive.UNCOMPRESSED,)) + (len(block) + 4).to_bytes(3, "little") + crc + block
    return bytes(out)


def test_full_snapshot_holds_back_and_cuts_the_sentinel():
    state = b'{"messages":2,"first_seq":1,"last_seq":9,"consumer_count":0}'
    body = archive.MAGIC + archive.entry(b"state.json", 5, 0, b"", state)
    body += archive.entry(b"s.1", 10, 1, b"", os.urandom(3000))
    body += archive.entry(b"s.2", 11, 9, b"", os.urandom(3000)) + archive.SENTINEL
    snap = _snapshot_like(body)
    for last_seq in (None, 12):
        full = FullSnapshot(last_seq)
        out = b"".join(full.feed(snap[i : i + 1000]) for i in range(0, len(snap), 1000))
        out += full.finish()
        decoded = _decode(out)
        if last_seq is None:
            assert decoded == body[: -len(archive.SENTINEL)]
            # the blocks before the last pass through untouched
            assert out.startswith(snap[: -(len(body) % 4096 or 4096) - 8])
        else:
            head, after = next(archive.parse_entries(decoded, len(archive.MAGIC)))
            assert json.loads(head.payload)["last_seq"] == 12
            assert (
                decoded[after:]
                == body[
                    len(archive.MAGIC) + len(archive.entry(b"state.json", 5, 0, b"", state)) : -len(
                        archive.SENTINEL
                    )
                ]
            )
    with pytest.raises(archive.ArchiveError, match="sentinel"):
        truncated = _snapshot_like(body[:-5])
        cut = FullSnapshot()
        cut.feed(truncated)
        cut.finish()


def _consumer(name: str, push: bool) -> bytes:
    config = {"durable_name": name, "ack_policy": "explicit", "description": "x" * 300}
    if push:
        config.update(deliver_subject=f"orders.deliver.{name}", deliver_group="standby")
    body = {
        "config": config,
        "state": {
            "delivered": {"consumer_seq": 7, "stream_seq": 9},
            "ack_floor": {"consumer_seq": 5, "stream_seq": 6},
        },
    }
    return archive.entry(f"consumers/{name}".encode(), 3, 0, b"", json.dumps(body).encode())


def _quieted(snap: bytes, last_seq=None) -> tuple[FullSnapshot, bytes]:
    full = FullSnapshot(last_seq, quiet_prefix="_JSC_VERIFY.ab")
    out = b"".join(full.feed(snap[i : i + 1000]) for i in range(0, len(snap), 1000))
    return full, _decode(out + full.finish())


@pytest.mark.parametrize("consumers", [2, 60])  # 60: the consumers span several blocks
def test_quiet_head_redirects_push_consumers_only(consumers):
    state = json.dumps(
        {"messages": 2, "first_seq": 1, "last_seq": 9, "consumer_count": consumers}
    ).encode()
    names = [(f"c{n}", n % 2 == 0) for n in range(consumers)]
    messages = archive.entry(b"s.1", 10, 1, b"", os.urandom(3000))
    messages += archive.entry(b"s.2", 11, 9, b"", os.urandom(9000))
    body = (
        archive.MAGIC
        + archive.entry(b"state.json", 5, 0, b"", state)
        + b"".join(_consumer(n, push) for n, push in names)
        + messages
        + archive.SENTINEL
    )
    full, decoded = _quieted(_snapshot_like(body), last_seq=12)
    found = [e for e, _ in archive.parse_entries(decoded, len(archive.MAGIC))]
    assert json.loads(found[0].payload)["last_seq"] == 12
    assert full.quieted == [n for n, push in names if push]
    for (name, push), got in zip(names, found[1:], strict=False):
        assert got.name == f"consumers/{name}".encode()
        original = json.loads(next(archive.parse_entries(_consumer(name, push)))[0].payload)
        now = json.loads(got.payload)
        assert now["state"] == original["state"]
        if push:
            assert now["config"]["deliver_subject"] == f"_JSC_VERIFY.ab.{name}"
            assert "deliver_group" not in now["config"]
            del original["config"]["deliver_subject"], original["config"]["deliver_group"]
            del now["config"]["deliver_subject"]
        assert now["config"] == original["config"]
    assert decoded.endswith(messages)


def test_quiet_head_fails_loudly_on_a_head_it_cannot_rewrite(monkeypatch):
    from core.backups import full_snapshot

    def head(count: int) -> bytes:
        state = json.dumps({"last_seq": 1, "consumer_count": count}).encode()
        return archive.MAGIC + archive.entry(b"state.json", 5, 0, b"", state)

    one = head(3) + _consumer("a", True)
    with pytest.raises(archive.ArchiveError, match="counts 3 consumers but entry 2"):
        _quieted(_snapshot_like(one + archive.entry(b"s.1", 1, 1, b"", b"m") + archive.SENTINEL))
    with pytest.raises(archive.ArchiveError, match="ends inside its state.json or consumers"):
        _quieted(_snapshot_like(one))
    monkeypatch.setattr(full_snapshot, "MAX_HEAD", 5000)
    many = head(30) + b"".join(_consumer(f"b{n}", True) for n in range(30)) + archive.SENTINEL
    with pytest.raises(archive.ArchiveError, match="too many consumers"):
        _quieted(_snapshot_like(many))
