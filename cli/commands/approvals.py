"""``jsc approval ls|get|approve|reject|request-changes|withdraw``: change requests that policy
sent for approval (a production change, a large quota request, ...).

An id is the full id or a unique prefix of a recent request's (as ``jsc approval ls`` shows it).
A decision the API refuses (your own request, a role the current step does not take, a request
already closed) is printed as the API's sentence, with exit status 1."""

from __future__ import annotations

import json
import uuid
from typing import Any

import typer

from cli.client import Api, CliError
from cli.commands.quotas import fmt_amount
from cli.common import connect, json_option
from cli.output import (
    Group,
    config_value,
    emit_json,
    fmt_age,
    fmt_time,
    say,
    short_id,
    status_text,
    table,
    view,
)

app = Group(help="Change requests waiting for approval: list, read, approve, reject.")

ACTION_WORDS = {
    "approve": "Approved",
    "reject": "Rejected",
    "request-changes": "Changes requested for",
    "withdraw": "Withdrew",
}
VOTE_WORDS = {
    "approve": "approved",
    "reject": "rejected",
    "request_changes": "requested changes",
    "withdraw": "withdrew",
}


def resolve_request(api: Api, ref: str) -> str:
    """A full request id, from the id or a unique prefix of a recent one."""
    ref = ref.strip()
    try:
        return str(uuid.UUID(ref))
    except ValueError:
        pass
    if not ref:
        raise CliError("Give the request's id (see `jsc approval ls`).")
    matches = [
        r["id"]
        for r in api.get("/approvals", limit=500)["items"]
        if r["id"].startswith(ref.lower())
    ]
    if len(matches) == 1:
        return matches[0]
    raise CliError(
        f"No recent change request id starts with '{ref}'."
        if not matches
        else f"'{ref}' matches {len(matches)} change requests; give more of the id."
    )


def group_text(group: dict | None) -> str | None:
    """``1 approval(s) from role admin or team platform (Platform Team)``."""
    if not group:
        return None
    who = (
        [f"role {r}" for r in group.get("roles") or []]
        + [f"team {t}" for t in group.get("teams") or []]
        + [f"user {u}" for u in group.get("users") or []]
    )
    return (
        f"{group.get('count', 1)} approval(s) from {' or '.join(who) or 'anyone'} "
        f"({group.get('name')})"
    )


def _step(request: dict) -> str | None:
    group = request.get("current_group")
    if not group:
        return None
    return f"{group.get('name')} ({group.get('count', 1)})"


def _id_arg() -> Any:
    return typer.Argument(..., metavar="ID", help="The request's id (or a unique prefix).")


@app.command("ls")
def list_requests(
    status: str | None = typer.Option(
        None,
        "--status",
        help="waiting_approval, executed, rejected, withdrawn, changes_requested, ...",
    ),
    mine: bool = typer.Option(False, "--mine", help="Only the requests you made."),
    waiting_for_me: bool = typer.Option(
        False, "--waiting-for-me", help="Only open requests whose current step you can approve now."
    ),
    team: str | None = typer.Option(None, "--team", help="Only this team's (name or id)."),
    cluster: str | None = typer.Option(
        None, "--cluster", "-c", help="Only this cluster's (name or id)."
    ),
    kind: str | None = typer.Option(
        None, "--kind", help="stream, consumer, kv_bucket, object_store, purge, replay or quota."
    ),
    limit: int = typer.Option(100, "--limit", "-n", min=1, max=500),
    as_json: bool = json_option(),
) -> None:
    """List change requests, newest first."""
    with connect() as api:
        items = api.get(
            "/approvals",
            status=status,
            mine=mine or None,
            waiting_for_me=waiting_for_me or None,
            team_id=api.team(team)["id"] if team else None,
            cluster_id=api.cluster(cluster)["id"] if cluster else None,
            kind=kind,
            limit=limit,
        )["items"]
    if as_json:
        emit_json({"items": items})
        return
    table(
        ["ID", "TITLE", "STATUS", "REQUESTER", "ENVIRONMENT", "CURRENT STEP", "AGE"],
        (
            [
                short_id(r["id"]),
                r.get("title"),
                status_text(r.get("status")),
                r.get("requester_email"),
                r.get("environment"),
                _step(r),
                fmt_age(r.get("created_at")),
            ]
            for r in items
        ),
        empty="No change requests waiting for you." if waiting_for_me else "No change requests.",
    )


def _value(request: dict, field: str, value: Any) -> str:
    if request.get("kind") == "quota":
        return fmt_amount(field, value)
    return config_value(field, value)


def _brief(value: Any, width: int = 100) -> str:
    text = json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)
    return text if len(text) <= width else text[: width - 1] + "… (--json shows all)"


def _names(api: Api, request: dict) -> dict[str, str]:
    """The names of the request's cluster and team, where the caller may read them."""
    names: dict[str, str] = {}
    for key, path in (("cluster_id", "/clusters"), ("team_id", "/teams")):
        if request.get(key):
            try:
                names.update({i["id"]: i["name"] for i in api.get(path)["items"]})
            except CliError:
                pass
    return names


def show_request(request: dict, names: dict[str, str] | None = None) -> None:
    decision = request.get("decision") or {}
    policy = decision.get("policy")
    names = names or {}
    view(
        [
            ("Id", request["id"]),
            ("Title", request.get("title")),
            ("Status", status_text(request.get("status"))),
            ("Requester", request.get("requester_email")),
            ("Environment", request.get("environment")),
            ("Cluster", names.get(request.get("cluster_id") or "", request.get("cluster_id"))),
            ("Team", names.get(request.get("team_id") or "", request.get("team_id"))),
            ("Justification", request.get("justification") or None),
            ("Policy", f"{policy['name']} (v{policy.get('version')})" if policy else None),
            ("Current step", group_text(request.get("current_group"))),
            ("SLA", f"{decision['sla_hours']:g} h" if decision.get("sla_hours") else None),
            ("Created", fmt_time(request.get("created_at"))),
            ("Closed", fmt_time(request.get("closed_at"))),
            ("Operation", request.get("operation_id")),
        ],
        title=f"Change request {short_id(request['id'])}",
    )
    for title, lines in (
        ("Reasons", decision.get("reasons") or []),
        (
            "Changes",
            [
                f"{field}: {_value(request, field, (d or {}).get('before'))}"
                f" -> {_value(request, field, (d or {}).get('after'))}"
                for field, d in sorted((request.get("diff") or {}).items())
            ],
        ),
        ("Risk notes", request.get("risk_notes") or []),
    ):
        if lines:
            say("")
            say(f"{title}:")
            for line in lines:
                say(f"  {line}")
    summary = request.get("risk_summary") or {}
    if summary.get("text"):
        say("")
        say(f"Assistant's risk summary ({summary.get('model') or 'a model'}):")
        say(f"  {summary['text']}")
    votes = request.get("votes") or []
    if votes:
        say("")
        table(
            ["WHO", "ROLE", "DECISION", "STEP", "COMMENT", "AT"],
            (
                [
                    (v.get("voter") or {}).get("email"),
                    (v.get("voter") or {}).get("role"),
                    VOTE_WORDS.get(v.get("action"), v.get("action")),
                    v.get("group"),
                    v.get("comment") or None,
                    fmt_time(v.get("at")),
                ]
                for v in votes
            ),
            title="Votes",
        )
    if request.get("result"):
        say("")
        view([(str(k), _brief(v)) for k, v in request["result"].items()], title="Result")
    if request.get("error"):
        say("")
        say(f"Error: {request['error']}")
    hints = [
        h
        for h, ok in (
            ("approve, reject or request changes", request.get("can_vote")),
            ("withdraw it", request.get("can_withdraw")),
        )
        if ok
    ]
    if hints:
        say("")
        say(f"You can {' or '.join(hints)}: jsc approval <action> {request['id']}")


@app.command("get")
def get_request(request_id: str = _id_arg(), as_json: bool = json_option()) -> None:
    """A change request: what it changes, the policy and its reasons, risk notes (and the
    assistant's risk summary, when written) and votes."""
    with connect() as api:
        found = api.get(f"/approvals/{resolve_request(api, request_id)}")
        names = {} if as_json else _names(api, found)
    if as_json:
        emit_json(found)
    else:
        show_request(found, names)


def _decide(action: str, ref: str, comment: str, as_json: bool) -> None:
    with connect() as api:
        rid = resolve_request(api, ref)
        found = api.post(f"/approvals/{rid}/{action}", {"comment": comment})
    if as_json:
        emit_json(found)
        return
    status = found.get("status")
    say(
        f"{ACTION_WORDS[action]} request {short_id(rid)}: {found.get('title')}. "
        f"It is now {(status or 'unknown').replace('_', ' ')}."
    )
    if status == "waiting_approval" and found.get("current_group"):
        say(f"Still needed: {group_text(found['current_group'])}.")
    elif status in ("approved", "executing"):
        say(f"The change is being applied; follow it with: jsc approval get {rid}")


def _required(value: str | None, option: str, why: str) -> str:
    if value is None or not value.strip():
        raise CliError(f"Give {option}: {why}.")
    return value.strip()


@app.command("approve")
def approve(
    request_id: str = _id_arg(),
    comment: str = typer.Option("", "--comment", "-m", help="A comment for the record."),
    as_json: bool = json_option(),
) -> None:
    """Approve a request's current step (not your own request)."""
    _decide("approve", request_id, comment, as_json)


@app.command("reject")
def reject(
    request_id: str = _id_arg(),
    reason: str | None = typer.Option(None, "--reason", "-m", help="Why (required)."),
    as_json: bool = json_option(),
) -> None:
    """Reject a request; it closes and nothing is changed."""
    _decide(
        "reject",
        request_id,
        _required(reason, "--reason", "a reason is required to reject a request"),
        as_json,
    )


@app.command("request-changes")
def request_changes(
    request_id: str = _id_arg(),
    comment: str | None = typer.Option(None, "--comment", "-m", help="What to change (required)."),
    as_json: bool = json_option(),
) -> None:
    """Close a request without applying it, telling the requester what to change."""
    _decide(
        "request-changes",
        request_id,
        _required(comment, "--comment", "say what the requester should change"),
        as_json,
    )


@app.command("withdraw")
def withdraw(
    request_id: str = _id_arg(),
    comment: str = typer.Option("", "--comment", "-m", help="Why, for the record."),
    as_json: bool = json_option(),
) -> None:
    """Withdraw your own request while it waits; nothing is changed."""
    _decide("withdraw", request_id, comment, as_json)
