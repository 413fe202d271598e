"""The mirror wizard (source, what to copy, from where, destination, storage) and the DR pair
form: what they refuse before sending, and the initial sync a mirror will have to make."""

from __future__ import annotations

import re
from typing import Any

from ui.client import DrPairSpec, MirrorOverridesSpec, MirrorSpec, PairStreamSpec
from ui.forms.common import (
    STORAGE_TYPES,
    STREAM_NAME,
    _optional_int,
    parse_duration,
    parse_size,
    parse_time,
    split_list,
    subject_problem,
)

MIRROR_TYPES = ("full", "filtered")
START_POSITIONS = ("all", "seq", "time", "new")
PAIR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,254}$")  # as the API accepts it
MAX_OBJECTIVE_S = 7 * 86400


def check_mirror_source(
    *,
    source_cluster_id: str,
    source_stream: str,
    mirror_type: str = "full",
    filter_subjects: str = "",
    start: str = "all",
    start_seq: int | None = None,
    start_time: str = "",
) -> tuple[dict[str, Any], list[str]]:
    """The wizard's first step: what to mirror and from where. ({source_cluster_id,
    source_stream, filter_subjects, start}, problems)."""
    problems: list[str] = []
    source_stream = (source_stream or "").strip()
    if not source_cluster_id:
        problems.append("Choose the source cluster.")
    if not source_stream:
        problems.append("Choose the stream to mirror.")
    filters: list[str] = []
    if mirror_type == "filtered":
        filters = split_list(filter_subjects)
        if not filters:
            problems.append(
                "A filtered mirror needs at least one subject to keep, for example "
                "orders.created.>."
            )
        problems += [p for p in map(subject_problem, filters) if p]
        if len(set(filters)) != len(filters):
            problems.append("A filter subject is given twice: give each once.")
    elif mirror_type != "full":
        problems.append("Choose a full or a filtered mirror.")

    start_value: Any = "all"
    if start == "seq":
        first = _optional_int(start_seq)
        if first is None or first < 1:
            problems.append("Give the first sequence to copy (1 or more).")
        else:
            start_value = {"seq": first}
    elif start == "time":
        try:
            since = parse_time(start_time)
        except ValueError as exc:
            problems.append(str(exc))
        else:
            if since is None:
                problems.append("Give the time to copy from, like 2024-01-15T10:30:00Z.")
            else:
                start_value = {"time": since}
    elif start in ("all", "new"):
        start_value = start
    else:
        problems.append("Choose where the mirror starts.")
    return (
        {
            "source_cluster_id": source_cluster_id,
            "source_stream": source_stream,
            "filter_subjects": filters,
            "start": start_value,
        },
        problems,
    )


def check_mirror_form(
    *,
    source_cluster_id: str,
    source_stream: str,
    mirror_type: str = "full",
    filter_subjects: str = "",
    start: str = "all",
    start_seq: int | None = None,
    start_time: str = "",
    target_cluster_id: str,
    target_stream: str,
    replicas: int | None = None,
    storage: str = "",
    max_bytes: str = "",
    max_age: str = "",
    description: str = "",
) -> tuple[MirrorSpec | None, list[str]]:
    """The body of ``POST /operations/mirror``.

    ``mirror_type`` is ``full`` (every message) or ``filtered`` (only ``filter_subjects``, one
    per line); ``start`` is ``all`` (from the beginning), ``seq`` (from ``start_seq``), ``time``
    (what was stored from ``start_time`` on) or ``new`` (only what arrives from now on). The
    storage overrides are left out when empty: the mirror then keeps JetStream's defaults."""
    source, problems = check_mirror_source(
        source_cluster_id=source_cluster_id,
        source_stream=source_stream,
        mirror_type=mirror_type,
        filter_subjects=filter_subjects,
        start=start,
        start_seq=start_seq,
        start_time=start_time,
    )
    target_stream = (target_stream or "").strip()
    if not target_cluster_id:
        problems.append("Choose the destination cluster.")
    if not target_stream:
        problems.append("Name the mirror stream, for example ORDERS_MIRROR.")
    elif not STREAM_NAME.match(target_stream):
        problems.append(
            f'The mirror name "{target_stream}" may only contain letters, digits, '
            "- and _ (at most 255)."
        )
    elif source_cluster_id == target_cluster_id and source["source_stream"] == target_stream:
        problems.append(
            "A stream cannot mirror itself: give the mirror another name, or choose "
            "another destination cluster."
        )

    overrides: MirrorOverridesSpec = {}
    if replicas not in (None, "", 0):
        if not 1 <= int(replicas) <= 5:
            problems.append("Replicas must be between 1 and 5.")
        else:
            overrides["num_replicas"] = int(replicas)
    if storage:
        if storage not in STORAGE_TYPES:
            problems.append("Storage is file or memory.")
        else:
            overrides["storage"] = storage  # type: ignore[typeddict-item]
    if (max_bytes or "").strip():
        try:
            overrides["max_bytes"] = parse_size(max_bytes)
        except ValueError as exc:
            problems.append(str(exc))
    if (max_age or "").strip():
        try:
            overrides["max_age"] = parse_duration(max_age)
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        return None, problems
    spec: MirrorSpec = {
        **source,  # type: ignore[typeddict-item]
        "target_cluster_id": target_cluster_id,
        "target_stream": target_stream,
        "overrides": overrides,
    }
    if (description or "").strip():
        spec["description"] = description.strip()
    return spec, []


def initial_sync(
    messages: int, size: int, first_seq: int, last_seq: int, start: Any, filtered: bool = False
) -> tuple[int | None, str]:
    """What the mirror copies before it is in sync: (messages at most, or None when only the
    server can tell; a sentence for people)."""
    from ui import fmt  # the forms stay free of Streamlit; fmt is pure too

    if start == "new":
        return 0, "Nothing to copy first: the mirror starts with the messages stored from now on."
    bound = "up to " if filtered else ""
    if isinstance(start, dict) and "seq" in start:
        seq = int(start["seq"])
        if messages == 0 or seq > last_seq:
            return 0, f"Nothing stored from sequence {seq:,} on yet: the mirror starts empty."
        count = min(messages, last_seq - max(seq, first_seq) + 1)
        share = size * count // messages if messages else 0
        return count, (
            f"Initial sync: {bound}{count:,} messages (about {fmt.size(share)}), "
            f"sequences {max(seq, first_seq):,}–{last_seq:,}."
        )
    if isinstance(start, dict) and "time" in start:
        return None, (
            f"Initial sync: {bound}{messages:,} messages ({fmt.size(size)}): those "
            f"stored since {fmt.when(start['time'])}."
        )
    if messages == 0:
        return 0, "The source stream is empty: the mirror is in sync as soon as it exists."
    return messages, (
        f"Initial sync: {bound}{messages:,} messages ({fmt.size(size)}), "
        f"sequences {first_seq:,}–{last_seq:,}."
    )


def check_dr_pair_form(
    *,
    name: str,
    primary_cluster_id: str,
    standby_cluster_id: str,
    streams: list[str],
    mirror_names: str = "",
    rpo_seconds: float = 5,
    rto_seconds: float = 30,
    create_missing_mirrors: bool = True,
    description: str = "",
) -> tuple[DrPairSpec | None, list[str]]:
    """The body of ``POST /dr/pairs``. ``mirror_names`` renames some mirrors, one per line as
    ``STREAM=MIRROR``; the others keep the stream's name on the standby."""
    problems: list[str] = []
    name = (name or "").strip()
    if not name:
        problems.append("Name the pair, for example orders-dr.")
    elif not PAIR_NAME.match(name):
        problems.append(
            f'The pair name "{name}" must start with a letter or digit and may '
            "contain letters, digits, spaces and . _ : - (at most 255)."
        )
    if not primary_cluster_id:
        problems.append("Choose the primary cluster.")
    if not standby_cluster_id:
        problems.append("Choose the standby cluster.")
    elif standby_cluster_id == primary_cluster_id:
        problems.append("The standby must be another cluster than the primary.")
    chosen = [s for s in (streams or []) if s]
    if not chosen:
        problems.append("Choose at least one stream of the primary to protect.")
    renamed: dict[str, str] = {}
    for line in split_list(mirror_names.replace(",", "\n")):
        stream, sep, mirror = (part.strip() for part in line.partition("="))
        if not sep or not stream or not mirror:
            problems.append(f'Write each mirror name as STREAM=MIRROR ("{line}" is not).')
        elif stream not in chosen:
            problems.append(
                f"{stream} is not one of the chosen streams: choose it or drop its line."
            )
        elif not STREAM_NAME.match(mirror):
            problems.append(
                f'The mirror name "{mirror}" may only contain letters, digits, - and _.'
            )
        else:
            renamed[stream] = mirror
    for what, value in (("RPO", rpo_seconds), ("RTO", rto_seconds)):
        if value is None or float(value) <= 0 or float(value) > MAX_OBJECTIVE_S:
            problems.append(f"The {what} must be more than 0 seconds and at most 7 days.")
    if problems:
        return None, problems
    pair_streams: list[PairStreamSpec] = []
    for stream in chosen:
        item: PairStreamSpec = {"stream": stream}
        if renamed.get(stream, stream) != stream:
            item["mirror_stream"] = renamed[stream]
        pair_streams.append(item)
    spec: DrPairSpec = {
        "name": name,
        "primary_cluster_id": primary_cluster_id,
        "standby_cluster_id": standby_cluster_id,
        "streams": pair_streams,
        "rpo_seconds": float(rpo_seconds),
        "rto_seconds": float(rto_seconds),
        "create_missing_mirrors": bool(create_missing_mirrors),
    }
    if (description or "").strip():
        spec["description"] = description.strip()
    return spec, []
