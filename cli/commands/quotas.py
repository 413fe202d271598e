"""``jsc quota show|set|request|history``: a team's quotas, by team name or id.

``show`` reads each limit with the team's live usage (null limit: unlimited; null usage: not
measured); ``set`` is an admin's direct change (``resource=limit``, ``resource=unlimited``);
``request`` asks for a higher limit, which policy auto-approves under its thresholds or sends for
approval; ``history`` lists every change of the team's limits. Storage and message sizes accept
and show sizes (``500GB``, powers of 1024 as everywhere in the CLI)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import typer

from cli.client import Api, CliError
from cli.common import connect, json_option, parse_size
from cli.output import (
    Group,
    announce_pending,
    emit_json,
    fmt_bytes,
    fmt_count,
    fmt_time,
    say,
    short_id,
    table,
)

app = Group(help="Team quotas: usage, limits, requests for more, history.")

BYTE_RESOURCES = ("storage_bytes", "max_msg_size")


class Resource(StrEnum):
    streams = "streams"
    consumers = "consumers"
    storage_bytes = "storage_bytes"
    messages = "messages"
    max_msg_size = "max_msg_size"
    max_replicas = "max_replicas"
    inbound_rate = "inbound_rate"
    outbound_rate = "outbound_rate"


def fmt_amount(resource: str, value: float | None, *, none: str = "unlimited") -> str:
    """A limit or usage in the resource's unit; ``none`` for a missing value."""
    if value is None:
        return none
    if resource in BYTE_RESOURCES:
        return fmt_bytes(value) or none
    number = int(value) if float(value).is_integer() else value
    text = fmt_count(number) if isinstance(number, int) else f"{number:,.1f}"
    return f"{text} msg/s" if resource.endswith("_rate") else str(text)


def parse_limit(resource: str, text: str, option: str) -> int | None:
    """``500GB`` for a size, a whole number otherwise; ``unlimited`` is None."""
    value = text.strip()
    if value.lower() in ("unlimited", "none", "null"):
        return None
    if resource in BYTE_RESOURCES:
        parsed = parse_size(value, option)
        if parsed is None or parsed < 0:
            raise CliError(f"{option}: give a size such as 500GB, or 'unlimited'.")
        return parsed
    try:
        parsed = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise CliError(f"{option}: '{text}' is not a whole number (or 'unlimited').") from None
    if parsed < 0:
        raise CliError(f"{option}: a limit cannot be negative; use 'unlimited'.")
    return parsed


def _team_arg() -> Any:
    return typer.Argument(..., metavar="TEAM", help="The team's name or id.")


def show_quotas(report: dict) -> None:
    table(
        ["RESOURCE", "DESCRIPTION", "USAGE", "LIMIT", "PERCENT"],
        (
            [
                q["resource"],
                q.get("label"),
                fmt_amount(q["resource"], q.get("usage"), none="not measured"),
                fmt_amount(q["resource"], q.get("limit")),
                f"{q['percent']:g}%" if q.get("percent") is not None else None,
            ]
            for q in report.get("items") or []
        ),
        title=f"Quotas of team {report.get('team_name')}",
    )
    owned = [r.get("name") for r in report.get("resources") or [] if r.get("name")]
    if owned:
        say(f"Measured over {len(owned)} stream(s): {', '.join(owned)}.")
    for where in report.get("unreachable") or []:
        say(f"Not measured: {where}")


def _quotas(api: Api, team: str) -> tuple[dict, dict]:
    found = api.team(team)
    return found, api.get(f"/teams/{found['id']}/quotas")


@app.command("show")
def show(team: str = _team_arg(), as_json: bool = json_option()) -> None:
    """A team's quotas: usage, limit and percent used."""
    with connect() as api:
        _, report = _quotas(api, team)
    if as_json:
        emit_json(report)
    else:
        show_quotas(report)


@app.command("set")
def set_limits(
    team: str = _team_arg(),
    limits: list[str] = typer.Argument(
        ...,
        metavar="RESOURCE=LIMIT...",
        help="e.g. streams=10 storage_bytes=500GB consumers=unlimited.",
    ),
    as_json: bool = json_option(),
) -> None:
    """Set a team's limits directly (admins); kept in the quota history."""
    wanted: dict[str, int | None] = {}
    known = [r.value for r in Resource]
    for item in limits:
        resource, sep, value = item.partition("=")
        resource = resource.strip()
        if not sep or not value.strip():
            raise CliError(f"'{item}' is not RESOURCE=LIMIT (e.g. streams=10).")
        if resource not in known:
            raise CliError(f"'{resource}' is not a quota; quotas: {', '.join(known)}.")
        wanted[resource] = parse_limit(resource, value, resource)
    with connect() as api:
        found = api.team(team)
        report = api.put(f"/teams/{found['id']}/quotas", {"limits": wanted})
    if as_json:
        emit_json(report)
        return
    say(
        f"Quotas of team '{found['name']}' set: "
        + ", ".join(f"{k} = {fmt_amount(k, v)}" for k, v in wanted.items())
        + "."
    )
    show_quotas(report)


@app.command("request")
def request_quota(
    team: str = _team_arg(),
    resource: Resource = typer.Argument(..., case_sensitive=False, help="The quota to raise."),
    limit: str = typer.Argument(..., help="The new limit, e.g. 500GB or 20."),
    justification: str = typer.Option(
        ..., "--justification", "-j", help="Why the team needs it (approvers read it)."
    ),
    as_json: bool = json_option(),
) -> None:
    """Ask for a higher limit: auto-approved under the policy's thresholds, else sent for
    approval."""
    wanted = parse_limit(resource.value, limit, "LIMIT")
    if wanted is None or wanted <= 0:
        raise CliError("LIMIT: a quota request asks for a positive limit, not 'unlimited'.")
    if not justification.strip():
        raise CliError("--justification: say why the team needs it.")
    with connect() as api:
        found = api.team(team)
        answer = api.post(
            "/quota-requests",
            {
                "team_id": found["id"],
                "resource": resource.value,
                "requested_limit": wanted,
                "justification": justification.strip(),
            },
        )
    if announce_pending(answer, as_json=as_json):
        return
    if as_json:
        emit_json(answer)
        return
    say(
        f"Auto-approved: {answer.get('title')} for team '{found['name']}' (request "
        f"{short_id(answer.get('request_id'))}…); the new limit applies within seconds."
    )
    for reason in answer.get("reasons") or []:
        say(f"  {reason}")


@app.command("history")
def history(team: str = _team_arg(), as_json: bool = json_option()) -> None:
    """Every change of a team's limits, newest first."""
    with connect() as api:
        found = api.team(team)
        items = api.get(f"/teams/{found['id']}/quota-history")["items"]
    if as_json:
        emit_json({"items": items})
        return
    table(
        ["WHEN", "RESOURCE", "BEFORE", "AFTER", "REASON", "BY", "REQUEST"],
        (
            [
                fmt_time(h.get("created_at")),
                h["resource"],
                fmt_amount(h["resource"], h.get("before")),
                fmt_amount(h["resource"], h.get("after")),
                (h.get("reason") or "").replace("_", " "),
                h.get("changed_by_email"),
                short_id(h.get("request_id")) or None,
            ]
            for h in items
        ),
        empty=f"No quota changes for team '{found['name']}' yet.",
    )
