"""Registering a cluster (its name, server URLs, domain and credentials) and changing one.

Credentials and TLS keys are write-only: the API never shows them, so an edit sends them only
when the person typed new ones (blank fields keep the stored secret)."""

from __future__ import annotations

import re

from ui.client import Cluster, ClusterChanges, ClusterSpec, CredentialsSpec, TlsSpec
from ui.forms.common import CLUSTER_NAME, DOMAIN, ENVIRONMENTS, server_url_problem, split_list

TLS_CHOICES = ("keep", "replace", "remove")
PEM = "-----BEGIN "


def _check_registration(
    name: str,
    environment: str,
    server_urls: str,
    jetstream_domain: str,
    monitoring_url: str,
    problems: list[str],
) -> dict:
    """The fields a registration and an edit share, cleaned; their problems appended."""
    name = (name or "").strip()
    if not name:
        problems.append("Give the cluster a name.")
    elif not CLUSTER_NAME.match(name):
        problems.append(
            "A cluster name starts with a letter or digit and may then contain "
            "letters, digits, -, _ and . (up to 63 characters)."
        )
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
        problems.append(
            "A JetStream domain may only contain letters, digits, - and _ (up to 64 characters)."
        )
    return {
        "name": name,
        "environment": environment,
        "server_urls": urls,
        "jetstream_domain": domain or None,
        "monitoring_url": monitoring or None,
    }


def _check_credentials(
    credentials_type: str, username: str, password: str, token: str, creds: str, problems: list[str]
) -> CredentialsSpec:
    if credentials_type == "user_password":
        if not username.strip() or not password:
            problems.append("User and password credentials need both a user name and a password.")
        return {"type": "user_password", "username": username.strip(), "password": password}
    if credentials_type == "token":
        if not token.strip():
            problems.append("Token credentials need the token.")
        return {"type": "token", "token": token.strip()}
    if credentials_type == "creds":
        if "-----BEGIN NATS USER JWT-----" not in creds:
            problems.append(
                "Paste the whole .creds file: it starts with -----BEGIN NATS USER JWT-----."
            )
        return {"type": "creds", "creds": creds}
    if credentials_type != "none":
        problems.append("Credentials must be none, user and password, token or a .creds file.")
    return {"type": "none"}


def check_cluster_form(
    *,
    name: str,
    server_urls: str,
    environment: str = "development",
    description: str = "",
    jetstream_domain: str = "",
    monitoring_url: str = "",
    credentials_type: str = "none",
    username: str = "",
    password: str = "",
    token: str = "",
    creds: str = "",
) -> tuple[ClusterSpec | None, list[str]]:
    problems: list[str] = []
    fields = _check_registration(
        name, environment, server_urls, jetstream_domain, monitoring_url, problems
    )
    credentials = _check_credentials(credentials_type, username, password, token, creds, problems)
    if problems:
        return None, problems
    spec: ClusterSpec = {
        "name": fields["name"],
        "description": (description or "").strip(),
        "environment": fields["environment"],
        "server_urls": fields["server_urls"],
        "jetstream_domain": fields["jetstream_domain"],
        "monitoring_url": fields["monitoring_url"],
        "credentials": credentials,
    }
    return spec, []


def _credential_changes(
    cluster: Cluster,
    credentials_type: str,
    username: str,
    password: str,
    token: str,
    creds: str,
    problems: list[str],
) -> CredentialsSpec | None:
    """New credentials to send, or None to keep the stored ones (same kind, nothing typed)."""
    typed = any(v.strip() for v in (username, password, token, creds))
    if credentials_type == cluster.credentials_type and not typed:
        return None
    if (
        credentials_type == "user_password"
        and credentials_type == cluster.credentials_type
        and not (username.strip() and password)
    ):
        problems.append(
            "To change the user and password give both: the stored ones are never "
            "shown (leave both blank to keep them)."
        )
        return None
    return _check_credentials(credentials_type, username, password, token, creds, problems)


def _tls_changes(
    tls_choice: str,
    ca_pem: str,
    cert_pem: str,
    key_pem: str,
    insecure_skip_verify: bool,
    problems: list[str],
) -> tuple[bool, TlsSpec | None]:
    """(whether to send ``tls``, its value): kept, replaced by what was typed, or removed."""
    if tls_choice == "keep":
        return False, None
    if tls_choice == "remove":
        return True, None
    if tls_choice != "replace":
        problems.append("TLS settings are kept, replaced or removed.")
        return False, None
    tls: TlsSpec = {"insecure_skip_verify": bool(insecure_skip_verify)}
    for label, field, text in (
        ("CA certificate", "ca_pem", ca_pem),
        ("client certificate", "cert_pem", cert_pem),
        ("client key", "key_pem", key_pem),
    ):
        text = (text or "").strip()
        if text and PEM not in text:
            problems.append(f"The {label} must be in PEM form (it starts with -----BEGIN ...).")
        if text:
            tls[field] = text  # type: ignore[literal-required]
    if ("cert_pem" in tls) != ("key_pem" in tls):
        problems.append("A client certificate and its key go together: give both or neither.")
    return True, tls


def check_cluster_changes(
    cluster: Cluster,
    *,
    name: str,
    server_urls: str,
    environment: str,
    description: str = "",
    jetstream_domain: str = "",
    monitoring_url: str = "",
    credentials_type: str | None = None,
    username: str = "",
    password: str = "",
    token: str = "",
    creds: str = "",
    tls_choice: str = "keep",
    ca_pem: str = "",
    cert_pem: str = "",
    key_pem: str = "",
    insecure_skip_verify: bool = False,
) -> tuple[ClusterChanges | None, list[str]]:
    """The ``PATCH`` body for what differs from ``cluster`` (empty when nothing does)."""
    problems: list[str] = []
    fields = _check_registration(
        name, environment, server_urls, jetstream_domain, monitoring_url, problems
    )
    fields["description"] = (description or "").strip()
    credentials = _credential_changes(
        cluster,
        credentials_type or cluster.credentials_type,
        username,
        password,
        token,
        creds,
        problems,
    )
    send_tls, tls = _tls_changes(
        tls_choice, ca_pem, cert_pem, key_pem, insecure_skip_verify, problems
    )
    if problems:
        return None, problems
    current = {
        "name": cluster.name,
        "environment": cluster.environment,
        "description": cluster.description,
        "server_urls": list(cluster.server_urls),
        "jetstream_domain": cluster.jetstream_domain or None,
        "monitoring_url": cluster.monitoring_url or None,
    }
    changes: ClusterChanges = {
        k: fields[k]
        for k in current  # type: ignore[assignment]
        if fields[k] != current[k]
    }
    if credentials is not None:
        changes["credentials"] = credentials
    if send_tls:
        changes["tls"] = tls
    return changes, []
