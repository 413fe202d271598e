"""``jsc replay`` and ``jsc op ls|get|pause|resume|cancel``: long-running operations (Temporal
workflows behind the API), followed with a progress bar.

Following an operation polls ``GET /operations/{id}`` until it is completed, failed or cancelled.
Ctrl-C while following asks whether to cancel the operation or detach from it (it keeps running
on the server; ``jsc op get ID --wait`` follows it again). A replay that policy sends for approval
is only announced (``announce_pending``): no bar, nothing to follow until it is approved."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
)
from typer.core import TyperCommand

from cli.client import Api, CliError
from cli.common import cluster_option, connect, json_option, parse_when
from cli.output import (
    Group,
    announce_pending,
    console,
    emit_json,
    fail,
    fmt_bytes,
    fmt_count,
    fmt_seconds,
    fmt_time,
    handled,
    say,
    status_text,
    table,
    view,
)

FINISHED = ("completed", "failed", "cancelled")
POLL_S = 0.5
DEFAULT_REDRIVE_HEADER = "Nats-Original-Subject"

app = Group(
    help="Long-running operations (replays, mirrors, failovers): list, follow, pause, "
    "resume, cancel."
)
# type -> how its result is told (op, cluster names); other modules add theirs (mirror, failover)
REPORTERS: dict[str, Callable[[dict, dict[str, str]], None]] = {}


# -- following an operation --------------------------------------------------------------------


class _Bar:
    """A rich progress bar fed with the operation's ``progress``. Where the output is not a
    terminal (a log, a pipe) the bar is drawn once at the end, so a plain line is written every
    ``LOG_EVERY_S`` meanwhile."""

    LOG_EVERY_S = 10.0

    def __init__(self, label: str):
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[eta]}"),
            console=console,
            transient=False,
            refresh_per_second=8,
        )
        self.label = label
        self.task = self.progress.add_task(label, total=None, rate="", eta="")
        self.logged_at = time.monotonic()

    def __enter__(self) -> _Bar:
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def update(self, op: dict) -> None:
        p, status = op.get("progress") or {}, op.get("status", "pending")
        done, total = int(p.get("done") or 0), p.get("total")
        if status == "completed":  # the plan's total was an estimate: show what was done
            result = op.get("result") or {}
            done = int(result.get("replayed", result.get("count", done)) or 0)
            total = done + int(result.get("failed") or 0)
        rate, eta = p.get("rate_per_s"), p.get("eta_s")
        self.progress.update(
            self.task,
            completed=done,
            total=total,
            description=self.label if status == "running" else f"{self.label} ({status})",
            rate=f"{rate:,.0f} {p.get('unit', 'messages')}/s" if rate else "",
            eta=f"ETA {fmt_seconds(eta)}" if eta and status == "running" else "",
        )
        self.progress.refresh()
        if (
            not console.is_terminal
            and status not in FINISHED
            and time.monotonic() - self.logged_at >= self.LOG_EVERY_S
        ):
            self.logged_at = time.monotonic()
            say(
                f"{self.label}: {status}, {fmt_count(done)}/"
                f"{fmt_count(total) if total is not None else '?'}"
            )


def _ask_cancel(api: Api, op_id: str) -> bool:
    """After Ctrl-C: True to cancel the operation, False to detach."""
    while True:
        try:
            answer = (
                typer.prompt(
                    "\nCancel the operation, or detach and leave it running? (cancel/detach)",
                    default="detach",
                )
                .strip()
                .lower()
            )
        except (typer.Abort, EOFError, KeyboardInterrupt):
            return False
        if answer in ("c", "cancel"):
            break
        if answer in ("d", "detach"):
            return False
    try:
        api.post(f"/operations/{op_id}/cancel")
    except CliError as error:
        if error.status != 409:  # 409: it ended meanwhile; its end is shown below
            raise
    say("Cancellation requested; waiting for the operation to stop ...")
    return True


def follow(api: Api, op_id: str, label: str, *, show_bar: bool = True) -> dict | None:
    """Poll until the operation ends; None when the user detached."""
    bar = _Bar(label) if show_bar else None
    cancelling = False
    while True:
        try:
            if bar:
                bar.__enter__()
            try:
                while True:
                    op = api.get(f"/operations/{op_id}")
                    if bar:
                        bar.update(op)
                    if op.get("status") in FINISHED:
                        return op
                    time.sleep(POLL_S)
            finally:
                if bar:
                    bar.__exit__()
        except KeyboardInterrupt:
            if cancelling:
                say(f"Stopped waiting; the cancellation was requested. See `jsc op get {op_id}`.")
                return None
            if not _ask_cancel(api, op_id):
                say(
                    f"Detached: the operation keeps running. Follow it with "
                    f"`jsc op get {op_id} --wait`."
                )
                return None
            cancelling = True


def report(op: dict, *, as_json: bool = False, names: dict[str, str] | None = None) -> int:
    """Print how the operation ended; the exit status (0 only when completed). ``names``
    (cluster id -> name) lets a reporter print names for ids."""
    status = op.get("status")
    if as_json:
        emit_json(op)
        if status == "failed":
            fail(CliError(f"The operation failed: {op.get('error') or 'no reason given'}"))
        return 0 if status == "completed" else 1
    result = op.get("result") or {}
    if op.get("type") == "replay" and status == "completed" and "count" in result:
        say(
            f"Dry run: {fmt_count(result.get('count'))} messages "
            f"({fmt_bytes(result.get('bytes'))}) would be replayed"
            + (
                f", #{result['first_seq']}..#{result['last_seq']}"
                if result.get("first_seq")
                else ""
            )
            + (
                f", in about {fmt_seconds(result['estimated_duration_s'])}"
                if result.get("estimated_duration_s")
                else ""
            )
            + "."
        )
    elif op.get("type") == "replay" and "replayed" in result:
        verb = {"completed": "Replayed", "cancelled": "Cancelled after replaying"}.get(
            status, "Replayed"
        )
        say(
            f"{verb} {fmt_count(result.get('replayed'))} messages "
            f"({fmt_bytes(result.get('bytes'))}) of #{result.get('first_seq')}.."
            f"#{result.get('last_seq')}; {fmt_count(result.get('failed', 0))} failed."
        )
        for failure in result.get("failures") or []:
            say(f"  failed: {failure}")
    elif result and (reporter := REPORTERS.get(str(op.get("type")))) is not None:
        reporter(op, names or {})
    elif result:
        view(
            [(str(k), str(v) if isinstance(v, (dict, list)) else v) for k, v in result.items()],
            title="Result",
        )
    if status == "completed":
        return 0
    if status == "failed":
        fail(CliError(f"The operation failed: {op.get('error') or 'no reason given'}"))
    elif status == "cancelled":
        fail(CliError("The operation was cancelled."))
    return 1


# -- replay ------------------------------------------------------------------------------------


class ReplayCommand(TyperCommand):
    """``--redrive`` alone means the default header; ``--redrive HEADER`` names another."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        out: list[str] = []
        for i, arg in enumerate(args):
            out.append(arg)
            if arg == "--redrive" and (i + 1 == len(args) or args[i + 1].startswith("-")):
                out.append(DEFAULT_REDRIVE_HEADER)
        return super().parse_args(ctx, out)


def start_and_follow(
    api: Api, started: dict, what: str, label: str, wait: bool, as_json: bool, names: dict[str, str]
) -> None:
    """After an operation start's 202: announce the approval request or the operation, or (with
    ``wait``) follow it to its end and exit with its report's code."""
    if announce_pending(started, as_json=as_json):
        return
    op_id = started["id"]
    if not wait:
        if as_json:
            emit_json(started)
        else:
            say(f"{what}: operation {op_id}. Follow it with `jsc op get {op_id} --wait`.")
        return
    if not as_json:
        say(f"{what}: operation {op_id} (Ctrl-C to cancel or detach).")
    op = follow(api, op_id, label, show_bar=not as_json)
    if op is None:
        return
    raise typer.Exit(report(op, as_json=as_json, names=names))


@handled
def replay(
    cluster: str | None = cluster_option(),
    stream: str = typer.Option(..., "--stream", "-s", help="The source stream."),
    subjects: list[str] | None = typer.Option(
        None, "--subject", help="Only these subjects (repeat; wildcards allowed)."
    ),
    from_seq: int | None = typer.Option(None, "--from-seq", min=1, help="First sequence."),
    to_seq: int | None = typer.Option(None, "--to-seq", min=1, help="Last sequence (included)."),
    since: str | None = typer.Option(
        None, "--since", help="From this time (ISO 8601; no offset is UTC) or this long ago (2h)."
    ),
    until: str | None = typer.Option(None, "--until", help="Up to this time, or this long ago."),
    to_cluster: str | None = typer.Option(
        None, "--to-cluster", help="Destination cluster (default: the source's)."
    ),
    to_stream: str | None = typer.Option(
        None, "--to-stream", help="The stream that must store the copies (checked)."
    ),
    to_subject: str | None = typer.Option(
        None, "--to-subject", help="Publish every message to this subject."
    ),
    prefix: str | None = typer.Option(
        None, "--prefix", help="Publish to <prefix>.<original subject>."
    ),
    rate: float | None = typer.Option(
        None, "--rate", min=0.001, help="At most this many messages per second."
    ),
    redrive: str | None = typer.Option(
        None,
        "--redrive",
        metavar="[HEADER]",
        help="Dead-letter redrive: publish each message to "
        "the subject in this header (default "
        f"{DEFAULT_REDRIVE_HEADER}).",
    ),
    no_source_header: bool = typer.Option(
        False, "--no-source-header", help="Do not add Nats-Replay-Source."
    ),
    no_original_time: bool = typer.Option(
        False, "--no-original-time", help="Do not add the original time header."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count what would be replayed."),
    no_wait: bool = typer.Option(False, "--no-wait", help="Start it and return its id."),
    as_json: bool = json_option(),
) -> None:
    """Replay a stream's messages, following it with a progress bar.

    Copies a range of a stream (subjects, sequences, times) to one subject, under a prefix, to
    another stream or cluster, or back to their dead-letter origin (--redrive), as a durable
    operation. Ctrl-C asks whether to cancel it or detach. Exit status 0 only when completed."""
    if to_subject and prefix:
        raise CliError("Give --to-subject or --prefix, not both.")
    with connect() as api:
        source = api.cluster(cluster)
        destination: dict[str, Any] = {
            "cluster_id": api.cluster(to_cluster)["id"] if to_cluster else None,
            "stream": to_stream,
            "subject": to_subject,
            "subject_prefix": prefix,
        }
        body: dict[str, Any] = {
            "cluster_id": source["id"],
            "stream": stream,
            "subjects": subjects or [],
            "start_seq": from_seq,
            "end_seq": to_seq,
            "start_time": parse_when(since, "--since"),
            "end_time": parse_when(until, "--until"),
            "destination": {k: v for k, v in destination.items() if v is not None},
            "rate_limit": rate,
            "dry_run": dry_run,
            "redrive": {"header": redrive} if redrive else None,
            "add_source_header": not no_source_header,
            "keep_original_time": not no_original_time,
        }
        started = api.post(
            "/operations/replay",
            {k: v for k, v in body.items() if v is not None},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if announce_pending(started, as_json=as_json):
            return
        op_id = started["id"]
        if no_wait:
            if as_json:
                emit_json(started)
            else:
                say(
                    f"Replay started: operation {op_id}. Follow it with "
                    f"`jsc op get {op_id} --wait`."
                )
            return
        if not as_json:
            say(f"Replay started: operation {op_id} (Ctrl-C to cancel or detach).")
        op = follow(api, op_id, "dry run" if dry_run else f"replay {stream}", show_bar=not as_json)
    if op is None:
        return
    raise typer.Exit(report(op, as_json=as_json))


# -- op ----------------------------------------------------------------------------------------


def resolve_op(api: Api, ref: str) -> str:
    """A full operation id, from the id or a unique prefix of a recent one."""
    ref = ref.strip()
    try:
        return str(uuid.UUID(ref))
    except ValueError:
        pass
    matches = [
        o["id"]
        for o in api.get("/operations", limit=500)["items"]
        if o["id"].startswith(ref.lower())
    ]
    if len(matches) == 1:
        return matches[0]
    raise CliError(
        f"No recent operation id starts with '{ref}'."
        if not matches
        else f"'{ref}' matches {len(matches)} operations; give more of the id."
    )


def _progress_text(op: dict) -> str | None:
    p = op.get("progress") or {}
    if p.get("done") is None and p.get("total") is None:
        return None
    total = p.get("total")
    return f"{fmt_count(p.get('done') or 0)}/{fmt_count(total) if total is not None else '?'}"


@app.command("ls")
def list_operations(
    status: str | None = typer.Option(
        None, "--status", help="pending, running, paused, completed, failed, cancelled, ..."
    ),
    type: str | None = typer.Option(None, "--type", help="replay, mirror or failover."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=500),
    as_json: bool = json_option(),
) -> None:
    """List the latest operations of your organization."""
    with connect() as api:
        items = api.get("/operations", status=status, type=type, limit=limit)["items"]
    if as_json:
        emit_json({"items": items})
        return
    table(
        ["ID", "TYPE", "STATUS", "PROGRESS", "STARTED", "FINISHED"],
        (
            [
                o["id"],
                o.get("type"),
                status_text(o.get("status")),
                _progress_text(o),
                fmt_time(o.get("started_at")),
                fmt_time(o.get("finished_at")),
            ]
            for o in items
        ),
        empty="No operations.",
    )


@app.command("get")
def get_operation(
    op: str = typer.Argument(..., metavar="ID", help="The id (or a unique prefix)."),
    wait: bool = typer.Option(
        False, "--wait", "-w", help="Follow it with a progress bar until it ends."
    ),
    as_json: bool = json_option(),
) -> None:
    """An operation's status, progress and result."""
    with connect() as api:
        op_id = resolve_op(api, op)
        found = api.get(f"/operations/{op_id}")
        if wait and found.get("status") not in FINISHED:
            label = " ".join(
                filter(
                    None, [found.get("type", "operation"), (found.get("input") or {}).get("stream")]
                )
            )
            found = follow(api, op_id, label, show_bar=not as_json)
            if found is None:
                return
    if wait:
        raise typer.Exit(report(found, as_json=as_json))
    if as_json:
        emit_json(found)
        return
    p = found.get("progress") or {}
    view(
        [
            ("Id", found["id"]),
            ("Type", found.get("type")),
            ("Status", status_text(found.get("status"))),
            ("Progress", _progress_text(found)),
            (
                "Rate",
                f"{p['rate_per_s']:,.0f} {p.get('unit', '')}/s" if p.get("rate_per_s") else None,
            ),
            ("ETA", fmt_seconds(p.get("eta_s")) if found.get("status") == "running" else None),
            ("Started", fmt_time(found.get("started_at"))),
            ("Finished", fmt_time(found.get("finished_at"))),
            ("Error", found.get("error")),
            ("Workflow", found.get("workflow_id")),
        ]
    )
    if found.get("result"):
        say("")
        report(found)


def _control(action: str, op: str, as_json: bool) -> None:
    with connect() as api:
        op_id = resolve_op(api, op)
        found = api.post(f"/operations/{op_id}/{action}")
    if as_json:
        emit_json(found)
    else:
        say(
            {"pause": "Pause", "resume": "Resume", "cancel": "Cancellation"}[action]
            + f" requested for operation {op_id}; it takes effect between chunks."
        )


@app.command("pause")
def pause_operation(op: str = typer.Argument(..., metavar="ID"), as_json: bool = json_option()):
    """Pause a running operation (between chunks)."""
    _control("pause", op, as_json)


@app.command("resume")
def resume_operation(op: str = typer.Argument(..., metavar="ID"), as_json: bool = json_option()):
    """Resume a paused operation."""
    _control("resume", op, as_json)


@app.command("cancel")
def cancel_operation(op: str = typer.Argument(..., metavar="ID"), as_json: bool = json_option()):
    """Cancel an operation; what it did so far is kept and reported."""
    _control("cancel", op, as_json)
