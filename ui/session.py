"""Per-browser-session glue between the pages and the API client.

The session's :class:`~ui.client.ApiClient` lives in ``st.session_state`` and holds that person's
tokens (refreshed in place on a ``401``); the logged-in person (``/auth/me``) sits next to it.
Pages call the API through :func:`call` (or :func:`fetch_all` for several calls at once), which
turns an :class:`~ui.client.ApiError` into a sentence on the page and an expired session into the
login page. Button callbacks cannot draw, so they leave a :func:`flash` message for the next run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, TypeVar

import streamlit as st

from ui.client import DEFAULT_API_URL, ApiClient, ApiError, AuthenticationRequired, Me

T = TypeVar("T")
R = TypeVar("R")

CLIENT_KEY = "jsc_api"
ME_KEY = "jsc_me"
FLASH_KEY = "jsc_flash"
CLUSTER_KEY = "jsc_cluster_id"  # the cluster last chosen, shared by the pages
STREAM_KEY = "jsc_stream_name"  # the stream last opened (on the cluster last chosen)
EXPIRED = "Your session has expired. Please log in again."

FlashKind = Literal["success", "info", "warning", "error"]


def api_url() -> str:
    return (os.environ.get("JSC_API_URL") or DEFAULT_API_URL).rstrip("/")


def browser_api_url() -> str:
    """The API's address as a browser reaches it: ``JSC_BROWSER_API_URL``, else ``JSC_API_URL``
    (the address this server uses)."""
    return (os.environ.get("JSC_BROWSER_API_URL") or api_url()).rstrip("/")


def api_docs_url() -> str:
    """The API's interactive documentation (OpenAPI, served by the API at ``/docs``)."""
    return f"{browser_api_url()}/docs"


def client() -> ApiClient:
    """This browser session's API client (created on first use, against ``JSC_API_URL``)."""
    current = st.session_state.get(CLIENT_KEY)
    if not isinstance(current, ApiClient) or current.base_url != api_url():
        if isinstance(current, ApiClient):
            current.close()
        current = ApiClient(api_url())
        st.session_state[CLIENT_KEY] = current
    return current


def me() -> Me | None:
    return st.session_state.get(ME_KEY)


def logged_in() -> bool:
    current = st.session_state.get(CLIENT_KEY)
    return isinstance(current, ApiClient) and current.logged_in and me() is not None


def log_in(email: str, password: str) -> None:
    """Log in and load who that is; raises :class:`ApiError` with the API's sentence."""
    api = client()
    api.login(email, password)
    try:
        st.session_state[ME_KEY] = api.me()
    except ApiError:
        api.forget()
        raise


def reload_me() -> None:
    """Read the logged-in person again (e.g. after their organization was renamed)."""
    st.session_state[ME_KEY] = client().me()


def log_out() -> None:
    """Revoke the session on the server (best effort) and forget it here."""
    api = client()
    try:
        api.logout()
    except ApiError:
        pass
    forget()


def forget() -> None:
    """Drop the tokens and the person, locally only (e.g. after the session expired)."""
    current = st.session_state.get(CLIENT_KEY)
    if isinstance(current, ApiClient):
        current.forget()
    st.session_state.pop(ME_KEY, None)


# --------------------------------------------------------------------------- errors


def error_text(err: ApiError) -> str:
    """The API's sentence, then (as a list) the fields it named that the sentence does not."""
    extra = [
        f"- **{fe.field}**: {fe.message}" if fe.field else f"- {fe.message}"
        for fe in err.field_errors
        if f"{fe.field}: {fe.message}" not in err.message
    ]
    return err.message if not extra else err.message + "\n\n" + "\n".join(extra)


def show_error(err: ApiError) -> None:
    st.error(error_text(err))


def _expired() -> None:
    forget()
    flash("login", "warning", EXPIRED)
    st.rerun()


def call(fn: Callable[..., R], *args: object) -> R | None:
    """Run one API call for the page: its result, or None after the error was shown."""
    try:
        return fn(*args)
    except AuthenticationRequired:
        _expired()
    except ApiError as err:
        show_error(err)
    return None


def run_page(main: Callable[[], None]) -> None:
    """Run a page's ``main``; an API error nobody caught becomes a sentence, never a traceback."""
    try:
        main()
    except AuthenticationRequired:
        _expired()
    except ApiError as err:
        show_error(err)


def fetch_all(fn: Callable[[T], R], items: Iterable[T]) -> list[R | ApiError]:
    """``fn`` on every item concurrently (e.g. the health of each cluster), in order.

    A failed item gives its :class:`ApiError` in place of a result; an expired session sends the
    person to the login page. ``fn`` must not draw anything (it runs outside the script thread).
    """
    items = list(items)
    if not items:
        return []

    def guarded(item: T) -> R | ApiError:
        try:
            return fn(item)
        except ApiError as err:
            return err

    with ThreadPoolExecutor(max_workers=min(8, len(items)), thread_name_prefix="jsc-ui") as pool:
        results = list(pool.map(guarded, items))
    if any(isinstance(r, AuthenticationRequired) for r in results):
        _expired()
    return results


def in_callback(area: str, fn: Callable[[], str], *, success_area: str | None = None) -> None:
    """Run an action from a button callback; its success sentence or error becomes a flash
    (the success in ``success_area`` when given, e.g. where the page switches to)."""
    try:
        flash(success_area or area, "success", fn())
    except AuthenticationRequired:
        forget()
        flash("login", "warning", EXPIRED)
    except ApiError as err:
        flash(area, "error", error_text(err))


# --------------------------------------------------------------------------- flash messages


def flash(area: str, kind: FlashKind, text: str) -> None:
    """Leave a message for the next run of the page showing ``area``."""
    st.session_state.setdefault(FLASH_KEY, {}).setdefault(area, []).append((kind, text))


def flash_many(area: str, kind: FlashKind, texts: Iterable[str]) -> None:
    for text in texts:
        flash(area, kind, text)


def show_flash(area: str) -> None:
    """Show (once) what a callback left for ``area``."""
    for kind, text in st.session_state.get(FLASH_KEY, {}).pop(area, []):
        getattr(st, kind)(text)


# --------------------------------------------------------------------------- chrome


def sidebar() -> None:
    """Who is logged in, the API's documentation, and the way out."""
    person = me()
    if person is None:
        return
    with st.sidebar:
        st.caption(f"**{person.display_name}** · {person.role}")
        if person.organization.name:
            st.caption(person.organization.name)
        from ui.approval_widgets import notification_bell  # it imports this module

        notification_bell()
        st.link_button(
            "API docs",
            api_docs_url(),
            key="api_docs",
            icon=":material/menu_book:",
            width="stretch",
            help="The API's reference (OpenAPI): every call this "
            "console makes, to try or to script.",
        )
        if st.button("Log out", key="logout", width="stretch"):
            log_out()
            st.rerun()


def chosen_cluster() -> str | None:
    return st.session_state.get(CLUSTER_KEY)


def choose_cluster(cluster_id: str | None) -> None:
    st.session_state[CLUSTER_KEY] = cluster_id


def chosen_stream() -> str | None:
    return st.session_state.get(STREAM_KEY)


def choose_stream(name: str | None) -> None:
    st.session_state[STREAM_KEY] = name
