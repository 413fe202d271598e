"""``jsc consumer ls|info|add|edit|rm|pause|resume``: consumers of a stream.

On a cluster whose policy requires approval, add, edit and rm only send the change for approval
(``announce_pending``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import typer

from cli.client import CliError
from cli.common import (
    cluster_option,
    confirm,
    connect,
    force_option,
    go_duration,
    json_option,
    parse_future,
    read_json_config,
    split_values,
)
from cli.output import (
    Group,
    announce_pending,
    emit_json,
    fmt_count,
    fmt_ns,
    fmt_time,
    say,
    say_config_change,
    table,
    view,
)

app = Group(help="Consumers of a stream.")


class Ack(StrEnum):
    explicit = "explicit"
    all = "all"
    none = "none"


class Deliver(StrEnum):
    all = "all"
    last = "last"
    new = "new"
    by_start_sequence = "by_start_sequence"
    by_start_time = "by_start_time"
    last_per_subject = "last_per_subject"


def consumers_path(cluster_id: str, stream: str, name: str | None = None) -> str:
    return f"/clusters/{cluster_id}/streams/{stream}/consumers" + (f"/{name}" if name else "")


def _filters(cfg: dict) -> str | None:
    return ", ".join(cfg.get("filter_subjects") or []) or cfg.get("filter_subject") or None


def _paused(info: dict) -> str | None:
    if not info.get("paused"):
        return None
    until = fmt_time((info.get("config") or {}).get("pause_until"))
    return f"until {until}" if until else "yes"


@app.command("ls")
def list_consumers(
    stream: str = typer.Argument(..., help="The stream."),
    cluster: str | None = cluster_option(),
    as_json: bool = json_option(),
) -> None:
    """List a stream's consumers with their progress."""
    with connect() as api:
        found = api.cluster(cluster)
        items = api.get(consumers_path(found["id"], stream))["items"]
    if as_json:
        emit_json({"items": items})
        return
    table(
        [
            "NAME",
            "FILTER",
            "ACK",
            "PENDING",
            "ACK PENDING",
            "REDELIVERED",
            "WAITING",
            "LAST DELIVERED",
            "PAUSED",
        ],
        (
            [
                c["name"],
                _filters(c.get("config") or {}),
                (c.get("config") or {}).get("ack_policy"),
                fmt_count(c.get("num_pending")),
                fmt_count(c.get("num_ack_pending")),
                fmt_count(c.get("num_redelivered")),
                fmt_count(c.get("num_waiting")),
                fmt_time((c.get("delivered") or {}).get("last_active")),
                _paused(c),
            ]
            for c in items
        ),
        empty=f"Stream '{stream}' has no consumers.",
    )


def show_consumer(info: dict) -> None:
    cfg = info.get("config") or {}
    delivered, floor = info.get("delivered") or {}, info.get("ack_floor") or {}
    view(
        [
            ("Name", info.get("name")),
            ("Stream", info.get("stream_name")),
            ("Description", cfg.get("description")),
            ("Filter", _filters(cfg)),
            ("Deliver policy", cfg.get("deliver_policy")),
            ("Ack policy", cfg.get("ack_policy")),
            ("Ack wait", fmt_ns(cfg.get("ack_wait"))),
            ("Max deliver", "unlimited" if cfg.get("max_deliver", -1) < 0 else cfg["max_deliver"]),
            ("Max ack pending", cfg.get("max_ack_pending")),
            ("Push subject", cfg.get("deliver_subject")),
            ("Paused", _paused(info)),
            ("Created", fmt_time(info.get("created"))),
        ],
        title=f"Consumer {info.get('name')}",
    )
    view(
        [
            (
                "Last delivered",
                f"stream #{delivered.get('stream_seq', 0)}, consumer "
                f"#{delivered.get('consumer_seq', 0)}",
            ),
            (
                "Ack floor",
                f"stream #{floor.get('stream_seq', 0)}, consumer #{floor.get('consumer_seq', 0)}",
            ),
            ("Pending", fmt_count(info.get("num_pending"))),
            ("Ack pending", fmt_count(info.get("num_ack_pending"))),
            ("Redelivered", fmt_count(info.get("num_redelivered"))),
            ("Waiting pulls", fmt_count(info.get("num_waiting"))),
        ],
        title="State",
    )


@app.command("info")
def consumer_info(
    stream: str = typer.Argument(..., help="The stream."),
    name: str = typer.Argument(..., help="The consumer."),
    cluster: str | None = cluster_option(),
    as_json: bool = json_option(),
) -> None:
    """A consumer's configuration and state."""
    with connect() as api:
        found = api.cluster(cluster)
        info = api.get(consumers_path(found["id"], stream, name))
    if as_json:
        emit_json(info)
    else:
        show_consumer(info)


@app.command("add")
def add_consumer(
    stream: str = typer.Argument(..., help="The stream."),
    name: str | None = typer.Argument(
        None, help="The consumer (durable) name, or 'durable_name' in --config."
    ),
    cluster: str | None = cluster_option(),
    config_file: str | None = typer.Option(
        None,
        "--config",
        metavar="FILE|-",
        help="A consumer configuration in JetStream's JSON; '-' reads stdin.",
    ),
    filters: list[str] | None = typer.Option(
        None, "--filter", help="Subject filter(s) (repeat, or comma-separated)."
    ),
    ack: Ack | None = typer.Option(
        None, "--ack", case_sensitive=False, help="Ack policy (default explicit)."
    ),
    deliver: Deliver | None = typer.Option(
        None, "--deliver", case_sensitive=False, help="Where to start (default all)."
    ),
    start_seq: int | None = typer.Option(
        None, "--start-seq", min=1, help="Start at this sequence (deliver by_start_sequence)."
    ),
    ack_wait: str | None = typer.Option(None, "--ack-wait", help="e.g. 30s."),
    max_deliver: int | None = typer.Option(None, "--max-deliver", min=-1),
    max_ack_pending: int | None = typer.Option(None, "--max-ack-pending", min=-1),
    description: str | None = typer.Option(None, "--description"),
    as_json: bool = json_option(),
) -> None:
    """Create a durable consumer (pull, unless the config gives a deliver_subject)."""
    body = read_json_config(config_file)
    existing = body.get("durable_name") or body.get("name")
    if name and existing not in (None, name):
        raise CliError(f"The name '{name}' differs from the config's '{existing}'; give one.")
    name = name or existing
    if not name:
        raise CliError("Give the consumer's name (argument, or 'durable_name' in --config).")
    body["durable_name"] = name
    body.pop("name", None)
    subjects = split_values(filters)
    flags: dict[str, Any] = {
        "ack_policy": ack.value if ack else None,
        "deliver_policy": deliver.value
        if deliver
        else ("by_start_sequence" if start_seq else None),
        "opt_start_seq": start_seq,
        "ack_wait": go_duration(ack_wait, "--ack-wait"),
        "max_deliver": max_deliver,
        "max_ack_pending": max_ack_pending,
        "description": description,
    }
    if subjects:
        flags["filter_subjects" if len(subjects) > 1 else "filter_subject"] = (
            subjects if len(subjects) > 1 else subjects[0]
        )
    body.update({k: v for k, v in flags.items() if v is not None})
    body.setdefault("ack_policy", "explicit")
    with connect() as api:
        found = api.cluster(cluster)
        info = api.post(consumers_path(found["id"], stream), body)
    if announce_pending(info, as_json=as_json):
        return
    if as_json:
        emit_json(info)
        return
    say(f"Consumer '{name}' created on stream '{stream}' ({found['name']}).")
    show_consumer(info)


@app.command("edit")
def edit_consumer(
    stream: str = typer.Argument(..., help="The stream."),
    name: str = typer.Argument(..., help="The consumer."),
    cluster: str | None = cluster_option(),
    config_file: str | None = typer.Option(
        None,
        "--config",
        metavar="FILE|-",
        help="Fields of a consumer configuration in JetStream's JSON; '-' reads stdin.",
    ),
    filters: list[str] | None = typer.Option(
        None, "--filter", help="Subject filter(s) (repeat, or comma-separated)."
    ),
    ack_wait: str | None = typer.Option(None, "--ack-wait", help="e.g. 30s."),
    max_deliver: int | None = typer.Option(None, "--max-deliver", min=-1),
    max_ack_pending: int | None = typer.Option(None, "--max-ack-pending", min=-1),
    description: str | None = typer.Option(None, "--description"),
    as_json: bool = json_option(),
) -> None:
    """Change a consumer: the fields given over its current configuration."""
    body = read_json_config(config_file)
    flags = {
        "ack_wait": go_duration(ack_wait, "--ack-wait"),
        "max_deliver": max_deliver,
        "max_ack_pending": max_ack_pending,
        "description": description,
    }
    body.update({k: v for k, v in flags.items() if v is not None})
    subjects = split_values(filters)
    if subjects:  # one filter or several: the other field is cleared
        one = len(subjects) == 1
        body.update(
            filter_subject=subjects[0] if one else None, filter_subjects=None if one else subjects
        )
    if not body:
        raise CliError("Nothing to change: give --config or flags such as --ack-wait 30s.")
    with connect() as api:
        found = api.cluster(cluster)
        path = consumers_path(found["id"], stream, name)
        before = api.get(path).get("config") or {}
        info = api.patch(path, body)
    if announce_pending(info, as_json=as_json):
        return
    if as_json:
        emit_json(info)
        return
    say_config_change(
        f"Consumer '{name}' of stream '{stream}'",
        f"on {found['name']}",
        before,
        info.get("config") or {},
    )


@app.command("rm")
def delete_consumer(
    stream: str = typer.Argument(..., help="The stream."),
    name: str = typer.Argument(..., help="The consumer."),
    cluster: str | None = cluster_option(),
    force: bool = force_option(),
) -> None:
    """Delete a consumer (its position and pending acks are lost)."""
    with connect() as api:
        found = api.cluster(cluster)
        confirm(f"Delete consumer '{name}' of stream '{stream}' on {found['name']}?", force)
        result = api.delete(consumers_path(found["id"], stream, name))
    if announce_pending(result):
        return
    say(f"Consumer '{name}' deleted from stream '{stream}'.")


@app.command("pause")
def pause_consumer(
    stream: str = typer.Argument(..., help="The stream."),
    name: str = typer.Argument(..., help="The consumer."),
    until: str = typer.Option(
        "24h",
        "--until",
        "--for",
        help="When to resume by itself: ISO 8601 time, or a duration from now (1h).",
    ),
    cluster: str | None = cluster_option(),
    as_json: bool = json_option(),
) -> None:
    """Pause a consumer: it delivers nothing until the time given, or until resumed."""
    pause_until = parse_future(until, "--until")
    with connect() as api:
        found = api.cluster(cluster)
        info = api.post(
            f"{consumers_path(found['id'], stream, name)}/pause", {"until": pause_until}
        )
    if as_json:
        emit_json(info)
    else:
        say(f"Consumer '{name}' paused until {fmt_time(info.get('pause_until'))}.")


@app.command("resume")
def resume_consumer(
    stream: str = typer.Argument(..., help="The stream."),
    name: str = typer.Argument(..., help="The consumer."),
    cluster: str | None = cluster_option(),
    as_json: bool = json_option(),
) -> None:
    """Resume a paused consumer now."""
    with connect() as api:
        found = api.cluster(cluster)
        info = api.post(f"{consumers_path(found['id'], stream, name)}/resume")
    if as_json:
        emit_json(info)
    else:
        say(f"Consumer '{name}' resumed.")
