"""Consumer findings from a consumer's info (JetStream's JSON as ``GET .../consumers/{name}``
answers it), its stream's info and, when there is one, its lag history
(``GET /api/v1/analytics/consumers/{name}/lag``) and the stream's message counts on its filter
subjects (``GET .../streams/{name}?subjects_filter=...``)."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import Any

from ai.analyzers.figures import count, duration, number, percent, seconds_since, timestamp
from ai.analyzers.subjects import contains, overlaps_any
from ai.analyzers.thresholds import Thresholds
from ai.findings import Finding

DEFAULT = Thresholds()


def _where(stream: dict, consumer: dict, cluster_id: str | None) -> dict[str, Any]:
    return {
        "cluster_id": cluster_id,
        "stream": stream.get("config", {}).get("name") or consumer.get("stream_name"),
        "consumer": consumer.get("name"),
    }


def _label(where: dict[str, Any]) -> str:
    return f"Consumer '{where['consumer']}' on {where['stream']}"


def _acks(consumer: dict) -> bool:
    return (consumer.get("config", {}).get("ack_policy") or "explicit") != "none"


def _points(history: dict | None, series: str) -> list[tuple[datetime, float]]:
    out = []
    for point in (history or {}).get(series) or []:
        at, value = timestamp(point.get("t")), point.get("value")
        if at is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append((at, float(value)))
    return sorted(out)


def lag_growing(
    consumer: dict, history: dict | None, where: dict[str, Any], t: Thresholds = DEFAULT
) -> list[Finding]:
    """The lag (pending + ack pending) rising over the history's window, and still high at its
    end."""
    points = _points(history, "lag")
    if len(points) < t.lag_min_points:
        return []
    values = [v for _, v in points]
    first, last, highest = values[0], values[-1], max(values)
    rise = last - first
    steps = list(pairwise(values))
    rising = sum(1 for a, b in steps if b >= a) / len(steps)
    if rise < t.lag_min_rise or rising < t.lag_rising_share or last < 0.9 * highest:
        return []
    span = max(1.0, (points[-1][0] - points[0][0]).total_seconds())
    acks = _points(history, "ack_rate")
    ack_rate = acks[-1][1] if acks else None
    per_s = rise / span
    summary = (
        f"Its lag rose from {count(first)} to {count(last)} messages over "
        f"{duration(span)} ({per_s:,.1f} per second) and has not come down"
        + (
            f"; it acknowledges {ack_rate:,.1f} messages per second."
            if ack_rate is not None
            else "."
        )
    )
    return [
        Finding(
            code="consumer_lag_growing",
            severity="critical" if rise >= t.lag_critical_rise else "warning",
            title=f"{_label(where)} is falling behind",
            summary=summary,
            evidence={
                "lag_first": first,
                "lag_last": last,
                "rise": rise,
                "window_s": span,
                "points": len(points),
                "rising_steps": round(rising, 2),
                "rise_per_s": round(per_s, 3),
                "ack_rate": ack_rate,
                "num_pending": consumer.get("num_pending"),
                "num_ack_pending": consumer.get("num_ack_pending"),
            },
            suggestion="Messages arrive faster than the consumer processes them: add instances of "
            "the application (pull consumers share the work), raise max_ack_pending if "
            "it is the bound, or look for a slow dependency in the processing.",
            **where,
        )
    ]


def stalled(
    consumer: dict, now: datetime, where: dict[str, Any], t: Thresholds = DEFAULT
) -> list[Finding]:
    """Work outstanding and nothing acknowledged (ack policy none: nothing delivered) for
    ``stalled_after_s``, measured from the last acknowledgement, else from its creation."""
    if consumer.get("paused"):
        return []  # paused on purpose: nothing is expected of it
    pending = int(number(consumer.get("num_pending")))
    ack_pending = int(number(consumer.get("num_ack_pending")))
    acks = _acks(consumer)
    outstanding = pending + ack_pending if acks else pending
    if outstanding <= 0:
        return []
    if ack_pending == 0 and (number(consumer.get("num_waiting")) > 0 or consumer.get("push_bound")):
        return []  # a client is asking right now: the waiting messages are on their way
    sequence = (consumer.get("ack_floor") if acks else consumer.get("delivered")) or {}
    last = sequence.get("last_active")
    since = (
        seconds_since(last, now) if timestamp(last) else seconds_since(consumer.get("created"), now)
    )
    if since is None or since < t.stalled_after_s:
        return []
    delivered_since = seconds_since((consumer.get("delivered") or {}).get("last_active"), now)
    verb = "acknowledged" if acks else "delivered"
    when = (
        f"for {duration(since)}"
        if timestamp(last)
        else f"since it was created {duration(since)} ago"
    )
    if acks and ack_pending > 0:
        cause = f"{count(ack_pending)} messages were delivered and wait for an acknowledgement"
        suggestion = (
            "The application receives messages but does not acknowledge them: look for "
            "errors or a hang in its processing, and check it acks each message "
            "(ack_wait is "
            f"{duration(number(consumer.get('config', {}).get('ack_wait'), 30e9) / 1e9)})."
        )
    else:
        cause = "nothing is being delivered"
        suggestion = (
            "No client takes its messages: for a pull consumer no application is "
            "fetching (num_waiting is 0); for a push consumer nothing is subscribed to "
            "its deliver subject. Start or fix the application that consumes it."
        )
    return [
        Finding(
            code="consumer_stalled",
            severity="critical" if since >= t.stalled_critical_after_s else "warning",
            title=f"{_label(where)} is stalled",
            summary=(
                f"{count(outstanding)} messages are outstanding and nothing was {verb} {when}; "
                f"{cause}."
            ),
            evidence={
                "num_pending": pending,
                "num_ack_pending": ack_pending,
                "last_ack": (consumer.get("ack_floor") or {}).get("last_active"),
                "last_delivery": (consumer.get("delivered") or {}).get("last_active"),
                "stalled_for_s": round(since, 1),
                "since_last_delivery_s": None
                if delivered_since is None
                else round(delivered_since, 1),
                "num_waiting": consumer.get("num_waiting", 0),
                "ack_policy": consumer.get("config", {}).get("ack_policy"),
            },
            suggestion=suggestion,
            **where,
        )
    ]


def redelivery_storm(
    consumer: dict, where: dict[str, Any], t: Thresholds = DEFAULT
) -> list[Finding]:
    """Many of the deliveries are redeliveries (``num_redelivered``: pending messages delivered
    more than once, against every delivery ``delivered.consumer_seq``)."""
    if not _acks(consumer):
        return []
    redelivered = int(number(consumer.get("num_redelivered")))
    delivered = int(number((consumer.get("delivered") or {}).get("consumer_seq")))
    if redelivered < t.redelivery_min or delivered <= 0:
        return []
    ratio = redelivered / delivered
    if ratio < t.redelivery_warning:
        return []
    config = consumer.get("config", {})
    ack_wait = number(config.get("ack_wait"), 30e9) / 1e9
    max_deliver = config.get("max_deliver", -1)
    return [
        Finding(
            code="redelivery_storm",
            severity="critical" if ratio >= t.redelivery_critical else "warning",
            title=f"{_label(where)} redelivers many messages",
            summary=(
                f"{count(redelivered)} pending messages were delivered more than once: "
                f"{percent(ratio)} of its {count(delivered)} deliveries."
            ),
            evidence={
                "num_redelivered": redelivered,
                "delivered": delivered,
                "ratio": round(ratio, 3),
                "ack_wait_s": ack_wait,
                "max_deliver": max_deliver,
                "num_ack_pending": consumer.get("num_ack_pending"),
            },
            suggestion=(
                "Messages are negatively acknowledged or not acknowledged within ack_wait "
                f"({duration(ack_wait)}): look for processing errors (a poison message is "
                "redelivered forever) and raise ack_wait if processing takes longer. A "
                "max_deliver"
                + (" (now unlimited)" if max_deliver in (-1, 0, None) else "")
                + " stops endless redeliveries; its advisory can feed a dead-letter stream."
            ),
            **where,
        )
    ]


def ack_pending_near_max(
    consumer: dict, where: dict[str, Any], t: Thresholds = DEFAULT
) -> list[Finding]:
    """Delivered-but-unacknowledged messages close to ``max_ack_pending``: at the maximum the
    server delivers nothing more until some are acknowledged."""
    if not _acks(consumer):
        return []
    limit = int(number(consumer.get("config", {}).get("max_ack_pending"), -1))
    pending = int(number(consumer.get("num_ack_pending")))
    if limit <= 0:
        return []
    ratio = pending / limit
    if ratio < t.ack_pending_warning:
        return []
    full = pending >= limit
    return [
        Finding(
            code="ack_pending_near_max",
            severity="critical" if full else "warning",
            title=f"{_label(where)} is {'at' if full else 'near'} max_ack_pending",
            summary=(
                f"{count(pending)} messages wait for an acknowledgement, {percent(ratio)} of "
                f"max_ack_pending {count(limit)}"
                + (
                    "; the server delivers nothing more until some are acknowledged."
                    if full
                    else "; delivery stops at the maximum."
                )
            ),
            evidence={
                "num_ack_pending": pending,
                "max_ack_pending": limit,
                "ratio": round(ratio, 3),
                "num_pending": consumer.get("num_pending"),
            },
            suggestion=(
                "Acknowledge faster (look for a hang or errors in the processing) or raise "
                "max_ack_pending if the application can hold that many messages in flight."
            ),
            **where,
        )
    ]


def filters(consumer: dict) -> list[str]:
    config = consumer.get("config", {})
    return [s for s in (config.get("filter_subjects") or [config.get("filter_subject")]) if s]


def _stream_subjects(stream: dict) -> list[str] | None:
    """The subjects a message of the stream can have, or None when it cannot be told from its
    config (a mirror, or sources bring messages of any subject)."""
    config = stream.get("config", {})
    if config.get("mirror") or config.get("sources"):
        return None
    return list(config.get("subjects") or []) or None


def filters_to_count(stream: dict, consumer: dict, t: Thresholds = DEFAULT) -> list[str]:
    """The filter subjects whose message counts would tell whether the filter matches nothing:
    those inside the stream's subjects but narrower than any of them, on a stream that holds
    messages and not too many distinct subjects. Empty: no request needed."""
    state = stream.get("state", {})
    wanted = filters(consumer)
    if not wanted or number(state.get("messages")) <= 0:
        return []
    if number(state.get("num_subjects")) > t.max_subjects_counted:
        return []
    subjects = _stream_subjects(stream)
    if subjects is not None:
        inside = [f for f in wanted if overlaps_any(f, subjects)]
        if any(contains(f, s) for f in inside for s in subjects):
            return []  # a filter takes a whole subject of the stream: it matches its messages
        return inside
    return wanted


def filter_matches_nothing(
    stream: dict,
    consumer: dict,
    where: dict[str, Any],
    subject_counts: dict[str, int] | None = None,
) -> list[Finding]:
    """The consumer's filter lies outside the stream's subjects (it can never get a message), or
    the stream holds messages and none is on the filter (``subject_counts``: filter -> messages
    on it, for each of ``filters_to_count``)."""
    wanted = filters(consumer)
    if not wanted:
        return []
    subjects = _stream_subjects(stream)
    outside = [f for f in wanted if subjects is not None and not overlaps_any(f, subjects)]
    inside = [f for f in wanted if f not in outside]
    messages = int(number(stream.get("state", {}).get("messages")))
    evidence: dict[str, Any] = {"filters": wanted, "stream_subjects": subjects, "outside": outside}
    suggestion = (
        "Correct the consumer's filter_subject(s) to subjects the stream captures, or "
        "add the subject to the stream's subjects if messages are published on it."
    )
    if not inside:
        return [
            Finding(
                code="filter_matches_nothing",
                severity="critical",
                title=f"{_label(where)} filters on subjects the stream does not capture",
                summary=(
                    f"Its filter {', '.join(wanted)} matches none of the stream's subjects "
                    f"({', '.join(subjects or [])}): it can never receive a message."
                ),
                evidence=evidence,
                suggestion=suggestion,
                **where,
            )
        ]
    counted = subject_counts or {}
    if (
        messages > 0
        and inside
        and all(f in counted for f in inside)
        and sum(counted[f] for f in inside) == 0
    ):
        return [
            Finding(
                code="filter_matches_nothing",
                severity="warning",
                title=f"{_label(where)} matches no message of its stream",
                summary=(
                    f"The stream holds {count(messages)} messages and none is on its filter "
                    f"{', '.join(inside)}"
                    + (
                        f" ({', '.join(outside)} lies outside the stream's subjects)"
                        if outside
                        else ""
                    )
                    + "."
                ),
                evidence={
                    **evidence,
                    "messages": messages,
                    "counts": {f: counted[f] for f in inside},
                },
                suggestion=(
                    "Check the filter against the subjects publishers use (the stream's "
                    "subject counts list them); a typo in a token is the usual cause."
                ),
                **where,
            )
        ]
    if outside:
        return [
            Finding(
                code="filter_matches_nothing",
                severity="info",
                title=f"Part of {_label(where)}'s filter lies outside the stream",
                summary=(
                    f"Its filter {', '.join(outside)} matches none of the stream's subjects "
                    f"({', '.join(subjects or [])}); the rest of its filter does."
                ),
                evidence=evidence,
                suggestion=suggestion,
                **where,
            )
        ]
    return []


def analyze_consumer(
    stream: dict,
    consumer: dict,
    *,
    now: datetime,
    history: dict | None = None,
    subject_counts: dict[str, int] | None = None,
    cluster_id: str | None = None,
    t: Thresholds = DEFAULT,
) -> list[Finding]:
    """Every consumer finding of one consumer of ``stream``."""
    where = _where(stream, consumer, cluster_id)
    return [
        *lag_growing(consumer, history, where, t),
        *stalled(consumer, now, where, t),
        *redelivery_storm(consumer, where, t),
        *ack_pending_near_max(consumer, where, t),
        *filter_matches_nothing(stream, consumer, where, subject_counts),
    ]
