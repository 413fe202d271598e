"""Text a person names or describes something with: ``Label`` (a name or title, one line) and
``Description`` (free text that may keep line breaks). Both refuse the C0 (U+0000-U+001F) and C1
(U+007F-U+009F) control characters, which a screen or a log cannot show and which a fuzzer (or a
paste) slips in easily; ordinary Unicode ("Équipe données", "数据") is welcome.

Use them as the field's type and add the length limits with ``Field``::

    name: Label = Field(min_length=1, max_length=255)
    description: Description | None = Field(default=None, max_length=2000)

They are string patterns, so they compose with ``Field``'s limits (optional fields included) and
the OpenAPI schema shows them exactly, for generated clients and the fuzzer. The API words their
error for a person (``control_message``: "must not contain control characters").

A name with its own pattern that already refuses control characters (cluster, role and DR pair
names are ASCII) stays a plain ``str``. A type whose own pattern lets them through keeps its
pattern and message and adds ``NoControlCharacters`` after it (``core.jetstream.config.Name``).

Text stored before the rule existed is read back through ``readable`` where a stored row is
validated again (an approval policy's name), so one old name does not break every read.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, StringConstraints
from pydantic_core import CoreSchema, core_schema

SINGLE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
MULTI_LINE_PATTERN = r"^[^\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"  # \n and \r allowed
SINGLE_LINE_MESSAGE = "must not contain control characters (a name is one line of text)"
MULTI_LINE_MESSAGE = "must not contain control characters (line breaks are allowed)"
_MESSAGES = {SINGLE_LINE_PATTERN: SINGLE_LINE_MESSAGE, MULTI_LINE_PATTERN: MULTI_LINE_MESSAGE}
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

Label = Annotated[str, StringConstraints(pattern=SINGLE_LINE_PATTERN)]
Description = Annotated[str, StringConstraints(pattern=MULTI_LINE_PATTERN)]


def control_message(error: dict[str, Any]) -> str | None:
    """The sentence for a pydantic error that is one of these patterns refusing a value, else
    None."""
    if error.get("type") != "string_pattern_mismatch":
        return None
    return _MESSAGES.get((error.get("ctx") or {}).get("pattern", ""))


def readable(value: str) -> str:
    """Stored text as a valid ``Label``/``Description``: each control character other than a
    line break becomes U+FFFD (the replacement character a screen shows for what it cannot)."""
    return _ANY_CONTROL.sub(lambda m: m.group() if m.group() in "\n\r" else "\ufffd", value)


class NoControlCharacters:
    """Pydantic metadata for a string type that has a pattern of its own: refuses control
    characters with ``SINGLE_LINE_MESSAGE``, after the type's own constraints. The OpenAPI
    schema shows ``schema_pattern``: the type's pattern without control characters."""

    def __init__(self, schema_pattern: str) -> None:
        self.schema_pattern = schema_pattern

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(_refuse_control, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        json_schema = handler(schema)
        handler.resolve_ref_schema(json_schema)["pattern"] = self.schema_pattern
        return json_schema

    def __hash__(self) -> int:
        return hash((type(self), self.schema_pattern))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, NoControlCharacters) and other.schema_pattern == self.schema_pattern
        )


def _refuse_control(value: str) -> str:
    if _ANY_CONTROL.search(value):
        raise ValueError(SINGLE_LINE_MESSAGE)
    return value
