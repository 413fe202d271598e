"""Webhooks (admins): the organization's outgoing webhooks, which receive request, DR failover and
alert events with a Slack-compatible body signed with HMAC-SHA256. Create one (its signing secret
is shown once, then never again), send a test event and read what the receiver answered, rotate
the secret (the new one shown once; for the grace period deliveries carry the replaced secret's
signature too, so the receiver can switch at its pace), delete one (after a confirmation)."""

from __future__ import annotations

import streamlit as st

from ui import fmt, forms, session, widgets
from ui.client import WEBHOOK_EVENTS, ApiError, AuthenticationRequired, Webhook, WebhookSecret

AREA = "webhooks"
FORM_AREA = "webhook_form"
SECRET = "webhooks_secret"  # the secret just made: shown until dismissed, never fetched again
SELECTED = "webhooks_selected"
CONFIRM_DELETE = "webhooks_confirm_delete"
FORM_DEFAULTS: dict[str, object] = {
    "webhook_name": "",
    "webhook_url": "",
    "webhook_events": [],
    "webhook_secret": "",
    "webhook_enabled": True,
}


def main() -> None:
    api = session.client()
    st.title("Webhooks")
    st.caption(
        "Each delivery is a JSON POST a Slack incoming webhook accepts, signed in "
        '`X-JSC-Signature` with HMAC-SHA256 of `"{X-JSC-Timestamp}." + body`. After a '
        "rotation the header holds two comma-separated signatures (the new secret's "
        "first) until the grace ends: accept a delivery when one of them matches."
    )
    session.show_flash(AREA)
    show_secret()
    hooks = session.call(api.webhooks)
    if hooks is None:
        return
    if hooks:
        st.dataframe([row(h) for h in hooks], hide_index=True, key="webhooks_table")
        show_actions(hooks)
    else:
        st.info("No webhook yet. Create one below.")
    st.subheader("Create a webhook")
    show_form()


def events_text(events: tuple[str, ...]) -> str:
    return ", ".join(WEBHOOK_EVENTS.get(e, e) for e in events) if events else "Every event"


def row(h: Webhook) -> dict[str, str]:
    return {
        "Name": h.name,
        "URL": h.url,
        "Events": events_text(h.events),
        "Enabled": "Yes" if h.enabled else "No",
        "Previous secret signs until": fmt.when(h.previous_valid_until),
        "Created": fmt.when(h.created_at),
    }


def show_actions(hooks: list[Webhook]) -> None:
    by_id = {h.id: h for h in hooks}
    if st.session_state.get(SELECTED) not in by_id:
        st.session_state[SELECTED] = hooks[0].id
    pick, test, rotate, delete = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
    hook = by_id[
        pick.selectbox("Webhook", list(by_id), key=SELECTED, format_func=lambda i: by_id[i].name)
    ]
    # The callbacks read the selection when they run: a click right after a new selection acts
    # on the webhook now selected.
    test.button(
        "Send a test",
        key="webhooks_test",
        width="stretch",
        help="POST one signed `test` event now, enabled or not.",
        on_click=lambda: _test(by_id[st.session_state[SELECTED]]),
    )
    rotate.button(
        "Rotate secret",
        key="webhooks_rotate",
        width="stretch",
        help="A new signing secret, shown once; the current one keeps signing "
        "deliveries beside it for the grace period.",
        on_click=lambda: _rotate(by_id[st.session_state[SELECTED]]),
    )
    delete.button(
        "Delete…",
        key="webhooks_delete",
        width="stretch",
        on_click=lambda: widgets.ask(CONFIRM_DELETE, st.session_state[SELECTED]),
    )
    widgets.confirm(
        CONFIRM_DELETE,
        hook.id,
        f"Delete the webhook **{hook.name}**? Its receiver gets no event from now on.",
        "Yes, delete",
        _delete,
        args=(hook,),
    )


def _test(hook: Webhook) -> None:
    """Send a test event; what the receiver answered becomes the next run's message."""
    try:
        result = session.client().test_webhook(hook.id)
    except AuthenticationRequired:
        session.forget()
        session.flash("login", "warning", session.EXPIRED)
        return
    except ApiError as err:
        session.flash(AREA, "error", session.error_text(err))
        return
    if result.ok:
        session.flash(
            AREA,
            "success",
            f"Test delivered to {hook.name}: the receiver answered {result.status_code}.",
        )
    else:
        session.flash(AREA, "error", f"The test to {hook.name} failed: {result.error}.")


def _rotate(hook: Webhook) -> None:
    def act() -> str:
        rotated = session.client().rotate_webhook_secret(hook.id)
        _keep_secret(hook.name, rotated, "rotated")
        return f"The secret of {hook.name} was rotated."

    session.in_callback(AREA, act)


def _delete(hook: Webhook) -> None:
    def act() -> str:
        session.client().delete_webhook(hook.id)
        if (st.session_state.get(SECRET) or {}).get("id") == hook.id:
            st.session_state.pop(SECRET, None)
        return f"Webhook {hook.name} deleted."

    session.in_callback(AREA, act)


def _keep_secret(name: str, made: WebhookSecret, how: str) -> None:
    st.session_state[SECRET] = {
        "id": made.id,
        "name": name,
        "secret": made.secret,
        "how": how,
        "previous_valid_until": made.previous_valid_until,
    }


def show_secret() -> None:
    secret = st.session_state.get(SECRET)
    if not secret:
        return
    with st.container(border=True):
        st.success(
            f"The signing secret of **{secret['name']}** ({secret['how']}). Copy it now: "
            "it is shown only this once."
        )
        st.code(secret["secret"], language=None)
        if secret["how"] == "rotated":
            until = secret.get("previous_valid_until")
            st.info(
                f"Until {fmt.when(until)} deliveries are signed with the previous secret too: "
                "give the receiver the new one before then."
                if until
                else "The previous secret no longer signs deliveries: give the receiver the new "
                "one now."
            )
        st.button(
            "I have copied it",
            key="webhooks_secret_done",
            on_click=st.session_state.pop,
            args=(SECRET, None),
        )


def show_form() -> None:
    for key, value in FORM_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    with st.form("create_webhook"):
        left, right = st.columns([1, 2])
        left.text_input("Name", key="webhook_name", placeholder="slack-approvals")
        right.text_input(
            "URL", key="webhook_url", placeholder="https://hooks.slack.com/services/T000/B000/XXXX"
        )
        st.multiselect(
            "Events (none: every event)",
            list(WEBHOOK_EVENTS),
            key="webhook_events",
            format_func=lambda e: WEBHOOK_EVENTS[e],
        )
        secret, enabled = st.columns([2, 1], vertical_alignment="bottom")
        secret.text_input(
            "Signing secret (empty: one is made for you)", key="webhook_secret", type="password"
        )
        enabled.checkbox("Enabled", key="webhook_enabled")
        st.form_submit_button(
            "Create webhook", key="webhook_submit", type="primary", on_click=_create
        )
    session.show_flash(FORM_AREA)


def _create() -> None:
    state = st.session_state
    spec, problems = forms.check_webhook_form(
        name=state.webhook_name,
        url=state.webhook_url,
        events=state.webhook_events,
        secret=state.webhook_secret,
        enabled=state.webhook_enabled,
    )
    if spec is None:
        session.flash_many(FORM_AREA, "error", problems)
        return

    def act() -> str:
        created, secret = session.client().create_webhook(spec)
        _keep_secret(created.name, secret, "new webhook")
        state.update({**FORM_DEFAULTS, "webhook_events": []})
        state[SELECTED] = created.id  # the actions below start on it
        return f"Webhook {created.name} created."

    session.in_callback(FORM_AREA, act, success_area=AREA)


session.run_page(main)
