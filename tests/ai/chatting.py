"""Helpers of the assistant's tests: ask the chat and read its server-sent events."""

from __future__ import annotations

import json
from typing import Any

import httpx


def read_events(lines) -> list[tuple[str, dict[str, Any]]]:
    events, kind, data = [], None, []
    for line in lines:
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and kind is not None:
            events.append((kind, json.loads("\n".join(data))))
            kind, data = None, []
    return events


def ask(
    api: httpx.Client,
    headers: dict,
    message: str,
    *,
    conversation_id: str | None = None,
    context: dict | None = None,
    expect: int = 200,
) -> list[tuple[str, dict[str, Any]]]:
    body: dict[str, Any] = {"message": message}
    if conversation_id:
        body["conversation_id"] = conversation_id
    if context:
        body["context"] = context
    with api.stream("POST", "/api/v1/ai/chat", json=body, headers=headers, timeout=120) as reply:
        if reply.status_code != expect:
            reply.read()
            raise AssertionError(f"{reply.status_code}: {reply.text}")
        if expect != 200:
            reply.read()
            return [("problem", reply.json())]
        assert reply.headers["content-type"].startswith("text/event-stream")
        return read_events(reply.iter_lines())


def of(events, kind: str) -> list[dict[str, Any]]:
    return [data for k, data in events if k == kind]


def text_of(events) -> str:
    return "".join(d["delta"] for d in of(events, "text"))
