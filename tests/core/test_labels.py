"""The shared name/description types of ``core.labels``: which characters they refuse, the message
a person reads, the pattern the OpenAPI schema shows, and stored text read back as it is."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel, Field, ValidationError

from core.jetstream.config import NAME_SCHEMA_PATTERN, Name
from core.labels import Description, Label, control_message, readable
from core.policy.models import ApprovalPolicy, stored_policy

C0_C1 = [chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))]


class Thing(BaseModel):
    name: Label = Field(min_length=1, max_length=20)
    description: Description = Field(default="", max_length=100)
    title: Label | None = Field(default=None, max_length=5)


def _errors(**data) -> list[tuple[str, str]]:
    """(field, message) as the API words them: the control-character patterns in a sentence."""
    with pytest.raises(ValidationError) as caught:
        Thing(**data)
    return [
        (".".join(map(str, e["loc"])), control_message(e) or e["msg"])
        for e in caught.value.errors()
    ]


@pytest.mark.parametrize("char", C0_C1, ids=lambda c: f"U+{ord(c):04X}")
def test_a_name_refuses_every_c0_and_c1_control_character(char):
    assert _errors(name=f"a{char}b") == [
        ("name", "must not contain control characters (a name is one line of text)")
    ]


@pytest.mark.parametrize(
    "char", [c for c in C0_C1 if c not in "\n\r"], ids=lambda c: f"U+{ord(c):04X}"
)
def test_a_description_refuses_them_all_but_line_breaks(char):
    assert _errors(name="ok", description=f"line{char}") == [
        ("description", "must not contain control characters (line breaks are allowed)")
    ]


@pytest.mark.parametrize("text", ["Équipe données", "数据", "Ünïcödé – ok", "a b\u00a0c", "🚀"])
def test_ordinary_unicode_is_welcome(text):
    thing = Thing(name=text, description=f"{text}\nsecond line\r\nthird")
    assert thing.name == text and thing.description.startswith(text)


def test_the_field_keeps_its_own_limits_and_messages():
    assert _errors(name="") == [("name", "String should have at least 1 character")]
    assert _errors(name="x" * 21) == [("name", "String should have at most 20 characters")]
    assert _errors(name="ok", title="x" * 6) == [
        ("title", "String should have at most 5 characters")
    ]
    assert _errors(name="ok", title="\x85") == [
        ("title", "must not contain control characters (a name is one line of text)")
    ]


def test_the_schema_says_it_with_a_pattern():
    props = Thing.model_json_schema()["properties"]
    single, multi = props["name"]["pattern"], props["description"]["pattern"]
    assert props["name"]["minLength"] == 1 and props["name"]["maxLength"] == 20
    assert props["title"]["anyOf"][0] == {"type": "string", "maxLength": 5, "pattern": single}
    for char in C0_C1:
        assert not re.match(single, f"a{char}b")
        assert bool(re.match(multi, f"a{char}b")) == (char in "\n\r")
    assert re.match(single, "数据") and re.match(multi, "Équipe\ndonnées")


def test_text_stored_before_the_rule_is_read_back_readable():
    stored = {
        "name": "\x82W",
        "description": "a\tb\nc",
        "priority": 5,
        "groups": [{"name": "Ad\x00mins", "roles": ["admin"]}],
    }
    with pytest.raises(ValidationError):
        Thing.model_validate({"name": stored["name"]})
    assert readable("\x82W") == "\ufffdW" and readable("a\tb\nc\r\n") == "a\ufffdb\nc\r\n"
    policy = ApprovalPolicy.model_validate(stored_policy(stored))
    assert (policy.name, policy.description) == ("\ufffdW", "a\ufffdb\nc")
    assert policy.groups[0].name == "Ad\ufffdmins" and policy.groups[0].roles == ["admin"]
    with pytest.raises(ValidationError):
        ApprovalPolicy.model_validate(stored)


class Stream(BaseModel):
    name: Name


def test_a_stream_name_keeps_its_rules_and_refuses_control_characters():
    assert Stream(name="数据-orders").name == "数据-orders"
    for bad, message in [
        ("a.b", "String should match pattern"),
        ("\x82W", "must not contain control characters"),
        ("a\x00b", "must not contain control characters"),
    ]:
        with pytest.raises(ValidationError) as caught:
            Stream(name=bad)
        assert message in caught.value.errors()[0]["msg"]
    assert Stream.model_json_schema()["properties"]["name"]["pattern"] == NAME_SCHEMA_PATTERN
    assert not re.match(NAME_SCHEMA_PATTERN, "\x82W") and re.match(NAME_SCHEMA_PATTERN, "数据")
