"""Teams: the organization's teams with their namespaces (stream-name prefixes per cluster, to
which a role with scope ``team`` is limited) and members; create a team, add or remove a member,
delete a team. Reading needs ``teams:read``: anyone else reads the API's refusal."""

from __future__ import annotations

import streamlit as st

from ui import fmt, forms, session, widgets
from ui.client import ApiError, Cluster, Team, TeamMember, User

SELECTED = "teams_selected"
CONFIRM_DELETE = "teams_confirm_delete"
FORM_DEFAULTS = {"team_name": "", "team_description": "", "team_cluster": "", "team_prefixes": ""}
TEAM_ROLES = ("member", "owner")


def main() -> None:
    api = session.client()
    st.title("Teams")
    session.show_flash("teams")
    teams, clusters, users = session.fetch_all(
        lambda fn: fn(), [api.list_teams, api.list_clusters, api.list_users]
    )
    if isinstance(teams, ApiError):
        session.show_error(teams)
        return
    cluster_list = [] if isinstance(clusters, ApiError) else clusters
    names = {c.id: c.name for c in cluster_list}
    if teams:
        st.dataframe(
            [
                {
                    "Team": t.name,
                    "Description": t.description,
                    "Namespaces": _namespaces(t, names),
                    "Created": fmt.when(t.created_at),
                }
                for t in teams
            ],
            hide_index=True,
        )
        show_team(teams, names, [] if isinstance(users, ApiError) else users)
    else:
        st.info("No team yet. Create one below.")
    st.subheader("Create a team")
    show_form(cluster_list)


def _namespaces(team: Team, cluster_names: dict[str, str]) -> str:
    return (
        ", ".join(
            f"{cluster_names.get(n.cluster_id, n.cluster_id)}: {n.prefix}*" for n in team.namespaces
        )
        or "—"
    )


# --------------------------------------------------------------------------- one team


def show_team(teams: list[Team], cluster_names: dict[str, str], users: list[User]) -> None:
    by_id = {t.id: t for t in teams}
    if st.session_state.get(SELECTED) not in by_id:
        st.session_state[SELECTED] = teams[0].id
    pick, delete = st.columns([4, 1], vertical_alignment="bottom")
    team_id = pick.selectbox("Team", list(by_id), key=SELECTED, format_func=lambda i: by_id[i].name)
    delete.button(
        "Delete team…",
        key="teams_delete",
        width="stretch",
        on_click=widgets.ask,
        args=(CONFIRM_DELETE, team_id),
    )
    team = by_id[team_id]
    widgets.confirm(
        CONFIRM_DELETE,
        team.id,
        f"Delete the team **{team.name}**? Its members keep their accounts; its "
        "namespaces are released.",
        "Yes, delete",
        _delete,
        args=(team,),
    )
    detail = session.call(session.client().team, team.id)
    if detail is None:
        return
    with st.container(border=True):
        st.markdown(f"**{detail.name}** · namespaces: {_namespaces(detail, cluster_names)}")
        if detail.description:
            st.caption(detail.description)
        members = list(detail.members or ())
        if members:
            st.dataframe(
                [
                    {"Email": m.email, "Team role": m.role, "Added": fmt.when(m.added_at)}
                    for m in members
                ],
                hide_index=True,
            )
            show_remove_member(detail, members)
        else:
            st.caption("No member yet.")
        show_add_member(detail, members, users)
    session.show_flash("team_members")


def show_add_member(team: Team, members: list[TeamMember], users: list[User]) -> None:
    inside = {m.user_id for m in members}
    candidates = {u.id: u for u in users if u.id not in inside}
    if not candidates:
        st.caption("Every member of the organization is in this team." if users else "")
        return
    if st.session_state.get("teams_add_user") not in candidates:
        st.session_state["teams_add_user"] = next(iter(candidates))
    pick, role, add = st.columns([3, 1, 1], vertical_alignment="bottom")
    pick.selectbox(
        "Add a member",
        list(candidates),
        key="teams_add_user",
        format_func=lambda i: f"{candidates[i].display_name} <{candidates[i].email}>",
    )
    role.selectbox("Team role", TEAM_ROLES, key="teams_add_role")
    add.button(
        "Add",
        key="teams_add_member",
        type="primary",
        width="stretch",
        on_click=_add_member,
        args=(team, candidates),
    )


def _add_member(team: Team, candidates: dict[str, User]) -> None:
    user = candidates.get(st.session_state.get("teams_add_user") or "")
    if user is None:
        session.flash("team_members", "error", "Choose the user to add.")
        return
    role = st.session_state.get("teams_add_role") or "member"

    def act() -> str:
        session.client().add_team_member(team.id, user.id, role)
        return f"{user.email} was added to {team.name} as {role}."

    session.in_callback("team_members", act)


def show_remove_member(team: Team, members: list[TeamMember]) -> None:
    by_id = {m.user_id: m for m in members}
    pick, remove = st.columns([4, 1], vertical_alignment="bottom")
    chosen = pick.selectbox(
        "Member", list(by_id), key="teams_member", format_func=lambda i: by_id[i].email
    )
    remove.button(
        "Remove from team",
        key="teams_remove_member",
        width="stretch",
        on_click=_remove_member,
        args=(team, by_id[chosen]),
    )


def _remove_member(team: Team, member: TeamMember) -> None:
    def act() -> str:
        session.client().remove_team_member(team.id, member.user_id)
        return f"{member.email} was removed from {team.name}."

    session.in_callback("team_members", act)


def _delete(team: Team) -> None:
    def act() -> str:
        session.client().delete_team(team.id)
        st.session_state.pop(SELECTED, None)
        return f"Team {team.name} deleted."

    session.in_callback("teams", act)


# --------------------------------------------------------------------------- creation


def show_form(clusters: list[Cluster]) -> None:
    for key, value in FORM_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    options = {"": "No namespace yet", **{c.id: c.name for c in clusters}}
    if st.session_state.get("team_cluster") not in options:
        st.session_state["team_cluster"] = ""
    with st.form("create_team"):
        st.text_input("Name", key="team_name", placeholder="payments")
        st.text_input("Description", key="team_description")
        left, right = st.columns([2, 3])
        left.selectbox(
            "Namespace on cluster",
            list(options),
            key="team_cluster",
            format_func=options.__getitem__,
        )
        right.text_area(
            "Stream-name prefixes, one per line",
            key="team_prefixes",
            height=80,
            placeholder="payments-\nPAYMENTS_",
            help="Members whose role has scope `team` may change the streams whose "
            "name starts with one of these, on that cluster.",
        )
        st.form_submit_button("Create team", key="team_submit", type="primary", on_click=_create)
    session.show_flash("team_form")


def _create() -> None:
    state = st.session_state
    spec, problems = forms.check_team_form(
        name=state.team_name,
        description=state.team_description,
        cluster_id=state.team_cluster or None,
        prefixes=state.team_prefixes,
    )
    if spec is None:
        session.flash_many("team_form", "error", problems)
        return

    def act() -> str:
        team = session.client().create_team(spec)
        state.update(FORM_DEFAULTS)
        state[SELECTED] = team.id
        return f"Team {team.name} created."

    session.in_callback("team_form", act, success_area="teams")


session.run_page(main)
