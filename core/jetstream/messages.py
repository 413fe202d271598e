"""A stream's messages: read without leaving any state on the server, written with JetStream's
acknowledgement.

Reading never creates a consumer, so browsing a work-queue or interest stream leaves it exactly as
it was. Single messages come from ``$JS.API.STREAM.MSG.GET`` (every stream answers it); a walk
forward uses its ``next_by_subj`` (one message per request) or, when the stream allows direct gets,
``$JS.API.DIRECT.GET`` batches (many messages per request, ended by a ``204 EOB`` status). A walk
backwards scans windows of sequences downwards, newest first.

Payloads are shown decoded: as JSON when they parse, as text when they are UTF-8, else base64, cut
at a size cap (``truncated``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import json
import re
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

from core.jetstream.api import JetStreamApi, JetStreamError, JetStreamUnavailable

NO_MESSAGE = 10037  # JetStream err_code: "no message found"
DEFAULT_PAYLOAD_LIMIT = 64 * 1024
Encoding = Literal["json", "text", "base64"]
Direction = Literal["forward", "backward"]

# Headers a direct get adds to the stored message; they are not part of what was published.
_DIRECT_HEADERS = {
    "Nats-Stream",
    "Nats-Subject",
    "Nats-Sequence",
    "Nats-Time-Stamp",
    "Nats-Num-Pending",
    "Nats-Last-Sequence",
    "Nats-UpTo-Sequence",
}
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")


class SubjectNotInStream(Exception):
    """A publish whose subject the stream does not capture."""


@dataclass(frozen=True)
class StoredMessage:
    seq: int
    subject: str
    time: str  # RFC 3339 with nanoseconds, as the server gives it
    headers: dict[str, list[str]]
    data: bytes

    @property
    def timestamp(self) -> datetime:
        return parse_time(self.time)


# -- subjects, times, payloads, headers --------------------------------------------------------


def subject_problem(subject: str, *, wildcards: bool) -> str | None:
    """Why ``subject`` is not a valid subject (or filter, with ``wildcards``); None when it is."""
    if not subject:
        return "is empty"
    if any(c.isspace() for c in subject):
        return "must not contain blanks"
    tokens = subject.split(".")
    for i, token in enumerate(tokens):
        if not token:
            return f"'{subject}' has an empty token (two dots in a row, or a dot at an end)"
        if token in ("*", ">"):
            if not wildcards:
                return f"'{subject}' has a wildcard: publish to a concrete subject"
            if token == ">" and i != len(tokens) - 1:
                return f"'{subject}': '>' may only be the last token"
    return None


def parse_time(text: str) -> datetime:
    """An RFC 3339 time of the server (nanoseconds) as an aware datetime (microseconds)."""
    match = _TIME.match(text)
    if not match:
        raise ValueError(f"'{text}' is not an RFC 3339 time")
    fraction = (match.group(2) or "")[:7]
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    return datetime.fromisoformat(match.group(1) + fraction + zone)


def format_time(when: datetime) -> str:
    """RFC 3339 in UTC, as the server reads it (a naive datetime is taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _as_text(data: bytes, cut: bool) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut may split a multi-byte character: drop the incomplete end, nothing else.
        if not cut or exc.reason != "unexpected end of data":
            return None
        text = data[: exc.start].decode("utf-8", errors="strict")
    return None if _CONTROL.search(text) else text


def describe_payload(data: bytes, limit: int | None = DEFAULT_PAYLOAD_LIMIT) -> dict[str, Any]:
    """``{size, payload, encoding, truncated}``: JSON when the whole payload parses, text when
    it is UTF-8 (a cut one never counts as JSON), base64 otherwise."""
    truncated = limit is not None and len(data) > limit
    shown = data[:limit] if truncated else data
    text = _as_text(shown, truncated)
    if text is None:
        payload, encoding = base64.b64encode(shown).decode(), "base64"
    else:
        payload, encoding = text, "text"
        if not truncated and text.strip():
            try:
                payload, encoding = json.loads(text, parse_constant=_reject_constant), "json"
            except ValueError:
                pass
    return {"size": len(data), "payload": payload, "encoding": encoding, "truncated": truncated}


def payload_bytes(payload: Any, encoding: Encoding | None = None) -> bytes:
    """The bytes to publish. Without an encoding a string is text and anything else JSON;
    ValueError says what is wrong."""
    if encoding is None:
        encoding = "text" if payload is None or isinstance(payload, str) else "json"
    if encoding == "json":
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    if payload is None:
        return b""
    if not isinstance(payload, str):
        raise ValueError(f"with encoding '{encoding}' the payload must be a string")
    if encoding == "text":
        return payload.encode()
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not valid base64") from None


def parse_header_block(raw: bytes) -> dict[str, list[str]]:
    """``NATS/1.0\\r\\nName: value\\r\\n...`` as {name: [values]} (repeated names kept)."""
    headers: dict[str, list[str]] = {}
    for line in raw.decode("utf-8", "replace").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers.setdefault(name.strip(), []).append(value.strip())
    return headers


def message_json(
    msg: StoredMessage, payload_limit: int | None = DEFAULT_PAYLOAD_LIMIT
) -> dict[str, Any]:
    """A message as the API shows it."""
    return {
        "seq": msg.seq,
        "subject": msg.subject,
        "time": msg.time,
        "headers": msg.headers,
        **describe_payload(msg.data, payload_limit),
    }


# -- cursors -----------------------------------------------------------------------------------


def encode_cursor(seq: int, direction: Direction, subject: str | None) -> str:
    blob = json.dumps({"s": seq, "d": direction[0], "f": subject}, separators=(",", ":"))
    return base64.urlsafe_b64encode(blob.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, Direction, str | None]:
    """(next sequence, direction, subject filter); ValueError for anything not made here."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        directions: dict[str, Direction] = {"f": "forward", "b": "backward"}
        seq, direction, subject = data["s"], directions[data["d"]], data["f"]
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**63:
            raise ValueError
        if subject is not None and (
            not isinstance(subject, str) or subject_problem(subject, wildcards=True)
        ):
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValueError("is not a cursor this API gave out") from None
    return seq, direction, subject


# -- reading -----------------------------------------------------------------------------------


class StreamReader:
    """Reads one stream's messages; ``direct`` when the stream allows direct gets (batches)."""

    def __init__(
        self,
        js: JetStreamApi,
        stream: str,
        *,
        direct: bool = False,
        batch_bytes: int = 4 * 1024 * 1024,
    ):
        self.js, self.stream, self.direct, self.batch_bytes = js, stream, direct, batch_bytes

    @classmethod
    async def open(cls, js: JetStreamApi, stream: str) -> tuple[StreamReader, dict[str, Any]]:
        """The reader and the stream's info (JetStreamError, not found, for an unknown stream)."""
        info = await js.stream_info(stream)
        return cls(js, stream, direct=bool(info["config"].get("allow_direct"))), info

    async def _msg_get(self, request: dict[str, Any]) -> StoredMessage | None:
        try:
            reply = await self.js.request(f"STREAM.MSG.GET.{self.stream}", request)
        except JetStreamError as exc:
            if exc.err_code == NO_MESSAGE:
                return None
            raise
        m = reply["message"]
        hdrs = base64.b64decode(m["hdrs"]) if m.get("hdrs") else b""
        return StoredMessage(
            seq=m["seq"],
            subject=m["subject"],
            time=m["time"],
            headers=parse_header_block(hdrs) if hdrs else {},
            data=base64.b64decode(m.get("data") or ""),
        )

    async def get(self, seq: int) -> StoredMessage | None:
        return await self._msg_get({"seq": seq})

    async def last(self, subject: str) -> StoredMessage | None:
        """The newest message on ``subject`` (wildcards allowed)."""
        return await self._msg_get({"last_by_subj": subject})

    async def first_since(self, when: datetime) -> StoredMessage | None:
        """The first message stored at or after ``when``."""
        msg = await self._msg_get({"start_time": format_time(when)})
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        # Past the last message the server answers with the first one: that means none.
        return msg if msg is not None and msg.timestamp >= when else None

    async def next(self, seq: int, subject: str | None = None) -> StoredMessage | None:
        """The first message at or after ``seq`` on ``subject`` (any subject when None)."""
        return await self._msg_get({"seq": seq, "next_by_subj": subject or ">"})

    async def _direct_batch(
        self, seq: int, subject: str | None, batch: int
    ) -> tuple[list[StoredMessage], int | None]:
        """Up to ``batch`` messages from ``seq`` on, and how many more match after them."""
        nc = self.js.nc
        request: dict[str, Any] = {"seq": seq, "batch": batch, "max_bytes": self.batch_bytes}
        if subject:
            request["next_by_subj"] = subject
        found: list[StoredMessage] = []
        try:
            inbox = nc.new_inbox()
            sub = await nc.subscribe(inbox)
            try:
                await nc.publish(
                    f"{self.js.prefix}.DIRECT.GET.{self.stream}",
                    json.dumps(request).encode(),
                    reply=inbox,
                )
                while True:
                    msg = await sub.next_msg(timeout=self.js.timeout)
                    # nats-py keys a status description by an Enum member: use plain names
                    headers = {getattr(k, "value", k): v for k, v in (msg.headers or {}).items()}
                    if "Nats-Sequence" not in headers and not msg.data and "Status" in headers:
                        status = str(headers["Status"])
                        if status == "204":
                            return found, int(headers.get("Nats-Num-Pending") or 0)
                        if status == "404":
                            return found, 0
                        if status == "503":
                            raise JetStreamUnavailable("JetStream is not available on this cluster")
                        description = str(headers.get("Description") or f"status {status}")
                        raise JetStreamError(
                            int(status) if status.isdigit() else 500, 0, description.lower()
                        )
                    found.append(
                        StoredMessage(
                            seq=int(headers["Nats-Sequence"]),
                            subject=headers["Nats-Subject"],
                            time=headers["Nats-Time-Stamp"],
                            data=msg.data,
                            headers={
                                k: [v] for k, v in headers.items() if k not in _DIRECT_HEADERS
                            },
                        )
                    )
            finally:
                await sub.unsubscribe()
        except NatsTimeoutError as exc:
            raise JetStreamUnavailable("JetStream did not answer in time") from exc
        except NoRespondersError as exc:
            raise JetStreamUnavailable("JetStream is not available on this cluster") from exc
        except NatsError as exc:
            raise JetStreamUnavailable(f"the connection to the cluster failed: {exc}") from exc

    async def scan(
        self,
        start_seq: int,
        subject: str | None = None,
        *,
        stop_seq: int | None = None,
        batch: int = 256,
    ) -> AsyncGenerator[StoredMessage, None]:
        """Messages from ``start_seq`` upwards (up to ``stop_seq`` included), oldest first."""
        seq = max(1, start_seq)
        while stop_seq is None or seq <= stop_seq:
            if not self.direct:
                msg = await self.next(seq, subject)
                if msg is None or (stop_seq is not None and msg.seq > stop_seq):
                    return
                yield msg
                seq = msg.seq + 1
                continue
            size = batch if stop_seq is None else max(1, min(batch, stop_seq - seq + 1))
            found, pending = await self._direct_batch(seq, subject, size)
            for msg in found:
                if stop_seq is not None and msg.seq > stop_seq:
                    return
                yield msg
            if not found or pending == 0:
                return
            seq = found[-1].seq + 1

    async def forward(
        self, start_seq: int, subject: str | None, limit: int
    ) -> tuple[list[StoredMessage], bool]:
        """A page of up to ``limit`` messages from ``start_seq`` up, and whether more follow."""
        page: list[StoredMessage] = []
        async with aclosing(self.scan(start_seq, subject, batch=limit + 1)) as messages:
            async for msg in messages:
                page.append(msg)
                if len(page) > limit:
                    break
        return page[:limit], len(page) > limit

    async def backward(
        self, start_seq: int, subject: str | None, limit: int, first_seq: int
    ) -> tuple[list[StoredMessage], bool]:
        """A page of up to ``limit`` messages from ``start_seq`` down, newest first, and whether
        older ones remain. Scans growing windows of sequences, keeping only the newest matches."""
        wanted, floor = limit + 1, max(1, first_seq)
        page: list[StoredMessage] = []
        high, window = start_seq, wanted
        while high >= floor and len(page) < wanted:
            low = max(floor, high - window + 1)
            newest: collections.deque[StoredMessage] = collections.deque(maxlen=wanted - len(page))
            async with aclosing(self.scan(low, subject, stop_seq=high)) as messages:
                async for msg in messages:
                    newest.append(msg)
            page.extend(reversed(newest))
            high, window = low - 1, min(window * 4, 1 << 20)
        return page[:limit], len(page) > limit

    async def subjects(self, subject_filter: str = ">") -> dict[str, int]:
        """Every subject of the stream matching the filter, with its message count."""
        found: dict[str, int] = {}
        while True:
            info = await self.js.request(
                f"STREAM.INFO.{self.stream}",
                {"subjects_filter": subject_filter, "offset": len(found)},
            )
            page = (info.get("state") or {}).get("subjects") or {}
            found.update(page)
            if not page or len(found) >= int(info.get("total") or 0):
                return found

    async def last_per_subject(
        self,
        subject_filter: str = ">",
        limit: int = 100,
    ) -> tuple[list[StoredMessage], int]:
        """The newest message of each subject matching the filter (first ``limit`` subjects in
        order), and how many subjects match."""
        subjects = sorted(await self.subjects(subject_filter))
        gate = asyncio.Semaphore(32)

        async def one(subject: str) -> StoredMessage | None:
            async with gate:
                return await self.last(subject)

        found = await asyncio.gather(*(one(s) for s in subjects[:limit]))
        return [m for m in found if m is not None], len(subjects)


# -- writing -----------------------------------------------------------------------------------


def subject_matches(pattern: str, subject: str) -> bool:
    """Whether a concrete ``subject`` matches ``pattern`` (``*`` one token, ``>`` the rest)."""
    want, have = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]):
            return False
    return len(want) == len(have)


def captures(stream_config: dict[str, Any], subject: str) -> bool:
    """Whether a stream with this configuration stores a message published on ``subject``."""
    return any(subject_matches(p, subject) for p in stream_config.get("subjects") or [])


async def publish(
    js: JetStreamApi,
    stream_config: dict[str, Any],
    subject: str,
    data: bytes,
    headers: dict[str, str] | None = None,
    msg_id: str | None = None,
) -> dict[str, Any]:
    """Publish into the stream (SubjectNotInStream when it does not capture ``subject``); the
    PubAck as ``{stream, seq, duplicate}``. ``msg_id`` becomes ``Nats-Msg-Id`` (de-duplication).
    The headers are sent as given: nothing of the console's is added to the stored message."""
    stream = stream_config["name"]
    if not captures(stream_config, subject):
        raise SubjectNotInStream(f"stream '{stream}' does not capture '{subject}'")
    sent = dict(headers or {})
    if msg_id:
        sent["Nats-Msg-Id"] = msg_id
    try:
        msg = await js.nc.request(subject, data, timeout=js.timeout, headers=sent or None)
    except NoRespondersError:
        raise SubjectNotInStream(f"no stream captures '{subject}'") from None
    except NatsTimeoutError as exc:
        raise JetStreamUnavailable("JetStream did not acknowledge the message in time") from exc
    except NatsError as exc:
        raise JetStreamUnavailable(f"the connection to the cluster failed: {exc}") from exc
    ack = json.loads(msg.data or b"{}")
    if err := ack.get("error"):
        raise JetStreamError(
            err.get("code", 500),
            err.get("err_code", 0),
            err.get("description", "unknown JetStream error"),
        )
    return {"stream": ack["stream"], "seq": ack["seq"], "duplicate": bool(ack.get("duplicate"))}


async def delete_message(js: JetStreamApi, stream: str, seq: int, erase: bool = False) -> None:
    """Remove one message; ``erase`` overwrites its data on disk too."""
    await js.request(f"STREAM.MSG.DELETE.{stream}", {"seq": seq, "no_erase": not erase})


# -- export ------------------------------------------------------------------------------------

CSV_COLUMNS = ("seq", "subject", "time", "size", "encoding", "payload", "headers")


def export_record(msg: StoredMessage) -> dict[str, Any]:
    """A message for an export: the exact bytes, as text when UTF-8 text, else base64."""
    text = _as_text(msg.data, cut=False)
    payload, encoding = (
        (text, "text") if text is not None else (base64.b64encode(msg.data).decode(), "base64")
    )
    return {
        "seq": msg.seq,
        "subject": msg.subject,
        "time": msg.time,
        "headers": msg.headers,
        "size": len(msg.data),
        "payload": payload,
        "encoding": encoding,
    }
