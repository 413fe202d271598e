"""Publishing replayed messages exactly once, and finding what a crashed attempt already stored.

Every message carries ``Nats-Msg-Id: <operation id>-<source seq>``, so JetStream drops a repeat
inside the destination's duplicate window. Beyond that window, :func:`already_stored` reads the
destination from the last checkpointed sequence on and returns the source sequences found there,
which the resumed attempt skips. It reads in batches (headers only on limits streams, many
MSG.GETs in flight otherwise) and reports its progress as it goes, so a long check keeps its
activity alive; what it reads is bounded by what the crashed attempt wrote after its last
recorded checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from core.jetstream.api import JetStreamApi
from core.replay.models import ORIGINAL_TIME_HEADER, SOURCE_HEADER, ReplayRequest
from core.replay.publisher import NoStream, PublishRefused
from core.replay.source import SourceMessage, open_reader

# Not carried: the source's own de-duplication and expectations, and Nats-Rollup, which would
# make a copy purge the destination (a purge needs its own permission and passes the gate).
DROPPED_HEADERS = {
    "nats-msg-id",
    "nats-expected-stream",
    "nats-expected-last-msg-id",
    "nats-expected-last-sequence",
    "nats-expected-last-subject-sequence",
    "nats-rollup",
}
# JetStream refusals that a retry cannot fix (err_code): limits, size, expectations, permissions.
PROGRESS_EVERY = 1000
PERMANENT_ERR_CODES = {10054, 10060, 10070, 10071, 10077, 10078, 10082, 10159, 10160, 10164}


class DestinationRefused(Exception):
    """The destination refused a message for good; names the source sequence and the reason."""

    def __init__(self, seq: int, reason: str):
        super().__init__(f"the destination refused source message {seq}: {reason}")
        self.seq, self.reason = seq, reason


class NoStreamAnswered(Exception):
    """Nothing stored a message: no stream takes its subject, or JetStream is not up yet (a
    restarting server answers "no responders" too). :func:`stream_takes` tells them apart."""

    def __init__(self, seq: int, subject: str):
        super().__init__(
            f"no stream on the destination answered for source message {seq} (subject {subject})"
        )
        self.seq, self.subject = seq, subject


class MissingRedriveHeader(Exception):
    pass


class MessageMapper:
    """Subject and headers of each replayed message; what is the same for every message of a
    replay is worked out once (this runs once per message on the hot path)."""

    def __init__(self, request: ReplayRequest, operation_id: str, expected_stream: str | None):
        self.request = request
        dest = request.destination
        self.redrive_header = request.redrive.header if request.redrive else None
        self.fixed_subject = dest.subject
        self.prefix = f"{dest.subject_prefix}." if dest.subject_prefix else None
        self.id_prefix = f"{operation_id}-"
        self.source_prefix = f"{request.stream}:" if request.add_source_header else None
        self.keep_time = request.keep_original_time
        self.base = {"Nats-Expected-Stream": expected_stream} if expected_stream else {}

    def subject(self, msg: SourceMessage) -> str:
        if self.redrive_header:
            subject = (msg.headers or {}).get(self.redrive_header, "").strip()
            if not subject:
                raise MissingRedriveHeader(f"header {self.redrive_header} is missing")
            return subject
        if self.fixed_subject:
            return self.fixed_subject
        if self.prefix:
            return self.prefix + msg.subject
        return msg.subject

    def headers(self, msg: SourceMessage) -> dict[str, str]:
        headers = dict(self.base)
        if msg.headers:
            headers.update(
                (k, v) for k, v in msg.headers.items() if k.lower() not in DROPPED_HEADERS
            )
        seq = str(msg.seq)
        headers["Nats-Msg-Id"] = self.id_prefix + seq
        if self.source_prefix:
            headers[SOURCE_HEADER] = self.source_prefix + seq
        if self.keep_time:
            headers[ORIGINAL_TIME_HEADER] = _rfc3339(msg.time)
        return headers


def _rfc3339(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def classify(seq: int, exc: Exception, subject: str = "") -> Exception:
    """A permanent refusal becomes DestinationRefused; anything else is left to retries."""
    if isinstance(exc, PublishRefused):
        if exc.err_code in PERMANENT_ERR_CODES or exc.code in (400, 403):
            return DestinationRefused(seq, exc.description)
        return exc
    if isinstance(exc, NoStream):
        return NoStreamAnswered(seq, subject)
    return exc


async def stream_takes(dest: JetStreamApi, subject: str) -> bool:
    """Whether a stream on the destination stores ``subject``; raises when JetStream itself
    does not answer (then nothing is known yet)."""
    reply = await dest.request("STREAM.NAMES", {"subject": subject})
    return bool(reply.get("streams"))


async def already_stored(
    dest: JetStreamApi,
    stream: str,
    after_seq: int,
    operation_id: str,
    progress: Callable[[int], None] = lambda n: None,
) -> set[int]:
    """Source sequences of this operation stored in ``stream`` after ``after_seq``; ``progress``
    is called with the number of destination messages read so far, every ``PROGRESS_EVERY``."""
    info = await dest.stream_info(stream)
    last = int(info["state"]["last_seq"])
    prefix = f"{operation_id}-"
    found: set[int] = set()
    if last <= after_seq:
        return found
    reader = await open_reader(dest, stream, [], headers_only=True)
    read = 0
    try:
        async for msg in reader.read(after_seq + 1, last):
            mid = (msg.headers or {}).get("Nats-Msg-Id", "")
            if mid.startswith(prefix):
                found.add(int(mid[len(prefix) :]))
            read += 1
            if read % PROGRESS_EVERY == 0:
                progress(read)
    finally:
        await reader.close()
    progress(read)
    return found
