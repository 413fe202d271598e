"""Text a person names or describes something with: ``Label`` (a name or title, one line) and
``Description`` (free text that may keep line breaks). Both refuse the C0 (U+0000-U+001F) and C1
(U+007F-U+009F) control characters, which a screen or a log cannot show and which a fuzzer (or a
paste) slips in easily; ordinary Unicode ("Équipe données", "数据") is welcome.

Use them as the field's type and add the length limits with ``Field``::

    name: Label = Field(min_length=1, max_length=255)
    description: Description = Field(default="", max_length=2000)

The check also reaches the OpenAPI schema as a ``pattern``, so generated clients and the fuzzer
know it; a field that has its own (stricter) pattern keeps it.

Text stored before the check existed is read back as it is: validate stored rows with
``model_validate(row, context=STORED)``, so an old name is shown (and can be renamed) instead of
breaking every read.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationInfo
from pydantic_core import CoreSchema, core_schema

CONTROL = "\x00-\x1f\x7f-\x9f"
_LINE_BREAKS = "\n\r"
SINGLE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
MULTI_LINE_PATTERN = r"^[^\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
_ANY_CONTROL = re.compile(f"[{CONTROL}]")
_CONTROL_BUT_BREAKS = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]")
STORED: dict[str, Any] = {"stored": True}  # validation context of rows read back from storage


def refuse_control(value: str, *, line_breaks: bool = False) -> str:
    """``value`` unchanged, or ValueError with a message a person can act on."""
    if line_breaks:
        if _CONTROL_BUT_BREAKS.search(value):
            raise ValueError("must not contain control characters (line breaks are allowed)")
    elif _ANY_CONTROL.search(value):
        raise ValueError("must not contain control characters (a name is one line of text)")
    return value


class NoControlCharacters:
    """Pydantic metadata: the string refuses control characters (all of them, or all but line
    breaks with ``line_breaks=True``). Put it after the field's own constraints. A type whose own
    ``pattern`` lets control characters through gives ``schema_pattern``: its pattern without
    them, for the OpenAPI schema (validation keeps the own pattern's message for what it refuses,
    and this one's for control characters)."""

    def __init__(self, *, line_breaks: bool = False, schema_pattern: str | None = None) -> None:
        self.line_breaks, self.schema_pattern = line_breaks, schema_pattern

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        line_breaks = self.line_breaks

        def check(value: str, info: ValidationInfo) -> str:
            if isinstance(info.context, dict) and info.context.get("stored"):
                return value
            return refuse_control(value, line_breaks=line_breaks)

        return core_schema.with_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> dict[str, Any]:
        json_schema = handler(schema)
        target = handler.resolve_ref_schema(json_schema)
        if self.schema_pattern:
            target["pattern"] = self.schema_pattern
        else:
            target.setdefault("pattern", MULTI_LINE_PATTERN if self.line_breaks
                              else SINGLE_LINE_PATTERN)
        return json_schema

    def __hash__(self) -> int:
        return hash((type(self), self.line_breaks, self.schema_pattern))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, NoControlCharacters) and other.line_breaks == self.line_breaks
                and other.schema_pattern == self.schema_pattern)


Label = Annotated[str, NoControlCharacters()]
Description = Annotated[str, NoControlCharacters(line_breaks=True)]
