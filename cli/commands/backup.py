"""``jsc backup create|ls|show|restore|schedules``: backups of streams (the server's own snapshot,
or the messages since the previous backup), kept in an object store of another cluster or in a
directory under the console's backup root, each verified right after it by a test restore.

``create`` and ``restore`` start operations; ``--wait`` follows them with a progress bar (bytes)
and says what they did. A restore over an existing stream (``--replace``) backs its data up first;
on a production cluster it is sent for approval instead (announced, nothing to follow yet). A
backup is named by its id or a unique id prefix (``jsc backup ls`` shows them)."""

from __future__ import annotations

import uuid
from typing import Any

import typer

from cli.client import Api, CliError
from cli.commands import operations
from cli.common import cluster_option, connect, json_option, parse_when, split_values
from cli.output import (
    Group,
    emit_json,
    fmt_bytes,
    fmt_count,
    fmt_seconds,
    fmt_time,
    say,
    short_id,
    table,
    view,
)

app = Group(help="Backups of streams: create (verified), list, show, restore, schedules.")

KINDS = ("full", "incremental")
STATUS_WORDS = {
    "verified": "✔ verified",
    "verification_failed": "✖ verify failed",
    "pending": "… pending",
    "running": "▶ running",
    "failed": "✖ failed",
}


# -- parsing -----------------------------------------------------------------------------------


def parse_target(
    target_cluster: dict | None, bucket: str | None, directory: str | None
) -> dict | None:
    """``--target-cluster T [--bucket B]`` or ``--directory D``; None for the API's default."""
    if directory and (target_cluster or bucket):
        raise CliError("Give either --target-cluster (with --bucket) or --directory, not both.")
    if bucket and not target_cluster:
        raise CliError("--bucket names a bucket of --target-cluster: give --target-cluster too.")
    if directory:
        return {"directory": directory}
    if target_cluster:
        return {"cluster_id": target_cluster["id"], **({"bucket": bucket} if bucket else {})}
    return None


def parse_point(value: str | None) -> Any:
    """``backup`` (default), ``latest``, or a time (ISO 8601, or a duration ago like 2h)."""
    text = (value or "backup").strip()
    if text.lower() in ("backup", "latest"):
        return text.lower()
    return {"time": parse_when(text, "--point")}


def status_key(backup: dict) -> str:
    status = backup.get("status")
    if status in ("running", "failed"):
        return status
    verification = (backup.get("verification") or {}).get("status")
    return {"verified": "verified", "failed": "verification_failed"}.get(verification, "pending")


def target_text(target: dict | None, names: dict[str, str]) -> str:
    if not target:
        return "the default target"
    if target.get("directory"):
        return f"directory {target['directory']}"
    cluster = str(target.get("cluster_id") or "")
    return f"{names.get(cluster, short_id(cluster))}/{target.get('bucket') or 'jsc-backups'}"


def cadence_text(cadence: dict | None) -> str | None:
    if not cadence:
        return None
    when = f"cron {cadence['cron']} UTC" if cadence.get("cron") else f"every {cadence.get('every')}"
    return f"{when}, kept {float(cadence.get('retention_days') or 0):g}d"


# -- lookups -----------------------------------------------------------------------------------


def resolve_backup(api: Api, ref: str) -> dict:
    """A backup by id or unique id prefix (of the newest backups)."""
    ref = ref.strip()
    try:
        return api.get(f"/backups/{uuid.UUID(ref)}")
    except ValueError:
        pass
    if len(ref) < 4:
        raise CliError(
            f"'{ref}' is too short to name a backup: give at least 4 characters of "
            "its id (`jsc backup ls`)."
        )
    found = [
        b for b in api.get("/backups", limit=500)["items"] if str(b["id"]).startswith(ref.lower())
    ]
    if len(found) == 1:
        return found[0]
    if found:
        raise CliError(f"'{ref}' starts {len(found)} backup ids; give more of it.")
    raise CliError(f"No backup '{ref}' in your organization. `jsc backup ls` lists them.")


# -- results of the operations -----------------------------------------------------------------


def report_backup(op: dict, names: dict[str, str]) -> None:
    result = op.get("result") or {}
    items = result.get("streams") or []
    messages = sum(int(i.get("messages") or 0) for i in items)
    say(
        f"Backup {short_id(result.get('backup_id'))} ({result.get('kind', 'full')}): "
        f"{len(items)} stream(s), {fmt_count(messages)} messages, "
        f"{fmt_bytes(result.get('size_bytes') or 0)} stored in "
        f"{fmt_seconds(result.get('duration_s')) or '0s'}."
    )
    for item in items:
        say(
            f"  {item.get('stream')}: {item.get('kind')}, #{item.get('first_seq')}.."
            f"#{item.get('last_seq')}, {fmt_count(item.get('messages') or 0)} messages"
            + (
                " (no earlier backup of it: taken fully)"
                if result.get("kind") == "incremental" and item.get("kind") == "full"
                else ""
            )
        )
    verification = result.get("verification") or {}
    if verification.get("status") == "verified":
        say("Verification: verified (restored and compared with the source).")
    elif verification.get("status") == "failed":
        say(
            f"Verification FAILED: {verification.get('details') or 'no details'}. Do not rely "
            "on this backup; verify it again or take another."
        )
    elif verification:
        say(f"Verification: {verification.get('status')}.")


def report_restore(op: dict, names: dict[str, str]) -> None:
    r = op.get("result") or {}
    where = (
        f"{names.get(str(r.get('cluster_id')), short_id(r.get('cluster_id')))}/"
        f"{r.get('stream_name')}"
    )
    consumers = r.get("consumers") or []
    say(
        f"Restored {where}: {fmt_count(r.get('messages') or 0)} messages "
        f"(#{r.get('first_seq')}..#{r.get('last_seq')}), {len(consumers)} consumer(s)"
        + (f": {', '.join(consumers)}" if consumers else "")
        + "."
    )
    if len(r.get("chain") or []) > 1:
        say(
            f"  From a chain of {len(r['chain'])} backups: "
            + " → ".join(short_id(b) for b in r["chain"])
        )
    if r.get("set_aside_backup_id"):
        say(
            f"  The stream's previous data was backed up first: backup "
            f"{short_id(r['set_aside_backup_id'])} (`jsc backup show "
            f"{r['set_aside_backup_id']}`)."
        )


operations.REPORTERS["backup"] = report_backup
operations.REPORTERS["backup_verify"] = report_backup
operations.REPORTERS["restore"] = report_restore


# -- commands ----------------------------------------------------------------------------------


@app.command("create")
def create_backup(
    cluster: str | None = cluster_option(),
    streams: list[str] | None = typer.Option(
        None, "--stream", "-s", help="A stream to back up (repeat; default: all)."
    ),
    all_streams: bool = typer.Option(False, "--all", help="Every stream of the cluster."),
    kind: str = typer.Option(
        "full",
        "--kind",
        help="full, or incremental (the messages since the previous backup of each stream).",
    ),
    target_cluster: str | None = typer.Option(
        None, "--target-cluster", help="Keep it in this cluster's object store (name or id)."
    ),
    bucket: str | None = typer.Option(
        None, "--bucket", help="The object store bucket (default jsc-backups)."
    ),
    directory: str | None = typer.Option(
        None, "--directory", help="Keep it in this directory under the backup root instead."
    ),
    wait: bool = typer.Option(
        False,
        "--wait",
        "-w",
        help="Follow the operation to the end (the backup, then its verification).",
    ),
    as_json: bool = json_option(),
) -> None:
    """Back up streams of a cluster, then verify the backup by restoring it aside.

    Without a target it goes to another registered cluster's object store (the one named dr
    first), so a backup never lives only beside what it protects."""
    if kind not in KINDS:
        raise CliError(f"--kind: '{kind}' is not full or incremental.")
    names_given = split_values(streams) or []
    if names_given and all_streams:
        raise CliError("Give --stream or --all, not both.")
    with connect() as api:
        source = api.cluster(cluster)
        target_c = api.cluster(target_cluster) if target_cluster else None
        target = parse_target(target_c, bucket, directory)
        body: dict[str, Any] = {
            "cluster_id": source["id"],
            "streams": names_given or "all",
            "kind": kind,
        }
        if target is not None:
            body["target"] = target
        started = api.post(
            "/operations/backup", body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        names = api.cluster_names() if not as_json else {}
        what = (
            f"{kind.capitalize()} backup of "
            f"{', '.join(names_given) if names_given else 'all streams'} of {source['name']}"
            + (f" to {target_text(target, names)}" if target else "")
        )
        if started.get("backup_id"):
            what += f" (backup {short_id(started['backup_id'])})"
        operations.start_and_follow(api, started, what, "backup", wait, as_json, names)


@app.command("ls")
def list_backups(
    cluster: str | None = cluster_option(),
    stream: str | None = typer.Option(
        None, "--stream", "-s", help="Only backups holding this stream."
    ),
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=500),
    as_json: bool = json_option(),
) -> None:
    """The backups, newest first: kind, time, size stored, streams, verification, duration."""
    with connect() as api:
        params: dict[str, Any] = {"limit": limit, "stream": stream}
        if cluster:
            params["cluster_id"] = api.cluster(cluster)["id"]
        items = api.get("/backups", **params)["items"]
    if as_json:
        emit_json({"items": items})
        return
    table(
        ["ID", "KIND", "TIME", "SIZE", "STREAMS", "STATUS", "TOOK"],
        (
            [
                short_id(b["id"]),
                "incr" if b.get("kind") == "incremental" else "full",
                (fmt_time(b.get("started_at") or b.get("created_at")) or "")[:16],
                fmt_bytes(b.get("size_bytes")) if b.get("status") != "running" else None,
                b.get("stream_count"),
                STATUS_WORDS[status_key(b)],
                fmt_seconds(b.get("duration_s")),
            ]
            for b in items
        ),
        empty="No backups. Take one with `jsc backup create`.",
        keep=["ID"],
    )


@app.command("show")
def show_backup(
    backup: str = typer.Argument(..., metavar="ID", help="Id or unique id prefix."),
    as_json: bool = json_option(),
) -> None:
    """One backup: where it is kept, its streams, its chain and its verification."""
    with connect() as api:
        found = resolve_backup(api, backup)
        names = api.cluster_names() if not as_json else {}
    if as_json:
        emit_json(found)
        return
    verification = found.get("verification") or {}
    view(
        [
            ("ID", found["id"]),
            ("Cluster", names.get(str(found.get("cluster_id")), short_id(found.get("cluster_id")))),
            ("Kind", found.get("kind")),
            ("Why", found.get("reason")),
            ("Kept in", target_text(found.get("target"), names)),
            ("Status", STATUS_WORDS[status_key(found)]),
            ("Error", found.get("error")),
            ("Started", fmt_time(found.get("started_at"))),
            ("Took", fmt_seconds(found.get("duration_s"))),
            ("Stored", fmt_bytes(found.get("size_bytes"))),
            ("Source size", fmt_bytes(found.get("source_bytes"))),
            ("Messages", fmt_count(found.get("message_count"))),
            ("Chain", " → ".join(short_id(b) for b in found.get("chain") or []) or None),
            ("Verified at", fmt_time(verification.get("checked_at"))),
            (
                "Verification",
                str(verification.get("details"))
                if verification.get("status") == "failed" and verification.get("details")
                else None,
            ),
        ]
    )
    table(
        ["STREAM", "KIND", "SEQ", "MESSAGES", "SIZE", "CONSUMERS"],
        (
            [
                s.get("stream"),
                s.get("kind"),
                f"{s.get('first_seq')}..{s.get('last_seq')}",
                fmt_count(s.get("messages")),
                fmt_bytes(s.get("stored_bytes")),
                len(s.get("consumers") or []),
            ]
            for s in found.get("streams") or []
        ),
        empty="No stream in this backup.",
        keep=["STREAM"],
    )


@app.command("restore")
def restore_backup(
    backup: str = typer.Argument(..., metavar="BACKUP_ID", help="Id or unique id prefix."),
    to_cluster: str = typer.Option(
        ..., "--to-cluster", help="Restore into this cluster (name or id)."
    ),
    to_stream: str = typer.Option(..., "--to-stream", help="The restored stream's name."),
    stream: str | None = typer.Option(
        None, "--stream", "-s", help="Which stream of the backup (needed when it holds several)."
    ),
    subjects: list[str] | None = typer.Option(
        None,
        "--subject",
        help="The restored stream's subjects (repeat), when the original ones are taken there.",
    ),
    replace: bool = typer.Option(
        False,
        "--replace",
        help="Restore over an existing stream "
        "of that name: its data is backed up first; production "
        "waits for approval.",
    ),
    point: str | None = typer.Option(
        None,
        "--point",
        help="latest (the newest backup of "
        "its chain), or a time (ISO 8601, or 2h ago); "
        "default: this backup.",
    ),
    wait: bool = typer.Option(False, "--wait", "-w", help="Follow the restore to the end."),
    as_json: bool = json_option(),
) -> None:
    """Restore a stream from a backup, into a new stream (or over one with --replace)."""
    at = parse_point(point)
    with connect() as api:
        found = resolve_backup(api, backup)
        target = api.cluster(to_cluster)
        to: dict[str, Any] = {
            "cluster_id": target["id"],
            "stream_name": to_stream,
            "replace": replace,
        }
        if subject_list := split_values(subjects):
            to["subjects"] = subject_list
        body: dict[str, Any] = {"backup_id": found["id"], "to": to, "point": at}
        if stream:
            body["stream"] = stream
        if replace and not as_json:
            say(
                f"{target['name']}/{to_stream} is replaced: its current data is backed up "
                "first, then it is deleted and restored."
            )
        started = api.post(
            "/operations/restore", body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        names = api.cluster_names() if not as_json else {}
        what = (
            f"Restore of backup {short_id(found['id'])}"
            + (f" ({stream})" if stream else "")
            + f" into {target['name']}/{to_stream}"
        )
        operations.start_and_follow(api, started, what, "restore", wait, as_json, names)


@app.command("schedules")
def list_schedules(as_json: bool = json_option()) -> None:
    """The backup schedules: what they back up, when, where, and how long backups are kept."""
    with connect() as api:
        items = api.get("/backup-schedules")["items"]
        names = api.cluster_names() if items and not as_json else {}
    if as_json:
        emit_json({"items": items})
        return
    table(
        ["NAME", "CLUSTER", "FULL / INCREMENTAL", "TARGET", "ON"],
        (
            [
                s.get("name"),
                names.get(str(s.get("cluster_id")), short_id(s.get("cluster_id"))),
                "\n".join(
                    filter(None, (cadence_text(s.get("full")), cadence_text(s.get("incremental"))))
                ),
                target_text(s.get("target"), names),
                bool(s.get("enabled")),
            ]
            for s in items
        ),
        empty="No backup schedules.",
        keep=["NAME"],
    )
