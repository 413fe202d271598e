""" "Describe what you need" (source design §6.4): a sentence becomes a stream (and, when asked
for, a consumer) configuration in JetStream's own field names.

The model answers through one forced tool (``emit_configuration``), so the reply is structured;
the caller validates it with the same models as the API (``core.jetstream.config``) and shows it
as a diff. Nothing is created here: the person creates it through the normal path.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ai.masking import mask_value
from ai.model import Model, Usage
from ai.untrusted import SYSTEM_RULES, wrap
from core.jetstream.config import ConsumerConfig, StreamConfig

EMIT = {
    "name": "emit_configuration",
    "description": "The configuration that meets the description.",
    "input_schema": {
        "type": "object",
        "additionalProperties": False,
        "required": ["stream", "explanation"],
        "properties": {
            "stream": {
                "type": "object",
                "description": "a JetStream stream config: name, "
                "subjects, retention (limits|interest|workqueue), storage (file|memory), "
                "num_replicas (1-5), max_age (nanoseconds), max_bytes, max_msgs, "
                "max_msgs_per_subject, discard (old|new), duplicate_window (ns), "
                "compression (none|s2), description",
            },
            "consumer": {
                "type": ["object", "null"],
                "description": "a JetStream consumer config "
                "when one is asked for: durable_name, ack_policy, ack_wait (ns), "
                "max_deliver, max_ack_pending, deliver_policy, filter_subject, "
                "max_batch, max_waiting, description",
            },
            "explanation": {
                "type": "array",
                "items": {"type": "string"},
                "description": "one line per choice: what and why",
            },
        },
    },
}
SYSTEM = (
    "You turn a description of what a team needs into a NATS JetStream configuration, in "
    "JetStream's own JSON field names and units (durations in nanoseconds, sizes in bytes). "
    "Choose names in capitals for streams (ORDERS) and lower-case with dashes for "
    "consumers. Prefer safe defaults: file storage, 3 replicas when asked for high "
    "availability, explicit acks. Answer only with emit_configuration.\n\n" + SYSTEM_RULES
)


def _check(model: type[StreamConfig] | type[ConsumerConfig], config: Any) -> dict[str, Any]:
    if not isinstance(config, dict):
        return {
            "config": config,
            "valid": False,
            "errors": [{"field": "config", "message": "is not an object"}],
        }
    try:
        return {"config": model.model_validate(config).to_api(), "valid": True, "errors": []}
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"]) or "config",
                "message": e["msg"].removeprefix("Value error, "),
            }
            for e in exc.errors()
        ]
        return {"config": config, "valid": False, "errors": errors}


async def draft(
    model: Model, description: str, existing_names: list[str]
) -> tuple[dict[str, Any], Usage]:
    """``{stream: {config, valid, errors}, consumer: {...} | None, explanation}``."""
    prompt = description
    if existing_names:
        prompt += "\n\n" + wrap(
            "names of the streams that already exist", mask_value(existing_names[:200])
        )
    reply = await model.create(
        system=SYSTEM,
        messages=[{"role": "user", "content": prompt}],
        tools=[EMIT],
        tool_choice={"type": "tool", "name": "emit_configuration"},
    )
    emitted = next((t["input"] for t in reply.tool_uses if t["name"] == EMIT["name"]), None)
    if not isinstance(emitted, dict):
        emitted = {
            "stream": {},
            "explanation": [
                "The model gave no configuration: " + (reply.text or "no answer")[:500]
            ],
        }
    consumer = emitted.get("consumer")
    explanation = emitted.get("explanation") or []
    return {
        "stream": _check(StreamConfig, emitted.get("stream")),
        "consumer": _check(ConsumerConfig, consumer) if consumer else None,
        "explanation": [str(line) for line in explanation][:30]
        if isinstance(explanation, list)
        else [str(explanation)],
    }, reply.usage
