"""Messages of a stream: browse (from a sequence or a time, forwards or backwards, subject filter,
page size, opaque cursor), the last message of a subject or of every subject, one message, publish
(with headers and ``Nats-Msg-Id``), delete one, and export a range as JSON lines or CSV, streamed
(a large range runs as an operation: ``api.export_start``).

Reading creates nothing on the server (direct and message gets, never a consumer), so it works on
work-queue and interest streams and leaves them as they were (``core.jetstream.messages``).
Permissions are checked like the stream's own routes (``require_stream``: a team-scoped grant covers
the streams of the caller's team namespaces); deleting a message needs ``streams:purge``, and so
does publishing with a ``Nats-Rollup``, ``Nats-Schedule-Rollup`` or ``Nats-Schedule-Next`` header
(``api.publish_guard``)."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.cluster_access import cluster_jetstream
from api.deps import Db, Principal, Svc, audit, require_stream, streamed
from api.errors import ProblemError, problem_responses
from api.export_start import STARTED, start_export
from api.publish_guard import check_rollup, refuse_kv_operation
from core.exports.formats import MEDIA, MessageLines
from core.exports.models import MessageExport
from core.jetstream.config import NAME_PATTERN
from core.jetstream.messages import (
    DEFAULT_PAYLOAD_LIMIT,
    Direction,
    Encoding,
    StreamReader,
    SubjectNotInStream,
    decode_cursor,
    delete_message,
    encode_cursor,
    message_json,
    payload_bytes,
    publish,
    subject_problem,
)

router = APIRouter(
    prefix="/api/v1/clusters/{cluster_id}/streams/{name}/messages", tags=["messages"]
)

MAX_SEQ = 2**63 - 1
StreamName = Annotated[
    str, Path(min_length=1, max_length=255, pattern=NAME_PATTERN, description="the stream")
]
Seq = Annotated[int, Path(ge=1, le=MAX_SEQ, description="the message's stream sequence")]
PayloadLimit = Annotated[
    int,
    Query(
        ge=0,
        le=8 * 1024 * 1024,
        description="payload bytes shown per message; more is cut and marked truncated",
    ),
]
SubjectFilter = Annotated[
    str | None,
    Query(max_length=1024, description="subject filter, wildcards allowed (e.g. 'orders.*.eu')"),
]


def invalid(field: str, message: str) -> ProblemError:
    return ProblemError(
        422, f"Invalid input: {field}: {message}", errors=[{"field": field, "message": message}]
    )


def _subject_filter(subject: str | None, field: str = "subject") -> str | None:
    """A valid filter, or None for every subject."""
    if subject is None or subject == ">":
        return None
    if problem := subject_problem(subject, wildcards=True):
        raise invalid(field, problem)
    return subject


def _utc(when: datetime | None, field: str) -> datetime | None:
    """An aware UTC time (a naive one is taken as UTC), or 422 when it has no UTC equivalent."""
    if when is None:
        return None
    try:
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise invalid(field, "is out of the range of times") from exc


_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


async def _open(db: Db, svc: Svc, principal: Principal, cluster_id: uuid.UUID, name: str):
    cluster, js = await cluster_jetstream(db, svc, principal, cluster_id)
    reader, info = await StreamReader.open(js, name)
    return cluster, js, reader, info


@router.get("")
async def browse_messages(
    cluster_id: uuid.UUID,
    name: StreamName,
    db: Db,
    svc: Svc,
    start_seq: int | None = Query(None, ge=1, le=MAX_SEQ, description="first sequence to show"),
    start_time: datetime | None = Query(
        None,
        description="show from the first message "
        "stored at or after this time (backwards: at or before)",
    ),
    direction: Direction | None = Query(None, description="forward (default) or backward"),
    subject: SubjectFilter = None,
    limit: int = Query(50, ge=1, le=1000, description="page size"),
    cursor: str | None = Query(None, max_length=2048, description="next_cursor of a page"),
    payload_limit: PayloadLimit = DEFAULT_PAYLOAD_LIMIT,
    principal: Principal = Depends(require_stream("messages:read")),
) -> dict:
    """A page of messages. Without a start: from the first message forwards, from the last one
    backwards. ``next_cursor`` continues in the same direction with the same filter; forwards it
    is always given (a tail polls it), backwards it is null once the oldest was shown."""
    if start_seq is not None and start_time is not None:
        raise invalid("start_time", "give start_seq or start_time, not both")
    start_time = _utc(start_time, "start_time")
    filter_ = _subject_filter(subject)
    seq: int | None = None
    if cursor is not None:
        if start_seq is not None or start_time is not None:
            raise invalid(
                "cursor", "a cursor continues a browse: give it without start_seq or start_time"
            )
        try:
            seq, cursor_direction, cursor_filter = decode_cursor(cursor)
        except ValueError as exc:
            raise invalid("cursor", str(exc)) from exc
        if direction is not None and direction != cursor_direction:
            raise invalid("direction", "differs from the cursor's: start a new browse to turn")
        if subject is not None and filter_ != cursor_filter:
            raise invalid("subject", "differs from the cursor's: start a new browse to change it")
        direction, filter_ = cursor_direction, cursor_filter
    direction = direction or "forward"

    _, _, reader, info = await _open(db, svc, principal, cluster_id, name)
    state = info["state"]
    first, last = int(state.get("first_seq") or 0), int(state.get("last_seq") or 0)
    if seq is None:
        if start_time is not None:
            found = await reader.first_since(start_time)
            if direction == "forward":
                seq = found.seq if found else last + 1
            elif found is None:
                seq = last
            else:
                seq = found.seq if found.timestamp <= start_time else found.seq - 1
        elif start_seq is not None:
            seq = start_seq
        else:
            seq = first if direction == "forward" else last

    next_cursor: str | None
    if direction == "forward":
        page, more = await reader.forward(seq, filter_, limit)
        next_cursor = encode_cursor(
            page[-1].seq + 1 if page else max(seq, last + 1), "forward", filter_
        )
    else:
        page, more = await reader.backward(min(seq, last), filter_, limit, first)
        next_cursor = encode_cursor(page[-1].seq - 1, "backward", filter_) if more else None
    return {
        "stream": name,
        "direction": direction,
        "subject": filter_,
        "first_seq": first,
        "last_seq": last,
        "items": [message_json(m, payload_limit) for m in page],
        "has_more": more,
        "next_cursor": next_cursor,
    }


@router.get("/last")
async def last_message(
    cluster_id: uuid.UUID,
    name: StreamName,
    db: Db,
    svc: Svc,
    subject: str = Query(
        ..., min_length=1, max_length=1024, description="a subject, wildcards allowed"
    ),
    payload_limit: PayloadLimit = DEFAULT_PAYLOAD_LIMIT,
    principal: Principal = Depends(require_stream("messages:read")),
) -> dict:
    """The newest message on a subject."""
    if problem := subject_problem(subject, wildcards=True):
        raise invalid("subject", problem)
    _, _, reader, _ = await _open(db, svc, principal, cluster_id, name)
    msg = await reader.last(subject)
    if msg is None:
        raise ProblemError(404, f"Stream '{name}' holds no message on '{subject}'.")
    return message_json(msg, payload_limit)


@router.get("/last-per-subject")
async def last_per_subject(
    cluster_id: uuid.UUID,
    name: StreamName,
    db: Db,
    svc: Svc,
    subject: str = Query(">", min_length=1, max_length=1024, description="subject filter"),
    limit: int = Query(100, ge=1, le=1000, description="subjects shown"),
    payload_limit: PayloadLimit = DEFAULT_PAYLOAD_LIMIT,
    principal: Principal = Depends(require_stream("messages:read")),
) -> dict:
    """The newest message of every subject matching the filter, ordered by subject."""
    if problem := subject_problem(subject, wildcards=True):
        raise invalid("subject", problem)
    _, _, reader, _ = await _open(db, svc, principal, cluster_id, name)
    found, total = await reader.last_per_subject(subject, limit)
    return {
        "stream": name,
        "subject": subject,
        "subjects": total,
        "truncated": total > limit,
        "items": [message_json(m, payload_limit) for m in found],
    }


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/x-ndjson": {}, "text/csv": {}},
            "description": "the messages, streamed",
        },
        **STARTED,
        **problem_responses(
            **{
                "403": "Not allowed: the stream is outside your namespaces.",
                "404": "No such cluster or stream.",
                "422": "Invalid input (a range that ends before it starts, a subject filter).",
                "429": "Too many requests (Retry-After).",
                "503": "The cluster (or, for an operation, Temporal) cannot be reached.",
            }
        ),
    },
)
async def export_messages(
    cluster_id: uuid.UUID,
    name: StreamName,
    request: Request,
    db: Db,
    svc: Svc,
    format: Literal["jsonl", "csv"] = Query("jsonl", description="JSON lines or CSV"),
    start_seq: int | None = Query(None, ge=1, le=MAX_SEQ),
    end_seq: int | None = Query(None, ge=1, le=MAX_SEQ, description="last sequence, included"),
    start_time: datetime | None = Query(None),
    end_time: datetime | None = Query(None),
    subject: SubjectFilter = None,
    as_operation: bool = Query(
        False, description="run the export as an operation (202) whatever its size"
    ),
    idempotency_key: str | None = Header(None, max_length=200),
    principal: Principal = Depends(require_stream("messages:read")),
) -> Response:
    """A range of messages (by sequence and/or time, optionally filtered), oldest first, streamed
    as it is read. Payloads are exact: text when UTF-8, else base64 (``encoding``). The range
    ends at the stream's last message when the export starts. A range whose sequence span is over
    ``JSC_EXPORT_INLINE_MAX_MESSAGES`` (or ``as_operation=true``) runs as an operation instead:
    ``202 {id, workflow_id, status}``, its file at ``/api/v1/operations/{id}/download``."""
    if start_seq is not None and end_seq is not None and end_seq < start_seq:
        raise invalid("end_seq", "is before start_seq")
    start_time, until = _utc(start_time, "start_time"), _utc(end_time, "end_time")
    if start_time is not None and until is not None and until < start_time:
        raise invalid("end_time", "is before start_time")
    filter_ = _subject_filter(subject)
    cluster, _, reader, info = await _open(db, svc, principal, cluster_id, name)
    first, last = int(info["state"].get("first_seq") or 0), int(info["state"].get("last_seq") or 0)
    begin, stop = max(start_seq or 1, first, 1), min(end_seq or last, last)
    if start_time is not None:
        found = await reader.first_since(start_time)
        begin = max(begin, found.seq) if found else last + 1
    span = max(0, stop - begin + 1)
    if as_operation or span > svc.settings.export_inline_max_messages:
        export = MessageExport(
            cluster_id=cluster.id,
            stream=name,
            format=format,
            subject=filter_,
            first_seq=begin,
            last_seq=stop,
            until=until,
            estimated=span,
        )
        return await start_export(
            request,
            db,
            svc,
            principal,
            export,
            cluster_id=cluster.id,
            idempotency_key=idempotency_key,
        )

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        out = MessageLines(format)
        buffer.write(out.header())
        async with aclosing(reader.scan(begin, filter_, stop_seq=stop)) as messages:
            async for msg in messages:
                if until is not None and msg.timestamp > until:
                    break
                buffer.write(out.line(msg))
                if buffer.tell() >= 64 * 1024:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue()

    filename = f"{name}-{begin}-{max(stop, begin - 1)}.{format}"
    return await streamed(
        db,
        lines(),
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/{seq}")
async def get_message(
    cluster_id: uuid.UUID,
    name: StreamName,
    seq: Seq,
    db: Db,
    svc: Svc,
    payload_limit: PayloadLimit = DEFAULT_PAYLOAD_LIMIT,
    principal: Principal = Depends(require_stream("messages:read")),
) -> dict:
    _, _, reader, _ = await _open(db, svc, principal, cluster_id, name)
    msg = await reader.get(seq)
    if msg is None:
        raise ProblemError(
            404,
            f"Stream '{name}' holds no message with sequence {seq} "
            "(never stored, deleted or purged).",
        )
    return message_json(msg, payload_limit)


class PublishRequest(BaseModel):
    """A message to publish. The payload is a string (text, or base64 with
    ``encoding: "base64"``) or any JSON value (sent as JSON)."""

    model_config = ConfigDict(extra="forbid")
    subject: str = Field(min_length=1, max_length=1024)
    payload: Any = None
    encoding: Encoding | None = None
    headers: dict[str, str | list[str]] = Field(default_factory=dict)
    msg_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="sent as Nats-Msg-Id: a repeat within the stream's "
        "duplicate window is not stored twice",
    )

    @field_validator("subject")
    @classmethod
    def _concrete_subject(cls, subject: str) -> str:
        if problem := subject_problem(subject, wildcards=False):
            raise ValueError(problem)
        return subject

    @field_validator("msg_id")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and _CONTROL.search(value):
            raise ValueError("must be one line without control characters")
        return value

    def header_values(self) -> dict[str, str]:
        """{name: value}; ProblemError 422 naming the header when it cannot be sent."""
        out: dict[str, str] = {}
        for key, value in self.headers.items():
            field = f"headers.{key}"
            if not _HEADER_NAME.match(key):
                raise invalid(
                    field,
                    "a header name is ASCII letters, digits and !#$%&'*+-.^_`|~ (no blank, no ':')",
                )
            values = value if isinstance(value, list) else [value]
            if len(values) != 1:
                raise invalid(field, "give exactly one value per header")
            if _CONTROL.search(values[0]):
                raise invalid(field, "a header value is one line without control characters")
            out[key] = values[0]
        return out


@router.post(
    "",
    status_code=201,
    responses={
        200: {"description": "a duplicate: not stored again"},
        **problem_responses(
            **{
                "403": "Not allowed: outside your namespaces, or a Nats-Rollup, "
                "Nats-Schedule-Rollup or Nats-Schedule-Next header (a purge) without "
                "streams:purge or where a purge needs approval.",
                "404": "No such cluster or stream.",
                "422": "Invalid input (subject, payload, headers; a KV-Operation header is "
                "refused).",
            }
        ),
    },
)
async def publish_message(
    cluster_id: uuid.UUID,
    name: StreamName,
    body: PublishRequest,
    request: Request,
    response: Response,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require_stream("messages:publish")),
) -> dict:
    """Publish into this stream; answers JetStream's acknowledgement ``{stream, seq, duplicate}``
    (201, or 200 for a duplicate ``msg_id``). A ``Nats-Rollup`` header (or a schedule's
    ``Nats-Schedule-Rollup`` / ``Nats-Schedule-Next``) is a purge (needs
    ``streams:purge`` and a purge policy lets through at once); ``KV-Operation`` is refused."""
    try:
        data = payload_bytes(body.payload, body.encoding)
    except ValueError as exc:
        raise invalid("payload", str(exc)) from exc
    headers = body.header_values()
    refuse_kv_operation(headers, cluster_id)
    cluster, js, _, info = await _open(db, svc, principal, cluster_id, name)
    rollup = await check_rollup(request, db, svc, principal, cluster, name, headers)
    if len(data) > js.nc.max_payload:
        raise invalid(
            "payload",
            f"is {len(data)} bytes; the cluster takes at most {js.nc.max_payload} per message",
        )
    try:
        ack = await publish(js, info["config"], body.subject, data, headers, body.msg_id)
    except SubjectNotInStream as exc:
        raise invalid("subject", f"{exc}") from exc
    if ack["duplicate"]:
        response.status_code = 200
    await audit(
        request,
        principal,
        action="message.publish",
        resource_type="message",
        resource_id=f"{cluster.id}/{name}/{ack['seq']}",
        resource_name=name,
        cluster_id=cluster.id,
        changes={
            "subject": body.subject,
            "seq": ack["seq"],
            "size": len(data),
            "msg_id": body.msg_id,
            "headers": sorted(headers),
            "duplicate": ack["duplicate"],
            "rollup": rollup,
        },
    )
    return ack


@router.delete("/{seq}", status_code=204)
async def delete_one_message(
    cluster_id: uuid.UUID,
    name: StreamName,
    seq: Seq,
    request: Request,
    db: Db,
    svc: Svc,
    erase: bool = Query(False, description="also overwrite the data"),
    principal: Principal = Depends(require_stream("streams:purge")),
) -> None:
    """Remove one message (destructive like a purge: needs ``streams:purge``)."""
    cluster, js, reader, _ = await _open(db, svc, principal, cluster_id, name)
    msg = await reader.get(seq)
    if msg is None:
        raise ProblemError(404, f"Stream '{name}' holds no message with sequence {seq}.")
    await delete_message(js, name, seq, erase)
    await audit(
        request,
        principal,
        action="message.delete",
        resource_type="message",
        resource_id=f"{cluster.id}/{name}/{seq}",
        resource_name=name,
        cluster_id=cluster.id,
        changes={"seq": seq, "subject": msg.subject, "size": len(msg.data), "erase": erase},
    )
