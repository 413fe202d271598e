"""When the assistant may file a proposal at all: a deterministic rule the model cannot talk its
way around, so that text read from a cluster (a payload, a subject, a description) can never make
it file one.

A proposal is allowed only when
- the person's message of this turn asks for a change (a verb such as create, increase, scale,
  change, fix, propose), and
- what it updates is named by the person (in one of their messages) or is what the conversation is
  about (its context); a new resource may be named by the assistant, but a consumer's stream must
  be named the same way;
- and at most ``MAX_PER_TURN`` proposals are filed in one answer.
Deleting and purging are never proposed (the tool does not offer them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ai.tools.base import ChatContext

CHANGE_INTENT = re.compile(
    r"\b(create|add|make|set\s*up|increase|raise|decrease|reduce|lower|scale|change|update|"
    r"modify|edit|adjust|fix|propose|apply|configure|extend|shorten|bump|tune|resize|grow|"
    r"double|halve|enable|disable|limit|allow)\w*\b",
    re.IGNORECASE,
)
MAX_PER_TURN = 3


def asks_for_change(message: str) -> bool:
    return CHANGE_INTENT.search(message) is not None


def _named(name: str, messages: list[str]) -> bool:
    pattern = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", re.IGNORECASE)
    return any(pattern.search(m) for m in messages)


@dataclass
class ProposalGuard:
    message: str  # the person's message of this turn
    messages: list[str]  # every message of the person in the conversation, this one included
    context: ChatContext
    filed: int = field(default=0)

    def _known(self, name: str | None) -> bool:
        return bool(name) and (
            name in (self.context.stream, self.context.consumer) or _named(name, self.messages)
        )

    def __call__(self, body: dict[str, Any]) -> str | None:
        if not asks_for_change(self.message):
            return "the person did not ask for a change in their last message."
        if self.filed >= MAX_PER_TURN:
            return f"at most {MAX_PER_TURN} proposals are filed in one answer."
        stream, consumer = body.get("stream"), body.get("consumer")
        updating = body.get("operation") == "update"
        if (updating or body.get("kind") == "consumer") and not self._known(stream):
            return f"the stream '{stream}' was not named by the person."
        if updating and body.get("kind") == "consumer" and not self._known(consumer):
            return f"the consumer '{consumer}' was not named by the person."
        self.filed += 1
        return None
