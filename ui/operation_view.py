"""How the replication and backup operations read for people, shared by the Operations page and the
Replication page: one line saying what a mirror or failover operation does, its steps
(``progress.steps``: measure, approve, fence, catch up, promote, ...) as a table, and its result
(what each stream looks like on each side, the RTO measured, the messages lost)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import streamlit as st

from ui import fmt, session
from ui.client import Operation, Step

STEP_LABELS = {
    "measure": "Measure lag and last sequences",
    "approve": "Approval",
    "fence": "Fence writes on the primary",
    "catch_up": "Wait until the mirrors hold every message",
    "promote": "Promote the mirrors",
    "switch": "Record the new active side",
    "verify": "Verify with a canary publish",
    "reverse": "Make the old primary a mirror of the new one",
    "rollback": "Roll back",
    "cleanup": "Clean up",
}
STEP_BADGES = {
    "pending": "○ Pending",
    "running": "▶ Running",
    "done": "✔ Done",
    "failed": "✖ Failed",
    "skipped": "– Skipped",
}
REPLICATION_TYPES = ("mirror", "failover")
BACKUP_TYPES = ("backup", "restore", "backup_verify")


def describe(op: Operation, names: dict[str, str]) -> str | None:
    """ "Mirror of ORDERS (hub) → ORDERS_DR on dr", "Failover of orders-dr to dr (drill)"; None
    for the other kinds of operation."""
    data = op.input
    if op.type == "export":
        format = str(data.get("format") or "jsonl").upper()
        if data.get("kind") == "audit":
            return f"Export of the audit log ({format})"
        on = f" on {data['subject']}" if data.get("subject") else ""
        return (
            f"Export of {data.get('stream', '?')}{on} "
            f"({_name(names, data.get('cluster_id'))}, {format})"
        )
    if op.type == "mirror":
        mirrors = data.get("mirrors") or ([data] if data.get("source_stream") else [])
        if len(mirrors) == 1:
            m = mirrors[0]
            source = _name(names, m.get("source_cluster_id"))
            target = _name(names, m.get("target_cluster_id"))
            return (
                f"Mirror of {m.get('source_stream', '?')} ({source}) → "
                f"{m.get('target_stream', '?')} on {target}"
            )
        return f"{len(mirrors)} mirrors" + (" of a DR pair" if data.get("pair_id") else "")
    if op.type == "failover":
        # the input is the failover's plan: {request, pair_name, primary, target, streams, ...}
        request = data.get("request") or data
        result = op.result or {}
        what = (
            data.get("pair_name")
            or result.get("pair_name")
            or (
                ", ".join(
                    str(s.get("stream", s)) if isinstance(s, dict) else str(s)
                    for s in data.get("streams") or []
                )
                or "a DR pair"
            )
        )
        target = (data.get("target") or {}).get("name") or _name(
            names, request.get("target_cluster_id") or result.get("target_cluster_id")
        )
        drill = bool(request.get("drill") or result.get("drill"))
        text = f"{'Drill of a failover' if drill else 'Failover'} of {what} to {target}"
        extras = [
            w
            for w, on in (
                ("emergency", request.get("mode") == "emergency"),
                ("then reversed", request.get("reverse")),
            )
            if on
        ]
        return text + (f" ({', '.join(extras)})" if extras else "")
    if op.type in BACKUP_TYPES:
        return _describe_backup(op, names)
    return None


def _describe_backup(op: Operation, names: dict[str, str]) -> str:
    """ "Full backup 1a2b3c4d of hub", "Restore of ORDERS into ORDERS_R on dr". A backup's input
    is its job (``{backup_id, verify_only}``): the cluster is the operation's."""
    data, result = op.input, op.result or {}
    if op.type == "restore":
        to = data.get("to") or {}
        stream = data.get("stream") or "a backup"
        return (
            f"Restore of {stream} into {to.get('stream_name') or data.get('stream_name', '?')}"
            f" on {_name(names, to.get('cluster_id') or data.get('cluster_id'))}"
        )
    backup = str(data.get("backup_id") or result.get("backup_id") or "?")[:8]
    if op.type == "backup_verify" or data.get("verify_only"):
        return f"Verification of backup {backup}"
    kind = str(result.get("kind") or data.get("kind") or "").capitalize()
    return f"{kind + ' b' if kind else 'B'}ackup {backup} of {_name(names, op.cluster_id)}"


def _name(names: dict[str, str], cluster_id: Any) -> str:
    if not cluster_id:
        return "?"
    return names.get(str(cluster_id), str(cluster_id)[:8])


# --------------------------------------------------------------------------- steps


def step_rows(steps: tuple[Step, ...] | list[Step]) -> list[dict[str, str]]:
    return [
        {
            "Step": STEP_LABELS.get(s.name, s.name.replace("_", " ").capitalize()),
            "Status": STEP_BADGES.get(s.status, s.status),
            "Took": _took(s),
            "Detail": _detail(s.detail),
        }
        for s in steps
    ]


def show_steps(op: Operation, key: str = "op_steps") -> None:
    """The operation's steps, one line each, when it has named steps."""
    steps = op.progress.steps
    if not steps:
        return
    st.markdown("**Steps**")
    st.dataframe(step_rows(steps), hide_index=True, key=key)


def _took(step: Step) -> str:
    start, end = _parse(step.started_at), _parse(step.finished_at)
    if start is None:
        return ""
    if end is None:
        return "…" if step.status == "running" else ""
    return fmt.precise_seconds((end - start).total_seconds())


def _parse(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return None


def _detail(detail: Any) -> str:
    if detail is None or detail == "":
        return ""
    if isinstance(detail, str):
        return detail
    return json.dumps(detail, ensure_ascii=False, separators=(", ", ": "), default=str)


# --------------------------------------------------------------------------- results


def show_result(op: Operation, names: dict[str, str]) -> bool:
    """The result of a mirror, failover, export or backup operation; False for another kind (not
    drawn)."""
    result = op.result or {}
    if op.type == "mirror" and "mirrors" in result:
        show_mirror_result(result, names)
        return True
    if op.type == "failover" and ("streams" in result or "rto_s" in result):
        show_failover_result(result, names)
        return True
    if op.type == "export" and "records" in result:
        show_export_result(op)
        return True
    if op.type in BACKUP_TYPES:
        from ui.backup_text import result_lines  # it imports ui.client, as this module does

        lines = result_lines(op.type, result)
        if lines:
            st.markdown("\n".join(f"- {line}" for line in lines))
            return True
    return False


def show_export_result(op: Operation) -> None:
    """What an export wrote, and its file once completed (fetched when the button is clicked)."""
    result = op.result or {}
    cols = st.columns(2)
    cols[0].metric("Records", fmt.count(result.get("records")))
    cols[1].metric("Size", fmt.size(result.get("bytes")))
    if op.status != "completed" or result.get("stopped_early"):
        st.caption("Only a completed export has a file to download.")
        return
    api = session.client()
    filename = str(result.get("filename") or f"export.{result.get('format') or 'jsonl'}")

    def fetch() -> bytes:
        try:
            return api.download_export(op.id)
        except Exception as err:  # noqa: BLE001 - the file then says why, in a sentence
            return f"The download failed: {getattr(err, 'message', err)}\n".encode()

    st.download_button(
        f"Download {filename}",
        data=fetch,
        file_name=filename,
        key=f"export_download_{op.id}",
        on_click="ignore",
        mime="text/csv" if filename.endswith(".csv") else "application/x-ndjson",
    )


def show_mirror_result(result: dict[str, Any], names: dict[str, str]) -> None:
    mirrors = result.get("mirrors") or []
    cols = st.columns(3)
    cols[0].metric("Mirrors", fmt.count(len(mirrors)))
    cols[1].metric("Caught up in", fmt.precise_seconds(result.get("caught_up_in_s")))
    cols[2].metric("Copied", fmt.count(sum(int(m.get("messages_copied") or 0) for m in mirrors)))
    st.dataframe(
        [
            {
                "Source": f"{_name(names, m.get('source_cluster_id'))} / {m.get('source_stream')}",
                "Mirror": f"{_name(names, m.get('target_cluster_id'))} / {m.get('target_stream')}",
                "Caught up": "yes" if m.get("caught_up") else "not yet",
                "In": fmt.precise_seconds(m.get("caught_up_in_s")),
                "Messages": fmt.count(m.get("messages_copied")),
                "Size": fmt.size(m.get("bytes_copied")),
            }
            for m in mirrors
        ],
        hide_index=True,
        key="op_mirror_result",
    )


def show_failover_result(result: dict[str, Any], names: dict[str, str]) -> None:
    cols = st.columns(4)
    cols[0].metric("RTO measured", fmt.precise_seconds(result.get("rto_s")))
    emergency = result.get("mode") == "emergency"
    cols[1].metric(
        "Data at risk" if emergency else "Messages lost",
        fmt.count(result.get("data_loss_messages") or 0),
    )
    cols[2].metric("Active side", _name(names, result.get("active_cluster_id")))
    cols[3].metric("Rolled back", "yes" if result.get("rolled_back") else "no")
    if result.get("drill"):
        st.caption(
            "A drill: it ran on temporary copies of the mirrors; production, its mirrors "
            "and their clients were not touched."
        )
    if emergency:
        st.warning(
            "Emergency failover: the primary was not fenced. The messages it had not "
            "replicated yet are counted as at risk: they may be lost."
        )
    if result.get("rolled_back"):
        st.error("It was rolled back: each stream is back as it was, as the table says.")
    streams = result.get("streams") or []
    if streams:
        st.dataframe(
            [
                {
                    "Stream": s.get("stream"),
                    "Mirror": s.get("mirror_stream") or s.get("stream"),
                    "Primary": s.get("primary_state") or "",
                    "Standby": s.get("standby_state") or "",
                    "Primary last seq": fmt.count(s.get("primary_last_seq")),
                    "Standby last seq": fmt.count(s.get("standby_last_seq")),
                    "Lost": fmt.count(s.get("lost") or 0),
                    "Promoted": "yes" if s.get("promoted") else "no",
                }
                for s in streams
            ],
            hide_index=True,
            key="op_failover_result",
        )
