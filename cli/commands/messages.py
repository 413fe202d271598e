"""``jsc msg get|browse|publish``: read a stream's messages (without creating anything on the
server) and publish into a stream."""

from __future__ import annotations

import json
import sys

import typer
from rich.syntax import Syntax
from rich.text import Text

from cli.client import Api, CliError
from cli.common import (
    cluster_option,
    connect,
    json_option,
    parse_headers,
    parse_when,
    payload_bytes,
    read_payload,
)
from cli.output import Group, console, emit_json, fmt_bytes, fmt_time, preview, say, table, view

app = Group(help="Messages of a stream: read and publish.")
MAX_PAYLOAD = 8 * 1024 * 1024
PAGE = 1000


def messages_path(cluster_id: str, stream: str) -> str:
    return f"/clusters/{cluster_id}/streams/{stream}/messages"


def show_payload(item: dict) -> None:
    encoding, payload = item.get("encoding"), item.get("payload")
    if encoding == "json":
        console.print(
            Syntax(
                json.dumps(payload, indent=2, ensure_ascii=False),
                "json",
                theme="ansi_dark",
                background_color="default",
                word_wrap=True,
            )
        )
    elif encoding == "base64":
        say(f"<binary payload, {item.get('size', 0)} bytes, base64 below; --raw writes the bytes>")
        say(payload or "")
    else:
        console.print(Text(payload or ""))
    if item.get("truncated"):
        say(
            f"<cut at {fmt_bytes(len(payload_bytes(item)))} of {fmt_bytes(item.get('size'))}; "
            "--raw or --json --full shows it all>"
        )


@app.command("get")
def get_message(
    stream: str = typer.Argument(..., help="The stream."),
    seq: int = typer.Argument(..., min=1, help="The message's sequence."),
    cluster: str | None = cluster_option(),
    raw: bool = typer.Option(
        False, "--raw", help="Write only the payload's exact bytes to stdout."
    ),
    full: bool = typer.Option(False, "--full", help="Do not cut long payloads."),
    as_json: bool = json_option(),
) -> None:
    """One message: subject, time, headers and payload."""
    with connect() as api:
        found = api.cluster(cluster)
        item = api.get(
            f"{messages_path(found['id'], stream)}/{seq}",
            payload_limit=MAX_PAYLOAD if raw or full else None,
        )
    if raw:
        sys.stdout.buffer.write(payload_bytes(item)) if hasattr(
            sys.stdout, "buffer"
        ) else sys.stdout.write(payload_bytes(item).decode("utf-8", "replace"))
        sys.stdout.flush()
        return
    if as_json:
        emit_json(item)
        return
    headers = item.get("headers") or {}
    view(
        [
            ("Stream", stream),
            ("Sequence", item.get("seq")),
            ("Subject", item.get("subject")),
            ("Time", fmt_time(item.get("time"))),
            ("Size", fmt_bytes(item.get("size"))),
        ]
        + [(f"{k}:", ", ".join(v) if isinstance(v, list) else v) for k, v in headers.items()]
    )
    say("")
    show_payload(item)


def browse(api: Api, path: str, *, count: int, **params) -> tuple[list[dict], dict]:
    """Up to ``count`` messages, following the API's cursor; the last page's envelope."""
    items: list[dict] = []
    page: dict = {}
    cursor = None
    while len(items) < count:
        query = {"cursor": cursor} if cursor else dict(params)
        query["limit"] = min(PAGE, count - len(items))
        page = api.get(path, **query)
        items.extend(page.get("items") or [])
        cursor = page.get("next_cursor")
        if not page.get("has_more") or not cursor or not page.get("items"):
            break
    return items, page


@app.command("browse")
def browse_messages(
    stream: str = typer.Argument(..., help="The stream."),
    cluster: str | None = cluster_option(),
    subject: str | None = typer.Option(
        None, "--subject", "-s", help="Only this subject (wildcards allowed)."
    ),
    start_seq: int | None = typer.Option(None, "--start-seq", min=1, help="From this sequence."),
    since: str | None = typer.Option(
        None, "--since", help="From this time (ISO 8601) or this long ago (2h)."
    ),
    last: int | None = typer.Option(
        None, "--last", min=1, max=100_000, help="The newest N messages."
    ),
    limit: int = typer.Option(
        25, "--limit", "-n", min=1, max=100_000, help="How many messages at most."
    ),
    as_json: bool = json_option(),
) -> None:
    """A page of messages, oldest first (or the newest with --last)."""
    if last is not None and (start_seq is not None or since is not None):
        raise CliError("--last shows the newest messages: give it without --start-seq/--since.")
    if start_seq is not None and since is not None:
        raise CliError("Give --start-seq or --since, not both.")
    params = {
        "subject": subject,
        "start_seq": start_seq,
        "start_time": parse_when(since, "--since"),
        "direction": "backward" if last else None,
    }
    with connect() as api:
        found = api.cluster(cluster)
        items, page = browse(api, messages_path(found["id"], stream), count=last or limit, **params)
    if last:
        items.reverse()
    if as_json:
        emit_json(
            {
                "stream": stream,
                "items": items,
                "first_seq": page.get("first_seq"),
                "last_seq": page.get("last_seq"),
                "has_more": bool(page.get("has_more")) and not last,
                "next_cursor": page.get("next_cursor"),
            }
        )
        return
    table(
        ["SEQ", "TIME", "SUBJECT", "SIZE", "PAYLOAD"],
        (
            [
                m["seq"],
                fmt_time(m.get("time")),
                m.get("subject"),
                fmt_bytes(m.get("size")),
                preview(m.get("payload"), m.get("encoding")),
            ]
            for m in items
        ),
        empty=f"No messages in '{stream}'" + (f" on '{subject}'" if subject else "") + ".",
    )
    if items and page.get("has_more") and not last:
        say(f"More after #{items[-1]['seq']}: --start-seq {items[-1]['seq'] + 1}.")


@app.command("publish")
def publish_message(
    subject: str = typer.Argument(..., help="The subject to publish on."),
    payload: str | None = typer.Argument(
        None, help="The payload; '-' or nothing (with piped input) reads stdin."
    ),
    stream: str | None = typer.Option(
        None, "--stream", help="The stream that stores it (default: the one capturing the subject)."
    ),
    cluster: str | None = cluster_option(),
    headers: list[str] | None = typer.Option(None, "--header", "-H", help="NAME:VALUE (repeat)."),
    msg_id: str | None = typer.Option(
        None, "--msg-id", help="Nats-Msg-Id: a repeat in the duplicate window is not stored twice."
    ),
    as_json: bool = json_option(),
) -> None:
    """Publish a message into a stream, and print where it was stored."""
    data, encoding = read_payload(payload)
    body = {
        "subject": subject,
        "payload": data,
        "encoding": encoding,
        "headers": parse_headers(headers),
    }
    if msg_id:
        body["msg_id"] = msg_id
    with connect() as api:
        found = api.cluster(cluster)
        if not stream:
            captured = api.get(f"/clusters/{found['id']}/streams", subject=subject)["items"]
            names = [s["config"]["name"] for s in captured]
            if len(names) != 1:
                raise CliError(
                    f"No stream on {found['name']} captures '{subject}'."
                    if not names
                    else f"Several streams capture '{subject}' ({', '.join(names)}): give --stream."
                )
            stream = names[0]
        ack = api.post(messages_path(found["id"], stream), body)
    if as_json:
        emit_json(ack)
    elif ack.get("duplicate"):
        say(
            f"Duplicate of message #{ack.get('seq')} in '{ack.get('stream', stream)}' "
            f"(same --msg-id): not stored again."
        )
    else:
        say(f"Published to '{ack.get('stream', stream)}' as #{ack.get('seq')}.")
