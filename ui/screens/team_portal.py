"""Team portal (self-service): one team's usage against its quotas (a bar per quota: "8 / 15
(53%)", storage in GB, "unlimited" without a limit, "not measured" where the usage is not known),
the streams it owns, a form to request more of a quota (approved at once under the policy's
thresholds, else sent for approval), its quota requests, the history of its limits and, for
admins, the limits themselves."""

from __future__ import annotations

import streamlit as st

from ui import approval_text as text
from ui import fmt, session
from ui.approval_widgets import quota_bar, run_action, submitted_sentence
from ui.client import Team, TeamQuotas

TEAM = "tp_team"
AREA = "team_portal"
REQUEST_AREA = "tp_request"
LIMITS_AREA = "tp_limits"
BARS_PER_ROW = 3


def main() -> None:
    api = session.client()
    st.title("Team portal")
    session.show_flash(AREA)
    teams = session.call(api.list_teams)
    if teams is None:
        return
    if not teams:
        st.info("There is no team yet: an admin creates teams on the Teams page.")
        return
    team = pick_team(teams)
    quotas = session.call(api.team_quotas, team.id)
    if quotas is None:
        return
    if quotas.unreachable:
        st.warning("Part of the usage could not be read: " + "; ".join(quotas.unreachable))
    st.subheader("Resource usage")
    show_bars(quotas)
    st.subheader("Resources")
    show_resources(quotas)
    st.subheader("Request quota")
    show_request_form(team, quotas)
    st.subheader("Quota requests")
    show_requests(team)
    st.subheader("Quota history")
    show_history(team, {i.resource: i.label for i in quotas.items})
    person = session.me()
    if person is not None and person.role == "admin":
        st.subheader("Set limits")
        show_limits_form(team, quotas)


def pick_team(teams: list[Team]) -> Team:
    by_id = {t.id: t for t in teams}
    if st.session_state.get(TEAM) not in by_id:
        st.session_state[TEAM] = teams[0].id
    chosen = st.selectbox("Team", list(by_id), key=TEAM, format_func=lambda i: by_id[i].name)
    team = by_id[chosen]
    if team.namespaces:
        st.caption("Namespaces: " + ", ".join(f"{n.prefix}*" for n in team.namespaces))
    return team


# --------------------------------------------------------------------------- usage


def show_bars(quotas: TeamQuotas) -> None:
    items = list(quotas.items)
    for start in range(0, len(items), BARS_PER_ROW):
        columns = st.columns(BARS_PER_ROW)
        for item, column in zip(items[start : start + BARS_PER_ROW], columns, strict=False):
            quota_bar(item, column)


def show_resources(quotas: TeamQuotas) -> None:
    if not quotas.resources:
        st.caption("The team owns no stream yet.")
        return
    st.dataframe(
        [
            {
                "Stream": r.name,
                "Cluster": r.cluster,
                "Stored": text.gb(r.bytes),
                "Storage limit": "unlimited"
                if r.max_bytes is None or r.max_bytes < 0
                else text.gb(r.max_bytes),
                "Messages": fmt.count(r.messages),
                "Consumers": r.consumers,
                "Replicas": r.num_replicas,
            }
            for r in quotas.resources
        ],
        hide_index=True,
        key="tp_resources",
    )


# --------------------------------------------------------------------------- request more


def _limit_key(team_id: str, resource: str) -> str:
    return f"tp_limit_{team_id}_{resource}"


def _number_input(label: str, resource: str, key: str, column=st, **default) -> None:
    """A limit in its unit, named in the label: storage in GB (decimals allowed), anything else
    whole numbers."""
    unit = text.unit_of(resource)
    if unit and f"({unit})" not in label:
        label += f" ({unit})"
    if unit == "GB":
        column.number_input(
            label, min_value=0.0, step=1.0, key=key, placeholder="unlimited", **default
        )
    else:
        column.number_input(label, min_value=0, step=1, key=key, placeholder="unlimited", **default)


def show_request_form(team: Team, quotas: TeamQuotas) -> None:
    by_resource = {i.resource: i for i in quotas.items}
    if st.session_state.get("tp_req_resource") not in by_resource:
        st.session_state["tp_req_resource"] = next(iter(by_resource))
    resource = st.selectbox(
        "Resource",
        list(by_resource),
        key="tp_req_resource",
        format_func=lambda r: by_resource[r].label,
    )
    item = by_resource[resource]
    st.markdown(
        f"Current limit: **{text.limit_text(resource, item.limit)}** · usage "
        f"{'not measured' if item.usage is None else text.amount(resource, item.usage)}"
    )
    if item.limit is None:
        st.caption(text.UNLIMITED_ALREADY)
    with st.form("tp_request"):
        _number_input("Requested limit", resource, f"tp_req_limit_{resource}", value=None)
        st.text_area(
            "Justification",
            key="tp_req_justification",
            height=100,
            placeholder="What the team needs it for, and why now.",
        )
        st.form_submit_button(
            "Submit request",
            key="tp_req_submit",
            type="primary",
            on_click=_request,
            args=(team, item.limit),
        )
    session.show_flash(REQUEST_AREA)


def _request(team: Team, current: int | None) -> None:
    state = st.session_state
    resource = state.get("tp_req_resource")
    body, problems = text.check_quota_request(
        team_id=team.id,
        resource=resource,
        requested=state.get(f"tp_req_limit_{resource}"),
        justification=state.get("tp_req_justification") or "",
        current=current,
        unlimited=current is None,
    )
    if body is None:
        session.flash_many(REQUEST_AREA, "error", problems)
        return

    def act() -> str:
        sent = session.client().request_quota(
            team.id, body["resource"], body["requested_limit"], body["justification"]
        )
        state["tp_req_justification"] = ""
        state.pop(f"tp_req_limit_{resource}", None)
        return submitted_sentence(sent)

    run_action(act, REQUEST_AREA)


def show_requests(team: Team) -> None:
    found = session.call(session.client().quota_requests, team.id)
    if found is None:
        return
    if not found:
        st.caption("No quota request yet.")
        return
    st.dataframe(
        [
            {
                "Request": a.title,
                "Status": text.status_badge(a.status),
                "Requester": a.requester_email,
                "Justification": a.justification,
                "Submitted": fmt.when(a.created_at),
            }
            for a in found
        ],
        hide_index=True,
        key="tp_requests",
    )


def show_history(team: Team, labels: dict[str, str]) -> None:
    history = session.call(session.client().quota_history, team.id)
    if history is None:
        return
    if not history:
        st.caption("No limit has been set or changed yet.")
        return
    st.dataframe(
        [
            {
                "When": fmt.when(h.created_at),
                "Resource": labels.get(h.resource, h.resource),
                "Change": f"{text.limit_text(h.resource, h.before)} → "
                f"{text.limit_text(h.resource, h.after)}",
                "Reason": h.reason.replace("_", " "),
                "By": h.changed_by_email or "system",
                "Request": (h.request_id or "")[:8],
            }
            for h in history
        ],
        hide_index=True,
        key="tp_history",
    )


# --------------------------------------------------------------------------- limits (admins)


def show_limits_form(team: Team, quotas: TeamQuotas) -> None:
    st.caption("Empty means unlimited. Storage is in GB (2³⁰ bytes).")
    # the inputs start from the limits in force, and start again when those changed (a request
    # approved meanwhile), so saving never puts back a limit nobody meant to set
    in_force = tuple((i.resource, i.limit) for i in quotas.items)
    base_key = f"tp_limits_base_{team.id}"
    if st.session_state.get(base_key) != in_force:
        st.session_state[base_key] = in_force
        for item in quotas.items:
            st.session_state[_limit_key(team.id, item.resource)] = text.to_entered(
                item.resource, item.limit
            )
    with st.form("tp_limits"):
        columns = st.columns(4)
        for i, item in enumerate(quotas.items):
            _number_input(
                item.label, item.resource, _limit_key(team.id, item.resource), columns[i % 4]
            )
        st.form_submit_button(
            "Save limits",
            key="tp_limits_submit",
            type="primary",
            on_click=_save_limits,
            args=(team, quotas),
        )
    session.show_flash(LIMITS_AREA)


def _save_limits(team: Team, quotas: TeamQuotas) -> None:
    entered = {
        i.resource: st.session_state.get(_limit_key(team.id, i.resource)) for i in quotas.items
    }
    limits, problems = text.check_limits(entered)
    if limits is None:
        session.flash_many(LIMITS_AREA, "error", problems)
        return
    in_force = {i.resource: i.limit for i in quotas.items}
    changed = {r: v for r, v in limits.items() if v != in_force.get(r)}
    if not changed:
        session.flash(LIMITS_AREA, "info", "Nothing changed: there is nothing to save.")
        return

    def act() -> str:
        session.client().set_team_quotas(team.id, changed)
        return (
            f"Limits of {team.name} saved: "
            + ", ".join(f"{r} {text.limit_text(r, v)}" for r, v in sorted(changed.items()))
            + "."
        )

    run_action(act, LIMITS_AREA)


session.run_page(main)
