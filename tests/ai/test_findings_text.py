"""The plain-text rendering of a diagnosis: one paragraph per finding, the worst first, then what
could not be read."""

from __future__ import annotations

from ai.findings import Checked, Diagnosis, Finding
from ai.findings_text import render


def _finding(code, severity, title):
    return Finding(
        code=code,
        severity=severity,
        title=title,
        summary=f"{title}: the figures.",
        suggestion=f"Fix {title}.",
        stream="S",
    )


def test_one_paragraph_per_finding_worst_first_then_what_was_not_read():
    text = render(
        Diagnosis(
            findings=[
                _finding("stream_idle", "info", "Idle"),
                _finding("storage_near_limit", "critical", "Full"),
                _finding("consumer_stalled", "warning", "Stalled"),
            ],
            checked=[Checked(cluster_id="c")],
            errors=["lag history: ClickHouse is unavailable (503)"],
        )
    )
    paragraphs = text.split("\n\n")
    assert [p.splitlines()[0] for p in paragraphs[:3]] == [
        "[critical] Full",
        "[warning] Stalled",
        "[info] Idle",
    ]
    assert paragraphs[0].splitlines()[1:] == ["Full: the figures.", "What to do: Fix Full."]
    assert paragraphs[3] == "Not checked:\n- lag history: ClickHouse is unavailable (503)"


def test_nothing_found_says_how_much_was_checked():
    assert render(Diagnosis()) == "No problem found."
    assert (
        render(
            Diagnosis(
                checked=[
                    Checked(cluster_id="c", stream="S"),
                    Checked(cluster_id="c", stream="S", consumer="x"),
                ]
            )
        )
        == "No problem found in the 2 things checked."
    )


def test_long_sentences_are_wrapped():
    finding = _finding("consumer_stalled", "warning", "Stalled")
    finding.summary = "word " * 60
    lines = render(Diagnosis(findings=[finding])).splitlines()
    assert len(lines) > 3 and all(len(line) <= 100 for line in lines)
