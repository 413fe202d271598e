"""Masking of values that look like secrets (placeholder until the helper's version lands)."""

from __future__ import annotations

import re
from typing import Any

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_TOKEN = re.compile(r"\b(?:sk-[\w-]{16,}|jsc_[\w-]{16,}|eyJ[\w-]+\.[\w-]+\.[\w-]+)")


def mask_text(text: str) -> str:
    text = _TOKEN.sub("[secret]", text)
    text = _EMAIL.sub("[email]", text)
    return _CARD.sub("[card]", text)


def mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    return value
