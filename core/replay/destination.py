"""Publishing replayed messages exactly once, and finding what a crashed attempt already stored.

Every message carries ``Nats-Msg-Id: <operation id>-<source seq>``, so JetStream drops a repeat
inside the destination's duplicate window. Beyond that window, :func:`already_stored` reads the
destination from the last checkpointed sequence on and returns the source sequences found there,
which the resumed attempt skips.
"""

from __future__ import annotations

from datetime import datetime, timezone

from core.jetstream.api import JetStreamApi
from core.replay.publisher import NoStream, PublishRefused
from core.replay.models import ORIGINAL_TIME_HEADER, SOURCE_HEADER, ReplayRequest
from core.replay.source import MsgGetReader, SourceMessage

DROPPED_HEADERS = {"nats-msg-id", "nats-expected-stream", "nats-expected-last-msg-id",
                   "nats-expected-last-sequence", "nats-expected-last-subject-sequence"}
# JetStream refusals that a retry cannot fix (err_code): limits, size, expectations, permissions.
PERMANENT_ERR_CODES = {10054, 10060, 10070, 10071, 10077, 10078, 10082, 10159, 10160, 10164}


class DestinationRefused(Exception):
    """The destination refused a message for good; names the source sequence and the reason."""

    def __init__(self, seq: int, reason: str):
        super().__init__(f"the destination refused source message {seq}: {reason}")
        self.seq, self.reason = seq, reason


class MissingRedriveHeader(Exception):
    pass


def msg_id(operation_id: str, seq: int) -> str:
    return f"{operation_id}-{seq}"


def target_subject(request: ReplayRequest, msg: SourceMessage) -> str:
    if request.redrive:
        subject = msg.headers.get(request.redrive.header, "").strip()
        if not subject:
            raise MissingRedriveHeader(f"header {request.redrive.header} is missing")
        return subject
    dest = request.destination
    if dest.subject:
        return dest.subject
    if dest.subject_prefix:
        return f"{dest.subject_prefix}.{msg.subject}"
    return msg.subject


def _rfc3339(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def outgoing_headers(request: ReplayRequest, operation_id: str, msg: SourceMessage) -> dict:
    headers = {k: v for k, v in msg.headers.items() if k.lower() not in DROPPED_HEADERS}
    headers["Nats-Msg-Id"] = msg_id(operation_id, msg.seq)
    if request.add_source_header:
        headers[SOURCE_HEADER] = f"{request.stream}:{msg.seq}"
    if request.keep_original_time:
        headers[ORIGINAL_TIME_HEADER] = _rfc3339(msg.time)
    return headers


def classify(seq: int, exc: Exception) -> Exception:
    """A permanent refusal becomes DestinationRefused; anything else is left to retries."""
    if isinstance(exc, PublishRefused):
        if exc.err_code in PERMANENT_ERR_CODES or exc.code in (400, 403):
            return DestinationRefused(seq, exc.description)
        return exc
    if isinstance(exc, NoStream):
        return DestinationRefused(seq, "no stream on the destination stores this subject")
    return exc


async def already_stored(dest: JetStreamApi, stream: str, after_seq: int,
                         operation_id: str) -> set[int]:
    """Source sequences of this operation stored in ``stream`` after ``after_seq``."""
    info = await dest.stream_info(stream)
    last = int(info["state"]["last_seq"])
    prefix = f"{operation_id}-"
    found: set[int] = set()
    if last <= after_seq:
        return found
    reader = MsgGetReader(dest, stream, [])
    async for msg in reader.read(after_seq + 1, last):
        mid = msg.headers.get("Nats-Msg-Id", "")
        if mid.startswith(prefix):
            found.add(int(mid[len(prefix):]))
    return found
