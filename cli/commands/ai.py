"""``jsc ai ask|diagnose``: the assistant from the terminal.

``ask`` streams the answer of ``POST /ai/chat`` as it arrives: the text as it is written, each
tool call as a dim one-liner with the summary of its result, proposals (change requests waiting
for approval) boxed with their link, findings, and a warning when the model is absent (the answer
then comes from the deterministic checks). ``--json`` prints the events as JSON lines.
``diagnose`` prints the findings of ``GET /ai/diagnose`` for a stream or a consumer.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich import box
from rich.panel import Panel
from rich.text import Text

from cli.client import CliError
from cli.common import cluster_option, connect, json_option
from cli.output import Group, console, emit_json, say, status_text, table

app = Group(help="Ask the assistant; the deterministic checks of a stream or consumer.")

SEVERITY_STYLES = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@app.command("ask")
def ask(
    question: str = typer.Argument(..., help="What to ask, in a sentence."),
    cluster: str | None = cluster_option(),
    stream: str | None = typer.Option(
        None, "--stream", "-s", help="The stream the question is about."
    ),
    consumer: str | None = typer.Option(
        None, "--consumer", help="The consumer (of --stream) it is about."
    ),
    conversation: str | None = typer.Option(
        None, "--conversation", help="Go on with this conversation (its id)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the events as JSON lines."),
) -> None:
    """Ask the assistant; the answer streams in as it is written.

    It reads live data with your rights and never changes anything itself: a change it proposes
    is a request that waits for approval."""
    if consumer and not stream:
        raise CliError("--consumer needs its stream: give --stream too.")
    body: dict[str, Any] = {"message": question}
    if conversation:
        body["conversation_id"] = conversation.strip()
    with connect() as api:
        if cluster or stream or consumer:
            context: dict[str, Any] = {"cluster_id": str(api.cluster(cluster)["id"])}
            if stream:
                context["stream"] = stream
            if consumer:
                context["consumer"] = consumer
            body["context"] = context
        printer = JsonLines() if as_json else Answer()
        for kind, data in api.events("/ai/chat", body):
            printer.event(kind, data)
        printer.end()


class JsonLines:
    """Each event as one JSON line: ``{"event": kind, "data": ...}``."""

    def event(self, kind: str, data: Any) -> None:
        console.file.write(
            json.dumps({"event": kind, "data": data}, ensure_ascii=False, default=str) + "\n"
        )
        console.file.flush()

    def end(self) -> None:
        pass


class Answer:
    """The answer for a person, printed as its events arrive."""

    def __init__(self) -> None:
        self.mid_line = False  # text was written without its line's end
        self.calls: dict[str, dict[str, Any]] = {}
        self.done: dict[str, Any] | None = None

    def event(self, kind: str, data: Any) -> None:
        if not isinstance(data, dict):
            return
        handler = getattr(self, f"on_{kind}", None)
        if handler is not None:
            handler(data)

    # -- events --------------------------------------------------------------------------------

    def on_text(self, data: dict) -> None:
        delta = str(data.get("delta") or "")
        if delta:
            console.file.write(delta)
            console.file.flush()
            self.mid_line = not delta.endswith("\n")

    def on_tool_call(self, data: dict) -> None:
        self.calls[str(data.get("id"))] = data

    def on_tool_result(self, data: dict) -> None:
        call = self.calls.get(str(data.get("id")), {})
        name = data.get("name") or call.get("name") or "tool"
        mark, style = ("✗", "dim red") if data.get("is_error") else ("→", "dim")
        self.line(Text(f"{mark} {name} {data.get('summary') or ''}".rstrip(), style=style))

    def on_finding(self, data: dict) -> None:
        self.line(finding_line(data))

    def on_proposal(self, data: dict) -> None:
        request_id = str(data.get("request_id") or "")
        body = Text()
        body.append(str(data.get("title") or "A change request"), style="bold")
        body.append("  ")
        body.append_text(status_text(data.get("status")))
        for reason in data.get("reasons") or []:
            body.append(f"\n{reason}")
        body.append(f"\nApproval: {data.get('link') or '/api/v1/approvals/' + request_id}")
        body.append(f"\nFollow it: jsc approval get {request_id}")
        self.block(
            Panel(
                body,
                title="Proposed change: nothing changes until it is approved",
                title_align="left",
                box=box.ROUNDED,
                expand=False,
            )
        )

    def on_refused(self, data: dict) -> None:
        self.line(
            Text(
                f"✗ {data.get('tool') or 'tool'} refused: {data.get('reason') or ''}",
                style="dim red",
            )
        )

    def on_notice(self, data: dict) -> None:
        self.line(Text(f"Warning: {data.get('message') or data.get('reason')}", style="yellow"))

    def on_done(self, data: dict) -> None:
        self.done = data

    # -- output --------------------------------------------------------------------------------

    def line(self, text: Text) -> None:
        self.block(text, soft_wrap=True)

    def block(self, renderable: Any, **kw: Any) -> None:
        if self.mid_line:
            console.file.write("\n")
            self.mid_line = False
        console.print(renderable, **kw)

    def end(self) -> None:
        if self.mid_line:
            console.file.write("\n")
            self.mid_line = False
        console.file.write("\n")
        if self.done is None:
            say("(The answer ended before it was complete.)")
            return
        usage = self.done.get("usage") or {}
        where = (
            "offline: the deterministic checks"
            if self.done.get("offline")
            else (self.done.get("model") or "the model")
        )
        console.print(
            Text(
                f"conversation {self.done.get('conversation_id')} · {where} · "
                f"{usage.get('input_tokens', 0):,} in / "
                f"{usage.get('output_tokens', 0):,} out tokens",
                style="dim",
            ),
            soft_wrap=True,
        )
        console.print(
            Text(
                f'Go on with: jsc ai ask --conversation {self.done.get("conversation_id")} "..."',
                style="dim",
            ),
            soft_wrap=True,
        )


def finding_line(finding: dict) -> Text:
    severity = str(finding.get("severity") or "info")
    out = Text()
    out.append(f"[{severity}] ", style=SEVERITY_STYLES.get(severity, ""))
    out.append(str(finding.get("title") or finding.get("code") or ""))
    if finding.get("summary"):
        out.append(f": {finding['summary']}")
    return out


# -- diagnose ------------------------------------------------------------------------------------


@app.command("diagnose")
def diagnose(
    stream: str = typer.Argument(..., help="The stream to check."),
    consumer: str | None = typer.Argument(None, help="Only this consumer of it."),
    cluster: str | None = cluster_option(),
    as_json: bool = json_option(),
) -> None:
    """What the deterministic checks find in a stream or one of its consumers.

    Lag growing, a stalled consumer, redelivery storms, ack pending near its maximum, storage
    near a limit, a mirror behind or broken, an idle stream, a filter matching nothing."""
    with connect() as api:
        found = api.cluster(cluster)
        diagnosis = api.get(
            "/ai/diagnose", cluster_id=str(found["id"]), stream=stream, consumer=consumer
        )
    if as_json:
        emit_json(diagnosis)
        return
    what = f"consumer '{consumer}' of stream '{stream}'" if consumer else f"stream '{stream}'"
    findings = sorted(
        diagnosis.get("findings") or [],
        key=lambda f: (
            SEVERITY_ORDER.get(f.get("severity"), 3),
            str(f.get("code")),
            str(f.get("consumer") or ""),
        ),
    )
    if findings:
        last = len(findings) - 1
        table(
            ["SEVERITY", "FINDING"],
            ([severity_text(f), finding_text(f, gap=i < last)] for i, f in enumerate(findings)),
            title=f"{len(findings)} finding(s) for {what} on {found['name']}",
        )
    else:
        say(f"No problem found in {what} on {found['name']}.")
    for error in diagnosis.get("errors") or []:
        say(f"Not checked: {error}")


def severity_text(finding: dict) -> Text:
    severity = str(finding.get("severity") or "info")
    return Text(severity, style=SEVERITY_STYLES.get(severity, ""))


def finding_text(finding: dict, gap: bool = False) -> Text:
    """Title, summary, what to do and the evidence, one per line (wrapped to the table); with
    ``gap`` an empty line after, to set it apart from the next."""
    out = Text(str(finding.get("title") or finding.get("code") or ""), style="bold")
    if finding.get("summary"):
        out.append(f"\n{finding['summary']}")
    if finding.get("suggestion"):
        out.append(f"\nWhat to do: {finding['suggestion']}")
    if evidence := evidence_text(finding.get("evidence") or {}):
        out.append(f"\nEvidence: {evidence}", style="dim")
    if gap:
        out.append("\n")
    return out


def evidence_text(evidence: dict, limit: int = 240) -> str:
    """``key=value`` pairs, numbers with separators, long values cut."""
    parts = []
    for key, value in evidence.items():
        if isinstance(value, bool) or value is None:
            shown = json.dumps(value)
        elif isinstance(value, int):
            shown = f"{value:,}"
        elif isinstance(value, float):
            shown = f"{value:,.2f}".rstrip("0").rstrip(".")
        elif isinstance(value, (list, dict)):
            shown = json.dumps(value, separators=(",", ":"), default=str)
        else:
            shown = str(value)
        parts.append(f"{key}={shown if len(shown) <= 60 else shown[:59] + '…'}")
    text = " · ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"
