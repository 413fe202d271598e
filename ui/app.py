"""Entry point of the UI: ``streamlit run ui/app.py`` (the API URL comes from ``JSC_API_URL``).

Logged out, the only page is the login; logged in, the navigation offers the screens below.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Streamlit puts this file's folder on sys.path, not the repository root: make ``import ui.*``
# work even where the project is not pip-installed.
_HERE = Path(__file__).resolve().parent
if str(_HERE.parent) not in sys.path:
    sys.path.insert(0, str(_HERE.parent))

import streamlit as st  # noqa: E402

from ui import session  # noqa: E402

SCREENS = _HERE / "screens"

st.set_page_config(page_title="JetStream Console", page_icon=":material/hub:", layout="wide")
if not st.get_option("global.appTest"):
    # Served to people: an error nobody caught shows a sentence (details go to the log), never a
    # traceback; no developer menu (rerun, clear cache, deploy).
    st.set_option("client.showErrorDetails", "none")
    st.set_option("client.toolbarMode", "viewer")

SCREEN_PAGES = {  # url path: (title, icon); the first is the home page
    "overview": ("Overview", ":material/dashboard:"),
    "assistant": ("Assistant", ":material/smart_toy:"),
    "clusters": ("Clusters", ":material/hub:"),
    "streams": ("Streams", ":material/stacks:"),
    "alerts": ("Alerts", ":material/notifications_active:"),
    "operations": ("Operations", ":material/sync:"),
    "replication": ("Replication & DR", ":material/device_hub:"),
    "backups": ("Backups", ":material/backup:"),
    "gitops": ("GitOps", ":material/account_tree:"),
    "approvals": ("Approvals", ":material/approval:"),
    "team_portal": ("Team portal", ":material/diversity_3:"),
    "kv": ("KV stores", ":material/key:"),
    "objects": ("Object stores", ":material/folder:"),
    "audit": ("Audit log", ":material/policy:"),
    "users": ("Users", ":material/group:"),
    "teams": ("Teams", ":material/groups:"),
    "roles": ("Roles", ":material/admin_panel_settings:"),
    "policies": ("Approval policies", ":material/rule:"),
    "api_keys": ("API keys", ":material/vpn_key:"),
    "organization": ("Organization", ":material/corporate_fare:"),
    "notifications": ("Notifications", ":material/notifications:"),
    "webhooks": ("Webhooks", ":material/webhook:"),
}
# reached from another page (the stream detail from the streams list), not from the menu
HIDDEN_PAGES = {"stream": "Stream"}


def screen(slug: str, **options: object) -> st.Page:
    return st.Page(SCREENS / f"{slug}.py", **options)


if session.logged_in():
    pages = [
        screen(slug, title=title, icon=icon, default=slug == "overview")
        for slug, (title, icon) in SCREEN_PAGES.items()
    ]
    pages += [
        screen(slug, title=title, visibility="hidden") for slug, title in HIDDEN_PAGES.items()
    ]
    # a bookmarked /login leads home rather than to "page not found"
    pages.append(screen("overview", title="Overview", url_path="login", visibility="hidden"))
    navigation = st.navigation(pages)
    session.sidebar()
else:
    # Every address of the app answers with the login while logged out, and keeps its path: after
    # logging in (or again after a session expired) the person lands where they were going.
    pages = [screen("login", title="Log in", icon=":material/login:", default=True)]
    pages += [
        screen("login", title="Log in", url_path=slug, visibility="hidden")
        for slug in [*SCREEN_PAGES, *HIDDEN_PAGES]
    ]
    navigation = st.navigation(pages, position="hidden")

navigation.run()
