"""How the CLI talks to a person: rich tables and key/value views on stdout, ``--json`` as plain
JSON, and errors as one sentence (plus the invalid fields) on stderr with exit status 1.

``Group`` is a ``typer.Typer`` whose commands are wrapped by ``handled``: a ``CliError`` (the API's
problem document, an unreachable API, bad input found locally) is printed, never a traceback.
``announce_pending`` tells a change the API sent for approval (``202 waiting_approval``) apart
from one it made.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.client import CliError

console = Console(highlight=False, soft_wrap=False)


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def say(message: str) -> None:
    """A line of plain text for the person (no rich markup interpreted, not re-wrapped)."""
    console.print(Text(message), soft_wrap=True)


def fail(error: CliError) -> None:
    lines = [f"Error: {error.message}"]
    for field in error.fields:
        if f"{field['field']}: {field['message']}" not in error.message:
            lines.append(f"  {field['field']}: {field['message']}")
    if error.hint:
        lines.append(error.hint)
    typer.echo("\n".join(lines), err=True)


def handled(fn: Callable) -> Callable:
    """Run a command; a CliError (or anything unexpected) becomes a sentence and exit 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CliError as error:
            fail(error)
            raise typer.Exit(1) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # a bug: say so in a sentence; JSC_DEBUG=1 shows the trace
            if os.environ.get("JSC_DEBUG"):
                raise
            fail(
                CliError(
                    f"Unexpected {type(exc).__name__}: {exc}",
                    hint="Run again with JSC_DEBUG=1 for the details.",
                )
            )
            raise typer.Exit(1) from None

    return wrapper


class Group(typer.Typer):
    """A command group whose commands print errors as sentences (see ``handled``)."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("add_completion", False)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable:  # type: ignore[override]
        register = super().command(*args, **kwargs)

        def decorator(fn: Callable) -> Callable:
            register(handled(fn))
            return fn

        return decorator


# -- tables and views --------------------------------------------------------------------------


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    empty: str = "Nothing to show.",
    keep: Sequence[str] = (),
) -> None:
    """Rows under column titles, one line each, fitted to the terminal's width: when the table
    is wider, ids are shortened to their first 8 characters, then the widest cells are cut with an
    ellipsis (never wrapped mid-word); the columns named in ``keep`` (names people copy) are never
    cut. ``--json`` always has everything."""
    rows = [[cell(v) for v in row] for row in rows]
    if not rows:
        say(empty)
        return
    if sum(_widths(columns, rows)) + GAP * (len(columns) - 1) > console.width:
        rows = [[_short(c) for c in row] for row in rows]
    widths = _fitted(columns, _widths(columns, rows), keep, console.width)
    out = Table(
        title=title,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
        title_justify="left",
    )
    for column, width in zip(columns, widths, strict=False):
        numeric = column.isupper() and column in NUMERIC_COLUMNS
        out.add_column(
            column,
            justify="right" if numeric else "left",
            overflow="ellipsis",
            no_wrap=True,
            width=width,
        )
    for row in rows:
        out.add_row(*row)
    console.print(out)


GAP = 3  # between two columns: their padding and the box's blank divider


def _widths(columns: Sequence[str], rows: list[list[Text]]) -> list[int]:
    return [
        max([len(column)] + [len(line) for row in rows for line in row[i].plain.splitlines()])
        for i, column in enumerate(columns)
    ]


def _fitted(
    columns: Sequence[str], widths: list[int], keep: Sequence[str], total: int
) -> list[int]:
    """Narrow the widest columns (not those kept whole, never under their title or 8
    characters) one character at a time until the table fits ``total``."""
    widths = list(widths)
    room = total - GAP * (len(columns) - 1)
    while sum(widths) > room:
        narrowable = [
            i for i, c in enumerate(columns) if c not in keep and widths[i] > max(len(c), 8)
        ]
        if not narrowable:
            break
        widest = max(narrowable, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _short(value: Text) -> Text:
    return Text(value.plain[:8], style=value.style) if UUID.match(value.plain) else value


NUMERIC_COLUMNS = {
    "MESSAGES",
    "BYTES",
    "SIZE",
    "SEQ",
    "CONSUMERS",
    "REPLICAS",
    "PENDING",
    "ACK PENDING",
    "REDELIVERED",
    "WAITING",
    "REV",
    "KEYS",
    "VALUES",
    "HISTORY",
    "DONE",
    "TOTAL",
    "RTT",
    "USAGE",
    "LIMIT",
    "PERCENT",
    "BEFORE",
    "AFTER",
    "AGE",
}


def cell(value: Any) -> Text:
    if isinstance(value, Text):
        return value
    if value is None or value == "":
        return Text("-", style="dim")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    return Text(str(value))


def view(pairs: Iterable[tuple[str, Any]], *, title: str | None = None) -> None:
    """A key/value listing; a value of None is left out."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for key, value in pairs:
        if value is not None:
            grid.add_row(key, cell(value))
    if title:
        console.print(Text(title, style="bold underline"))
    console.print(grid)


STATUS_STYLES = {
    "healthy": "green",
    "completed": "green",
    "running": "cyan",
    "pending": "cyan",
    "paused": "yellow",
    "degraded": "yellow",
    "waiting_approval": "yellow",
    "failed": "red",
    "cancelled": "red",
    "unreachable": "red",
    "unknown": "dim",
    "approved": "cyan",
    "executing": "cyan",
    "executed": "green",
    "auto_approved": "green",
    "rejected": "red",
    "auto_rejected": "red",
    "changes_requested": "yellow",
    "withdrawn": "dim",
}


def status_text(status: str | None) -> Text:
    status = status or "unknown"
    return Text(status, style=STATUS_STYLES.get(status, ""))


# -- changes sent for approval ----------------------------------------------------------------


def short_id(value: Any) -> str:
    return str(value or "")[:8]


def is_pending(result: Any) -> bool:
    """The API's ``202`` answer for a change that waits for approval instead of being made."""
    return (
        isinstance(result, dict)
        and bool(result.get("request_id"))
        and result.get("status") == "waiting_approval"
    )


def announce_pending(result: Any, *, as_json: bool = False) -> bool:
    """When the change was sent for approval: say so (``--json``: the answer as is) and return
    True, so the command stops there (exit status 0); else False."""
    if not is_pending(result):
        return False
    if as_json:
        emit_json(result)
        return True
    request_id = str(result["request_id"])
    say(
        f"Sent for approval: {result.get('title') or 'the change'} (request "
        f"{short_id(request_id)}…). Nothing changes until it is approved."
    )
    for reason in result.get("reasons") or []:
        say(f"  {reason}")
    say(f"Follow it with: jsc approval get {request_id}")
    return True


# -- formatting --------------------------------------------------------------------------------


def fmt_bytes(n: int | float | None) -> str | None:
    if n is None:
        return None
    if n < 0:
        return "unlimited"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def fmt_limit(n: int | None, fmt: Callable[[int], str | None] = str) -> str | None:
    if n is None:
        return None
    return "unlimited" if n < 0 else fmt(n)


def fmt_ns(ns: int | None) -> str | None:
    """Nanoseconds as ``72h``, ``1h30m``, ``2m5s``, ``1.5s``, ``250ms``; 0 is 'unlimited'."""
    if ns is None:
        return None
    if ns <= 0:
        return "unlimited"
    return fmt_seconds(ns / 1e9)


def fmt_seconds(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s".replace(".0s", "s")
    total = int(round(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days and not (hours or minutes or secs):
        return f"{days}d"
    hours += days * 24
    out = (
        (f"{hours}h" if hours else "")
        + (f"{minutes}m" if minutes else "")
        + (f"{secs}s" if secs and not hours else "")
    )
    return out or "0s"


DURATION_KEYS = {"max_age", "duplicate_window", "ack_wait", "inactive_threshold", "idle_heartbeat"}
BYTE_KEYS = {"max_bytes", "max_msg_size"}


def config_value(key: str, value: Any) -> str:
    """A JetStream configuration field for people: durations, sizes, 'unlimited', 'unset'."""
    if value is None:
        return "unset"
    if key in DURATION_KEYS and isinstance(value, int):
        return fmt_ns(value) or str(value)
    if key in BYTE_KEYS and isinstance(value, int):
        return fmt_limit(value, fmt_bytes) or str(value)
    if key.startswith("max_") and value == -1:
        return "unlimited"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def fmt_age(value: str | None, now: datetime | None = None) -> str | None:
    """How long ago an API timestamp was, coarsely: ``45s``, ``12m``, ``3h``, ``2d``."""
    when = parse_time(value)
    if when is None:
        return None
    seconds = max(0, int(((now or datetime.now(UTC)) - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def fmt_time(value: str | None) -> str | None:
    """An API timestamp as local ``YYYY-MM-DD HH:MM:SS`` (the zero time as None)."""
    when = parse_time(value)
    if when is None or when.year <= 1:
        return None
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def fmt_count(n: int | None) -> str | None:
    return None if n is None else f"{n:,}"


def preview(payload: Any, encoding: str | None, width: int = 60) -> str:
    """A one-line preview of a message payload or KV value."""
    if encoding == "json":
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    elif encoding == "base64":
        text = f"<binary, base64 {payload[:width]}>" if payload else "<binary>"
    else:
        text = "" if payload is None else str(payload)
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 1] + "…"


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def say_config_change(what: str, where: str, before: dict, after: dict) -> None:
    """``<what> updated <where>:`` and one ``field: before -> after`` line per changed field, or
    that nothing changed."""
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if not changed:
        say(f"{what} is unchanged (it already had that configuration).")
        return
    say(f"{what} updated {where}:")
    for key in changed:
        say(f"  {key}: {config_value(key, before.get(key))} -> {config_value(key, after.get(key))}")
