"""Registering a cluster: its name, server URLs, domain and credentials."""

from __future__ import annotations

import re

from ui.client import ClusterSpec, CredentialsSpec
from ui.forms.common import CLUSTER_NAME, DOMAIN, ENVIRONMENTS, server_url_problem, split_list


def check_cluster_form(*, name: str, server_urls: str, environment: str = "development",
                       description: str = "", jetstream_domain: str = "",
                       monitoring_url: str = "", credentials_type: str = "none",
                       username: str = "", password: str = "", token: str = "",
                       creds: str = "") -> tuple[ClusterSpec | None, list[str]]:
    problems: list[str] = []
    name = (name or "").strip()
    if not name:
        problems.append("Give the cluster a name.")
    elif not CLUSTER_NAME.match(name):
        problems.append("A cluster name starts with a letter or digit and may then contain "
                        "letters, digits, -, _ and . (up to 63 characters).")
    if environment not in ENVIRONMENTS:
        problems.append("Environment must be production, staging or development.")
    urls = split_list(server_urls)
    if not urls:
        problems.append("Give at least one server URL, for example nats://127.0.0.1:4222.")
    problems += [p for p in map(server_url_problem, urls) if p]
    monitoring = (monitoring_url or "").strip()
    if monitoring and not re.match(r"^https?://\S+$", monitoring, re.IGNORECASE):
        problems.append("The monitoring URL must start with http:// or https://.")
    domain = (jetstream_domain or "").strip()
    if domain and not DOMAIN.match(domain):
        problems.append("A JetStream domain may only contain letters, digits, - and _ "
                        "(up to 64 characters).")
    credentials: CredentialsSpec = {"type": "none"}
    if credentials_type == "user_password":
        if not username.strip() or not password:
            problems.append("User and password credentials need both a user name and a password.")
        credentials = {"type": "user_password", "username": username.strip(), "password": password}
    elif credentials_type == "token":
        if not token.strip():
            problems.append("Token credentials need the token.")
        credentials = {"type": "token", "token": token.strip()}
    elif credentials_type == "creds":
        if "-----BEGIN NATS USER JWT-----" not in creds:
            problems.append("Paste the whole .creds file: it starts with -----BEGIN NATS USER JWT-----.")
        credentials = {"type": "creds", "creds": creds}
    elif credentials_type != "none":
        problems.append("Credentials must be none, user and password, token or a .creds file.")
    if problems:
        return None, problems
    spec: ClusterSpec = {"name": name, "description": (description or "").strip(),
                         "environment": environment, "server_urls": urls,
                         "jetstream_domain": domain or None, "monitoring_url": monitoring or None,
                         "credentials": credentials}
    return spec, []
