"""Failing a stream over from its primary to its mirror, in JetStream's own terms.

- **measure**: is the target a healthy, full mirror of the primary, how far behind is it, and
  what would promoting it set (:func:`measure_stream`);
- **fence** (planned): the primary stream's ``subjects`` become one inert subject
  ``_JSC_FENCED.<stream>`` and its own subjects are kept in its ``metadata``
  (``jsc.fenced_subjects``, ``jsc.fenced_by``: the operation). A publisher of the real subjects
  gets "no responders" from then on and nothing more is stored there. The fence is reversible
  from the cluster's own state (:func:`unfence`), even if the operation that set it is lost;
  a stream fenced by another operation is refused (two failovers cannot cross);
- **catch up**: the mirror holds every message when its last sequence reaches the fence point
  and its source consumer has nothing pending (:func:`catch_up_state`);
- **promote**: the mirror is updated with ``mirror`` removed and the primary's subjects (and
  de-duplication window, ...) set; then its durable consumer on the primary is deleted;
- **verify**: a canary, a stored message (``Jsc-Canary`` header, ``Nats-Msg-Id`` per operation
  and stream) published on a subject the promoted stream captures and read back by sequence. It
  stays in the stream: consumers of the new primary see it and can skip it by that header.

Every function is idempotent: run again after a crash, it finds its work done and says so.
JetStream's de-duplication state does not survive a promotion (nats-server 2.15): a message
whose publish timed out on the old primary just before the fence, and that a client retries on
the new one, can be stored twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

from nats.aio.client import Client as NATS

from core.jetstream.api import JetStreamApi, JetStreamError, JetStreamUnavailable
from core.jetstream.messages import StreamReader, publish
from core.replication.mirrors import (
    FENCED_SUBJECTS_KEY,
    MIRROR_ID_KEY,
    SOURCE_CONFIG_KEY,
    api_prefix,
    probe_link,
    promotable,
)
from core.replication.plan import FencePoint, Measured, PlanStream, StreamMeasure

FENCE_PREFIX = "_JSC_FENCED"
FENCED_BY_KEY = "jsc.fenced_by"
FENCED_AT_KEY = "jsc.fenced_at"
PROMOTED_BY_KEY = "jsc.promoted_by"
PROMOTED_FROM_KEY = "jsc.promoted_from"
CANARY_HEADER = "Jsc-Canary"
CANARY_TOKEN = "jsc_canary"
DEFAULT_DUPLICATE_WINDOW_NS = 120 * 10**9


class Refused(Exception):
    """The cluster's state forbids the step (no retry changes it): the message says why."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def fence_subject(stream: str) -> str:
    return f"{FENCE_PREFIX}.{stream}"


def metadata(config: dict[str, Any]) -> dict[str, str]:
    return dict(config.get("metadata") or {})


def subjects_collide(a: str, b: str) -> bool:
    """Whether some subject matches both patterns (``*`` one token, ``>`` one or more)."""
    x, y = a.split("."), b.split(".")
    for i in range(max(len(x), len(y))):
        if i >= len(x) or i >= len(y):
            return False
        if x[i] == ">" or y[i] == ">":
            return True
        if x[i] != y[i] and "*" not in (x[i], y[i]):
            return False
    return True


def literal_subject(pattern: str, token: str = CANARY_TOKEN) -> str:
    """A subject ``pattern`` captures: each wildcard replaced by ``token``."""
    return ".".join(token if t in ("*", ">") else t for t in pattern.split("."))


# ---------------------------------------------------------------------------------- measure


async def _info(js: JetStreamApi | None, stream: str) -> tuple[dict[str, Any] | None, str | None]:
    """(info, None), (None, "missing") or (None, "unreachable")."""
    if js is None:
        return None, "unreachable"
    try:
        return await js.stream_info(stream), None
    except JetStreamError as exc:
        if exc.not_found:
            return None, "missing"
        raise
    except JetStreamUnavailable:
        return None, "unreachable"


async def measure_stream(
    primary: JetStreamApi | None,
    standby: JetStreamApi,
    ps: PlanStream,
    *,
    primary_domain: str | None,
    cross_domain: bool,
    mode: str,
    drill: bool,
    target_streams: list[dict[str, Any]],
) -> StreamMeasure:
    """Step 1 for one stream; ``problems`` are the reasons to refuse. Reads only."""
    m = StreamMeasure(stream=ps.stream, mirror_stream=ps.mirror_stream, primary_reachable=False)
    sinfo, why = await _info(standby, ps.mirror_stream)
    if sinfo is None:
        m.problems.append(
            f"the target has no stream '{ps.mirror_stream}'"
            if why == "missing"
            else "the target cluster does not answer"
        )
        return m
    config, state = sinfo["config"], sinfo.get("state") or {}
    m.standby_last_seq, m.standby_messages = state.get("last_seq", 0), state.get("messages", 0)
    mirror = config.get("mirror")
    if not mirror:
        m.problems.append(f"'{ps.mirror_stream}' on the target is not a mirror (promoted already?)")
        return m
    api = (mirror.get("external") or {}).get("api")
    expected = api_prefix(primary_domain) if cross_domain else None
    if mirror.get("name") != ps.stream or (cross_domain and api != expected):
        m.problems.append(
            f"'{ps.mirror_stream}' mirrors '{mirror.get('name')}' through "
            f"{api or 'its own cluster'}, not '{ps.stream}' through "
            f"{expected or 'its own cluster'}"
        )
    if mirror.get("filter_subject") or mirror.get("subject_transforms"):
        m.problems.append(
            f"'{ps.mirror_stream}' copies part of the stream (a filter or subject "
            "transforms): only a full mirror can take its place"
        )
    m.consumer = (mirror.get("consumer") or {}).get("name") or ps.consumer
    active = (sinfo.get("mirror") or {}).get("active", -1)
    m.last_contact_s = round(active / 1e9, 3) if isinstance(active, int) and active >= 0 else None

    pinfo, why = await _info(primary, ps.stream)
    if pinfo is not None and primary is not None:  # an info means a primary
        m.primary_reachable = True
        pconfig, pstate = pinfo["config"], pinfo.get("state") or {}
        m.primary_last_seq, m.primary_messages = (
            pstate.get("last_seq", 0),
            pstate.get("messages", 0),
        )
        m.lag_messages, m.lag_exact = max(m.primary_last_seq - m.standby_last_seq, 0), True
        m.source, m.source_from = promotable(pconfig), "primary"
        fenced_by = metadata(pconfig).get(FENCED_BY_KEY)
        if fenced_by:
            m.warnings.append(f"'{ps.stream}' is fenced by operation {fenced_by}")
        if not m.source.get("subjects"):
            m.problems.append(f"'{ps.stream}' has no subjects of its own to hand over")
        await _measure_consumer(primary, m)
    elif why == "missing":
        m.problems.append(f"the primary has no stream '{ps.stream}'")
    if m.source is None:
        record = metadata(config).get(SOURCE_CONFIG_KEY)
        if record:
            m.source, m.source_from = json.loads(record), "mirror_record"
        last_report = (sinfo.get("mirror") or {}).get("lag")
        m.lag_messages = (
            last_report if isinstance(last_report, int) and m.last_contact_s is not None else None
        )
    if not m.primary_reachable:
        if mode == "planned" or drill:
            m.problems.append(
                "the primary cannot be reached: a planned failover or a drill "
                "needs it (fail over in emergency mode if it is down)"
            )
        elif m.source is None:
            m.problems.append(
                "the primary cannot be reached and its subjects are not recorded "
                "on the mirror: nothing says what the promoted stream should take"
            )
    if mode == "planned" and not drill and m.paused:
        m.problems.append(
            "replication is paused: resume it first, or the mirror can never catch up"
        )
    if m.source and m.source.get("subjects") and not drill:
        clashes = sorted(
            {
                s["config"]["name"]
                for s in target_streams
                for mine in m.source["subjects"]
                for theirs in s["config"].get("subjects") or []
                if s["config"]["name"] != ps.mirror_stream and subjects_collide(mine, theirs)
            }
        )
        if clashes:
            m.problems.append(
                "on the target, "
                + ", ".join(f"'{c}'" for c in clashes)
                + " already capture subjects of the stream: promotion would "
                "overlap them"
            )
    return m


async def _measure_consumer(primary: JetStreamApi, m: StreamMeasure) -> None:
    if not m.consumer:
        return
    try:
        info = await primary.consumer_info(m.stream, m.consumer)
    except JetStreamError as exc:
        if exc.not_found:
            m.problems.append(
                f"the mirror's consumer '{m.consumer}' is missing on the primary: "
                "replication is broken"
            )
            return
        raise
    except JetStreamUnavailable:
        return
    m.pending = int(info.get("num_pending", 0))
    m.paused = bool(info.get("paused"))
    cfg = info.get("config") or {}
    if cfg.get("filter_subjects") or cfg.get("filter_subject"):
        m.problems.append(f"'{m.mirror_stream}' reads a filtered consumer: it is not a full copy")


async def probe(target_nc: NATS, primary_domain: str | None, m: StreamMeasure) -> None:
    """The link from the target to the primary carries what the mirror needs, found out now."""
    found = await probe_link(target_nc, primary_domain, m.stream)
    if not found.ok and not found.stream_missing:
        m.problems.append(f"the link from the target to the primary is broken: {found.reason}")


def summarise(streams: list[StreamMeasure]) -> Measured:
    known = [m.lag_messages for m in streams]
    risk = None if any(k is None for k in known) else sum(k or 0 for k in known)
    return Measured(
        streams=streams,
        primary_reachable=all(m.primary_reachable for m in streams),
        measured_at=now_iso(),
        data_at_risk_messages=risk,
        data_at_risk_exact=all(m.lag_exact for m in streams),
    )


def refuse_over_budget(measured: Measured, max_loss: int | None, mode: str) -> list[str]:
    """The loss budget of an emergency failover (a planned one catches up: it loses nothing)."""
    if max_loss is None or mode != "emergency":
        return []
    risk = measured.data_at_risk_messages
    if risk is None:
        return [
            "the messages at risk cannot be known (the primary is unreachable and the "
            f"mirrors have no report of their lag), and at most {max_loss} may be lost"
        ]
    if risk > max_loss:
        return [f"{risk} message(s) would be lost, more than the {max_loss} allowed"]
    return []


# ------------------------------------------------------------------------------------ fence


async def fence(js: JetStreamApi, stream: str, operation_id: str) -> FencePoint:
    """Fence ``stream``: idempotent for this operation, refused if another one fenced it."""
    info = await js.stream_info(stream)
    config, meta = info["config"], metadata(info["config"])
    owner = meta.get(FENCED_BY_KEY)
    if owner and owner != operation_id:
        raise Refused(f"'{stream}' is fenced by another operation ({owner})")
    if not owner:
        subjects = list(config.get("subjects") or [])
        meta.update(
            {
                FENCED_SUBJECTS_KEY: json.dumps(subjects),
                FENCED_BY_KEY: operation_id,
                FENCED_AT_KEY: now_iso(),
            }
        )
        info = await js.stream_update(
            {**config, "subjects": [fence_subject(stream)], "metadata": meta}
        )
    # Fenced, nothing more is stored: the state read now is the fence point.
    state = info.get("state") or (await js.stream_info(stream))["state"]
    return FencePoint(
        stream=stream,
        mirror_stream="",
        last_seq=state.get("last_seq", 0),
        messages=state.get("messages", 0),
        at=meta[FENCED_AT_KEY],
        subjects=json.loads(meta[FENCED_SUBJECTS_KEY]),
    )


async def unfence(js: JetStreamApi, stream: str, operation_id: str | None = None) -> bool:
    """Give ``stream`` back its own subjects (from its metadata); only the fence of
    ``operation_id`` when given. False when it was not fenced (so: nothing to do)."""
    try:
        info = await js.stream_info(stream)
    except JetStreamError as exc:
        if exc.not_found:
            return False
        raise
    config, meta = info["config"], metadata(info["config"])
    owner = meta.get(FENCED_BY_KEY)
    if not owner or (operation_id and owner != operation_id):
        return False
    subjects = json.loads(meta.pop(FENCED_SUBJECTS_KEY, "[]"))
    meta.pop(FENCED_BY_KEY, None)
    meta.pop(FENCED_AT_KEY, None)
    await js.stream_update({**config, "subjects": subjects, "metadata": meta})
    return True


def is_fenced(config: dict[str, Any]) -> bool:
    return bool(metadata(config).get(FENCED_BY_KEY))


# --------------------------------------------------------------------------------- catch up


async def catch_up_state(
    primary: JetStreamApi | None, standby: JetStreamApi, point: FencePoint, consumer: str | None
) -> dict[str, Any]:
    """Whether the mirror holds every message up to the fence point (its last sequence reached
    it, and its consumer on the primary has nothing pending)."""
    info = await standby.stream_info(point.mirror_stream)
    last = (info.get("state") or {}).get("last_seq", 0)
    pending = None
    if primary is not None and consumer:
        try:
            pending = int((await primary.consumer_info(point.stream, consumer))["num_pending"])
        except (JetStreamError, JetStreamUnavailable):
            pending = None  # not known yet: not caught up
    consumer_done = not consumer or primary is None or pending == 0
    caught = last >= point.last_seq and consumer_done
    return {
        "stream": point.stream,
        "mirror_stream": point.mirror_stream,
        "fence_seq": point.last_seq,
        "standby_last_seq": last,
        "pending": pending,
        "missing": max(point.last_seq - last, 0),
        "caught_up": caught,
    }


# ---------------------------------------------------------------------------------- promote


async def promote(
    standby: JetStreamApi,
    mirror_stream: str,
    source: dict[str, Any],
    operation_id: str,
    origin: str,
    subjects: list[str] | None = None,
) -> dict[str, Any]:
    """Update the mirror with ``mirror`` removed and the primary's settings (``subjects``
    instead of the primary's when given, a drill's). Idempotent for this operation."""
    info = await standby.stream_info(mirror_stream)
    config, meta = info["config"], metadata(info["config"])
    if not config.get("mirror"):
        if meta.get(PROMOTED_BY_KEY) == operation_id:
            return {
                "mirror_stream": mirror_stream,
                "promoted": True,
                "already": True,
                "subjects": config.get("subjects") or [],
                "last_seq": (info.get("state") or {}).get("last_seq", 0),
            }
        raise Refused(f"'{mirror_stream}' is no longer a mirror: something else promoted it")
    config.pop("mirror")
    config.update({k: v for k, v in source.items() if k != "subjects"})
    config["subjects"] = list(subjects if subjects is not None else source.get("subjects") or [])
    config.setdefault("duplicate_window", DEFAULT_DUPLICATE_WINDOW_NS)
    if not config["subjects"]:
        raise Refused(f"no subjects to give '{mirror_stream}'")
    for key in (MIRROR_ID_KEY, SOURCE_CONFIG_KEY):
        if key in meta:
            meta[f"jsc.promoted_{key.removeprefix('jsc.')}"] = meta.pop(key)
    meta.update({PROMOTED_BY_KEY: operation_id, PROMOTED_FROM_KEY: origin})
    config["metadata"] = meta
    updated = await standby.stream_update(config)
    return {
        "mirror_stream": mirror_stream,
        "promoted": True,
        "already": False,
        "subjects": config["subjects"],
        "last_seq": (updated.get("state") or {}).get("last_seq", 0),
    }


async def delete_consumer(primary: JetStreamApi, stream: str, consumer: str) -> bool:
    """Remove the promoted mirror's consumer on the old primary (gone already: fine)."""
    try:
        await primary.consumer_delete(stream, consumer)
        return True
    except JetStreamError as exc:
        if exc.not_found:
            return True
        raise


# ----------------------------------------------------------------------------------- verify


async def canary(js: JetStreamApi, stream: str, operation_id: str) -> dict[str, Any]:
    """Publish the canary on a subject the stream captures and read it back by sequence."""
    info = await js.stream_info(stream)
    config = info["config"]
    subject = literal_subject((config.get("subjects") or [stream])[0])
    body = json.dumps({"operation_id": operation_id, "stream": stream}).encode()
    ack = await publish(
        js,
        config,
        subject,
        body,
        headers={CANARY_HEADER: operation_id},
        msg_id=f"jsc-canary-{operation_id}-{stream}",
    )
    accepted_at = now_iso()
    stored = await StreamReader(js, stream).get(ack["seq"])
    ok = (
        stored is not None
        and stored.data == body
        and next(iter(stored.headers.get(CANARY_HEADER) or []), None) == operation_id
    )
    return {
        "stream": stream,
        "subject": subject,
        "seq": ack["seq"],
        "read_back": ok,
        "accepted_at": accepted_at,
    }


# ------------------------------------------------------------------------------------ state


async def side_state(js: JetStreamApi | None, stream: str) -> dict[str, Any]:
    """One stream on one side: ``active`` (takes its subjects), ``fenced``, ``mirror``,
    ``missing`` or ``unreachable``, with its last sequence."""
    try:
        info, why = await _info(js, stream)
    except JetStreamError as exc:
        return {"state": "unknown", "error": exc.description, "last_seq": None}
    if info is None:
        return {"state": why, "last_seq": None}
    config = info["config"]
    state = "mirror" if config.get("mirror") else "fenced" if is_fenced(config) else "active"
    return {
        "state": state,
        "last_seq": (info.get("state") or {}).get("last_seq"),
        "subjects": config.get("subjects") or [],
    }


async def gather_settled(*calls: Awaitable[Any]) -> list[Any]:
    """Every call's result or exception, all awaited."""
    return await asyncio.gather(*calls, return_exceptions=True)
