"""Login: email and password against ``POST /auth/login``; a refusal is shown as the API says it.

A forgotten password: "Forgot your password?" asks the API to mail a reset link
(``POST /auth/forgot-password``); the link opens this page with ``?reset=<token>``, where a new
password is chosen (``POST /auth/reset-password``) before logging in with it. Under the form, a
link to the API's documentation (logged in, it is in the sidebar)."""

from __future__ import annotations

import streamlit as st

from ui import session
from ui.client import ApiError

RESET = "reset"  # the query parameter of a mailed reset link


def _log_in() -> None:
    with st.form("login", border=True):
        email = st.text_input("Email", key="login_email", autocomplete="username")
        password = st.text_input(
            "Password", type="password", key="login_password", autocomplete="current-password"
        )
        submitted = st.form_submit_button("Log in", key="login_submit", type="primary")
    if not submitted:
        return
    if not email.strip() or not password:
        st.error("Enter your email and your password.")
        return
    try:
        session.log_in(email.strip(), password)
    except ApiError as err:
        session.show_error(err)
        return
    st.rerun()


def _forgot() -> None:
    with st.expander("Forgot your password?"):
        with st.form("forgot_password", border=False):
            email = st.text_input("Account address", key="forgot_email", autocomplete="username")
            submitted = st.form_submit_button("Mail me a reset link", key="forgot_submit")
        if not submitted:
            return
        if not email.strip():
            st.error("Enter the email of your account.")
            return
        try:
            st.success(session.client().forgot_password(email.strip()))
        except ApiError as err:
            session.show_error(err)


def _choose_password(token: str) -> None:
    st.subheader("Choose a new password")
    with st.form("reset_password", border=True):
        password = st.text_input(
            "New password", type="password", key="reset_password", autocomplete="new-password"
        )
        again = st.text_input(
            "The same again",
            type="password",
            key="reset_password_again",
            autocomplete="new-password",
        )
        submitted = st.form_submit_button("Set the password", key="reset_submit", type="primary")
    if st.button("Back to the login", key="reset_cancel"):
        st.query_params.pop(RESET, None)
        st.rerun()
    if not submitted:
        return
    if len(password) < 8:
        st.error("Choose a password of at least 8 characters.")
        return
    if password != again:
        st.error("The two passwords differ; type the same one twice.")
        return
    try:
        session.client().reset_password(token, password)
    except ApiError as err:
        session.show_error(err)
        return
    st.query_params.pop(RESET, None)
    session.flash("login", "success", "Your new password is set; log in with it.")
    st.rerun()


def main() -> None:
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("JetStream Console")
        token = st.query_params.get(RESET)
        if token:
            _choose_password(token)
            return
        st.caption("Log in to manage your NATS JetStream clusters.")
        session.show_flash("login")
        _log_in()
        _forgot()
        st.caption(f"Scripting instead? [The API's documentation]({session.api_docs_url()})")


session.run_page(main)
