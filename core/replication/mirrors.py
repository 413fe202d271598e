"""How the console makes, probes, pauses and resumes a mirror.

A console mirror reads its source through a **durable, flow-controlled consumer** it creates on
the source stream (JetStream's durable sourcing, nats-server ≥ 2.14): ``mirror.consumer`` names it
and the subject it delivers on. The consumer carries the start position and the subject filter;
the mirror stream carries the subject transforms and the overrides. Because the consumer is the
console's, replication pauses with JetStream's consumer pause and resumes where it stood, and its
``num_pending`` is the mirror's true lag (the mirror's own ``lag`` reads 0 while paused or cut
off).

The mirror stream also keeps, in its metadata (``jsc.source_config``), what promoting it needs of
its source's configuration (its subjects, de-duplication window, ...: :func:`promotable`), so an
emergency failover can promote it while the source's cluster cannot be reached.

Its deliveries use ``$JS.M.jsc.<id>``, so they cross the hub↔dr leafnode like any mirror's
(``$JS.M.>`` is allowed there, both ways); the consumer's reset requests go through
``<api>.CONSUMER.>`` and their replies through ``$JSC.R.>``, as the link also allows.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.aio.client import Client as NATS

from core.jetstream.api import CONSUMER_NOT_FOUND, STREAM_NOT_FOUND, JetStreamApi
from core.replication.models import MirrorRequest, StartAtSequence, StartAtTime

MIRROR_ID_KEY = "jsc.mirror_id"  # in the mirror stream's and the consumer's metadata
SOURCE_CONFIG_KEY = "jsc.source_config"  # in the mirror stream's metadata: promotable(source)
FENCED_SUBJECTS_KEY = "jsc.fenced_subjects"  # a fenced stream's own subjects (failover)
# What a promoted mirror takes over from its source's configuration (a mirror has no subjects,
# and its de-duplication window and the rest are not copied when it is made).
PROMOTABLE_FIELDS = (
    "subjects",
    "duplicate_window",
    "allow_rollup_hdrs",
    "allow_direct",
    "max_msgs_per_subject",
    "deny_delete",
    "deny_purge",
)
FLOW_CONTROL_MAX_ACK_PENDING = 10_000
PAUSED_FOREVER = timedelta(days=365 * 100)


def consumer_name(mirror_id: uuid.UUID | str) -> str:
    """The durable consumer a mirror reads through, on its source stream."""
    return f"jsc_mirror_{uuid.UUID(str(mirror_id)).hex}"


def deliver_subject(mirror_id: uuid.UUID | str) -> str:
    return f"$JS.M.jsc.{uuid.UUID(str(mirror_id)).hex}"


def api_prefix(domain: str | None) -> str:
    return f"$JS.{domain}.API" if domain else "$JS.API"


def promotable(source_config: dict[str, Any]) -> dict[str, Any]:
    """What promoting a mirror of a stream with this configuration sets on it. A fenced source
    (failover) is recorded with its own subjects, not the fence's."""
    record = {f: source_config[f] for f in PROMOTABLE_FIELDS if f in source_config}
    fenced = (source_config.get("metadata") or {}).get(FENCED_SUBJECTS_KEY)
    if fenced:
        record["subjects"] = json.loads(fenced)
    return record


def source_consumer_config(
    request: MirrorRequest, mirror_id: uuid.UUID | str, source_last_seq: int
) -> dict[str, Any]:
    """The durable consumer on the source: where to start, what to take. ``start: new`` is fixed
    to the sequence after ``source_last_seq`` when the mirror is made, so a retried creation
    copies the same range."""
    config: dict[str, Any] = {
        "durable_name": consumer_name(mirror_id),
        "name": consumer_name(mirror_id),
        "description": f"JetStream Console mirror {mirror_id} -> {request.target_stream}",
        "deliver_subject": deliver_subject(mirror_id),
        "ack_policy": "flow_control",
        "max_ack_pending": FLOW_CONTROL_MAX_ACK_PENDING,
        "metadata": {MIRROR_ID_KEY: str(mirror_id)},
    }
    start = request.start
    if isinstance(start, StartAtSequence):
        config.update(deliver_policy="by_start_sequence", opt_start_seq=start.seq)
    elif isinstance(start, StartAtTime):
        config.update(
            deliver_policy="by_start_time", opt_start_time=start.time.astimezone(UTC).isoformat()
        )
    elif start == "new":
        config.update(deliver_policy="by_start_sequence", opt_start_seq=source_last_seq + 1)
    else:
        config["deliver_policy"] = "all"
    filters = request.filter_subjects or [t.src for t in request.subject_transforms]
    if filters:
        config["filter_subjects"] = list(filters)
    return config


def mirror_stream_config(
    request: MirrorRequest,
    mirror_id: uuid.UUID | str,
    source_config: dict[str, Any],
    source_domain: str | None,
    cross_domain: bool,
) -> dict[str, Any]:
    """The mirror stream on the target. It keeps its source's storage, retention limits and
    replicas unless ``overrides`` say otherwise."""
    mirror: dict[str, Any] = {
        "name": request.source_stream,
        "consumer": {
            "name": consumer_name(mirror_id),
            "deliver_subject": deliver_subject(mirror_id),
        },
    }
    if cross_domain:
        mirror["external"] = {"api": api_prefix(source_domain), "deliver": ""}
    if request.subject_transforms:
        mirror["subject_transforms"] = [t.model_dump() for t in request.subject_transforms]
    config: dict[str, Any] = {
        "name": request.target_stream,
        "mirror": mirror,
        "description": request.description or f"Mirror of {request.source_stream}",
        "metadata": {
            MIRROR_ID_KEY: str(mirror_id),
            SOURCE_CONFIG_KEY: json.dumps(promotable(source_config), separators=(",", ":")),
        },
    }
    for field in (
        "storage",
        "num_replicas",
        "max_bytes",
        "max_age",
        "max_msgs",
        "max_msg_size",
        "discard",
    ):
        if field in source_config:
            config[field] = source_config[field]
    config["retention"] = "limits"  # a mirror keeps what its source has, whoever consumed it
    config.update(request.overrides.model_dump(exclude_none=True))
    return config


@dataclass
class LinkProbe:
    """What a request through the link, as the mirror will send it, found out."""

    ok: bool
    reason: str = ""
    stream_missing: bool = False


async def probe_link(
    target: NATS, source_domain: str | None, stream: str, timeout: float = 3.0
) -> LinkProbe:
    """Ask the source's JetStream, from the target cluster, through the same API prefix and the
    same kind of reply subject (``$JSC.R.``) the mirror will use, about a consumer that does not
    exist. "consumer not found" proves the path both ways and the stream's existence; "stream not
    found" is the stream missing; no answer is a link that cannot carry the mirror."""
    inbox = f"$JSC.R.probe.{secrets.token_hex(8)}"
    subscription = await target.subscribe(inbox, max_msgs=1)
    try:
        subject = (
            f"{api_prefix(source_domain)}.CONSUMER.INFO.{stream}.jsc_probe_{secrets.token_hex(4)}"
        )
        await target.publish(subject, b"", reply=inbox)
        # nats-py annotates flush's timeout as int; it takes any number of seconds
        await target.flush(timeout=timeout)  # type: ignore[arg-type]
        try:
            message = await subscription.next_msg(timeout=timeout)
        except (TimeoutError, Exception):  # nats-py raises its own TimeoutError
            return LinkProbe(
                False,
                f"no answer from {api_prefix(source_domain)} through the "
                f"target cluster within {timeout:g} s: the clusters are not "
                "linked, or the link does not carry JetStream mirror traffic",
            )
    finally:
        try:
            await subscription.unsubscribe()
        except Exception:  # already gone with max_msgs
            pass
    if message.headers and message.headers.get("Status") == "503":
        return LinkProbe(
            False,
            f"no JetStream answers at {api_prefix(source_domain)} from the "
            "target cluster (no responders)",
        )
    error = (json.loads(message.data or b"{}") or {}).get("error") or {}
    if error.get("err_code") == CONSUMER_NOT_FOUND:
        return LinkProbe(True)
    if error.get("err_code") == STREAM_NOT_FOUND:
        return LinkProbe(
            False,
            f"the stream '{stream}' does not exist at the source ({api_prefix(source_domain)})",
            stream_missing=True,
        )
    return LinkProbe(
        False,
        "unexpected answer through the link: "
        + (error.get("description") or message.data[:200].decode(errors="replace")),
    )


async def pause_consumer(source: JetStreamApi, stream: str, consumer: str) -> dict[str, Any]:
    until = datetime.now(UTC) + PAUSED_FOREVER
    return await source.request(
        f"CONSUMER.PAUSE.{stream}.{consumer}", {"pause_until": until.isoformat()}
    )


async def resume_consumer(source: JetStreamApi, stream: str, consumer: str) -> dict[str, Any]:
    return await source.request(f"CONSUMER.PAUSE.{stream}.{consumer}", {})
