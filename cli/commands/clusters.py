"""``jsc cluster ls|info|health``: the NATS clusters registered in your organization."""

from __future__ import annotations

import typer

from cli.common import cluster_option, connect, json_option
from cli.output import Group, emit_json, fmt_bytes, fmt_count, fmt_time, status_text, table, view

app = Group(help="Registered NATS clusters.")


def _ref() -> str | None:
    return typer.Argument(
        None,
        metavar="CLUSTER",
        show_default=False,
        help="Name or id (or --cluster/-c; default: JSC_CLUSTER, or the only cluster).",
    )


@app.command("ls")
def list_clusters(as_json: bool = json_option()) -> None:
    """List the clusters."""
    with connect() as api:
        clusters = api.clusters()
    if as_json:
        emit_json({"items": clusters})
        return
    table(
        ["NAME", "ENVIRONMENT", "STATUS", "VERSION", "DOMAIN", "SERVERS", "ID"],
        (
            [
                c["name"],
                c.get("environment"),
                status_text(c.get("status")),
                c.get("version"),
                c.get("jetstream_domain"),
                ", ".join(c.get("server_urls") or []),
                c["id"],
            ]
            for c in clusters
        ),
        empty="No clusters registered.",
    )


@app.command("info")
def cluster_info(
    cluster: str | None = _ref(),
    cluster_opt: str | None = cluster_option(),
    as_json: bool = json_option(),
) -> None:
    """A cluster's registration, server and JetStream account usage."""
    with connect() as api:
        found = api.cluster(cluster or cluster_opt)
        info = api.get(f"/clusters/{found['id']}/info")
    if as_json:
        emit_json({"cluster": found, **info})
        return
    server, account = info.get("server") or {}, info.get("account") or {}
    limits = account.get("limits") or {}
    view(
        [
            ("Name", found["name"]),
            ("Id", found["id"]),
            ("Environment", found.get("environment")),
            ("Description", found.get("description") or None),
            ("Servers", ", ".join(found.get("server_urls") or [])),
            ("Status", status_text(found.get("status"))),
            ("Credentials", found.get("credentials_type")),
            ("TLS", found.get("tls_enabled")),
            ("Registered", fmt_time(found.get("created_at"))),
        ],
        title="Cluster",
    )
    view(
        [
            ("Version", server.get("version")),
            ("Server", server.get("server_name")),
            ("Server id", server.get("server_id")),
            ("Cluster", (server.get("cluster") or None)),
            ("JetStream domain", server.get("jetstream_domain")),
            ("Max payload", fmt_bytes(server.get("max_payload"))),
        ],
        title="Server",
    )
    view(
        [
            ("Streams", fmt_count(account.get("streams"))),
            ("Consumers", fmt_count(account.get("consumers"))),
            ("File storage", fmt_bytes(account.get("storage"))),
            ("Memory storage", fmt_bytes(account.get("memory"))),
            ("Max file storage", fmt_bytes(limits.get("max_storage"))),
            ("Max memory", fmt_bytes(limits.get("max_memory"))),
        ],
        title="JetStream account",
    )


@app.command("health")
def cluster_health(
    cluster: str | None = _ref(),
    cluster_opt: str | None = cluster_option(),
    as_json: bool = json_option(),
) -> None:
    """Check a cluster now (connect, round trip, JetStream); exit 1 unless healthy."""
    with connect() as api:
        found = api.cluster(cluster or cluster_opt)
        health = api.get(f"/clusters/{found['id']}/health")
    if as_json:
        emit_json({"cluster": found["name"], **health})
    else:
        view(
            [
                ("Cluster", found["name"]),
                ("Status", status_text(health.get("status"))),
                ("Connected", health.get("connected")),
                ("JetStream", health.get("jetstream")),
                (
                    "Round trip",
                    f"{health['rtt_ms']:.2f} ms" if health.get("rtt_ms") is not None else None,
                ),
                ("Version", health.get("version")),
                ("Error", health.get("error")),
                ("Checked", fmt_time(health.get("checked_at"))),
            ]
        )
    if health.get("status") != "healthy":
        raise typer.Exit(1)
