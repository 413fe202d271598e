"""What a tool is: a name, a description and an input schema the model sees, and a ``run`` over
the console's own API as the caller. A tool answers a ``ToolOutcome``: the short summary the person
sees, the content the model reads (masked, and wrapped as untrusted data when it came from a
cluster), and what it produced for the chat (findings, a proposal, a refusal)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ai.findings import Finding
from ai.masking import mask_value
from ai.untrusted import wrap


@dataclass(frozen=True)
class ChatContext:
    """What the conversation is about (the page it was started from)."""

    cluster_id: str | None = None
    stream: str | None = None
    consumer: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (
                ("cluster_id", self.cluster_id),
                ("stream", self.stream),
                ("consumer", self.consumer),
            )
            if v
        }


@dataclass
class ToolContext:
    api: httpx.AsyncClient  # the console's API, as the caller
    context: ChatContext
    conversation_id: str
    may_propose: Callable[[dict[str, Any]], str | None]  # None: allowed; else why not


@dataclass
class ToolOutcome:
    summary: str
    content: str  # what the model reads
    is_error: bool = False
    findings: list[Finding] = field(default_factory=list)
    proposal: dict[str, Any] | None = None
    refused: str | None = None


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_schema: dict[str, Any]
    run: Callable[[ToolContext, dict[str, Any]], Awaitable[ToolOutcome]]

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
        }


class ToolInputError(ValueError):
    """The model gave an input the tool cannot use; it reads the message and may try again."""


def schema(required: list[str] | None = None, **properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }


CLUSTER_ID = {
    "type": "string",
    "description": "the cluster's id (a UUID); defaults to the conversation's cluster",
}
STREAM = {"type": "string", "description": "the stream's name"}
CONSUMER = {"type": "string", "description": "the consumer's name"}


def text(value: Any, name: str, *, required: bool = False, limit: int = 255) -> str | None:
    if value is None or value == "":
        if required:
            raise ToolInputError(f"'{name}' is required")
        return None
    if not isinstance(value, str) or len(value) > limit or any(ord(c) < 32 for c in value):
        raise ToolInputError(f"'{name}' must be a name of at most {limit} printable characters")
    return value


def cluster_of(ctx: ToolContext, given: dict[str, Any], *, required: bool = True) -> str | None:
    value = given.get("cluster_id") or ctx.context.cluster_id
    if value is None:
        if required:
            raise ToolInputError("'cluster_id' is required (list_clusters gives the ids)")
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ToolInputError(
            "'cluster_id' must be a cluster's id (a UUID; list_clusters gives them)"
        ) from None


def stream_of(ctx: ToolContext, given: dict[str, Any]) -> str:
    return text(given.get("stream") or ctx.context.stream, "stream", required=True) or ""


def bounded(value: Any, name: str, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool):
        raise ToolInputError(f"'{name}' must be a whole number")
    return max(low, min(high, value))


class ApiRefused(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status


async def get(ctx: ToolContext, path: str, **params: Any) -> Any:
    """A GET of the console's API as the caller; a refusal raises ``ApiRefused`` with the API's
    own words (403: the person may not read it; 404: it does not exist for them)."""
    reply = await ctx.api.get(path, params={k: v for k, v in params.items() if v is not None})
    return _json(reply)


async def post(ctx: ToolContext, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    reply = await ctx.api.post(path, json=body)
    return reply.status_code, _json(reply)


def _json(reply: httpx.Response) -> Any:
    if reply.status_code >= 400:
        try:
            detail = reply.json().get("detail") or reply.text
        except ValueError:
            detail = reply.text
        raise ApiRefused(reply.status_code, str(detail)[:500])
    return reply.json() if reply.content else {}


def data(source: str, value: Any, summary: str, **extra: Any) -> ToolOutcome:
    """A result read from the systems: masked, then wrapped as untrusted data."""
    return ToolOutcome(summary=summary, content=wrap(source, mask_value(value)), **extra)


Runner = Callable[[ToolContext, dict[str, Any]], Awaitable[ToolOutcome]]
