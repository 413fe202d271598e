"""Subjects of ``JSC_LIVE`` and the channels clients name.

Subjects (``org`` and ``cluster`` are UUIDs; stream and consumer names are JetStream names, which
never contain ``.``, ``*``, ``>`` or whitespace, so each is one subject token):

- ``jsc.live.{org}.metrics.cluster.{cluster}``: one cluster sample per collection pass
- ``jsc.live.{org}.metrics.stream.{cluster}.{stream}``: one stream sample (its consumers inside)
- ``jsc.live.{org}.alerts``: alert events (firing, resolved, acknowledged)
- ``jsc.live.{org}.operations.{operation}``: an operation's progress and status

Channels (the WebSocket protocol's names, the SSE endpoint's ``channels``):

- ``metrics``: every metric sample of the organization
- ``metrics:cluster:{cluster}``, ``metrics:stream:{cluster}:{stream}``,
  ``metrics:consumer:{cluster}:{stream}:{consumer}`` (the stream's samples, cut to that consumer)
- ``alerts``, ``operations`` (all of them), ``operations:{operation}``
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

STREAM = "JSC_LIVE"
PREFIX = "jsc.live"
# Long enough for a client (or the ingester) to come back after an API restart or an outage of
# the night; bounded in bytes so a burst cannot fill the disk.
MAX_AGE_S = 24 * 3600
STREAM_CONFIG = StreamConfig(
    name=STREAM,
    subjects=[f"{PREFIX}.>"],
    retention=RetentionPolicy.LIMITS,
    storage=StorageType.FILE,
    max_age=MAX_AGE_S,
    max_bytes=2 * 1024**3,
    discard=DiscardPolicy.OLD,
    duplicate_window=120,
    description="JetStream Console live events: metric samples, alerts, operations' progress",
)
NAME = re.compile(r"^[^.*>\s]{1,255}$")  # a JetStream stream or consumer name


def cluster_sample(org: uuid.UUID | str, cluster: uuid.UUID | str) -> str:
    return f"{PREFIX}.{org}.metrics.cluster.{cluster}"


def stream_sample(org: uuid.UUID | str, cluster: uuid.UUID | str, stream: str) -> str:
    return f"{PREFIX}.{org}.metrics.stream.{cluster}.{stream}"


def alerts(org: uuid.UUID | str) -> str:
    return f"{PREFIX}.{org}.alerts"


def operation(org: uuid.UUID | str, operation_id: uuid.UUID | str) -> str:
    return f"{PREFIX}.{org}.operations.{operation_id}"


ALL_METRICS = f"{PREFIX}.*.metrics.>"  # what the ingester reads, every organization


class ChannelError(ValueError):
    """A channel name that is not one of the known forms (the message says which are)."""


@dataclass(frozen=True)
class Channel:
    """A parsed channel: the subject filter it reads, and what narrows it further."""

    name: str
    filter: str
    cluster: str | None = None
    stream: str | None = None
    consumer: str | None = None  # the stream sample is cut to this consumer


FORMS = (
    "metrics",
    "metrics:cluster:{cluster_id}",
    "metrics:stream:{cluster_id}:{stream}",
    "metrics:consumer:{cluster_id}:{stream}:{consumer}",
    "alerts",
    "operations",
    "operations:{operation_id}",
)


def _uuid(value: str, what: str, channel: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ChannelError(f"'{channel}': '{value}' is not a {what} id (a UUID)") from None


def _name(value: str, what: str, channel: str) -> str:
    if not NAME.match(value):
        raise ChannelError(f"'{channel}': '{value}' is not a {what} name")
    return value


def parse_channel(org: uuid.UUID | str, channel: str) -> Channel:
    """The channel of ``org`` that ``channel`` names; ``ChannelError`` says what is wrong."""
    parts = channel.split(":")
    head, rest = parts[0], parts[1:]
    base = f"{PREFIX}.{org}"
    if head == "metrics" and not rest:
        return Channel(channel, f"{base}.metrics.>")
    if head == "metrics" and len(rest) == 2 and rest[0] == "cluster":
        cid = _uuid(rest[1], "cluster", channel)
        return Channel(channel, cluster_sample(org, cid), cluster=cid)
    if head == "metrics" and len(rest) == 3 and rest[0] == "stream":
        cid, stream = _uuid(rest[1], "cluster", channel), _name(rest[2], "stream", channel)
        return Channel(channel, stream_sample(org, cid, stream), cluster=cid, stream=stream)
    if head == "metrics" and len(rest) == 4 and rest[0] == "consumer":
        cid, stream = _uuid(rest[1], "cluster", channel), _name(rest[2], "stream", channel)
        consumer = _name(rest[3], "consumer", channel)
        return Channel(
            channel, stream_sample(org, cid, stream), cluster=cid, stream=stream, consumer=consumer
        )
    if head == "alerts" and not rest:
        return Channel(channel, alerts(org))
    if head == "operations" and not rest:
        return Channel(channel, f"{base}.operations.*")
    if head == "operations" and len(rest) == 1:
        return Channel(channel, operation(org, _uuid(rest[0], "operation", channel)))
    raise ChannelError(f"'{channel}' is not a channel; one of: {', '.join(FORMS)}")
