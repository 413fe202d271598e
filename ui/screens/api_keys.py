"""API keys: the keys you may see (your own; an admin sees every key of the organization) with
their prefix, scopes, expiry and last use; create one or rotate one (the secret is shown once,
then never again), revoke one. A key is sent as ``X-API-Key``."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from ui import fmt, forms, session, widgets
from ui.client import ApiError, ApiKey

SECRET = "api_keys_secret"  # the secret just made: shown until dismissed, never fetched again
CONFIRM_REVOKE = "api_keys_confirm_revoke"
FORM_DEFAULTS: dict[str, object] = {"api_key_name": "", "api_key_scopes": "", "api_key_days": 90}


def main() -> None:
    api = session.client()
    st.title("API keys")
    session.show_flash("api_keys")
    show_secret()
    keys, catalog = session.fetch_all(lambda fn: fn(), [api.list_api_keys, api.permission_catalog])
    if isinstance(keys, ApiError):
        session.show_error(keys)
        return
    resources, actions = (
        ((), ()) if isinstance(catalog, ApiError) else (catalog.resources, catalog.actions)
    )
    if keys:
        st.dataframe([_row(k) for k in keys], hide_index=True)
        show_actions([k for k in keys if not k.revoked])
    else:
        st.info("No API key yet. Create one below.")
    st.subheader("Create an API key")
    show_form(resources, actions)


def status(key: ApiKey) -> str:
    if key.revoked:
        return "Revoked"
    if key.expires_at:
        try:
            if datetime.fromisoformat(key.expires_at.replace("Z", "+00:00")) <= datetime.now(UTC):
                return "Expired"
        except ValueError:
            pass
    return "Active"


def _row(k: ApiKey) -> dict[str, object]:
    return {
        "Name": k.name,
        "Prefix": k.prefix,
        "Scopes": ", ".join(k.scopes),
        "Status": status(k),
        "Expires": fmt.when(k.expires_at) if k.expires_at else "never",
        "Last used": fmt.when(k.last_used_at) if k.last_used_at else "never",
        "Created": fmt.when(k.created_at),
    }


def show_actions(keys: list[ApiKey]) -> None:
    if not keys:
        return
    by_id = {k.id: k for k in keys}
    if st.session_state.get("api_keys_selected") not in by_id:
        st.session_state["api_keys_selected"] = keys[0].id
    pick, rotate, revoke = st.columns([3, 1, 1], vertical_alignment="bottom")
    key = by_id[
        pick.selectbox(
            "Key",
            list(by_id),
            key="api_keys_selected",
            format_func=lambda i: f"{by_id[i].name} ({by_id[i].prefix}…)",
        )
    ]
    # The callbacks read the selection when they run, not when the buttons were drawn: a click
    # right after a new selection acts on the key now selected.
    rotate.button(
        "Rotate",
        key="api_keys_rotate",
        width="stretch",
        help="A new secret; the current one stops working at once.",
        on_click=lambda: _rotate(by_id[st.session_state["api_keys_selected"]]),
    )
    revoke.button(
        "Revoke…",
        key="api_keys_revoke",
        width="stretch",
        on_click=lambda: widgets.ask(CONFIRM_REVOKE, st.session_state["api_keys_selected"]),
    )
    widgets.confirm(
        CONFIRM_REVOKE,
        key.id,
        f"Revoke the key **{key.name}** ({key.prefix}…)? Whatever uses it is refused from now on.",
        "Yes, revoke",
        _revoke,
        args=(key,),
    )


def _rotate(key: ApiKey) -> None:
    def act() -> str:
        rotated = session.client().rotate_api_key(key.id)
        _keep_secret(rotated, "rotated")
        return f"Key {rotated.name} rotated: its previous secret no longer works."

    session.in_callback("api_keys", act)


def _revoke(key: ApiKey) -> None:
    def act() -> str:
        session.client().revoke_api_key(key.id)
        return f"Key {key.name} revoked."

    session.in_callback("api_keys", act)


def _keep_secret(key: ApiKey, how: str) -> None:
    st.session_state[SECRET] = {
        "name": key.name,
        "prefix": key.prefix,
        "key": key.key or "",
        "how": how,
    }


def show_secret() -> None:
    secret = st.session_state.get(SECRET)
    if not secret:
        return
    with st.container(border=True):
        st.success(
            f"The secret of **{secret['name']}** ({secret['how']}). Copy it now: it is "
            "shown only this once. Send it as the `X-API-Key` header."
        )
        st.code(secret["key"], language=None)
        st.button(
            "I have copied it",
            key="api_keys_secret_done",
            on_click=st.session_state.pop,
            args=(SECRET, None),
        )


def show_form(resources: tuple[str, ...], actions: tuple[str, ...]) -> None:
    for key, value in FORM_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    with st.form("create_api_key"):
        left, right = st.columns([3, 1])
        left.text_input("Name", key="api_key_name", placeholder="ci-deploy")
        right.number_input(
            "Expires after (days, 0: never)",
            key="api_key_days",
            min_value=0,
            max_value=forms.MAX_KEY_DAYS,
            step=1,
        )
        st.text_area(
            "Scopes, one per line (empty: everything your role allows)",
            key="api_key_scopes",
            placeholder="streams:read:*\nmessages:publish:team",
            height=100,
        )
        st.form_submit_button(
            "Create key",
            key="api_key_submit",
            type="primary",
            on_click=_create,
            args=(resources, actions),
        )
    session.show_flash("api_key_form")


def _create(resources: tuple[str, ...], actions: tuple[str, ...]) -> None:
    state = st.session_state
    spec, problems = forms.check_api_key_form(
        name=state.api_key_name,
        scopes=state.api_key_scopes,
        expires_in_days=state.api_key_days,
        resources=resources,
        actions=actions,
    )
    if spec is None:
        session.flash_many("api_key_form", "error", problems)
        return

    def act() -> str:
        created = session.client().create_api_key(spec)
        _keep_secret(created, "new key")
        state.update(FORM_DEFAULTS)
        return f"Key {created.name} created."

    session.in_callback("api_key_form", act, success_area="api_keys")


session.run_page(main)
