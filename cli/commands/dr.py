"""``jsc dr pair create|ls|show|delete``, ``jsc dr status`` and ``jsc failover``: disaster
recovery over mirrors.

A DR pair records which streams of a primary cluster are protected by which mirrors on a standby,
with the RPO and RTO the team aims for. ``jsc dr status`` prints the replication map (every
mirror and source found on the clusters, with its lag and status) and, per pair, whether the RPO
holds now and how many messages a failover would lose now. ``jsc failover PAIR`` says that risk
before asking to go on, then fails over (or, with ``--drill``, rehearses it on temporary copies)
as an operation; ``--wait`` prints each step as it happens and the RTO and loss it measured."""

from __future__ import annotations

import time
from typing import Any

import typer
from rich.text import Text

from cli.client import Api, CliError
from cli.commands import operations
from cli.commands.mirror import replication_cell, where
from cli.common import cluster_option, confirm, connect, force_option, json_option
from cli.output import (
    Group,
    announce_pending,
    console,
    emit_json,
    fail,
    fmt_age,
    fmt_count,
    fmt_seconds,
    fmt_time,
    handled,
    say,
    short_id,
    table,
    view,
)

app = Group(help="Disaster recovery: DR pairs and the replication status.")
pair_app = Group(help="DR pairs: which streams of a primary are protected by which mirrors.")
app.add_typer(pair_app, name="pair")

EDGE_STYLES = {
    "in_sync": "green",
    "behind": "yellow",
    "paused": "yellow",
    "stalled": "red",
    "broken_link": "red",
    "error": "red",
    "unknown": "dim",
}
STEP_MARKS = {"running": "▶", "done": "✔", "failed": "✖", "skipped": "–", "pending": "○"}
POLL_S = 0.5


def edge_status(status: str | None) -> Text:
    status = status or "unknown"
    return Text(status.replace("_", " "), style=EDGE_STYLES.get(status, ""))


def fmt_s(seconds: Any) -> str | None:
    """A measured time: ``12ms``, ``1.2s``, ``2m5s``."""
    return None if seconds is None else fmt_seconds(float(seconds))


def drill_text(drill: dict | None) -> str | None:
    """``RTO 1.2s, RPO 0, 3d ago`` (None when there was none)."""
    if not drill:
        return None
    rpo = drill.get("rpo_messages", drill.get("data_loss_messages"))
    parts = [f"RTO {fmt_s(drill.get('rto_s')) or '?'}"]
    if rpo is not None:
        parts.append(f"RPO {fmt_count(rpo)}")
    age = fmt_age(drill.get("at"))
    if age:
        parts.append("just now" if age in ("0s", "1s", "2s", "3s", "4s") else f"{age} ago")
    text = ", ".join(parts)
    return text + (" (failed)" if drill.get("ok") is False else "")


def rpo_text(pair: dict) -> Text:
    ok = pair.get("rpo_ok")
    if ok is None:
        return Text("unknown", style="dim")
    return Text("holds", style="green") if ok else Text("NOT MET", style="red")


def passive_side(pair: dict) -> str:
    active = str(pair.get("active_cluster_id") or pair["primary_cluster_id"])
    return (
        str(pair["standby_cluster_id"])
        if active != str(pair["standby_cluster_id"])
        else str(pair["primary_cluster_id"])
    )


def _pair_health(api: Api, pair_id: str) -> tuple[dict | None, list[dict]]:
    """The pair as the replication map sees it now, and its edges."""
    rmap = api.get("/replication")
    health = next((p for p in rmap.get("pairs") or [] if str(p["id"]) == str(pair_id)), None)
    edges = [e for e in rmap.get("edges") or [] if str(e.get("pair_id")) == str(pair_id)]
    return health, edges


def risk_sentence(target: str, health: dict | None) -> str:
    """What failing over to ``target`` (a name) would lose now."""
    if health is None or health.get("data_at_risk_messages") is None:
        return f"Data-loss risk now: unknown (the replication to {target} could not be measured)."
    at_risk = int(health["data_at_risk_messages"])
    lag = (
        f" (worst lag {fmt_s(health['worst_lag_seconds'])})"
        if health.get("worst_lag_seconds") is not None
        else ""
    )
    if at_risk == 0:
        return f"Data-loss risk now: none, every message is on {target}{lag}."
    return (
        f"Data-loss risk now: {at_risk:,} messages not yet on {target}{lag}. A planned "
        "failover fences the primary and waits for them; --emergency loses them."
    )


# -- jsc dr status -----------------------------------------------------------------------------


@app.command("status")
def status(cluster: str | None = cluster_option(), as_json: bool = json_option()) -> None:
    """The replication map: every mirror and source with its lag and status, and the DR pairs
    with whether their RPO holds now."""
    with connect() as api:
        params = {"cluster_id": api.cluster(cluster)["id"]} if cluster else {}
        rmap = api.get("/replication", **params)
    if as_json:
        emit_json(rmap)
        return
    names = {str(c["id"]): c["name"] for c in rmap.get("clusters") or []}
    for c in rmap.get("clusters") or []:
        if not c.get("reachable"):
            say(f"! {c['name']} cannot be reached: {c.get('error') or 'no answer'}")
    edges = rmap.get("edges") or []
    table(
        ["SOURCE → TARGET", "KIND", "LAG", "LAG S", "RATE/S", "STATUS"],
        (
            [
                replication_cell(
                    _source(e, names),
                    where(names, e.get("target_cluster_id"), e.get("target_stream")),
                ),
                e.get("kind"),
                fmt_count(e.get("lag_messages")),
                fmt_s(e.get("lag_seconds")),
                fmt_count(round(e["catch_up_rate_per_s"]))
                if e.get("catch_up_rate_per_s") is not None
                else None,
                edge_status(e.get("status")),
            ]
            for e in edges
        ),
        title="Replication",
        empty="No mirror or source found on these clusters.",
        keep=["SOURCE → TARGET", "STATUS"],
    )
    for e in edges:
        if e.get("error") and e.get("status") != "in_sync":
            console.print(Text(f"  {e.get('target_stream')}: {e['error']}"))  # wrapped
    pairs = rmap.get("pairs") or []
    if pairs:
        say("")
        table(
            ["PAIR", "ACTIVE", "RPO", "RPO NOW", "AT RISK", "LAST DRILL"],
            (
                [
                    p["name"],
                    names.get(
                        str(p.get("active_cluster_id")), short_id(p.get("active_cluster_id"))
                    ),
                    fmt_s(p.get("rpo_seconds")),
                    rpo_text(p),
                    fmt_count(p.get("data_at_risk_messages")),
                    drill_text(p.get("last_drill")),
                ]
                for p in pairs
            ),
            title="DR pairs",
            keep=["PAIR"],
        )


def _source(edge: dict, names: dict[str, str]) -> str:
    if edge.get("source_cluster_id"):
        return where(names, edge["source_cluster_id"], edge.get("source_stream"))
    return f"{edge.get('source_domain') or '?'}:{edge.get('source_stream')}"


# -- jsc dr pair ... ---------------------------------------------------------------------------


def parse_pair_streams(values: list[str]) -> list[dict]:
    """``ORDERS`` or ``ORDERS=ORDERS_DR`` (repeatable, or comma-separated)."""
    streams = []
    for item in values:
        for part in (p.strip() for p in item.split(",")):
            if not part:
                continue
            stream, sep, mirror = (x.strip() for x in part.partition("="))
            if not stream or (sep and not mirror):
                raise CliError(f"--stream: '{part}' is not STREAM or STREAM=MIRROR.")
            streams.append({"stream": stream, **({"mirror_stream": mirror} if mirror else {})})
    if not streams:
        raise CliError("Give at least one --stream of the primary to protect.")
    return streams


@pair_app.command("create")
def create_pair(
    name: str = typer.Argument(..., help="The pair's name, e.g. orders-dr."),
    primary: str = typer.Option(..., "--primary", help="The primary cluster (name or id)."),
    standby: str = typer.Option(..., "--standby", help="The standby cluster (name or id)."),
    streams: list[str] = typer.Option(..., "--stream", help="STREAM or STREAM=MIRROR (repeat)."),
    rpo: float = typer.Option(5, "--rpo", min=0.001, help="RPO objective, seconds."),
    rto: float = typer.Option(30, "--rto", min=0.001, help="RTO objective, seconds."),
    no_mirrors: bool = typer.Option(
        False, "--no-create-mirrors", help="Do not create the mirrors still missing on the standby."
    ),
    description: str | None = typer.Option(None, "--description"),
    wait: bool = typer.Option(
        False, "--wait", "-w", help="Follow the creation of the missing mirrors."
    ),
    as_json: bool = json_option(),
) -> None:
    """Create a DR pair (and, unless told not to, the mirrors it still lacks, as one operation)."""
    with connect() as api:
        first, second = api.cluster(primary), api.cluster(standby)
        if first["id"] == second["id"]:
            raise CliError("The standby must be another cluster than the primary.")
        body = {
            "name": name,
            "primary_cluster_id": first["id"],
            "standby_cluster_id": second["id"],
            "streams": parse_pair_streams(streams),
            "rpo_seconds": rpo,
            "rto_seconds": rto,
            "create_missing_mirrors": not no_mirrors,
            "description": description or "",
        }
        pair = api.post("/dr/pairs", body)
        op_id = pair.get("operation_id")
        if not as_json:
            say(
                f"DR pair {pair['name']} created ({pair['id']}): {first['name']} -> "
                f"{second['name']}, {len(pair.get('streams') or [])} stream(s), RPO "
                f"{fmt_s(pair.get('rpo_seconds'))}, RTO {fmt_s(pair.get('rto_seconds'))}."
            )
            if pair.get("approval"):
                announce_pending(pair["approval"])
            elif op_id:
                say(
                    f"Creating the missing mirrors: operation {op_id}"
                    + ("." if wait else f". Follow it with `jsc op get {op_id} --wait`.")
                )
        op = None
        if wait and op_id and not pair.get("approval"):
            op = _follow_when_started(api, op_id, f"mirrors of {name}", show_bar=not as_json)
    if as_json:
        emit_json({**pair, **({"operation": op} if op else {})})
        return
    if op is not None:
        raise typer.Exit(
            operations.report(op, names={first["id"]: first["name"], second["id"]: second["name"]})
        )


def _follow_when_started(api: Api, op_id: str, label: str, show_bar: bool) -> dict | None:
    """Follow an operation; one that waits for approval does not exist yet: say so."""
    try:
        api.get(f"/operations/{op_id}")
    except CliError as error:
        if error.status != 404:
            raise
        say("It waits for approval (`jsc approval ls`); it starts once approved.")
        return None
    return operations.follow(api, op_id, label, show_bar=show_bar)


@pair_app.command("ls")
def list_pairs(as_json: bool = json_option()) -> None:
    """The DR pairs, with their objectives and last drill."""
    with connect() as api:
        pairs = api.get("/dr/pairs")["items"]
        names = api.cluster_names() if pairs and not as_json else {}
    if as_json:
        emit_json({"items": pairs})
        return
    table(
        ["NAME", "PRIMARY → STANDBY", "STREAMS", "RPO", "RTO", "LAST DRILL"],
        (
            [
                p["name"],
                _sides(p, names),
                len(p.get("streams") or []),
                fmt_s(p.get("rpo_seconds")),
                fmt_s(p.get("rto_seconds")),
                drill_text(p.get("last_drill")),
            ]
            for p in pairs
        ),
        empty="No DR pairs. Create one with `jsc dr pair create`.",
        keep=["NAME"],
    )
    if pairs:
        say("* the active side (where clients write now)")


def _sides(pair: dict, names: dict[str, str]) -> str:
    active = str(pair.get("active_cluster_id") or pair["primary_cluster_id"])
    sides = [
        (str(pair[k]), names.get(str(pair[k]), "?"))
        for k in ("primary_cluster_id", "standby_cluster_id")
    ]
    return " → ".join(name + ("*" if cid == active else "") for cid, name in sides)


@pair_app.command("show")
def show_pair(
    pair: str = typer.Argument(..., metavar="PAIR", help="Name or id."),
    as_json: bool = json_option(),
) -> None:
    """A pair: its clusters, objectives, whether the RPO holds now, its streams' lag, and the
    last drill and failover."""
    with connect() as api:
        found = api.dr_pair(pair)
        health, edges = _pair_health(api, found["id"])
        names = api.cluster_names()
    if as_json:
        emit_json({**found, "health": health, "edges": edges})
        return
    view(
        [
            ("Name", found["name"]),
            ("Id", found["id"]),
            ("Description", found.get("description") or None),
            ("Primary", names.get(str(found["primary_cluster_id"]), "?")),
            ("Standby", names.get(str(found["standby_cluster_id"]), "?")),
            ("Active", names.get(str(found.get("active_cluster_id")), "?")),
            ("RPO objective", fmt_s(found.get("rpo_seconds"))),
            ("RPO now", rpo_text(health or {})),
            ("RTO objective", fmt_s(found.get("rto_seconds"))),
            ("At risk now", fmt_count((health or {}).get("data_at_risk_messages"))),
            ("Worst lag", fmt_s((health or {}).get("worst_lag_seconds"))),
            ("Last drill", drill_text(found.get("last_drill")) or "none"),
            ("Last failover", drill_text(found.get("last_failover")) or "none"),
            ("Created", fmt_time(found.get("created_at"))),
        ],
        title="DR pair",
    )
    by_target = {(e.get("source_stream"), e.get("target_stream")): e for e in edges}
    rows = []
    for s in found.get("streams") or []:
        mirror = s.get("mirror_stream") or s["stream"]
        edge = (
            by_target.get((s["stream"], mirror))
            or next(
                (
                    e
                    for e in edges
                    if {e.get("source_stream"), e.get("target_stream")} & {s["stream"], mirror}
                ),
                None,
            )
            or {}
        )
        rows.append(
            [
                s["stream"],
                mirror,
                fmt_count(edge.get("lag_messages")),
                fmt_s(edge.get("lag_seconds")),
                edge_status(edge.get("status")) if edge else Text("no mirror found", style="red"),
            ]
        )
    say("")
    table(
        ["STREAM", "MIRROR", "LAG", "LAG S", "STATUS"],
        rows,
        title="Streams",
        keep=["STREAM", "MIRROR"],
    )


@pair_app.command("delete")
def delete_pair(
    pair: str = typer.Argument(..., metavar="PAIR"),
    force: bool = force_option(),
    as_json: bool = json_option(),
) -> None:
    """Forget a DR pair; its mirrors stay and keep replicating."""
    with connect() as api:
        found = api.dr_pair(pair)
        confirm(f"Delete the DR pair {found['name']}? Its mirrors stay.", force)
        api.delete(f"/dr/pairs/{found['id']}")
    if as_json:
        emit_json({"deleted": found["id"]})
    else:
        say(f"DR pair {found['name']} deleted; its mirrors stay.")


# -- jsc failover ------------------------------------------------------------------------------


def report_failover(op: dict, names: dict[str, str]) -> None:
    result = op.get("result") or {}
    drill = bool(result.get("drill") or ((op.get("input") or {}).get("request") or {}).get("drill"))
    emergency = result.get("mode") == "emergency"
    lost = result.get("data_loss_messages")
    active = names.get(
        str(result.get("active_cluster_id")), short_id(result.get("active_cluster_id"))
    )
    what = "Drill" if drill else ("Emergency failover" if emergency else "Failover")
    say(
        f"{what}: RTO {fmt_s(result.get('rto_s')) or '?'}, "
        f"{fmt_count(lost or 0)} messages {'at risk' if emergency else 'lost'}"
        + ("" if drill else f"; active side: {active}")
        + "."
    )
    if result.get("rolled_back"):
        say("It was rolled back: every stream is back as it was (see below).")
    streams = result.get("streams") or []
    if streams:
        table(
            ["STREAM", "PRIMARY", "STANDBY", "P SEQ", "S SEQ", "LOST", "PROMOTED"],
            (
                [
                    s.get("stream"),
                    s.get("primary_state"),
                    s.get("standby_state"),
                    fmt_count(s.get("primary_last_seq")),
                    fmt_count(s.get("standby_last_seq")),
                    fmt_count(s.get("lost") or 0),
                    bool(s.get("promoted")),
                ]
                for s in streams
            ),
        )


operations.REPORTERS["failover"] = report_failover


def step_line(step: dict) -> str:
    name = str(step.get("name") or "?").replace("_", " ")
    line = f"  {STEP_MARKS.get(step.get('status'), '?')} {name:<10} {step.get('status')}"
    start, end = step.get("started_at"), step.get("finished_at")
    took = _took(start, end)
    if took:
        line += f" ({took})"
    detail = step.get("detail")
    if detail:
        line += f": {detail if isinstance(detail, str) else detail}"
    return line


def _took(start: str | None, end: str | None) -> str | None:
    from cli.output import parse_time

    a, b = parse_time(start), parse_time(end)
    if a is None or b is None:
        return None
    return fmt_seconds(max(0.0, (b - a).total_seconds()))


def follow_steps(api: Api, op_id: str, *, quiet: bool = False) -> dict | None:
    """Print each step as its status changes until the operation ends; None on Ctrl-C (the
    operation keeps going)."""
    seen: dict[str, str] = {}
    try:
        while True:
            op = api.get(f"/operations/{op_id}")
            for step in (op.get("progress") or {}).get("steps") or []:
                key, state = str(step.get("name")), str(step.get("status"))
                if state != "pending" and seen.get(key) != state:
                    seen[key] = state
                    if not quiet:
                        say(step_line(step))
            if op.get("status") in operations.FINISHED:
                return op
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        say(
            f"Stopped following; the operation keeps going. `jsc op get {op_id} --wait` follows "
            f"it again; `jsc op cancel {op_id}` stops it (what was done is rolled back)."
        )
        return None


@handled
def failover(
    pair: str = typer.Argument(..., metavar="PAIR", help="The DR pair (name or id)."),
    to: str | None = typer.Option(
        None,
        "--to",
        help="The cluster to fail over to (default: the pair's side that is not active).",
    ),
    drill: bool = typer.Option(
        False,
        "--drill",
        help="Rehearse it on temporary copies of the mirrors: production is not touched.",
    ),
    emergency: bool = typer.Option(
        False,
        "--emergency",
        help="The primary is unreachable: do not fence it; what its mirrors lack is lost.",
    ),
    reverse: bool = typer.Option(
        False, "--reverse", help="Then make the old primary a mirror of the new one."
    ),
    max_loss: int | None = typer.Option(
        None, "--max-loss", min=0, help="Refuse if more messages than this would be lost."
    ),
    fence_timeout: float | None = typer.Option(
        None, "--fence-timeout", min=0.1, help="Seconds to wait for the mirrors before giving up."
    ),
    wait: bool = typer.Option(False, "--wait", "-w", help="Print each step until it ends."),
    force: bool = force_option(),
    as_json: bool = json_option(),
) -> None:
    """Fail a DR pair over to its standby (or back), or with --drill rehearse it.

    Says the data-loss risk now, then asks to go on (--force does not ask; a drill never
    asks). Refused with the reason when the target is not a healthy mirror of the primary. A
    production failover waits for approval."""
    if drill and (reverse or emergency):
        raise CliError("A drill touches neither side: it cannot --reverse, nor be --emergency.")
    with connect() as api:
        found = api.dr_pair(pair)
        names = api.cluster_names()
        target = api.cluster(to)["id"] if to else passive_side(found)
        sides = {str(found["primary_cluster_id"]), str(found["standby_cluster_id"])}
        if str(target) not in sides:
            raise CliError(
                f"--to: {names.get(str(target), target)} is not a cluster of the pair "
                f"{found['name']} ({', '.join(names.get(s, s) for s in sides)})."
            )
        if str(target) == str(found.get("active_cluster_id")) and not drill:
            raise CliError(
                f"{names.get(str(target), target)} is already the active side of {found['name']}."
            )
        health, _ = _pair_health(api, found["id"])
        target_name = names.get(str(target), short_id(target))
        risk = risk_sentence(target_name, health)
        if not as_json:
            say(
                f"{'Drill of a failover' if drill else 'Failover'} of {found['name']} to "
                f"{target_name}. {risk}"
            )
        if not drill:
            confirm(f"Fail {found['name']} over to {target_name}?", force)
        body: dict[str, Any] = {"pair_id": found["id"], "target_cluster_id": target, "drill": drill}
        if not drill:
            body.update(mode="emergency" if emergency else "planned", reverse=reverse)
            if max_loss is not None:
                body["max_data_loss_messages"] = max_loss
        if fence_timeout is not None:
            body["fence_timeout_s"] = fence_timeout
        started = api.post("/operations/failover", body)
        if announce_pending(started, as_json=as_json):
            return
        op_id = started["id"]
        if not wait:
            if as_json:
                emit_json(started)
            else:
                say(f"Started: operation {op_id}. Follow it with `jsc op get {op_id} --wait`.")
            return
        if not as_json:
            say(f"Started: operation {op_id}.")
        op = follow_steps(api, op_id, quiet=as_json)
    if op is None:
        return
    if as_json:
        emit_json(op)
    else:
        report_failover(op, names)
    if op.get("status") != "completed":
        fail(
            CliError(
                f"The {'drill' if drill else 'failover'} "
                f"{'failed' if op.get('status') == 'failed' else op.get('status')}: "
                f"{op.get('error') or 'no reason given'}"
            )
        )
        raise typer.Exit(1)
