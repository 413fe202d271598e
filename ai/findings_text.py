"""A diagnosis as plain text, for the chat without a model and the CLI: one finding per
paragraph (severity, title, summary, what to do), the worst first, then what could not be
read."""

from __future__ import annotations

import textwrap

from ai.findings import Diagnosis, Finding

WIDTH = 100


def _paragraph(finding: Finding) -> str:
    lines = [f"[{finding.severity}] {finding.title}", *textwrap.wrap(finding.summary, WIDTH)]
    if finding.suggestion:
        lines += textwrap.wrap(f"What to do: {finding.suggestion}", WIDTH)
    return "\n".join(lines)


def render(diagnosis: Diagnosis) -> str:
    ordered = diagnosis.sorted()
    checked = len(ordered.checked)
    if ordered.findings:
        parts = [_paragraph(f) for f in ordered.findings]
    else:
        parts = ["No problem found" + (f" in the {checked} things checked." if checked else ".")]
    if ordered.errors:
        parts.append("\n".join(["Not checked:"] + [f"- {e}" for e in ordered.errors]))
    return "\n\n".join(parts)
