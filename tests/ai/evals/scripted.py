"""A case's ``script`` as the turns of the local Anthropic server (tests/ai/fake_anthropic.py):
tool calls with their placeholders filled in, then the final answer. ``quote_findings`` is a turn
computed from the request: it writes the finding codes the ``diagnose`` call of this answer read
(from the tool result the console sent back), as a model would report them."""

from __future__ import annotations

import re
from typing import Any

from tests.ai.evals.case import Case, Names, render
from tests.ai.fake_anthropic import Text, ToolUse, result_text

CODE = re.compile(r'"code":\s*"([a-z_]+)"')


def read_codes(request: dict[str, Any], tool: str = "diagnose") -> list[str] | None:
    """The finding codes in the results of the request's ``tool`` calls (None: never called)."""
    ids = {
        block["id"]
        for message in request.get("messages") or []
        if message.get("role") == "assistant" and isinstance(message.get("content"), list)
        for block in message["content"]
        if block.get("type") == "tool_use" and block.get("name") == tool
    }
    if not ids:
        return None
    codes: list[str] = []
    for message in request.get("messages") or []:
        if message.get("role") == "user" and isinstance(message.get("content"), list):
            for block in message["content"]:
                if block.get("type") == "tool_result" and block.get("tool_use_id") in ids:
                    codes += [c for c in CODE.findall(result_text(block)) if c not in codes]
    return codes


def quote_findings(request: dict[str, Any]) -> Text:
    codes = read_codes(request)
    if codes is None:
        return Text("I did not run the checks.")
    return Text(
        f"The checks found: {', '.join(codes)}." if codes else "The checks found no problem."
    )


def turns(case: Case, names: Names) -> list[Any]:
    out: list[Any] = []
    for turn in case.script:
        if turn.tool is not None:
            out.append(ToolUse(turn.tool, render(turn.input, names)))
        elif turn.tools is not None:
            out.append([ToolUse(call.tool, render(call.input, names)) for call in turn.tools])
        elif turn.text is not None:
            out.append(Text(render(turn.text, names)))
        else:
            out.append(quote_findings)
    return out
