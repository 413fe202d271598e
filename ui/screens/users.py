"""Users: the organization's members (searchable) and pending invitations; invite someone (the
invitation's token is shown once), change a member's role, end a sign-in lockout, sign a member
out of every session, remove a member, revoke an invitation. Reading needs ``users:read``: anyone
else reads the API's refusal."""

from __future__ import annotations

import streamlit as st

from ui import fmt, forms, session, widgets
from ui.client import ApiError, Invitation, Team, User

BUILTIN_ROLES = ("admin", "editor", "operator", "viewer", "member")
INVITED = "users_invited"  # the invitation just made, with its token: shown until dismissed
CONFIRM_REMOVE = "users_confirm_remove"
INVITE_DEFAULTS = {"invite_email": "", "invite_team": ""}


def main() -> None:
    api = session.client()
    st.title("Users")
    session.show_flash("users")
    show_invited()
    users, invitations, roles, teams = session.fetch_all(
        lambda fn: fn(), [api.list_users, api.list_invitations, api.list_roles, api.list_teams]
    )
    if isinstance(users, ApiError):
        session.show_error(users)
        return
    role_names = [r.name for r in roles] if not isinstance(roles, ApiError) else list(BUILTIN_ROLES)
    team_list = [] if isinstance(teams, ApiError) else teams
    show_users(users, role_names)
    st.subheader("Pending invitations")
    if isinstance(invitations, ApiError):
        session.show_error(invitations)
    else:
        show_invitations(invitations, team_list)
    st.subheader("Invite a user")
    show_invite_form(role_names, team_list)


# --------------------------------------------------------------------------- members


def show_users(users: list[User], role_names: list[str]) -> None:
    query = (
        st.text_input("Search users", key="users_search", placeholder="name, email or role")
        .strip()
        .lower()
    )
    shown = [
        u
        for u in users
        if not query or query in f"{u.display_name} {u.email} {u.role} {u.status}".lower()
    ]
    if not shown:
        st.info("No user matches." if query else "No user yet.")
        return
    st.dataframe([_row(u) for u in shown], hide_index=True)
    show_user_actions(shown, role_names)


def _row(u: User) -> dict[str, object]:
    return {
        "Name": u.display_name,
        "Email": u.email,
        "Role": u.role,
        "Status": u.status.capitalize(),
        "MFA": "on" if u.mfa_enabled else "off",
        "Last login": fmt.when(u.last_login_at),
        "Joined": fmt.when(u.joined_at),
    }


def show_user_actions(users: list[User], role_names: list[str]) -> None:
    by_id = {u.id: u for u in users}
    if st.session_state.get("users_selected") not in by_id:
        st.session_state["users_selected"] = users[0].id
    pick, role_col, change_col = st.columns([3, 2, 1], vertical_alignment="bottom")
    user = by_id[
        pick.selectbox(
            "Member",
            list(by_id),
            key="users_selected",
            format_func=lambda i: f"{by_id[i].display_name} <{by_id[i].email}>",
        )
    ]
    options = role_names if user.role in role_names else [user.role, *role_names]
    if st.session_state.get("users_role_for") != user.id:  # a new selection starts on its role
        st.session_state["users_role_for"] = user.id
        st.session_state["users_new_role"] = user.role
    role_col.selectbox("Role", options, key="users_new_role")
    change_col.button(
        "Change role", key="users_change_role", width="stretch", on_click=_change_role, args=(user,)
    )
    unlock_col, sign_out_col, remove_col, _ = st.columns([1, 1, 1, 2])
    unlock_col.button(
        "Unlock sign-in",
        key="users_unlock",
        width="stretch",
        help="End a lockout after too many failed sign-ins.",
        on_click=_unlock,
        args=(user,),
    )
    sign_out_col.button(
        "Sign out everywhere",
        key="users_sign_out",
        width="stretch",
        help="End every session they have signed in to this organization "
        "(a lost laptop, a leaked token).",
        on_click=_sign_out,
        args=(user,),
    )
    remove_col.button(
        "Remove…",
        key="users_remove",
        width="stretch",
        on_click=widgets.ask,
        args=(CONFIRM_REMOVE, user.id),
    )
    widgets.confirm(
        CONFIRM_REMOVE,
        user.id,
        f"Remove **{user.email}** from the organization (and its teams)? Their "
        "account stays; they can be invited again.",
        "Yes, remove",
        _remove,
        args=(user,),
    )


def _change_role(user: User) -> None:
    role = st.session_state.get("users_new_role") or ""
    if role == user.role:
        session.flash("users", "info", f"{user.email} already has the role {role}.")
        return

    def act() -> str:
        changed = session.client().update_user(user.id, {"role": role})
        return f"{changed.email} now has the role {changed.role}."

    session.in_callback("users", act)


def _unlock(user: User) -> None:
    def act() -> str:
        session.client().unlock_user(user.id)
        return f"{user.email} may sign in again."

    session.in_callback("users", act)


def _sign_out(user: User) -> None:
    def act() -> str:
        ended = session.client().revoke_user_sessions(user.id)
        return f"{user.email} was signed out of {ended} session{'s' if ended != 1 else ''}."

    session.in_callback("users", act)


def _remove(user: User) -> None:
    def act() -> str:
        session.client().remove_user(user.id)
        return f"{user.email} was removed from the organization."

    session.in_callback("users", act)


# --------------------------------------------------------------------------- invitations


def show_invitations(invitations: list[Invitation], teams: list[Team]) -> None:
    if not invitations:
        st.caption("No pending invitation.")
        return
    team_names = {t.id: t.name for t in teams}
    st.dataframe(
        [
            {
                "Email": i.email,
                "Role": i.role,
                "Team": team_names.get(i.team_id or "", i.team_id or ""),
                "Sent": fmt.when(i.created_at),
                "Expires": fmt.when(i.expires_at),
            }
            for i in invitations
        ],
        hide_index=True,
    )
    by_id = {i.id: i for i in invitations}
    pick, revoke = st.columns([4, 1], vertical_alignment="bottom")
    chosen = pick.selectbox(
        "Invitation",
        list(by_id),
        key="users_invitation",
        format_func=lambda i: f"{by_id[i].email} ({by_id[i].role})",
    )
    revoke.button(
        "Revoke",
        key="users_revoke_invitation",
        width="stretch",
        on_click=_revoke,
        args=(by_id[chosen],),
    )


def _revoke(invitation: Invitation) -> None:
    def act() -> str:
        session.client().revoke_invitation(invitation.id)
        return f"The invitation of {invitation.email} was revoked."

    session.in_callback("users", act)


def show_invited() -> None:
    invited = st.session_state.get(INVITED)
    if not invited:
        return
    with st.container(border=True):
        st.success(
            f"{invited['email']} is invited as {invited['role']}. Give them this token: "
            "they choose their password with it (`POST /api/v1/auth/register` with "
            "`token` and `password`). It is shown only now."
        )
        st.code(invited["token"], language=None)
        st.button(
            "I have passed it on",
            key="users_invited_done",
            on_click=st.session_state.pop,
            args=(INVITED, None),
        )


def show_invite_form(role_names: list[str], teams: list[Team]) -> None:
    for key, value in INVITE_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    if st.session_state.get("invite_role") not in role_names:
        st.session_state["invite_role"] = "viewer" if "viewer" in role_names else role_names[0]
    team_names = {"": "No team", **{t.id: t.name for t in teams}}
    if st.session_state.get("invite_team") not in team_names:
        st.session_state["invite_team"] = ""
    with st.form("invite_user"):
        email, role, team = st.columns([3, 2, 2])
        email.text_input("Email", key="invite_email", placeholder="jane@example.com")
        role.selectbox("Role", role_names, key="invite_role")
        team.selectbox(
            "Team (optional)",
            list(team_names),
            key="invite_team",
            format_func=team_names.__getitem__,
        )
        st.form_submit_button(
            "Invite",
            key="invite_submit",
            type="primary",
            on_click=_invite,
            args=(tuple(role_names),),
        )
    session.show_flash("invite_form")


def _invite(role_names: tuple[str, ...]) -> None:
    state = st.session_state
    spec, problems = forms.check_invite_form(
        email=state.invite_email,
        role=state.invite_role,
        team_id=state.invite_team or None,
        roles=role_names,
    )
    if spec is None:
        session.flash_many("invite_form", "error", problems)
        return

    def act() -> str:
        invitation = session.client().invite_user(spec)
        state[INVITED] = {
            "email": invitation.email,
            "role": invitation.role,
            "token": invitation.token or "",
        }
        state.update(INVITE_DEFAULTS)
        return f"Invitation sent to {invitation.email}."

    session.in_callback("invite_form", act, success_area="users")


session.run_page(main)
