"""The Alerts page: the rule builder's dry run and creation, the rules with their state, snooze and
delete; the event history; a viewer reads but builds nothing."""

from __future__ import annotations

from .conftest import open_page, texts, unique


def _rules(ui_admin) -> dict[str, dict]:
    return {r["name"]: r for r in ui_admin.list_alert_rules()}


def test_build_test_create_snooze_and_delete_a_rule(ui_logged_in, ui_admin, ui_hub):
    at = open_page(ui_logged_in, "alerts.py", "Alerts")
    at.session_state["alerts_tab"] = "New rule"
    at.run()
    at.selectbox(key="ab_kind").select("server_health").run()
    name = unique("ui-rule")
    at.text_input(key="ab_name").input(name)
    at.selectbox(key="ab_cluster").select(ui_hub.id)
    at.number_input(key="ab_threshold").set_value(0.0)
    at.text_input(key="ab_for").input("0s")
    at.button(key="ab_test").click().run()
    assert not at.exception, texts(at.exception)
    said = " ".join(texts(at.info))
    assert "would not fire" in said or "Not known yet" in said, (said, texts(at.error))
    assert name not in _rules(ui_admin)  # a dry run stores nothing

    at.button(key="ab_create").click().run()
    assert any(name in s for s in texts(at.success)), (texts(at.success), texts(at.error))
    rule = _rules(ui_admin)[name]
    assert (rule["kind"], rule["cluster_id"], rule["for"]) == ("server_health", ui_hub.id, "0s")

    at.session_state["alerts_tab"] = "Rules"
    at.run()
    table = at.dataframe[0].value
    assert name in list(table["Rule"])
    at.selectbox(key="alerts_rule").select(rule["id"]).run()
    at.selectbox(key="alerts_snooze_for").select("1h").run()
    at.button(key="alerts_snooze").click().run()
    assert _rules(ui_admin)[name]["state"]["snoozed_until"]
    at.button(key="alerts_delete").click().run()
    assert name not in _rules(ui_admin)
    assert not at.exception, texts(at.exception)


def test_the_event_history_and_a_viewers_page(ui_logged_in):
    at = open_page(ui_logged_in, "alerts.py", "Alerts")
    at.session_state["alerts_tab"] = "Events"
    at.run()
    assert not at.exception, texts(at.exception)
    assert len(at.dataframe) == 1 or "No alert event yet." in texts(at.info)
