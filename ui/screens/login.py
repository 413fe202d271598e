"""Login: email and password against ``POST /auth/login``; a refusal is shown as the API says it."""

from __future__ import annotations

import streamlit as st

from ui import session
from ui.client import ApiError


def main() -> None:
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("JetStream Console")
        st.caption("Log in to manage your NATS JetStream clusters.")
        session.show_flash("login")
        with st.form("login", border=True):
            email = st.text_input("Email", key="login_email", autocomplete="username")
            password = st.text_input("Password", type="password", key="login_password",
                                     autocomplete="current-password")
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


session.run_page(main)
