"""A local server speaking Anthropic's Messages API, for tests driving the real ``anthropic`` SDK.

The stack's processes reach it through ``ANTHROPIC_BASE_URL`` (the SDK's own variable), so the
assistant runs its real client code against scripted, deterministic answers. Nothing is mocked in
the process under test: requests cross a real HTTP connection, streamed answers are the same
server-sent events the service sends (``message_start``, ``content_block_start``,
``content_block_delta`` with ``text_delta`` / ``input_json_delta`` pieces, ``content_block_stop``,
``message_delta``, ``message_stop``).

A test scripts a scenario by a text that occurs in the person's question::

    fake_claude.script("why does orders-worker lag", [
        ToolUse("get_consumer", {"cluster_id": cid, "stream": "ORDERS", "name": "orders-worker"}),
        lambda request: Text(f"It saw: {last_tool_result(request)[:40]}"),
    ])

A request selects the scenario whose ``match`` occurs in its LAST user message that has text (a
message holding only ``tool_result`` blocks does not count; text inside a tool result never
selects anything), the longest ``match`` winning. Which turn answers is the number of assistant
messages after that user message, so the server keeps no conversation state: the same request
always gets the same answer. Past the last turn it answers a ``Text`` saying the script ended; a
request no scenario matches gets ``default`` (background callers, e.g. risk summaries, hit it).

Turns: ``Text``, ``ToolUse`` (a list of parts makes one message with several blocks, e.g.
``[ToolUse(...), ToolUse(...)]``), ``Error`` (an HTTP error the service sends: 529
``overloaded_error``, 500 ``api_error``, ...), ``Drop`` (close the connection without an answer,
or mid-stream), or a callable ``(request_json) -> turn`` for answers computed from the request.

Every request is recorded (``requests``, ``requests_matching(match)``) with its body and headers.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_KEY = "sk-ant-test-jsc-0123456789abcdef"
DEFAULT_REPLY = "No scripted answer."


# -- turns ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """An assistant message of text (streamed in a few ``text_delta`` pieces)."""

    text: str
    stop_reason: str = "end_turn"


@dataclass(frozen=True)
class ToolUse:
    """A ``tool_use`` block (``stop_reason`` ``tool_use``), after an optional text block.
    ``id`` defaults to a deterministic id unique within the conversation."""

    name: str
    input: dict[str, Any] = field(default_factory=dict)
    text: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class Error:
    """An error answer: ``Error(529, "overloaded_error", "Overloaded")``. With ``mid_stream`` a
    streamed request first gets ``message_start`` and then an ``error`` event (as the service
    does when it fails during a stream)."""

    status: int
    type: str
    message: str
    mid_stream: bool = False


@dataclass(frozen=True)
class Drop:
    """Close the connection without answering; with ``mid_stream`` a streamed request gets
    ``message_start`` and the first text piece, then the connection closes."""

    mid_stream: bool = False


Part = Text | ToolUse
Turn = Text | ToolUse | Error | Drop | list | str | Callable[[dict], Any]


# -- reading requests ----------------------------------------------------------------------------


def message_text(message: dict[str, Any]) -> str:
    """The text of a message: its string content, or its ``text`` blocks joined (not what is
    inside ``tool_result`` blocks)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"
        )
    return ""


def last_user_text(messages: list[dict[str, Any]]) -> tuple[int | None, str]:
    """(index, text) of the last user message that has text; (None, "") when none has."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, dict) and message.get("role") == "user":
            text = message_text(message)
            if text:
                return index, text
    return None, ""


def tool_results(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``tool_result`` blocks of the request's last message (what the tools answered)."""
    messages = request.get("messages") or []
    if not messages or not isinstance(messages[-1].get("content"), list):
        return []
    return [
        b for b in messages[-1]["content"] if isinstance(b, dict) and b.get("type") == "tool_result"
    ]


def result_text(block: dict[str, Any]) -> str:
    """The text of one ``tool_result`` block (string content or its text blocks)."""
    content = block.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict))
    return ""


def last_tool_result(request: dict[str, Any]) -> str:
    """The text of the last ``tool_result`` of the request's last message ("" when none)."""
    results = tool_results(request)
    return result_text(results[-1]) if results else ""


def problem(body: Any) -> str | None:
    """What the service would reject in a request body (400 ``invalid_request_error``), or None.
    The checks the service makes that a chat loop most easily gets wrong: roles, empty text,
    every ``tool_use`` answered by a ``tool_result`` in the next message and no stray results."""
    if not isinstance(body, dict):
        return "the request body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        return "max_tokens: Field required (a positive integer)"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    if body.get("system") is not None and not isinstance(body["system"], (str, list)):
        return "system: Input should be a valid string or list of text blocks"
    for i, tool in enumerate(body.get("tools") or []):
        if (
            not isinstance(tool, dict)
            or not tool.get("name")
            or not isinstance(tool.get("input_schema"), dict)
        ):
            return f"tools.{i}: a tool needs a name and an input_schema"
    previous_uses: set[str] = set()
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        if i == 0 and message["role"] != "user":
            return "messages: the first message must use the 'user' role"
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list) or not blocks:
            return f"messages.{i}: {message['role']} messages must have non-empty content"
        uses, results = set(), set()
        for j, block in enumerate(blocks):
            kind = block.get("type") if isinstance(block, dict) else None
            if kind == "text" and not block.get("text"):
                if not (
                    message["role"] == "assistant" and i == len(messages) - 1 and len(blocks) == 1
                ):
                    return f"messages.{i}.content.{j}: text content blocks must be non-empty"
            elif kind == "tool_use":
                if message["role"] != "assistant" or not block.get("id") or not block.get("name"):
                    return (
                        f"messages.{i}.content.{j}: tool_use blocks need an id and a name, "
                        "in an assistant message"
                    )
                uses.add(block["id"])
            elif kind == "tool_result":
                if message["role"] != "user" or block.get("tool_use_id") not in previous_uses:
                    return (
                        f"messages.{i}.content.{j}: unexpected `tool_use_id` found in "
                        "`tool_result` "
                        f"blocks: {block.get('tool_use_id')}. Each `tool_result` block must have a "
                        f"corresponding `tool_use` block in the previous message."
                    )
                results.add(block["tool_use_id"])
            elif kind not in ("text", "image", "document"):
                return f"messages.{i}.content.{j}.type: unknown content block type {kind!r}"
        if message["role"] == "user" and previous_uses - results:
            return (
                f"messages.{i}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(sorted(previous_uses - results))}"
            )
        previous_uses = uses if message["role"] == "assistant" else set()
    return None


# -- the server ----------------------------------------------------------------------------------


@dataclass
class Recorded:
    """One request the server received: its body (parsed JSON, or None), headers (lower-case
    names), the scenario it selected (``match``, None for none), the step and the status sent.
    Read as attributes or as a mapping: ``request.body`` or ``request["body"]``."""

    path: str
    headers: dict[str, str]
    body: Any
    match: str | None = None
    step: int | None = None
    status: int = 0

    def __getitem__(self, name: str) -> Any:
        if name not in ("path", "headers", "body", "match", "step", "status"):
            raise KeyError(name)
        return getattr(self, name)

    @property
    def key(self) -> str:
        """The API key the request carried (``x-api-key``, or ``Authorization: Bearer``; the SDK
        2.x sends the latter)."""
        bearer = self.headers.get("authorization", "")
        return self.headers.get("x-api-key") or (
            bearer[7:] if bearer.lower().startswith("bearer ") else ""
        )

    @property
    def messages(self) -> list[dict[str, Any]]:
        return (self.body or {}).get("messages") or []

    @property
    def system(self) -> str:
        system = (self.body or {}).get("system") or ""
        if isinstance(system, list):
            return "\n".join(b.get("text", "") for b in system if isinstance(b, dict))
        return system

    @property
    def tool_names(self) -> list[str]:
        return [t.get("name") for t in (self.body or {}).get("tools") or []]

    @property
    def user_text(self) -> str:
        return last_user_text(self.messages)[1]


class Scenario:
    """The turns answering the requests whose last user text contains ``match``."""

    def __init__(self, fake: FakeAnthropic, match: str, turns: list[Turn]):
        self.fake, self.match, self.turns = fake, match, list(turns)

    @property
    def requests(self) -> list[Recorded]:
        return self.fake.requests_matching(self.match)


class FakeAnthropic:
    """``start()`` / ``stop()`` (or a ``with`` block); ``url`` is the base URL for the SDK."""

    def __init__(
        self, key: str = DEFAULT_KEY, *, default: Turn | None = None, validate: bool = True
    ):
        self.key = key
        self.default: Turn = default if default is not None else Text(DEFAULT_REPLY)
        self.validate = validate
        self._scenarios: dict[str, Scenario] = {}
        self._requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-anthropic", daemon=True
        )

    # -- lifecycle
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeAnthropic:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- scripting
    def script(self, match: str, turns: list[Turn]) -> Scenario:
        """Answers requests whose last user text contains ``match`` with ``turns`` in order
        (replacing an earlier scenario of the same ``match``)."""
        if not match:
            raise ValueError("a scenario needs a non-empty match text")
        scenario = Scenario(self, match, turns)
        with self._lock:
            self._scenarios[match] = scenario
        return scenario

    def clear(self, match: str | None = None) -> None:
        """Forgets the scenario of ``match`` and its recorded requests; with no ``match``, every
        scenario and every recorded request."""
        with self._lock:
            if match is None:
                self._scenarios.clear()
                self._requests.clear()
            else:
                self._scenarios.pop(match, None)
                self._requests = [r for r in self._requests if r.match != match]

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def requests_matching(self, match: str) -> list[Recorded]:
        """The recorded requests that selected the scenario of ``match`` (in arrival order)."""
        with self._lock:
            return [r for r in self._requests if r.match == match]

    def requests_containing(self, text: str) -> list[Recorded]:
        """The recorded requests whose body (system, messages, tools: anything) contains
        ``text``."""
        with self._lock:
            return [r for r in self._requests if text in json.dumps(r.body, ensure_ascii=False)]

    # -- answering
    def _record(self, recorded: Recorded) -> None:
        with self._lock:
            self._requests.append(recorded)

    def _select(self, body: dict[str, Any]) -> tuple[Scenario | None, int]:
        messages = body.get("messages") or []
        index, text = last_user_text(messages)
        if index is None:
            return None, 0
        with self._lock:
            found = [s for s in self._scenarios.values() if s.match in text]
        if not found:
            return None, 0
        scenario = max(found, key=lambda s: len(s.match))
        step = sum(
            1 for m in messages[index + 1 :] if isinstance(m, dict) and m.get("role") == "assistant"
        )
        return scenario, step

    def _turn(self, scenario: Scenario | None, step: int, body: dict[str, Any]) -> Any:
        if scenario is None:
            turn: Any = self.default
        elif step < len(scenario.turns):
            turn = scenario.turns[step]
        else:
            turn = Text(
                f"The scripted scenario {scenario.match!r} ended after {len(scenario.turns)} turns."
            )
        while callable(turn) and not isinstance(turn, (Text, ToolUse, Error, Drop)):
            turn = turn(body)
        return Text(turn) if isinstance(turn, str) else turn


# -- rendering answers ---------------------------------------------------------------------------


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def message_of(turn: Any, body: dict[str, Any], raw: bytes) -> dict[str, Any]:
    """The complete assistant message a ``Text`` / ``ToolUse`` / list-of-parts turn answers."""
    parts = turn if isinstance(turn, list) else [turn]
    conversation = _digest(body.get("messages"))[:12]
    content: list[dict[str, Any]] = []
    stop_reason = "end_turn"
    for part in parts:
        if isinstance(part, str):
            part = Text(part)
        if isinstance(part, Text):
            content.append({"type": "text", "text": part.text})
            stop_reason = part.stop_reason
        elif isinstance(part, ToolUse):
            if part.text:
                content.append({"type": "text", "text": part.text})
            tool_id = part.id or f"toolu_fake{conversation}{len(content):02d}"
            content.append(
                {"type": "tool_use", "id": tool_id, "name": part.name, "input": part.input}
            )
        else:
            raise TypeError(f"a message turn holds Text and ToolUse parts, not {part!r}")
    if any(b["type"] == "tool_use" for b in content):
        stop_reason = "tool_use"
    output = sum(_tokens(b.get("text") or json.dumps(b.get("input"))) for b in content)
    return {
        "id": f"msg_fake{_digest(body)[:20]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model") or "claude-fake",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": max(1, len(raw) // 4),
            "output_tokens": output,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "service_tier": "standard",
        },
    }


def pieces(text: str, size: int) -> list[str]:
    """``text`` cut into a few pieces of about ``size`` characters (at least two when it can)."""
    if len(text) < 2:
        return [text]
    size = max(1, min(size, (len(text) + 1) // 2))
    return [text[i : i + size] for i in range(0, len(text), size)]


def events_of(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The server-sent events streaming ``message``."""
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {**message["usage"], "output_tokens": 1},
    }
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start}),
        ("ping", {"type": "ping"}),
    ]
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            events.append(
                (
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
            )
            for piece in pieces(block["text"], 16):
                events.append(
                    (
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "text_delta", "text": piece},
                        },
                    )
                )
        else:
            events.append(
                (
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {**block, "input": {}},
                    },
                )
            )
            for piece in [""] + pieces(json.dumps(block["input"]), 12):
                events.append(
                    (
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": piece},
                        },
                    )
                )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": message["usage"]["output_tokens"]},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def _handler(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, chunked streams: as the SDK's pool expects

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            recorded = Recorded(self.path.split("?")[0], headers, body)
            fake._record(recorded)
            if recorded.path != "/v1/messages":
                return self._error(recorded, 404, "not_found_error", f"no route {recorded.path}")
            if recorded.key != fake.key:
                return self._error(recorded, 401, "authentication_error", "invalid x-api-key")
            if not headers.get("anthropic-version"):
                return self._error(
                    recorded, 400, "invalid_request_error", "anthropic-version: header is required"
                )
            wrong = problem(body) if fake.validate else None
            if wrong:
                return self._error(recorded, 400, "invalid_request_error", wrong)
            scenario, step = fake._select(body)
            recorded.match, recorded.step = (scenario.match if scenario else None), step
            turn = fake._turn(scenario, step, body)
            streamed = bool(body.get("stream"))
            if isinstance(turn, Drop):
                return self._drop(recorded, turn, body, raw, streamed)
            if isinstance(turn, Error):
                if turn.mid_stream and streamed:
                    return self._stream(
                        recorded,
                        events_of(message_of(Text(""), body, raw))[:1],
                        error=error_body(turn.type, turn.message),
                    )
                return self._error(recorded, turn.status, turn.type, turn.message)
            message = message_of(turn, body, raw)
            if streamed:
                return self._stream(recorded, events_of(message))
            self._json(recorded, 200, message)

        def do_GET(self) -> None:  # noqa: N802
            recorded = Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, None)
            fake._record(recorded)
            self._error(recorded, 404, "not_found_error", f"no route {self.path}")

        # -- writing
        def _json(self, recorded: Recorded, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            recorded.status = status
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("request-id", f"req_fake{_digest(recorded.body, status)[:20]}")
            if status >= 400:
                self.send_header("x-should-retry", "true" if status in (429, 500, 529) else "false")
            self.end_headers()
            self.wfile.write(data)

        def _error(self, recorded: Recorded, status: int, kind: str, message: str) -> None:
            self._json(recorded, status, error_body(kind, message))

        def _stream(
            self,
            recorded: Recorded,
            events: list[tuple[str, dict[str, Any]]],
            error: dict[str, Any] | None = None,
            drop: bool = False,
        ) -> None:
            recorded.status = 200
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("request-id", f"req_fake{_digest(recorded.body)[:20]}")
            self.end_headers()
            if error is not None:
                events = [*events, ("error", error)]
            for name, data in events:
                self._chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            if drop:
                self.close_connection = True
                return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _drop(
            self, recorded: Recorded, turn: Drop, body: dict[str, Any], raw: bytes, streamed: bool
        ) -> None:
            recorded.status = 0
            if turn.mid_stream and streamed:
                events = events_of(message_of(Text("This answer is cut off."), body, raw))
                return self._stream(recorded, events[:5], drop=True)
            self.close_connection = True

    return Handler
