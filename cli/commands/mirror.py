"""``jsc mirror create|ls|pause|resume|rm``: stream mirrors made by the console (a durable,
flow-controlled consumer on the source feeding a mirror stream, in the same cluster or another
one reached through its JetStream domain).

``create`` starts an operation that waits until the mirror has caught up; ``--wait`` follows it
with a progress bar and says how long catching up took and how much it copied. A production
destination sends it for approval instead (announced, nothing to follow yet). A mirror is named
by its id, a unique id prefix, or its stream name (with ``--cluster`` when several clusters have
a mirror of that name)."""

from __future__ import annotations

import uuid
from typing import Any

import typer

from cli.client import Api, CliError
from cli.commands import operations
from cli.common import (
    cluster_option,
    confirm,
    connect,
    force_option,
    go_duration,
    json_option,
    parse_size,
    parse_when,
    split_values,
)
from cli.output import (
    Group,
    announce_pending,
    emit_json,
    fmt_age,
    fmt_bytes,
    fmt_count,
    fmt_seconds,
    say,
    short_id,
    table,
)

app = Group(help="Stream mirrors: create (an operation), list, pause, resume, remove.")

STATE_STYLES = {
    "active": "green",
    "paused": "yellow",
    "creating": "cyan",
    "failed": "red",
    "promoted": "cyan",
    "removed": "dim",
}


# -- parsing -----------------------------------------------------------------------------------


def parse_start(value: str) -> Any:
    """``all``, ``new``, ``seq:N`` or ``time:WHEN`` (ISO 8601, or a duration ago like 2h) ->
    the API's ``start``."""
    text = value.strip()
    if text.lower() in ("all", "new"):
        return text.lower()
    kind, sep, rest = text.partition(":")
    if sep and kind.lower() == "seq":
        try:
            seq = int(rest)
        except ValueError:
            seq = 0
        if seq < 1:
            raise CliError(f"--start: '{value}' needs a sequence of 1 or more, like seq:1000.")
        return {"seq": seq}
    if sep and kind.lower() == "time":
        return {"time": parse_when(rest, "--start time")}
    raise CliError(
        f"--start: '{value}' is not all, new, seq:N or time:ISO-8601 "
        "(e.g. time:2025-06-01T12:00:00Z or time:2h for two hours ago)."
    )


# -- lookups -----------------------------------------------------------------------------------


def resolve_mirror(api: Api, ref: str, cluster: str | None = None) -> dict:
    """A mirror by id, unique id prefix, or the name of its stream (on ``cluster`` if given)."""
    ref = ref.strip()
    try:
        return api.get(f"/mirrors/{uuid.UUID(ref)}")
    except ValueError:
        pass
    mirrors = [m for m in api.get("/mirrors")["items"] if m.get("state") != "removed"]
    if cluster:
        target = api.cluster(cluster)["id"]
        mirrors = [m for m in mirrors if str(m.get("target_cluster_id")) == str(target)]
    for match in (
        lambda m: m["target_stream"] == ref,
        lambda m: m["target_stream"].lower() == ref.lower(),
        lambda m: len(ref) >= 4 and str(m["id"]).startswith(ref.lower()),
    ):
        found = [m for m in mirrors if match(m)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise CliError(
                f"'{ref}' names {len(found)} mirrors; add --cluster/-c (the mirror's "
                "cluster) or give its id."
            )
    raise CliError(f"No mirror '{ref}' in your organization. `jsc mirror ls` lists them.")


def state_text(state: str | None) -> Any:
    from rich.text import Text

    return Text(state or "unknown", style=STATE_STYLES.get(state or "", ""))


def where(names: dict[str, str], cluster_id: Any, stream: str | None) -> str:
    return f"{names.get(str(cluster_id), short_id(cluster_id))}/{stream or '?'}"


def replication_cell(source: str, target: str) -> str:
    """Source over target, in one cell (two lines): fits 80 columns with long names."""
    return f"{source}\n→ {target}"


# -- the result of a mirror operation ----------------------------------------------------------


def report_mirror(op: dict, names: dict[str, str]) -> None:
    result = op.get("result") or {}
    mirrors = result.get("mirrors") or []
    for m in mirrors:
        target = where(names, m.get("target_cluster_id"), m.get("target_stream"))
        copied = (
            f"{fmt_count(m.get('messages_copied') or 0)} messages "
            f"({fmt_bytes(m.get('bytes_copied') or 0)}) copied"
        )
        if m.get("caught_up"):
            say(
                f"Mirror {target} is in sync: {copied} in "
                f"{fmt_seconds(m.get('caught_up_in_s')) or '0s'}."
            )
        else:
            say(f"Mirror {target} has not caught up: {copied} so far.")
    if len(mirrors) > 1 and result.get("caught_up_in_s") is not None:
        say(f"All caught up in {fmt_seconds(result['caught_up_in_s'])}.")


operations.REPORTERS["mirror"] = report_mirror


# -- commands ----------------------------------------------------------------------------------


@app.command("create")
def create_mirror(
    source_cluster: str = typer.Option(..., "--source-cluster", help="Name or id."),
    source_stream: str = typer.Option(..., "--source-stream", help="The stream to mirror."),
    target_cluster: str = typer.Option(
        ..., "--target-cluster", help="Name or id (the same cluster, or another one)."
    ),
    target_stream: str | None = typer.Option(
        None, "--target-stream", help="The mirror stream's name (default: the source's)."
    ),
    filters: list[str] | None = typer.Option(
        None, "--filter", help="Only these subjects (repeat; wildcards allowed)."
    ),
    start: str = typer.Option(
        "all", "--start", help="all, new, seq:N or time:ISO (or time:2h, two hours ago)."
    ),
    replicas: int | None = typer.Option(None, "--replicas", min=1, max=5),
    storage: str | None = typer.Option(None, "--storage", help="file or memory."),
    max_bytes: str | None = typer.Option(None, "--max-bytes", help="e.g. 10GiB."),
    max_age: str | None = typer.Option(None, "--max-age", help="e.g. 72h or 7d."),
    description: str | None = typer.Option(None, "--description"),
    wait: bool = typer.Option(
        False, "--wait", "-w", help="Follow the operation until the mirror has caught up."
    ),
    as_json: bool = json_option(),
) -> None:
    """Create a mirror of a stream, as an operation that waits until it has caught up.

    Refused with the reason, before anything is made, when the source is missing, the name is
    taken, or the link between the clusters cannot carry it."""
    if storage is not None and storage not in ("file", "memory"):
        raise CliError(f"--storage: '{storage}' is not file or memory.")
    overrides = {
        "num_replicas": replicas,
        "storage": storage,
        "max_bytes": parse_size(max_bytes, "--max-bytes"),
        "max_age": go_duration(max_age, "--max-age"),
    }
    with connect() as api:
        source = api.cluster(source_cluster)
        target = api.cluster(target_cluster)
        name = target_stream or source_stream
        if source["id"] == target["id"] and name == source_stream:
            raise CliError(
                "A stream cannot mirror itself: give --target-stream another name, or "
                "another --target-cluster."
            )
        body: dict[str, Any] = {
            "source_cluster_id": source["id"],
            "source_stream": source_stream,
            "target_cluster_id": target["id"],
            "target_stream": name,
            "filter_subjects": split_values(filters) or [],
            "start": parse_start(start),
            "overrides": {k: v for k, v in overrides.items() if v is not None},
        }
        if description:
            body["description"] = description
        started = api.post(
            "/operations/mirror", body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        names = {source["id"]: source["name"], target["id"]: target["name"]}
        operations.start_and_follow(
            api,
            started,
            f"Creating mirror {target['name']}/{name} of {source['name']}/{source_stream}",
            f"mirror {name}",
            wait,
            as_json,
            names,
        )


@app.command("ls")
def list_mirrors(
    cluster: str | None = cluster_option(),
    pair: str | None = typer.Option(
        None, "--pair", help="Only this DR pair's mirrors (name or id)."
    ),
    as_json: bool = json_option(),
) -> None:
    """The console's mirrors (of a cluster, or a DR pair)."""
    with connect() as api:
        params: dict[str, Any] = {}
        if cluster:
            params["cluster_id"] = api.cluster(cluster)["id"]
        if pair:
            params["pair_id"] = api.dr_pair(pair)["id"]
        items = api.get("/mirrors", **params)["items"]
        names = api.cluster_names() if items and not as_json else {}
    if as_json:
        emit_json({"items": items})
        return
    table(
        ["SOURCE → MIRROR", "STATE", "FILTER", "AGE", "ID"],
        (
            [
                replication_cell(
                    where(names, m.get("source_cluster_id"), m.get("source_stream")),
                    where(names, m.get("target_cluster_id"), m.get("target_stream")),
                ),
                state_text(m.get("state")),
                ", ".join(m.get("filter_subjects") or []) or None,
                fmt_age(m.get("created_at")),
                short_id(m["id"]),
            ]
            for m in items
        ),
        empty="No mirrors. Create one with `jsc mirror create`.",
        keep=["SOURCE → MIRROR", "ID"],
    )


def _pause_or_resume(action: str, ref: str, cluster: str | None, as_json: bool) -> None:
    with connect() as api:
        mirror = resolve_mirror(api, ref, cluster)
        changed = api.post(f"/mirrors/{mirror['id']}/{action}")
        names = api.cluster_names() if not as_json else {}
    if as_json:
        emit_json(changed)
        return
    target = where(names, changed.get("target_cluster_id"), changed.get("target_stream"))
    if action == "pause":
        say(
            f"Replication into {target} is paused; it keeps what it has and catches up when "
            f"resumed (`jsc mirror resume {short_id(changed['id'])}`)."
        )
    else:
        say(f"Replication into {target} resumed; it is catching up.")


@app.command("pause")
def pause_mirror(
    mirror: str = typer.Argument(
        ..., metavar="MIRROR", help="Id, id prefix or mirror stream name."
    ),
    cluster: str | None = cluster_option(),
    as_json: bool = json_option(),
):
    """Pause replication into a mirror, reversibly (its consumer on the source is paused)."""
    _pause_or_resume("pause", mirror, cluster, as_json)


@app.command("resume")
def resume_mirror(
    mirror: str = typer.Argument(..., metavar="MIRROR"),
    cluster: str | None = cluster_option(),
    as_json: bool = json_option(),
):
    """Resume replication into a paused mirror; it catches up from where it stood."""
    _pause_or_resume("resume", mirror, cluster, as_json)


@app.command("rm")
def remove_mirror(
    mirror: str = typer.Argument(..., metavar="MIRROR"),
    cluster: str | None = cluster_option(),
    force: bool = force_option(),
    as_json: bool = json_option(),
):
    """Remove a mirror: its stream and the consumer feeding it (the source is not touched)."""
    with connect() as api:
        found = resolve_mirror(api, mirror, cluster)
        names = api.cluster_names()
        target = where(names, found.get("target_cluster_id"), found.get("target_stream"))
        confirm(f"Remove the mirror {target} (its stream and its consumer on the source)?", force)
        answer = api.delete(f"/mirrors/{found['id']}")
    if announce_pending(answer, as_json=as_json):
        return
    if as_json:
        emit_json({"removed": found["id"]})
    else:
        say(f"Mirror {target} removed.")
