"""The approval policy editor: the seeded policies in evaluation order, summarised like the source
design's screen; editing saves a version (the history shows it) and a definition the API refuses
names the field; enable / disable, add, delete; a non-admin reads that they cannot. Each test works
in an organization of its own (signed up through the API), so its policies are its own."""

from __future__ import annotations

import httpx
import pytest
import yaml

from tests.api.orgs import Account, invite, signup
from ui import approval_text
from ui.approval_widgets import refusal_text
from ui.client import ApiClient, ApiError, FieldError

from .conftest import log_in, open_page, texts, unique

POLICY_ORDER = ["Large Quota Requests", "Production Changes", "Development Self-Service"]


@pytest.fixture
def org_admin(api: httpx.Client) -> Account:
    return signup(api)


@pytest.fixture
def org_api(org_admin, stack):
    with ApiClient(stack.api_url) as client:
        client.login(org_admin.email, org_admin.password)
        yield client


def policies_page(ui_app, account: Account):
    log_in(ui_app, account.email, account.password)
    assert not ui_app.exception, texts(ui_app.exception)
    return open_page(ui_app, "policies.py", "Approval policies")


def heads(at) -> list[str]:
    return [
        m.value.split("**")[1].removeprefix("Policy: ")
        for m in at.markdown
        if m.value.startswith("**Policy: ")
    ]


def policy_id(api: ApiClient, name: str) -> str:
    return next(p.id for p in api.list_policies() if p.name == name)


def test_the_policies_in_evaluation_order_with_their_summary(ui_app, org_admin):
    at = policies_page(ui_app, org_admin)
    assert heads(at) == POLICY_ORDER
    written = "\n".join(texts(at.markdown))
    # Production Changes, as the source design words it
    assert (
        "- Any stream/consumer/KV bucket/object store/purge/replay/mirror/failover/restore "
        "operation in production clusters"
    ) in written
    assert (
        "- Platform Team or Team Lead: 1 approval from: role admin or role team_lead or team "
        "platform"
    ) in written
    assert "- change is < 10% of current limits and within team quota" in written
    assert "- After 8 hours → notify @platform-oncall" in written
    assert "**SLA:** 4 hours" in written and "**SLA:** Immediate" in written
    # Large Quota Requests: thresholds, and the conditional Finance group
    assert (
        "- Any quota increase, when any of:\n    - Quota increase > 2x current limit\n"
        "    - Storage increase > 100 GB\n    - Cost impact > \\$100/month"
    ) in written
    assert "- Finance: 1 approval from: team finance (if cost > \\$500/month)" in written
    assert [t.value for t in at.toggle] == [True, True, True]
    assert not at.error


def test_edit_saves_a_version_and_a_refused_field_is_named(ui_app, org_admin, org_api):
    pid = policy_id(org_api, "Production Changes")
    at = policies_page(ui_app, org_admin)
    at.button(key=f"pol_edit_{pid}").click().run()
    editor = at.text_area(key=f"pol_text_{pid}")
    shown = yaml.safe_load(editor.value)
    assert shown["name"] == "Production Changes" and "version" not in shown
    assert shown["groups"][0]["teams"] == ["platform"]

    # a field the API refuses: nothing saved, the field named on a line of its own
    bad = dict(shown, triggers={**shown["triggers"], "environments": ["moon"]})
    editor.input(yaml.safe_dump(bad)).run()
    at.button(key=f"pol_save_{pid}").click().run()
    [refusal] = texts(at.error)
    assert refusal.startswith("The API refused it:") and "**triggers.environments.0**" in refusal
    assert [v.version for v in org_api.policy_versions(pid)] == [1]

    # YAML that is not YAML is refused before anything is sent
    at.text_area(key=f"pol_text_{pid}").input("name: [unclosed").run()
    at.button(key=f"pol_save_{pid}").click().run()
    assert texts(at.error)[0].startswith("The definition is not valid YAML (line")

    good = dict(shown, sla_hours=6, escalation=[{"after_hours": 12, "notify": "@sre"}])
    at.text_area(key=f"pol_text_{pid}").input(yaml.safe_dump(good)).run()
    at.button(key=f"pol_save_{pid}").click().run()
    assert not at.exception, texts(at.exception)
    assert "Policy Production Changes saved as version 2." in texts(at.success), texts(at.error)
    saved = org_api.policy(pid)
    assert saved.version == 2 and saved.definition["sla_hours"] == 6
    assert saved.definition["escalation"] == [{"after_hours": 12.0, "notify": "@sre"}]
    written = "\n".join(texts(at.markdown))
    assert "- After 12 hours → notify @sre" in written
    assert f"pol_text_{pid}" not in [t.key for t in at.text_area]  # the editor closed

    at.button(key=f"pol_versions_{pid}").click().run()
    [history] = [d.value for d in at.dataframe]
    assert list(history["Version"]) == [2, 1]
    assert list(history["Current"]) == ["yes", ""]
    assert history.iloc[0]["Changed"] == "escalation, sla_hours"
    assert history.iloc[0]["By"] == org_admin.email
    assert history.iloc[1]["Changed"] == "created"


def test_disable_add_and_delete_a_policy(ui_app, org_admin, org_api):
    pid = policy_id(org_api, "Development Self-Service")
    at = policies_page(ui_app, org_admin)
    at.toggle(key=f"pol_enabled_{pid}").set_value(False).run()
    assert "Policy Development Self-Service disabled (version 2)." in texts(at.success), texts(
        at.error
    )
    assert org_api.policy(pid).enabled is False
    assert at.toggle(key=f"pol_enabled_{pid}").value is False

    name = unique("Staging replays")
    definition = {
        "name": name,
        "priority": 5,
        "triggers": {"environments": ["staging"], "kinds": ["replay"]},
        "groups": [{"name": "Operators", "count": 2, "roles": ["operator"]}],
        "sla_hours": 1,
    }
    at.text_area(key="pol_new_text").input(yaml.safe_dump(definition))
    at.button(key="pol_add_submit").click().run()
    assert not at.exception, texts(at.exception)
    assert f"Policy {name} added (priority 5)." in texts(at.success), texts(at.error)
    assert heads(at)[0] == name  # priority 5 is evaluated first
    written = "\n".join(texts(at.markdown))
    assert "- Any replay operation in staging clusters" in written
    assert "- Operators: 2 approvals from: role operator" in written
    assert "**SLA:** 1 hour" in written
    new_id = policy_id(org_api, name)

    at.button(key=f"pol_delete_{new_id}").click().run()
    at.button(key="pol_confirm_delete_yes").click().run()
    assert f"Policy {name} deleted." in texts(at.success), texts(at.error)
    assert name not in [p.name for p in org_api.list_policies()]
    assert name not in heads(at)


def test_a_duplicate_name_reads_the_apis_sentence(ui_app, org_admin):
    at = policies_page(ui_app, org_admin)
    at.text_area(key="pol_new_text").input(yaml.safe_dump({"name": "Production Changes"}))
    at.button(key="pol_add_submit").click().run()
    [refusal] = texts(at.error)
    assert "already exists" in refusal and "Production Changes" in refusal


def test_a_non_admin_reads_that_they_cannot(ui_app, api, org_admin):
    editor = invite(api, org_admin, "editor")
    at = policies_page(ui_app, editor)
    assert texts(at.info)[0] == (
        "Approval policies are set by the organization's admins: your "
        "role (editor) cannot view or change them."
    )
    assert not heads(at) and not at.error
    assert "pol_add_submit" not in [b.key for b in at.button]


# --------------------------------------------------------------------------- the pure parts


def test_a_policy_is_summarised_section_by_section():
    summary = approval_text.policy_summary(
        {
            "name": "x",
            "triggers": {"kinds": ["quota"], "operations": ["increase"], "replicas_changed": True},
            "groups": [{"name": "", "count": 1}],
            "auto_reject": [
                {"kinds": ["stream"], "environments": ["production"], "min_replicas": 3}
            ],
            "sla_hours": None,
        }
    )
    assert summary == {
        "Triggers": ["Any quota increase, when any of:", "The number of replicas changes"],
        "Approval requirements": ["1 approval from: anyone"],
        "Auto-reject if": ["a stream in production with fewer than 3 replicas"],
        "SLA": ["none"],
    }
    assert approval_text.trigger_lines({}) == ["Any change"]
    assert approval_text.changed_fields({"a": 1, "version": 1}, {"a": 2, "version": 2}) == ["a"]


def test_a_refusal_lists_the_fields_the_api_named():
    generic = ApiError(
        422,
        "Invalid input: groups.0.count: must be >= 1; name: is required",
        field_errors=(
            FieldError("groups.0.count", "must be >= 1"),
            FieldError("name", "is required"),
        ),
    )
    assert refusal_text(generic) == (
        "The API refused it:\n\n- **groups.0.count**: must be >= 1\n- **name**: is required"
    )
    worded = ApiError(
        422,
        "The current streams limit is already 15; ask for more.",
        field_errors=(FieldError("requested_limit", "not an increase"),),
    )
    assert refusal_text(worded) == (
        "The current streams limit is already 15; ask for more.\n\n"
        "- **requested_limit**: not an increase"
    )
    assert refusal_text(ApiError(409, "Already exists.")) == "Already exists."
