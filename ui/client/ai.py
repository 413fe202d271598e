"""The assistant: the chat (a generator over its server-sent events), the person's conversations,
the deterministic checks (``diagnose``) and "describe what you need" (``configure``).

The chat answers ``POST /ai/chat`` with events: ``conversation``, ``text`` (deltas), ``tool_call``
and ``tool_result``, ``finding``, ``proposal`` (a change request waiting for approval),
``refused``, ``notice`` (the model is absent, and why) and ``done`` (token usage). They come as
:class:`ChatEvent` items as they arrive; :class:`Answer` gathers them into what a stored turn
holds, so a live answer and a stored one are drawn the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import EventSource

from ui.client.base import BaseClient, _items, _reason, _seg
from ui.client.errors import ApiError, ApiUnavailable, AuthenticationRequired

CHAT_READ_TIMEOUT_S = 300.0  # the longest silence inside an answer (a slow tool, a slow model)


@dataclass(frozen=True)
class ChatEvent:
    kind: str  # conversation, text, tool_call, tool_result, finding, proposal, refused,
    #            notice, done
    data: dict[str, Any]


@dataclass
class Answer:
    """One answer of the assistant: its text, the tool calls (with their results' summaries),
    findings, proposals, the notice when the model was absent, and how it ended."""

    text: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    proposals: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    notice: dict[str, Any] | None = None
    conversation_id: str | None = None
    title: str | None = None
    done: dict[str, Any] | None = None

    @classmethod
    def from_turn(cls, turn: Mapping[str, Any]) -> Answer:
        return cls(
            text=str(turn.get("text") or ""),
            tool_calls=list(turn.get("tool_calls") or []),
            findings=list(turn.get("findings") or []),
            proposals=list(turn.get("proposals") or []),
            notice=turn.get("notice") or None,
        )

    def add(self, event: ChatEvent) -> None:
        data = event.data
        if event.kind == "conversation":
            self.conversation_id = str(data.get("conversation_id") or "") or None
            self.title = data.get("title")
        elif event.kind == "text":
            self.text += str(data.get("delta") or "")
        elif event.kind == "tool_call":
            self.tool_calls.append(
                {
                    "id": data.get("id"),
                    "name": data.get("name"),
                    "input": data.get("input") or {},
                    "summary": None,
                    "is_error": False,
                }
            )
        elif event.kind == "tool_result":
            call = next((c for c in reversed(self.tool_calls) if c["id"] == data.get("id")), None)
            if call is None:
                call = {"id": data.get("id"), "name": data.get("name"), "input": {}}
                self.tool_calls.append(call)
            call.update(summary=data.get("summary"), is_error=bool(data.get("is_error")))
        elif event.kind == "finding":
            self.findings.append(data)
        elif event.kind == "proposal":
            self.proposals.append(data)
        elif event.kind == "refused":
            self.refused.append(data)
        elif event.kind == "notice":
            self.notice = data
        elif event.kind == "done":
            self.done = data
            self.conversation_id = str(data.get("conversation_id") or self.conversation_id)

    @property
    def offline(self) -> bool:
        return bool(self.done and self.done.get("offline")) or self.notice is not None


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    context: dict[str, Any]
    created_at: str | None = None
    updated_at: str | None = None
    turns: tuple[dict[str, Any], ...] = ()  # role, text, tool_calls, proposals, findings, notice

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Conversation:
        return cls(
            str(data["id"]),
            str(data.get("title") or ""),
            dict(data.get("context") or {}),
            data.get("created_at"),
            data.get("updated_at"),
            tuple(dict(t) for t in data.get("turns") or ()),
        )


def sse_events(response: httpx.Response) -> Iterator[ChatEvent]:
    """Server-sent events of a streamed response as they arrive, their data decoded from JSON;
    events without data are skipped."""
    for sse in EventSource(response).iter_sse():
        if not sse.data:
            continue
        try:
            decoded = json.loads(sse.data)
        except ValueError:
            decoded = {"text": sse.data}
        yield ChatEvent(sse.event, decoded if isinstance(decoded, dict) else {"value": decoded})


class AiApi(BaseClient):
    def chat(
        self,
        message: str,
        *,
        conversation_id: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Iterator[ChatEvent]:
        """Ask the assistant: its answer's events as they arrive. A refusal before the answer
        starts (``404`` conversation, ``422``, ``429``) raises :class:`ApiError`."""
        body: dict[str, Any] = {"message": message}
        if conversation_id:
            body["conversation_id"] = conversation_id
        if context:
            body["context"] = {k: v for k, v in context.items() if v}
        return self._events("/ai/chat", body)

    def _events(self, path: str, body: Mapping[str, Any]) -> Iterator[ChatEvent]:
        tokens = self._tokens
        if tokens is None:
            raise AuthenticationRequired(401, "Please log in.")
        timeout = httpx.Timeout(self._http.timeout.connect, read=CHAT_READ_TIMEOUT_S)
        for attempt in (1, 2):
            headers = {
                "Authorization": f"Bearer {tokens.access_token}",
                "Accept": "text/event-stream",
            }
            try:
                with self._http.stream(
                    "POST", path, json=dict(body), headers=headers, timeout=timeout
                ) as response:
                    if response.status_code == 401 and attempt == 1:
                        tokens = self._refresh_after(tokens)
                        continue
                    if response.status_code >= 400:
                        response.read()
                        if response.status_code == 401:
                            self.forget()
                        raise ApiError.from_response(response)
                    yield from sse_events(response)
                    return
            except httpx.TimeoutException:
                raise ApiUnavailable(0, f"The API at {self.base_url} stopped answering.") from None
            except httpx.HTTPError as exc:
                raise ApiUnavailable(
                    0, f"The answer from {self.base_url} was cut short ({_reason(exc)})."
                ) from None

    def conversations(self, limit: int = 50) -> list[Conversation]:
        """The person's own conversations, the most recent first."""
        data = self._request("GET", "/ai/conversations", params={"limit": limit})
        return [Conversation.from_json(c) for c in _items(data)]

    def conversation(self, conversation_id: str) -> Conversation:
        """One conversation with its turns."""
        return Conversation.from_json(
            self._request("GET", f"/ai/conversations/{_seg(conversation_id)}")
        )

    def delete_conversation(self, conversation_id: str) -> None:
        self._request("DELETE", f"/ai/conversations/{_seg(conversation_id)}")

    def diagnose(
        self, cluster_id: str | None = None, stream: str | None = None, consumer: str | None = None
    ) -> dict[str, Any]:
        """The deterministic checks over a consumer, a stream, a cluster or everything:
        ``{findings, checked, errors}`` (``ai.findings.Diagnosis``)."""
        return self._request(
            "GET",
            "/ai/diagnose",
            params={"cluster_id": cluster_id, "stream": stream, "consumer": consumer},
        )

    def configure(self, description: str, cluster_id: str | None = None) -> dict[str, Any]:
        """ "Describe what you need": ``{stream: {config, valid, errors}, consumer: {...} |
        None, explanation, exists, diff, create}``. Nothing is created."""
        body: dict[str, Any] = {"description": description}
        if cluster_id:
            body["cluster_id"] = cluster_id
        return self._request("POST", "/ai/configure", json=body)
