"""The replay form: what to copy, where to, how fast."""

from __future__ import annotations

from ui.client import ReplaySpec
from ui.forms.common import (
    DEFAULT_REDRIVE_HEADER,
    HEADER_NAME,
    MAX_RATE,
    _optional_int,
    concrete_subject_problem,
    parse_time,
    split_list,
    subject_problem,
)


def check_replay_form(
    *,
    cluster_id: str,
    stream: str,
    subjects: str = "",
    start_seq: int | None = None,
    end_seq: int | None = None,
    start_time: str = "",
    end_time: str = "",
    destination_cluster_id: str | None = None,
    destination_stream: str | None = None,
    mapping: str = "prefix",
    destination_subject: str = "",
    redrive_header: str = "",
    rate_limit: float | None = None,
    add_source_header: bool = True,
    keep_original_time: bool = True,
    dry_run: bool = False,
) -> tuple[ReplaySpec | None, list[str]]:
    """The body of ``POST /operations/replay``.

    ``mapping`` says how each copy's subject is named: ``prefix`` (the original subject behind
    ``destination_subject``), ``subject`` (all to ``destination_subject``), ``original`` (kept:
    only to another cluster) or ``redrive`` (taken from the header ``redrive_header``)."""
    problems: list[str] = []
    if not cluster_id:
        problems.append("Choose the source cluster.")
    stream = (stream or "").strip()
    if not stream:
        problems.append("Choose the stream to replay from.")
    filters = split_list(subjects)
    problems += [p for p in map(subject_problem, filters) if p]
    first, last = _optional_int(start_seq), _optional_int(end_seq)
    if first is not None and first < 1:
        problems.append("The first sequence must be 1 or more.")
    if last is not None and last < 1:
        problems.append("The last sequence must be 1 or more.")
    if first is not None and last is not None and last < first:
        problems.append(f"The last sequence ({last:,}) is before the first one ({first:,}).")
    since = until = None
    try:
        since = parse_time(start_time)
    except ValueError as exc:
        problems.append(str(exc))
    try:
        until = parse_time(end_time)
    except ValueError as exc:
        problems.append(str(exc))
    if since and until and until <= since:
        problems.append("The end time must be after the start time (it is not included).")

    target_cluster = destination_cluster_id or cluster_id
    same_cluster = target_cluster == cluster_id
    target_subject = (destination_subject or "").strip()
    destination: dict[str, str] = {}
    if not same_cluster:
        destination["cluster_id"] = target_cluster
    if destination_stream:
        destination["stream"] = destination_stream
    if mapping == "prefix":
        if not target_subject:
            problems.append(
                "Give the subject prefix the copies are published under, for example replay."
            )
        elif any(t in ("*", ">") for t in target_subject.split(".")) or subject_problem(
            target_subject
        ):
            problems.append(
                f'The prefix "{target_subject}" must be a subject without '
                "wildcards and without a dot at either end, like replay.orders."
            )
        else:
            destination["subject_prefix"] = target_subject
    elif mapping == "subject":
        if not target_subject:
            problems.append("Give the subject every copy is published to.")
        elif problem := concrete_subject_problem(target_subject):
            problems.append(problem)
        else:
            destination["subject"] = target_subject
    elif mapping == "original":
        if same_cluster:
            problems.append(
                "On the same cluster the copies would land back in the source "
                "stream: publish them under a prefix or to another subject, or "
                "choose another destination cluster."
            )
    elif mapping == "redrive":
        header = (redrive_header or "").strip() or DEFAULT_REDRIVE_HEADER
        if not HEADER_NAME.match(header):
            problems.append(
                f'The header name "{header}" may only contain letters, digits '
                "and !#$%&'*+-.^_`|~ (no blank)."
            )
    else:
        problems.append("Choose how the copies' subjects are named.")
    if rate_limit is not None and rate_limit != "":
        if float(rate_limit) < 0 or float(rate_limit) > MAX_RATE:
            problems.append(
                f"The rate limit must be between 0 (no limit) and {MAX_RATE:,} messages per second."
            )
    if problems:
        return None, problems
    spec: ReplaySpec = {
        "cluster_id": cluster_id,
        "stream": stream,
        "subjects": filters,
        "destination": destination,  # type: ignore[typeddict-item]
        "add_source_header": bool(add_source_header),
        "keep_original_time": bool(keep_original_time),
        "dry_run": bool(dry_run),
    }
    if first is not None:
        spec["start_seq"] = first
    if last is not None:
        spec["end_seq"] = last
    if since:
        spec["start_time"] = since
    if until:
        spec["end_time"] = until
    if rate_limit:
        spec["rate_limit"] = float(rate_limit)
    if mapping == "redrive":
        spec["redrive"] = {"header": (redrive_header or "").strip() or DEFAULT_REDRIVE_HEADER}
    return spec, []
