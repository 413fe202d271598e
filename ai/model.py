"""The model behind the assistant: Anthropic's Messages API through the official SDK.

The key is ``ANTHROPIC_API_KEY`` and the SDK honours ``ANTHROPIC_BASE_URL`` itself (a proxy, a
gateway, or the tests' local server speaking the same protocol). Every failure is turned into
``ModelUnavailable`` with a reason a person can read, so the chat falls back to the deterministic
findings instead of failing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anthropic

# the SDK's HTTP client (a dependency of anthropic): its errors while a stream is read
import httpx2

from core.settings import Settings


class ModelUnavailable(Exception):
    """``reason``: ``no_api_key``, ``unreachable``, ``refused`` (the service said no: key,
    permission, bad request), ``overloaded`` (rate limited, overloaded, server error)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens

    def add(self, usage: Any) -> None:
        self.input_tokens += int(getattr(usage, "input_tokens", 0) or 0)
        self.output_tokens += int(getattr(usage, "output_tokens", 0) or 0)

    def as_dict(self) -> dict[str, int]:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}


@dataclass
class Reply:
    """One complete model message: its content blocks (as plain dicts, ready to be sent back in
    the next request), why it stopped, and what it cost."""

    content: list[dict[str, Any]]
    stop_reason: str | None
    usage: Usage = field(default_factory=Usage)

    @property
    def text(self) -> str:
        return "".join(b.get("text", "") for b in self.content if b.get("type") == "text")

    @property
    def tool_uses(self) -> list[dict[str, Any]]:
        return [b for b in self.content if b.get("type") == "tool_use"]


# The error types the service names in an error body (also in an ``error`` event of a stream that
# fails midway, whose HTTP status was 200): busy or failing, worth trying again later.
_BUSY = {"overloaded_error", "api_error", "rate_limit_error", "timeout_error"}


def _error_type(exc: Exception) -> str | None:
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("type") if isinstance(error, dict) else None


def _unavailable(exc: Exception) -> ModelUnavailable:
    if isinstance(exc, anthropic.APITimeoutError):
        return ModelUnavailable("unreachable", "the model's service did not answer in time")
    if isinstance(exc, anthropic.APIConnectionError):
        return ModelUnavailable("unreachable", "the model's service cannot be reached")
    if isinstance(exc, anthropic.AuthenticationError):
        return ModelUnavailable("refused", "the model's service refused the configured API key")
    if isinstance(exc, anthropic.APIStatusError):
        if exc.status_code in (429, 500, 502, 503, 504, 529) or _error_type(exc) in _BUSY:
            detail = (
                _error_type(exc) if exc.status_code == 200 else None
            ) or f"HTTP {exc.status_code}"
            return ModelUnavailable(
                "overloaded", f"the model's service is busy or failing ({detail})"
            )
        return ModelUnavailable(
            "refused", f"the model's service refused the request (HTTP {exc.status_code})"
        )
    if isinstance(exc, anthropic.AnthropicError):
        return ModelUnavailable("unreachable", f"the model's service failed: {type(exc).__name__}")
    # the transport failing while a stream is read (the connection closed midway) is not wrapped
    # by the SDK: its HTTP client's own error
    return ModelUnavailable(
        "unreachable", f"the model's service broke off its answer: {type(exc).__name__}"
    )


def _blocks(message: Any) -> list[dict[str, Any]]:
    blocks = []
    for block in message.content:
        if block.type == "text":
            blocks.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            blocks.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
    return blocks


class Model:
    """One per process; ``available`` is False without a key."""

    def __init__(self, settings: Settings):
        self.settings = settings
        key = settings.anthropic_api_key
        self._client = (
            anthropic.AsyncAnthropic(
                api_key=key.get_secret_value(),
                max_retries=settings.ai_max_retries,
                timeout=settings.ai_timeout_s,
            )
            if key
            else None
        )

    @property
    def available(self) -> bool:
        return self._client is not None

    @property
    def name(self) -> str:
        return self.settings.ai_model

    def _require(self) -> anthropic.AsyncAnthropic:
        if self._client is None:
            raise ModelUnavailable(
                "no_api_key", "no model is configured (ANTHROPIC_API_KEY is not set on the server)"
            )
        return self._client

    async def stream(
        self,
        *,
        system: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[str | Reply]:
        """Yields text deltas (``str``) as they arrive, then the whole ``Reply`` last."""
        client = self._require()
        kwargs: dict[str, Any] = {
            "model": self.name,
            "system": system,
            "messages": messages,
            "max_tokens": max_tokens or self.settings.ai_max_tokens,
        }
        if tools:
            kwargs["tools"] = tools
        try:
            async with client.messages.stream(**kwargs) as stream:
                async for event in stream:
                    if event.type == "text":
                        yield event.text
                final = await stream.get_final_message()
        except (anthropic.AnthropicError, httpx2.HTTPError) as exc:
            raise _unavailable(exc) from exc
        usage = Usage()
        usage.add(final.usage)
        yield Reply(_blocks(final), final.stop_reason, usage)

    async def create(
        self,
        *,
        system: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        tool_choice: dict[str, Any] | None = None,
        max_tokens: int | None = None,
    ) -> Reply:
        """One complete (not streamed) reply."""
        client = self._require()
        kwargs: dict[str, Any] = {
            "model": self.name,
            "system": system,
            "messages": messages,
            "max_tokens": max_tokens or self.settings.ai_max_tokens,
        }
        if tools:
            kwargs["tools"] = tools
        if tool_choice:
            kwargs["tool_choice"] = tool_choice
        try:
            message = await client.messages.create(**kwargs)
        except anthropic.AnthropicError as exc:
            raise _unavailable(exc) from exc
        usage = Usage()
        usage.add(message.usage)
        return Reply(_blocks(message), message.stop_reason, usage)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
