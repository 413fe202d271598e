"""Approval policies: the organization's policies in the order they are evaluated (the first whose
triggers match a change decides it), each summarised like the source design's policy screen
(triggers, approval requirements, auto-approve, auto-reject, SLA, escalation), with an Enabled
toggle, an editor (the definition in YAML, validated by the API and saved as a new version), the
version history, and Add / Delete. Admins only: anyone else reads a sentence saying so."""

from __future__ import annotations

from typing import Any

import streamlit as st
import yaml

from ui import approval_text as text
from ui import fmt, session, widgets
from ui.approval_widgets import md, refusal_text
from ui.client import ApiError, ApprovalPolicy, AuthenticationRequired

EDITING = "pol_editing"  # the policy whose editor is open
HISTORY = "pol_history"  # the policy whose versions are shown
CONFIRM_DELETE = "pol_confirm_delete"
NEW_TEXT = "pol_new_text"
NOT_ALLOWED = (
    "Approval policies are set by the organization's admins: your role ({role}) cannot "
    "view or change them."
)
READ_ONLY = "Only the organization's admins can change approval policies."
TEMPLATE = """\
name: My policy
priority: 50          # lower is evaluated first
enabled: true
description: What this policy is for.
triggers:             # empty lists match anything
  environments: [production]
  kinds: [stream, consumer]
  operations: []
groups:               # approvals needed, in order
  - name: Platform admins
    count: 1
    roles: [admin]
    teams: []
    users: []
auto_approve: []      # e.g. - {within_quota: true, change_under_pct: 10}
auto_reject: []       # e.g. - {min_replicas: 3, outside_namespace: true}
sla_hours: 4
escalation: []        # e.g. - {after_hours: 8, notify: "@platform-oncall"}
"""


def main() -> None:
    api = session.client()
    st.title("Approval policies")
    session.show_flash("policies")
    person = session.me()
    role = person.role if person else "unknown"
    policies, users = session.fetch_all(lambda fn: fn(), [api.list_policies, api.list_users])
    if isinstance(policies, ApiError):
        if policies.status == 403:
            st.info(NOT_ALLOWED.format(role=role))
        else:
            session.show_error(policies)
        return
    emails = {} if isinstance(users, ApiError) else {u.id: u.email for u in users}
    admin = role == "admin"
    if not admin:
        st.info(READ_ONLY)
    st.caption(
        "Evaluated in this order (lowest priority first): the first enabled policy whose "
        "triggers match a change decides it. A change no policy matches is approved when "
        "it is within the team's quota, else it waits for an admin."
    )
    if not policies:
        st.info("No approval policy yet: every change is decided by the default rule above.")
    for policy in policies:
        show_policy(policy, admin, emails)
    if admin:
        show_add_form()


# --------------------------------------------------------------------------- one policy


def show_policy(policy: ApprovalPolicy, admin: bool, emails: dict[str, str]) -> None:
    key = policy.id
    with st.container(border=True, key=f"pol_card_{key}"):
        head, toggle, edit, history, delete = st.columns(
            [5, 1.3, 1, 1, 1.2], vertical_alignment="center"
        )
        head.markdown(
            f"**Policy: {policy.name}** · priority {policy.priority} · version {policy.version}"
        )
        st.session_state[f"pol_enabled_{key}"] = policy.enabled
        toggle.toggle(
            "Enabled",
            key=f"pol_enabled_{key}",
            disabled=not admin,
            on_change=_set_enabled,
            args=(policy,),
        )
        edit.button(
            "Edit",
            key=f"pol_edit_{key}",
            disabled=not admin,
            width="stretch",
            on_click=_open_editor,
            args=(policy,),
        )
        history.button(
            "History",
            key=f"pol_versions_{key}",
            width="stretch",
            on_click=_toggle_history,
            args=(policy.id,),
        )
        delete.button(
            "Delete…",
            key=f"pol_delete_{key}",
            disabled=not admin,
            width="stretch",
            on_click=widgets.ask,
            args=(CONFIRM_DELETE, policy.id),
        )
        widgets.confirm(
            CONFIRM_DELETE,
            policy.id,
            f"Delete the policy **{policy.name}** with all its versions? Changes it "
            "decided stay as they were.",
            "Yes, delete",
            _delete,
            args=(policy,),
        )
        session.show_flash(f"policy_{key}")
        if policy.definition.get("description"):
            st.caption(str(policy.definition["description"]))
        show_summary(policy.definition)
        if st.session_state.get(EDITING) == policy.id:
            show_editor(policy)
        if st.session_state.get(HISTORY) == policy.id:
            show_versions(policy, emails)


def show_summary(definition: dict[str, Any]) -> None:
    sections = list(text.policy_summary(definition).items())
    left, right = st.columns(2)
    for i, (title, lines) in enumerate(sections):
        column = left if i < 2 else right
        if len(lines) == 1 and title in ("SLA",):
            column.markdown(f"**{title}:** {md(lines[0])}")
        else:
            # the thresholds of the triggers sit under the line that ends "when any of:"
            nested = lines[0].endswith(":")
            column.markdown(
                f"**{title}:**\n"
                + "\n".join(
                    f"{'    ' if nested and i else ''}- {md(line)}" for i, line in enumerate(lines)
                )
            )


def _set_enabled(policy: ApprovalPolicy) -> None:
    enabled = bool(st.session_state.get(f"pol_enabled_{policy.id}"))

    def act() -> str:
        saved = session.client().update_policy(policy.id, {"enabled": enabled})
        return (
            f"Policy {saved.name} {'enabled' if enabled else 'disabled'} (version {saved.version})."
        )

    _act(f"policy_{policy.id}", act)


def _toggle_history(policy_id: str) -> None:
    state = st.session_state
    state[HISTORY] = None if state.get(HISTORY) == policy_id else policy_id


def _delete(policy: ApprovalPolicy) -> None:
    def act() -> str:
        session.client().delete_policy(policy.id)
        for key in (EDITING, HISTORY):
            if st.session_state.get(key) == policy.id:
                st.session_state[key] = None
        return f"Policy {policy.name} deleted."

    _act("policies", act)


# --------------------------------------------------------------------------- the editor


def as_yaml(definition: dict[str, Any]) -> str:
    shown = {k: v for k, v in definition.items() if k != "version"}
    return yaml.safe_dump(shown, sort_keys=False, allow_unicode=True, width=100)


def parse_definition(source: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The policy typed in the editor (YAML, or JSON, which YAML reads too)."""
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(err, "problem", None) or "it cannot be read"
        return None, [f"The definition is not valid YAML{where}: {problem}."]
    if not isinstance(data, dict):
        return None, [
            "The definition must be a mapping of fields (name, priority, triggers, groups, ...)."
        ]
    data.pop("version", None)  # set by the server
    return data, []


def _open_editor(policy: ApprovalPolicy) -> None:
    st.session_state[EDITING] = policy.id
    st.session_state[f"pol_text_{policy.id}"] = as_yaml(policy.definition)


def show_editor(policy: ApprovalPolicy) -> None:
    key = f"pol_text_{policy.id}"
    st.session_state.setdefault(key, as_yaml(policy.definition))
    st.text_area(
        f"Definition of {policy.name} (YAML)",
        key=key,
        height=420,
        help="Saving adds a version; the fields you leave out keep their current value. "
        "The API checks every field and names any it refuses.",
    )
    save, cancel, _ = st.columns([1, 1, 4])
    save.button(
        "Save as a new version",
        key=f"pol_save_{policy.id}",
        type="primary",
        on_click=_save,
        args=(policy,),
    )
    cancel.button(
        "Cancel", key=f"pol_cancel_{policy.id}", on_click=_close_editor, args=(policy.id,)
    )
    session.show_flash(f"policy_editor_{policy.id}")


def _close_editor(policy_id: str) -> None:
    st.session_state[EDITING] = None
    st.session_state.pop(f"pol_text_{policy_id}", None)


def _save(policy: ApprovalPolicy) -> None:
    area = f"policy_editor_{policy.id}"
    changes, problems = parse_definition(st.session_state.get(f"pol_text_{policy.id}") or "")
    if changes is None:
        session.flash_many(area, "error", problems)
        return
    current = {k: v for k, v in policy.definition.items() if k != "version"}
    if all(current.get(k) == v for k, v in changes.items()):
        session.flash(area, "info", "Nothing changed: there is nothing to save.")
        return

    def act() -> str:
        saved = session.client().update_policy(policy.id, changes)
        _close_editor(policy.id)
        return f"Policy {saved.name} saved as version {saved.version}."

    _act(area, act, success_area=f"policy_{policy.id}")


# --------------------------------------------------------------------------- versions


def show_versions(policy: ApprovalPolicy, emails: dict[str, str]) -> None:
    versions = session.call(session.client().policy_versions, policy.id)
    if versions is None:
        return
    st.markdown(f"**Version history** ({len(versions)})")
    rows = []
    for i, version in enumerate(versions):  # newest first
        older = versions[i + 1].definition if i + 1 < len(versions) else None
        changed = text.changed_fields(older, version.definition)
        rows.append(
            {
                "Version": version.version,
                "Current": "yes" if version.is_current else "",
                "Changed": ", ".join(changed) if older is not None else "created",
                "Enabled": "yes" if version.enabled else "no",
                "Priority": version.priority,
                "By": emails.get(version.created_by or "", (version.created_by or "seed")[:8]),
                "At": fmt.when(version.created_at),
            }
        )
    st.dataframe(rows, hide_index=True, key=f"pol_versions_table_{policy.id}")


# --------------------------------------------------------------------------- adding


def show_add_form() -> None:
    st.subheader("Add policy")
    st.session_state.setdefault(NEW_TEXT, TEMPLATE)
    with st.form("pol_add"):
        st.text_area("Definition (YAML)", key=NEW_TEXT, height=460)
        st.form_submit_button("Add policy", key="pol_add_submit", type="primary", on_click=_add)
    session.show_flash("policy_add")


def _add() -> None:
    definition, problems = parse_definition(st.session_state.get(NEW_TEXT) or "")
    if definition is None:
        session.flash_many("policy_add", "error", problems)
        return

    def act() -> str:
        created = session.client().create_policy(definition)
        st.session_state[NEW_TEXT] = TEMPLATE
        return f"Policy {created.name} added (priority {created.priority})."

    _act("policy_add", act, success_area="policies")


def _act(area: str, fn, *, success_area: str | None = None) -> None:
    """Like ``session.in_callback``, but a refused definition lists each field the API named."""
    try:
        session.flash(success_area or area, "success", fn())
    except AuthenticationRequired:
        session.forget()
        session.flash("login", "warning", session.EXPIRED)
    except ApiError as err:
        session.flash(area, "error", refusal_text(err))


session.run_page(main)
