"""Plain-text rendering of a diagnosis (placeholder until the helper's version lands)."""

from __future__ import annotations

from ai.findings import Diagnosis


def render(diagnosis: Diagnosis) -> str:
    if not diagnosis.findings:
        return "No problem found."
    return "\n\n".join(f"[{f.severity}] {f.title}\n{f.summary}"
                       + (f"\nWhat to do: {f.suggestion}" if f.suggestion else "")
                       for f in diagnosis.findings)
