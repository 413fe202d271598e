"""A consumer changed, paused, and a stream purged, as a person fills the forms: pure functions.

``consumer_form_values`` prefills the change form from a consumer's config; ``check_consumer_edit``
turns the form back into only the fields that changed (JetStream's names, for a ``PATCH``);
``check_pause`` reads "for 30m" or "until a time" as the time to pause until; ``check_purge_form``
reads what to purge (all, below a sequence, all but the newest N; optionally on one subject).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ui.forms.common import parse_duration, parse_time, split_list, subject_problem

# What JetStream lets change on an existing consumer, of what the form offers. The start position,
# the acknowledgement and replay policies, push or pull and max waiting pulls are fixed at creation.
EDITABLE = (
    "description",
    "filter_subject",
    "filter_subjects",
    "ack_wait",
    "max_deliver",
    "max_ack_pending",
    "backoff",
)
PURGE_MODES = ("all", "below", "keep")
PURGE_LABELS = {
    "all": "Every message",
    "below": "Every message below a sequence",
    "keep": "All but the newest messages",
}


def duration_text(ns: int | None) -> str:
    """Nanoseconds as the form shows them (``30s``, ``1h30m``; ``1.5s``); 0 or none is empty."""
    if not ns:
        return ""
    parts, rest = [], int(ns)
    for unit, length in (("d", 86_400 * 10**9), ("h", 3600 * 10**9), ("m", 60 * 10**9)):
        if rest >= length:
            parts.append(f"{rest // length}{unit}")
            rest %= length
    if rest:
        parts.append(f"{rest / 1e9:g}s" if rest % 10**6 == 0 else f"{rest}ns")
    return "".join(parts)


def filters_of(config: Mapping[str, Any]) -> list[str]:
    single = config.get("filter_subject")
    return [single] if single else list(config.get("filter_subjects") or [])


def consumer_form_values(config: Mapping[str, Any]) -> dict[str, Any]:
    """The change form's fields for a consumer's current config."""
    return {
        "description": config.get("description") or "",
        "filter_subjects": "\n".join(filters_of(config)),
        "ack_wait": duration_text(config.get("ack_wait")),
        "max_deliver": int(config.get("max_deliver") or -1),
        "max_ack_pending": int(config.get("max_ack_pending") or -1),
        "backoff": ", ".join(duration_text(b) for b in config.get("backoff") or []),
    }


def _limit(value: Any, what: str, problems: list[str]) -> int | None:
    if value is None or int(value) == 0 or int(value) < -1:
        problems.append(f"{what} must be -1 (no limit) or a positive number.")
        return None
    return int(value)


def check_consumer_edit(
    config: Mapping[str, Any],
    *,
    description: str = "",
    filter_subjects: str = "",
    ack_wait: str = "",
    max_deliver: Any = -1,
    max_ack_pending: Any = -1,
    backoff: str = "",
) -> tuple[dict[str, Any] | None, list[str]]:
    """Only the fields that differ from ``config`` (``{}``: nothing changed), or the problems."""
    problems: list[str] = []
    changes: dict[str, Any] = {}
    acked = config.get("ack_policy", "explicit") != "none"
    if (description or "").strip() != (config.get("description") or ""):
        changes["description"] = (description or "").strip()

    filters = split_list(filter_subjects)
    problems += [p for p in map(subject_problem, filters) if p]
    if filters != filters_of(config):
        if len(filters) == 1:
            changes["filter_subject"] = filters[0]
            if config.get("filter_subjects"):
                changes["filter_subjects"] = []
        else:
            changes["filter_subjects"] = filters
            if config.get("filter_subject") or not filters:
                changes["filter_subject"] = ""
            if not filters and not config.get("filter_subjects"):
                changes.pop("filter_subjects")

    if acked:
        try:
            wait = parse_duration(ack_wait)
        except ValueError as exc:
            problems.append(str(exc).replace("the maximum age", "the ack wait"))
        else:
            if not wait:
                problems.append(
                    "Give the ack wait, like 30s: how long a delivery may go "
                    "unacknowledged before it is delivered again."
                )
            elif wait != config.get("ack_wait"):
                changes["ack_wait"] = wait
        pending = _limit(max_ack_pending, "Maximum awaiting ack", problems)
        if pending is not None and pending != config.get("max_ack_pending"):
            changes["max_ack_pending"] = pending

    deliver = _limit(max_deliver, "Maximum deliveries", problems)
    if deliver is not None and deliver != config.get("max_deliver"):
        changes["max_deliver"] = deliver

    delays: list[int] = []
    for part in split_list(backoff):
        try:
            delay = parse_duration(part)
        except ValueError:
            problems.append(
                f'"{part}" is not a redelivery delay; write the delays like 10s, 1m, 5m.'
            )
            continue
        if not delay:
            problems.append("A redelivery delay must be longer than 0.")
        delays.append(delay)
    if delays != list(config.get("backoff") or []):
        changes["backoff"] = delays
    if delays and deliver is not None and deliver != -1 and deliver <= len(delays):
        problems.append(
            f"With {len(delays)} redelivery delays, maximum deliveries must be more "
            f"than {len(delays)} (or -1, no limit)."
        )
    if problems:
        return None, problems
    return changes, []


def check_pause(text: str, now: datetime | None = None) -> tuple[str | None, list[str]]:
    """A pause "for" a duration (``30m``, ``2h``) or "until" a time (UTC unless an offset is
    given), as the RFC 3339 time to pause until; it must be in the future."""
    now = now or datetime.now(UTC)
    value = (text or "").strip()
    if not value:
        return None, [
            "Say how long to pause, like 30m or 2h, or until when, like 2024-01-15T10:30:00Z."
        ]
    try:
        ns = parse_duration(value)
    except ValueError:
        try:
            until_text = parse_time(value)
        except ValueError:
            return None, [
                f'"{value}" is neither a duration (30m, 2h, 1d) nor a time (2024-01-15T10:30:00Z).'
            ]
        until = datetime.fromisoformat(str(until_text).replace("Z", "+00:00"))
    else:
        until = now + timedelta(microseconds=ns / 1000)
    if until <= now:
        return None, ["The pause must end in the future."]
    return until.astimezone(UTC).isoformat().replace("+00:00", "Z"), []


def check_purge_form(
    *, what: str, subject: str = "", sequence: Any = None, keep: Any = None
) -> tuple[dict[str, Any] | None, list[str]]:
    """The purge's body in the API's names (``subject``, ``sequence``, ``keep``), or the
    problems."""
    problems: list[str] = []
    spec: dict[str, Any] = {}
    subject = (subject or "").strip()
    if subject:
        if problem := subject_problem(subject):
            problems.append(problem)
        spec["subject"] = subject
    if what not in PURGE_MODES:
        problems.append("Choose what to purge.")
    elif what == "below":
        if sequence is None or int(sequence) < 1:
            problems.append("Give the sequence to purge below (1 or more).")
        else:
            spec["sequence"] = int(sequence)
    elif what == "keep":
        if keep is None or int(keep) < 0:
            problems.append("Give how many of the newest messages to keep (0 or more).")
        else:
            spec["keep"] = int(keep)
    if problems:
        return None, problems
    return spec, []
