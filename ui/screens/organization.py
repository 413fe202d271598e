"""Organization: the settings of the organization signed in to (its name, slug, plan and the
request limit per user and minute) and the organizations the person belongs to. Administrators
(``organizations:update``) change the name and the limit; everyone else reads them."""

from __future__ import annotations

import streamlit as st

from ui import fmt, forms, session, widgets
from ui.client import OrganizationSettings

AREA = "organization"
LOADED = "org_form_loaded"  # which version of the settings the form's fields hold


def main() -> None:
    api = session.client()
    person = session.me()
    st.title("Organization")
    session.show_flash(AREA)
    if person is None:
        return
    org = session.call(api.organization, person.organization.id)
    if org is None:
        return
    st.subheader(org.name)
    widgets.facts(facts(org))
    if person.can("organizations:update"):
        st.subheader("Settings")
        show_form(org)
    else:
        st.caption("Only an administrator of the organization changes its settings.")
    st.subheader("Your organizations")
    memberships = session.call(api.list_organizations)
    if memberships:
        st.dataframe(
            [
                {
                    "Organization": m.name,
                    "Slug": m.slug,
                    "Your role": m.role or "",
                    "Signed in": "✔" if m.id == org.id else "",
                }
                for m in memberships
            ],
            hide_index=True,
            key="org_memberships",
        )
        st.caption("To work in another organization, log out and log in to it.")


def facts(org: OrganizationSettings) -> dict[str, object]:
    return {
        "Name": org.name,
        "Slug": org.slug,
        "Plan": org.plan or "—",
        "Your role": org.role or "—",
        "Request limit": limit_text(org.rate_limit_per_minute),
        "Created": fmt.when(org.created_at),
    }


def limit_text(per_minute: int | None) -> str:
    if not per_minute:
        return "the console's default, per user and minute"
    return f"{per_minute:,} requests per user and minute"


def show_form(org: OrganizationSettings) -> None:
    version = (org.id, org.name, org.rate_limit_per_minute)
    if st.session_state.get(LOADED) != version or "org_name" not in st.session_state:
        st.session_state.update(org_name=org.name, org_rate_limit=org.rate_limit_per_minute or 0)
        st.session_state[LOADED] = version
    with st.form("organization_settings"):
        st.text_input("Name", key="org_name", max_chars=255)
        st.number_input(
            "Requests per user and minute (0: the console's default)",
            min_value=0,
            max_value=forms.MAX_RATE_LIMIT,
            step=100,
            key="org_rate_limit",
            help="Each member may make this many API requests a minute; more are "
            "answered 429 with Retry-After. An API key's own limit cannot be "
            "higher.",
        )
        st.form_submit_button(
            "Save settings", key="org_submit", type="primary", on_click=_save, args=(org,)
        )
    session.show_flash("organization_form")


def _save(org: OrganizationSettings) -> None:
    state = st.session_state
    changes, problems = forms.check_organization_form(
        org, name=state.org_name, rate_limit_per_minute=state.org_rate_limit
    )
    if changes is None:
        session.flash_many("organization_form", "error", problems)
        return
    if not changes:
        session.flash("organization_form", "info", "Nothing to save: the settings are unchanged.")
        return

    def act() -> str:
        updated = session.client().update_organization(org.id, changes)
        session.reload_me()  # the sidebar shows the organization's name
        return f"Settings of {updated.name} saved: {limit_text(updated.rate_limit_per_minute)}."

    session.in_callback("organization_form", act, success_area=AREA)


session.run_page(main)
