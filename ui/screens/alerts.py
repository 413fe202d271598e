"""Alerts: the rules with their state (firing or ok, since when, the value measured), a rule
builder with a dry run ("Test" says what the rule measures now and whether it would fire), and
the event history; acknowledge a firing, snooze a rule, turn it off or remove it. Each event names
what to look at next (the stream, the consumer, the metric's chart)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import fmt, session
from ui.approval_widgets import run_action

AREA = "alerts"
KINDS = {
    "consumer_lag": (
        "Consumer lag",
        "messages not yet processed, over the threshold for the duration",
    ),
    "lag_growth": (
        "Lag growing",
        "the consumer's lag grew by at least the threshold, steadily, for the duration",
    ),
    "stream_idle": ("Stream idle", "no message stored for the duration (threshold unused)"),
    "rate_anomaly": (
        "Rate anomaly",
        "the in-rate departs from the same hour's average of the "
        "last 7 days by more than the threshold (0.5 = 50%)",
    ),
    "storage_pct": ("Storage", "the stream's bytes over the threshold percent of its max_bytes"),
    "mirror_lag": ("Mirror lag", "a mirror behind its source by more than the threshold messages"),
    "server_health": ("Server health", "the cluster unreachable for the duration"),
    "quota_pct": ("Quota", "a team's quota usage over the threshold percent"),
}
NEEDS_STREAM = {
    "consumer_lag",
    "lag_growth",
    "stream_idle",
    "rate_anomaly",
    "storage_pct",
    "mirror_lag",
}
NEEDS_CONSUMER = {"consumer_lag", "lag_growth"}
SNOOZES = {"15m": "15 minutes", "1h": "1 hour", "4h": "4 hours", "24h": "a day", "0s": "unsnooze"}


def main() -> None:
    api = session.client()
    st.title("Alerts")
    session.show_flash(AREA)
    me = session.me()
    can_edit = bool(me and me.can("alerts:create"))
    rules_tab, events_tab, build_tab = st.tabs(
        ["Rules", "Events", "New rule"], key="alerts_tab", on_change="rerun"
    )
    if rules_tab.open:
        with rules_tab:
            show_rules(api, can_edit)
    if events_tab.open:
        with events_tab:
            show_events(api, can_edit)
    if build_tab.open:
        with build_tab:
            if can_edit:
                show_builder(api)
            else:
                st.info("Your role may read alerts, not create rules.")


def _state(rule: dict[str, Any]) -> str:
    state = rule.get("state") or {}
    if not rule.get("enabled", True):
        return "⏸ off"
    if state.get("status") == "firing":
        return "🔥 firing" + (" (acknowledged)" if state.get("acknowledged_at") else "")
    return "✔ ok"


def show_rules(api, can_edit: bool) -> None:
    rules = session.call(api.list_alert_rules)
    if rules is None:
        return
    if not rules:
        st.info('No alert rule yet: build one in "New rule".')
        return
    st.dataframe(
        [
            {
                "Rule": r["name"],
                "Kind": KINDS.get(r["kind"], (r["kind"],))[0],
                "State": _state(r),
                "Since": fmt.when((r.get("state") or {}).get("since")),
                "Value": (r.get("state") or {}).get("value"),
                "Threshold": r["threshold"],
                "For": r["for"],
                "Target": " / ".join(x for x in (r.get("stream"), r.get("consumer")) if x),
                "Severity": r["severity"],
                "Snoozed until": fmt.when((r.get("state") or {}).get("snoozed_until")),
            }
            for r in rules
        ],
        hide_index=True,
        key="alerts_rules_table",
    )
    if not can_edit:
        return
    names = {r["id"]: r["name"] for r in rules}
    pick, snooze, go, toggle, remove = st.columns([3, 2, 1, 1, 1], vertical_alignment="bottom")
    chosen = pick.selectbox("Rule", list(names), format_func=names.get, key="alerts_rule")
    how_long = snooze.selectbox(
        "Snooze for", list(SNOOZES), format_func=SNOOZES.get, key="alerts_snooze_for"
    )
    go.button("Snooze", key="alerts_snooze", on_click=_snooze, args=(chosen, how_long))
    rule = next(r for r in rules if r["id"] == chosen)
    toggle.button(
        "Turn on" if not rule["enabled"] else "Turn off",
        key="alerts_toggle",
        on_click=_toggle,
        args=(chosen, not rule["enabled"]),
    )
    remove.button("Delete", key="alerts_delete", on_click=_delete, args=(chosen, rule["name"]))


def show_events(api, can_edit: bool) -> None:
    status = st.segmented_control(
        "Show", ["all", "firing", "resolved"], default="all", key="alerts_events_status"
    )
    events = session.call(
        lambda: api.alert_events(status=None if status in (None, "all") else status, limit=100)
    )
    if events is None:
        return
    if not events:
        st.info("No alert event yet.")
        return
    st.dataframe(
        [
            {
                "When": fmt.when(e["timestamp"]),
                "Rule": e["rule_name"],
                "Event": ("🔥 firing" if e["status"] == "firing" else "✔ resolved")
                + (
                    f" · acknowledged by {e['acknowledged_by']}" if e.get("acknowledged_by") else ""
                ),
                "Message": e["message"],
                "Severity": e["severity"],
                "Look at": ", ".join(f"{k}: {v}" for k, v in (e.get("links") or {}).items()),
            }
            for e in events
        ],
        hide_index=True,
        key="alerts_events_table",
    )
    open_ = [e for e in events if e["status"] == "firing" and not e.get("acknowledged_at")]
    if can_edit and open_:
        labels = {e["id"]: f"{e['rule_name']} · {fmt.when(e['timestamp'])}" for e in open_}
        pick, ack = st.columns([4, 1], vertical_alignment="bottom")
        chosen = pick.selectbox(
            "Firing, not acknowledged", list(labels), format_func=labels.get, key="alerts_ack_event"
        )
        ack.button("Acknowledge", key="alerts_ack", on_click=_acknowledge, args=(chosen,))


def show_builder(api) -> None:
    clusters = session.call(api.list_clusters) or []
    kind = st.selectbox("Kind", list(KINDS), format_func=lambda k: KINDS[k][0], key="ab_kind")
    st.caption(KINDS[kind][1])
    with st.form("alerts_builder"):
        name = st.text_input("Name", key="ab_name", placeholder="orders lag")
        cluster = st.selectbox(
            "Cluster",
            [c.id for c in clusters],
            key="ab_cluster",
            format_func=lambda cid: next(c.name for c in clusters if c.id == cid),
        )
        left, right = st.columns(2)
        stream = left.text_input("Stream", key="ab_stream", disabled=kind not in NEEDS_STREAM)
        consumer = right.text_input(
            "Consumer", key="ab_consumer", disabled=kind not in NEEDS_CONSUMER
        )
        a, b, c = st.columns(3)
        threshold = a.number_input("Threshold", min_value=0.0, value=1000.0, key="ab_threshold")
        for_ = b.text_input("For", value="5m", key="ab_for", help='e.g. "30s", "5m", "0s"')
        severity = c.selectbox(
            "Severity", ["info", "warning", "critical"], index=1, key="ab_severity"
        )
        cooldown = st.text_input(
            "Cooldown",
            value="15m",
            key="ab_cooldown",
            help="a resolved rule does not notify again within it",
        )
        hooks = session.call(api.list_webhooks) if _admin() else []
        channels = st.multiselect(
            "Channels",
            ["in_app", *[f"webhook:{h['id']}" for h in hooks or []]],
            default=[],
            key="ab_channels",
            help="none: in-app and every webhook of the organization",
            format_func=lambda ch: (
                "In-app"
                if ch == "in_app"
                else next(
                    (f"Webhook {h['name']}" for h in hooks or [] if ch == f"webhook:{h['id']}"), ch
                )
            ),
        )
        test, create = st.columns(2)
        tested = test.form_submit_button("Test", key="ab_test")
        created = create.form_submit_button("Create rule", type="primary", key="ab_create")
    spec = {
        "name": name or f"{KINDS[kind][0]} rule",
        "kind": kind,
        "cluster_id": cluster,
        "threshold": threshold,
        "for": for_,
        "severity": severity,
        "cooldown": cooldown,
        "channels": channels,
    }
    if kind in NEEDS_STREAM and stream:
        spec["stream"] = stream
    if kind in NEEDS_CONSUMER and consumer:
        spec["consumer"] = consumer
    if tested:
        result = session.call(api.test_alert_rule, spec)
        if result is not None:
            verdict = "would fire" if result["would_fire"] else "would not fire"
            st.info(
                f"Measured now: {result['value']} against {result['threshold']}: {verdict}. "
                f"{result.get('detail') or ''}"
                if result["known"]
                else f"Not known yet: {result.get('detail') or 'no recent samples'}."
            )
    if created:
        made = session.call(api.create_alert_rule, spec)
        if made is not None:
            st.success(f"Rule {made['name']} created; it is evaluated on the alert schedule.")


def _admin() -> bool:
    me = session.me()
    return bool(me and me.can("organizations:update"))


def _snooze(rule_id: str, for_: str) -> None:
    run_action(
        lambda: (
            session.client().snooze_alert_rule(rule_id, for_),
            "Unsnoozed." if for_ == "0s" else f"Snoozed for {SNOOZES[for_]}.",
        )[1],
        AREA,
    )


def _toggle(rule_id: str, enabled: bool) -> None:
    run_action(
        lambda: (
            session.client().update_alert_rule(rule_id, {"enabled": enabled}),
            "Rule turned on." if enabled else "Rule turned off.",
        )[1],
        AREA,
    )


def _delete(rule_id: str, name: str) -> None:
    run_action(
        lambda: (session.client().delete_alert_rule(rule_id), f"Rule {name} deleted.")[1], AREA
    )


def _acknowledge(event_id: str) -> None:
    run_action(lambda: (session.client().acknowledge_alert(event_id), "Acknowledged.")[1], AREA)


session.run_page(main)
