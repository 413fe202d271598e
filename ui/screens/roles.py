"""Roles: the permission matrix (each role × each resource, with the actions it grants and in
which scope), one role's resources × actions in detail, creating a custom role from
``resource:action:scope`` permissions, deleting a custom role. Built-in roles cannot be changed.
Reading needs ``roles:read``: anyone else reads the API's refusal."""

from __future__ import annotations

import streamlit as st

from ui import forms, session, widgets
from ui.client import ApiError, PermissionCatalog, Role

CONFIRM_DELETE = "roles_confirm_delete"
FORM_DEFAULTS = {"role_name": "", "role_description": "", "role_permissions": ""}
ALL = "all"


def main() -> None:
    api = session.client()
    st.title("Roles")
    session.show_flash("roles")
    roles, catalog = session.fetch_all(lambda fn: fn(), [api.list_roles, api.permission_catalog])
    if isinstance(roles, ApiError):
        session.show_error(roles)
        return
    if isinstance(catalog, ApiError):
        session.show_error(catalog)
        return
    st.subheader("Permission matrix")
    st.caption(
        "What each role may do per resource; a scope in brackets limits it (`team`: the "
        "namespaces of the member's teams, `own`: what they own)."
    )
    st.dataframe(matrix(roles, catalog), hide_index=True, key="roles_matrix")
    show_role(roles, catalog)
    st.subheader("Create a custom role")
    show_form(roles, catalog)


# --------------------------------------------------------------------------- the matrix


def scopes_of(permissions: tuple[str, ...] | list[str], resource: str, action: str) -> set[str]:
    """The scopes in which ``permissions`` grant ``action`` on ``resource`` (``manage`` and ``*``
    cover every action)."""
    found = set()
    for perm in permissions:
        res, act, scope = (perm.split(":", 2) + ["", ""])[:3]
        if res in ("*", resource) and act in ("*", "manage", action):
            found.add(scope)
    return found


def cell(permissions: tuple[str, ...] | list[str], resource: str, actions: tuple[str, ...]) -> str:
    """One resource of one role, e.g. "read, create (team)"; "all" for every action."""
    by_scope: dict[str, list[str]] = {}
    for action in actions:
        for scope in sorted(scopes_of(permissions, resource, action)):
            by_scope.setdefault(scope, []).append(action)
    parts = []
    for scope, granted in by_scope.items():
        text = ALL if len(granted) == len(actions) else ", ".join(granted)
        parts.append(text if scope == "*" else f"{text} ({scope})")
    return "; ".join(parts)


def matrix(roles: list[Role], catalog: PermissionCatalog) -> list[dict[str, object]]:
    rows = []
    for role in roles:
        row: dict[str, object] = {
            "Role": role.name,
            "Kind": "built-in" if role.is_system else "custom",
            "Members": role.members,
        }
        row.update(
            {
                resource: cell(role.permissions, resource, catalog.actions)
                for resource in catalog.resources
            }
        )
        rows.append(row)
    return rows


def show_role(roles: list[Role], catalog: PermissionCatalog) -> None:
    by_id = {r.id: r for r in roles}
    if st.session_state.get("roles_selected") not in by_id:
        st.session_state["roles_selected"] = roles[0].id
    pick, delete = st.columns([4, 1], vertical_alignment="bottom")
    role = by_id[
        pick.selectbox(
            "Role in detail", list(by_id), key="roles_selected", format_func=lambda i: by_id[i].name
        )
    ]
    delete.button(
        "Delete role…",
        key="roles_delete",
        width="stretch",
        disabled=role.is_system,
        help="Built-in roles cannot be deleted.",
        on_click=widgets.ask,
        args=(CONFIRM_DELETE, role.id),
    )
    widgets.confirm(
        CONFIRM_DELETE,
        role.id,
        f"Delete the custom role **{role.name}**?",
        "Yes, delete",
        _delete,
        args=(role,),
    )
    with st.container(border=True):
        st.markdown(
            f"**{role.name}** · {'built-in' if role.is_system else 'custom'} · "
            f"{role.members} member(s)" + (f" · {role.description}" if role.description else "")
        )
        rows = []
        for resource in catalog.resources:
            row: dict[str, object] = {"Resource": resource}
            for action in catalog.actions:
                scopes = scopes_of(role.permissions, resource, action)
                row[action] = "●" if "*" in scopes else ", ".join(sorted(scopes)) or "○"
            rows.append(row)
        st.dataframe(rows, hide_index=True, key="roles_detail")
        st.caption(
            "● everywhere · ○ not granted · a scope name: only there. Permissions: "
            + ", ".join(f"`{p}`" for p in role.permissions)
        )


def _delete(role: Role) -> None:
    def act() -> str:
        session.client().delete_role(role.id)
        st.session_state.pop("roles_selected", None)
        return f"Role {role.name} deleted."

    session.in_callback("roles", act)


# --------------------------------------------------------------------------- creation


def show_form(roles: list[Role], catalog: PermissionCatalog) -> None:
    for key, value in FORM_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    with st.form("create_role"):
        left, right = st.columns([1, 2])
        left.text_input("Name", key="role_name", placeholder="stream-admin")
        right.text_input("Description", key="role_description")
        st.text_area(
            "Permissions, one per line: resource:action:scope",
            key="role_permissions",
            placeholder="streams:read:*\nstreams:create:team\nmessages:publish:team",
            height=140,
        )
        st.caption(
            f"Resources: {', '.join(catalog.resources)}. Actions: "
            f"{', '.join(catalog.actions)}. Scopes: {forms.SCOPE_HINT}. Each part may "
            "also be `*`; a role cannot grant more than you have."
        )
        st.form_submit_button(
            "Create role",
            key="role_submit",
            type="primary",
            on_click=_create,
            args=(catalog, tuple(r.name for r in roles)),
        )
    session.show_flash("role_form")


def _create(catalog: PermissionCatalog, taken: tuple[str, ...]) -> None:
    state = st.session_state
    spec, problems = forms.check_role_form(
        name=state.role_name,
        description=state.role_description,
        permissions=state.role_permissions,
        resources=catalog.resources,
        actions=catalog.actions,
        taken=taken,
    )
    if spec is None:
        session.flash_many("role_form", "error", problems)
        return

    def act() -> str:
        role = session.client().create_role(spec)
        state.update(FORM_DEFAULTS)
        state["roles_selected"] = role.id
        return f"Role {role.name} created with {len(role.permissions)} permission(s)."

    session.in_callback("role_form", act, success_area="roles")


session.run_page(main)
