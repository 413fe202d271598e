"""``jsc stream ls|info|add|edit|rm|purge``: streams of a cluster, in JetStream's own JSON.

On a cluster whose policy requires approval, add, edit, rm and purge only send the change for
approval (``announce_pending``)."""

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
    parse_size,
    read_json_config,
    split_values,
)
from cli.output import (
    Group,
    announce_pending,
    emit_json,
    fmt_bytes,
    fmt_count,
    fmt_limit,
    fmt_ns,
    fmt_time,
    say,
    say_config_change,
    table,
    view,
)

app = Group(help="Streams of a cluster.")


class Storage(StrEnum):
    file = "file"
    memory = "memory"


class Retention(StrEnum):
    limits = "limits"
    interest = "interest"
    workqueue = "workqueue"


class Discard(StrEnum):
    old = "old"
    new = "new"


def streams_path(cluster_id: str, name: str | None = None) -> str:
    return f"/clusters/{cluster_id}/streams" + (f"/{name}" if name else "")


def config_flags(
    subjects: list[str] | None,
    max_age: str | None,
    storage: Storage | None,
    replicas: int | None,
    max_bytes: str | None,
    retention: Retention | None,
    max_msgs: int | None,
    max_msg_size: str | None,
    discard: Discard | None,
    description: str | None,
) -> dict[str, Any]:
    flags = {
        "subjects": split_values(subjects),
        "max_age": go_duration(max_age, "--max-age"),
        "storage": storage.value if storage else None,
        "num_replicas": replicas,
        "max_bytes": parse_size(max_bytes, "--max-bytes"),
        "retention": retention.value if retention else None,
        "max_msgs": max_msgs,
        "max_msg_size": parse_size(max_msg_size, "--max-msg-size"),
        "discard": discard.value if discard else None,
        "description": description,
    }
    return {k: v for k, v in flags.items() if v is not None}


# The same flags on add and edit.
def _subjects() -> Any:
    return typer.Option(
        None,
        "--subjects",
        "-s",
        help="Subjects to capture (repeat, or comma-separated), wildcards allowed.",
    )


def _max_age() -> Any:
    return typer.Option(
        None, "--max-age", help="Drop messages older than this (30m, 72h, 7d; 0: keep)."
    )


def _storage() -> Any:
    return typer.Option(None, "--storage", case_sensitive=False, help="file or memory.")


def _replicas() -> Any:
    return typer.Option(None, "--replicas", "-r", min=1, max=5, help="Number of replicas.")


def _max_bytes() -> Any:
    return typer.Option(
        None,
        "--max-bytes",
        help="Size limit: 1048576, 512MB, 10GiB (powers of 1024); -1 unlimited.",
    )


def _retention() -> Any:
    return typer.Option(
        None, "--retention", case_sensitive=False, help="limits, interest or workqueue."
    )


def _max_msgs() -> Any:
    return typer.Option(None, "--max-msgs", min=-1, help="Message count limit; -1 unlimited.")


def _max_msg_size() -> Any:
    return typer.Option(None, "--max-msg-size", help="Largest message, e.g. 1MB; -1 unlimited.")


def _discard() -> Any:
    return typer.Option(
        None,
        "--discard",
        case_sensitive=False,
        help="At a limit, discard old messages or refuse new ones.",
    )


def _description() -> Any:
    return typer.Option(None, "--description", help="A description.")


def _config() -> Any:
    return typer.Option(
        None,
        "--config",
        metavar="FILE|-",
        help="A stream configuration in "
        "JetStream's JSON (as `jsc stream info --json` prints its 'config'); '-' "
        "reads stdin. Flags override its fields.",
    )


# -- commands ----------------------------------------------------------------------------------


@app.command("ls")
def list_streams(
    cluster: str | None = cluster_option(),
    subject: str | None = typer.Option(
        None, "--subject", help="Only streams capturing this subject."
    ),
    as_json: bool = json_option(),
) -> None:
    """List the streams of a cluster."""
    with connect() as api:
        found = api.cluster(cluster)
        items = api.get(streams_path(found["id"]), subject=subject)["items"]
    if as_json:
        emit_json({"items": items})
        return
    rows = []
    for s in items:
        cfg, state = s.get("config") or {}, s.get("state") or {}
        rows.append(
            [
                cfg.get("name"),
                ", ".join(cfg.get("subjects") or []) or _origin(cfg),
                cfg.get("storage"),
                cfg.get("num_replicas"),
                fmt_count(state.get("messages")),
                fmt_bytes(state.get("bytes")),
                state.get("consumer_count"),
                fmt_time(state.get("last_ts")),
            ]
        )
    table(
        [
            "NAME",
            "SUBJECTS",
            "STORAGE",
            "REPLICAS",
            "MESSAGES",
            "BYTES",
            "CONSUMERS",
            "LAST MESSAGE",
        ],
        rows,
        empty=f"No streams on {found['name']}.",
    )


def _origin(cfg: dict) -> str | None:
    if cfg.get("mirror"):
        return f"mirror of {cfg['mirror'].get('name')}"
    if cfg.get("sources"):
        return "sources: " + ", ".join(s.get("name", "?") for s in cfg["sources"])
    return None


def show_stream(info: dict) -> None:
    cfg, state = info.get("config") or {}, info.get("state") or {}
    view(
        [
            ("Name", cfg.get("name")),
            ("Description", cfg.get("description")),
            ("Subjects", ", ".join(cfg.get("subjects") or []) or None),
            ("Origin", _origin(cfg)),
            ("Retention", cfg.get("retention")),
            ("Storage", cfg.get("storage")),
            ("Replicas", cfg.get("num_replicas")),
            ("Discard", cfg.get("discard")),
            ("Max age", fmt_ns(cfg.get("max_age"))),
            ("Max bytes", fmt_limit(cfg.get("max_bytes"), fmt_bytes)),
            ("Max messages", fmt_limit(cfg.get("max_msgs"), fmt_count)),
            ("Max per subject", fmt_limit(cfg.get("max_msgs_per_subject"), fmt_count)),
            ("Max message size", fmt_limit(cfg.get("max_msg_size"), fmt_bytes)),
            ("Duplicate window", fmt_ns(cfg.get("duplicate_window"))),
            ("Created", fmt_time(info.get("created"))),
        ],
        title=f"Stream {cfg.get('name')}",
    )
    first, last = state.get("first_seq"), state.get("last_seq")
    view(
        [
            ("Messages", fmt_count(state.get("messages"))),
            ("Bytes", fmt_bytes(state.get("bytes"))),
            ("First", _at(first, state.get("first_ts"))),
            ("Last", _at(last, state.get("last_ts"))),
            ("Subjects", fmt_count(state.get("num_subjects"))),
            ("Deleted", fmt_count(state.get("num_deleted")) if state.get("num_deleted") else None),
            ("Consumers", state.get("consumer_count")),
        ],
        title="State",
    )


def _at(seq: int | None, when: str | None) -> str | None:
    return f"#{seq}  {fmt_time(when) or ''}".strip() if seq else None


@app.command("info")
def stream_info(
    name: str = typer.Argument(..., help="The stream."),
    cluster: str | None = cluster_option(),
    as_json: bool = json_option(),
) -> None:
    """A stream's configuration and state."""
    with connect() as api:
        found = api.cluster(cluster)
        info = api.get(streams_path(found["id"], name))
    if as_json:
        emit_json(info)
    else:
        show_stream(info)


@app.command("add")
def add_stream(
    name: str | None = typer.Argument(None, help="The stream (or 'name' in --config)."),
    cluster: str | None = cluster_option(),
    config_file: str | None = _config(),
    subjects: list[str] | None = _subjects(),
    max_age: str | None = _max_age(),
    storage: Storage | None = _storage(),
    replicas: int | None = _replicas(),
    max_bytes: str | None = _max_bytes(),
    retention: Retention | None = _retention(),
    max_msgs: int | None = _max_msgs(),
    max_msg_size: str | None = _max_msg_size(),
    discard: Discard | None = _discard(),
    description: str | None = _description(),
    as_json: bool = json_option(),
) -> None:
    """Create a stream from flags and/or a JSON configuration."""
    body = read_json_config(config_file)
    if name and body.get("name") not in (None, name):
        raise CliError(f"The name '{name}' differs from the config's '{body['name']}'; give one.")
    body["name"] = name or body.get("name")
    if not body["name"]:
        raise CliError("Give the stream's name (argument, or 'name' in --config).")
    body.update(
        config_flags(
            subjects,
            max_age,
            storage,
            replicas,
            max_bytes,
            retention,
            max_msgs,
            max_msg_size,
            discard,
            description,
        )
    )
    with connect() as api:
        found = api.cluster(cluster)
        info = api.post(streams_path(found["id"]), body)
    if announce_pending(info, as_json=as_json):
        return
    if as_json:
        emit_json(info)
        return
    say(f"Stream '{body['name']}' created on {found['name']}.")
    show_stream(info)


@app.command("edit")
def edit_stream(
    name: str = typer.Argument(..., help="The stream."),
    cluster: str | None = cluster_option(),
    config_file: str | None = _config(),
    subjects: list[str] | None = _subjects(),
    max_age: str | None = _max_age(),
    storage: Storage | None = _storage(),
    replicas: int | None = _replicas(),
    max_bytes: str | None = _max_bytes(),
    retention: Retention | None = _retention(),
    max_msgs: int | None = _max_msgs(),
    max_msg_size: str | None = _max_msg_size(),
    discard: Discard | None = _discard(),
    description: str | None = _description(),
    as_json: bool = json_option(),
) -> None:
    """Change a stream: the fields given (flags, or a partial/full JSON config) over its
    current configuration."""
    body = read_json_config(config_file)
    body.update(
        config_flags(
            subjects,
            max_age,
            storage,
            replicas,
            max_bytes,
            retention,
            max_msgs,
            max_msg_size,
            discard,
            description,
        )
    )
    if not body:
        raise CliError("Nothing to change: give --config or flags such as --max-age 24h.")
    with connect() as api:
        found = api.cluster(cluster)
        before = api.get(streams_path(found["id"], name))["config"]
        info = api.patch(streams_path(found["id"], name), body)
    if announce_pending(info, as_json=as_json):
        return
    if as_json:
        emit_json(info)
        return
    say_config_change(f"Stream '{name}'", f"on {found['name']}", before, info.get("config") or {})


@app.command("rm")
def delete_stream(
    name: str = typer.Argument(..., help="The stream."),
    cluster: str | None = cluster_option(),
    force: bool = force_option(),
) -> None:
    """Delete a stream and every message in it."""
    with connect() as api:
        found = api.cluster(cluster)
        if not force:
            state = api.get(streams_path(found["id"], name)).get("state") or {}
            confirm(
                f"Delete stream '{name}' on {found['name']} with its "
                f"{fmt_count(state.get('messages', 0))} messages?",
                force,
            )
        result = api.delete(streams_path(found["id"], name))
    if announce_pending(result):
        return
    say(f"Stream '{name}' deleted from {found['name']}.")


@app.command("purge")
def purge_stream(
    name: str = typer.Argument(..., help="The stream."),
    cluster: str | None = cluster_option(),
    subject: str | None = typer.Option(
        None, "--subject", help="Only messages on this subject (wildcards allowed)."
    ),
    seq: int | None = typer.Option(None, "--seq", min=1, help="Only messages below this sequence."),
    keep: int | None = typer.Option(None, "--keep", min=0, help="Keep the newest N messages."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only say how many messages and bytes would go."
    ),
    force: bool = force_option(),
    as_json: bool = json_option(),
) -> None:
    """Remove messages from a stream (all, or by subject, sequence or count kept)."""
    if seq is not None and keep is not None:
        raise CliError("Give --seq or --keep, not both.")
    body = {
        k: v for k, v in (("subject", subject), ("sequence", seq), ("keep", keep)) if v is not None
    }
    if dry_run:
        with connect() as api:
            found = api.cluster(cluster)
            result = api.post(f"{streams_path(found['id'], name)}/purge", {**body, "dry_run": True})
        if as_json:
            emit_json(result)
        else:
            would = result["would_purge"]
            size = (
                f"{'about ' if would['bytes_estimated'] else ''}{fmt_count(would['bytes'])} bytes"
            )
            say(f"Would purge {fmt_count(would['messages'])} messages ({size}) from '{name}'.")
        return
    what = " and ".join(
        [f"on '{subject}'"] * bool(subject)
        + [f"below #{seq}"] * bool(seq)
        + [f"but the newest {keep}"] * (keep is not None)
    )
    with connect() as api:
        found = api.cluster(cluster)
        confirm(
            f"Purge {('messages ' + what) if what else 'every message'} of stream "
            f"'{name}' on {found['name']}?",
            force,
        )
        result = api.post(f"{streams_path(found['id'], name)}/purge", body)
    if announce_pending(result, as_json=as_json):
        return
    if as_json:
        emit_json(result)
    else:
        say(f"Purged {fmt_count(result.get('purged', 0))} messages from '{name}'.")
