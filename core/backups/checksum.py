"""The message checksum a backup is verified with.

SHA-256 over the messages in sequence order; each message contributes::

    seq (8 bytes, big-endian) | len(subject) (4 bytes, big-endian) | subject (UTF-8 bytes)
    | len(payload) (8 bytes, big-endian) | payload

Headers and timestamps are not part of it (the issue asks for subjects and payloads; headers
that the server or a mirror adds would make two faithful copies differ). ``stream_checksum``
computes it over a range of a live stream, reading it as ``core.backups.reader`` does.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from core.backups.reader import read_range
from core.jetstream.api import JetStreamApi


@dataclass
class RangeChecksum:
    messages: int
    first_seq: int
    last_seq: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class MessageChecksum:
    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self.messages = 0
        self.first_seq = 0
        self.last_seq = 0

    def update(self, seq: int, subject: bytes, payload: bytes) -> None:
        sha = self._sha
        sha.update(seq.to_bytes(8, "big"))
        sha.update(len(subject).to_bytes(4, "big"))
        sha.update(subject)
        sha.update(len(payload).to_bytes(8, "big"))
        sha.update(payload)
        if not self.messages:
            self.first_seq = seq
        self.last_seq = seq
        self.messages += 1

    def result(self) -> RangeChecksum:
        return RangeChecksum(self.messages, self.first_seq, self.last_seq, self._sha.hexdigest())


async def stream_checksum(
    js: JetStreamApi,
    stream: str,
    first_seq: int,
    last_seq: int,
) -> RangeChecksum:
    """``{messages, first_seq, last_seq, sha256}`` of the messages of ``stream`` with
    ``first_seq <= seq <= last_seq`` (first/last: of the messages found; 0 when none)."""
    checksum = MessageChecksum()
    async for batch in read_range(js, stream, max(1, first_seq), last_seq):
        for message in batch:
            checksum.update(message.seq, message.subject, message.payload)
    return checksum.result()
