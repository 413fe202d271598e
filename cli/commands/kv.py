"""``jsc kv ls|add|get|put|rm|history``: key-value buckets of a cluster and their keys.

``rm BUCKET`` (without a key) deletes the bucket, as ``nats kv del`` does. On a cluster whose
policy requires approval, creating or deleting a bucket only sends the change for approval."""

from __future__ import annotations

import sys

import typer

from cli.client import CliError
from cli.commands.messages import MAX_PAYLOAD, show_payload
from cli.common import (
    cluster_option,
    confirm,
    connect,
    force_option,
    go_duration,
    json_option,
    parse_size,
    payload_bytes,
    read_payload,
)
from cli.output import (
    Group,
    announce_pending,
    emit_json,
    fmt_bytes,
    fmt_count,
    fmt_ns,
    fmt_time,
    preview,
    say,
    table,
    view,
)

app = Group(help="Key-value buckets and their keys.")


def kv_path(cluster_id: str, bucket: str | None = None) -> str:
    return f"/clusters/{cluster_id}/kv" + (f"/{bucket}" if bucket else "")


@app.command("ls")
def list_kv(
    bucket: str | None = typer.Argument(
        None, help="A bucket: list its keys (without: list the buckets)."
    ),
    cluster: str | None = cluster_option(),
    filter: str = typer.Option(">", "--filter", help="Key filter, e.g. 'orders.*'."),
    as_json: bool = json_option(),
) -> None:
    """List the buckets, or the keys of one bucket."""
    with connect() as api:
        found = api.cluster(cluster)
        if bucket:
            keys = api.get(f"{kv_path(found['id'], bucket)}/keys", filter=filter)
        else:
            buckets = api.get(kv_path(found["id"]))["items"]
    if bucket:
        if as_json:
            emit_json(keys)
            return
        table(
            ["KEY"],
            ([k] for k in keys.get("items") or []),
            empty=f"No keys in bucket '{bucket}'"
            + (f" matching '{filter}'" if filter != ">" else "")
            + ".",
        )
        if keys.get("truncated"):
            say("(more keys: narrow with --filter)")
        return
    if as_json:
        emit_json({"items": buckets})
        return
    table(
        ["BUCKET", "KEYS", "VALUES", "BYTES", "HISTORY", "TTL", "STORAGE", "REPLICAS"],
        (
            [
                b["bucket"],
                fmt_count(b.get("keys")),
                fmt_count(b.get("values")),
                fmt_bytes(b.get("bytes")),
                b.get("history"),
                fmt_ns(b.get("ttl")),
                b.get("storage"),
                b.get("replicas"),
            ]
            for b in buckets
        ),
        empty=f"No KV buckets on {found['name']}.",
    )


@app.command("get")
def get_key(
    bucket: str = typer.Argument(..., help="The bucket."),
    key: str = typer.Argument(..., help="The key."),
    cluster: str | None = cluster_option(),
    revision: int | None = typer.Option(
        None, "--revision", min=1, help="A past revision (default: latest)."
    ),
    raw: bool = typer.Option(False, "--raw", help="Write only the value's exact bytes."),
    as_json: bool = json_option(),
) -> None:
    """A key's value (latest, or at a revision)."""
    with connect() as api:
        found = api.cluster(cluster)
        entry = api.get(
            f"{kv_path(found['id'], bucket)}/keys/{key}",
            revision=revision,
            payload_limit=MAX_PAYLOAD if raw else None,
        )
    if raw:
        data = payload_bytes(entry, "value")
        if hasattr(sys.stdout, "buffer"):
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data.decode("utf-8", "replace"))
        sys.stdout.flush()
        return
    if as_json:
        emit_json(entry)
        return
    view(
        [
            ("Bucket", bucket),
            ("Key", entry.get("key")),
            ("Revision", entry.get("revision")),
            ("Operation", entry.get("operation") if entry.get("operation") != "PUT" else None),
            ("Created", fmt_time(entry.get("created"))),
            ("Size", fmt_bytes(entry.get("size"))),
        ]
    )
    say("")
    show_payload({**entry, "payload": entry.get("value")})


@app.command("put")
def put_key(
    bucket: str = typer.Argument(..., help="The bucket."),
    key: str = typer.Argument(..., help="The key."),
    value: str | None = typer.Argument(
        None, help="The value; '-' or nothing (with piped input) reads stdin."
    ),
    cluster: str | None = cluster_option(),
    expected_revision: int | None = typer.Option(
        None,
        "--expect-revision",
        min=0,
        help="Only if the key is at this revision (0: only if it does not exist).",
    ),
    as_json: bool = json_option(),
) -> None:
    """Set a key's value."""
    data, encoding = read_payload(value)
    body = {"value": data, "encoding": encoding}
    if expected_revision is not None:
        body["expected_revision"] = expected_revision
    with connect() as api:
        found = api.cluster(cluster)
        result = api.put(f"{kv_path(found['id'], bucket)}/keys/{key}", body)
    if as_json:
        emit_json(result)
    else:
        say(f"{bucket}/{key} = revision {result.get('revision')}.")


@app.command("rm")
def delete_key(
    bucket: str = typer.Argument(..., help="The bucket."),
    key: str | None = typer.Argument(None, help="The key (without: delete the whole bucket)."),
    cluster: str | None = cluster_option(),
    purge: bool = typer.Option(False, "--purge", help="Also drop the key's history."),
    force: bool = force_option(),
) -> None:
    """Delete a key (its history is kept, unless --purge), or without a key the bucket."""
    with connect() as api:
        found = api.cluster(cluster)
        if key is None:
            if purge:
                raise CliError("--purge applies to a key; `jsc kv rm BUCKET` deletes the bucket.")
            confirm(f"Delete KV bucket '{bucket}' on {found['name']} with every key?", force)
            if announce_pending(api.delete(kv_path(found["id"], bucket))):
                return
            say(f"Bucket '{bucket}' deleted from {found['name']}.")
            return
        api.delete(f"{kv_path(found['id'], bucket)}/keys/{key}", purge=purge or None)
    say(f"{bucket}/{key} {'purged' if purge else 'deleted'}.")


@app.command("history")
def key_history(
    bucket: str = typer.Argument(..., help="The bucket."),
    key: str = typer.Argument(..., help="The key."),
    cluster: str | None = cluster_option(),
    as_json: bool = json_option(),
) -> None:
    """Every revision the bucket keeps of a key, oldest first."""
    with connect() as api:
        found = api.cluster(cluster)
        history = api.get(f"{kv_path(found['id'], bucket)}/history/{key}")
    if as_json:
        emit_json(history)
        return
    table(
        ["REV", "OPERATION", "CREATED", "SIZE", "VALUE"],
        (
            [
                e.get("revision"),
                e.get("operation"),
                fmt_time(e.get("created")),
                fmt_bytes(e.get("size")),
                preview(e.get("value"), e.get("encoding")) if e.get("operation") == "PUT" else None,
            ]
            for e in history.get("items") or []
        ),
    )


@app.command("add")
def add_bucket(
    bucket: str = typer.Argument(..., help="The new bucket's name."),
    cluster: str | None = cluster_option(),
    history: int = typer.Option(1, "--history", min=1, max=64, help="Revisions kept per key."),
    ttl: str | None = typer.Option(None, "--ttl", help="Expire values after this long (e.g. 24h)."),
    storage: str = typer.Option("file", "--storage", help="file or memory."),
    replicas: int = typer.Option(1, "--replicas", "-r", min=1, max=5),
    max_bytes: str | None = typer.Option(None, "--max-bytes", help="Size limit, e.g. 1GiB."),
    description: str | None = typer.Option(None, "--description"),
    as_json: bool = json_option(),
) -> None:
    """Create a bucket."""
    body = {
        "bucket": bucket,
        "history": history,
        "ttl": go_duration(ttl, "--ttl"),
        "storage": storage,
        "replicas": replicas,
        "max_bytes": parse_size(max_bytes, "--max-bytes"),
        "description": description,
    }
    with connect() as api:
        found = api.cluster(cluster)
        status = api.post(kv_path(found["id"]), {k: v for k, v in body.items() if v is not None})
    if announce_pending(status, as_json=as_json):
        return
    if as_json:
        emit_json(status)
    else:
        say(
            f"Bucket '{bucket}' created on {found['name']} (history {status.get('history')}, "
            f"{status.get('storage')} storage)."
        )
