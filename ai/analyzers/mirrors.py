"""Mirror and source findings for one stream: its ``mirror`` / ``sources`` link info as the server
reports it in the stream's info (``lag``, ``active`` in ns since it last heard from its source,
-1 never, ``error``), completed when available by the replication map's edge for the link
(``GET /api/v1/replication``: lag counted on the source, which stays right while the link is
paused or cut, when the server's own ``lag`` does not move)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ai.analyzers.figures import count, duration, number, seconds_since
from ai.analyzers.thresholds import Thresholds
from ai.findings import Finding

DEFAULT = Thresholds()


def _links(stream: dict) -> list[tuple[str, dict, dict]]:
    """(kind, link config, link info) of the stream's mirror and each of its sources."""
    config = stream.get("config", {})
    out = []
    if config.get("mirror"):
        out.append(("mirror", config["mirror"], stream.get("mirror") or {}))
    infos = stream.get("sources") or []
    for source in config.get("sources") or []:
        info = next((i for i in infos if i.get("name") == source.get("name")), {})
        out.append(("source", source, info))
    return out


def _edge(edges: list[dict], kind: str, source: str) -> dict | None:
    return next(
        (e for e in edges if e.get("kind") == kind and e.get("source_stream") == source), None
    )


def _origin(config: dict, edge: dict | None) -> str:
    """Where the source is: its cluster's name when the map names it (``source_cluster_name``,
    added by the diagnosis from the map's clusters), else its domain's API prefix."""
    api = (config.get("external") or {}).get("api")
    if edge and edge.get("source_cluster_name"):
        return f" on cluster {edge['source_cluster_name']}"
    if edge and edge.get("source_domain"):
        return f" in domain {edge['source_domain']}"
    return f" ({api})" if api else ""


def _broken(
    kind: str,
    config: dict,
    info: dict,
    edge: dict | None,
    stream: dict,
    now: datetime,
    t: Thresholds,
) -> str | None:
    """Why the link is broken, or None."""
    error = info.get("error") or {}
    if error:
        return f"the server reports: {error.get('description') or error}"
    if edge and edge.get("status") in ("error", "broken_link"):
        return edge.get("error") or edge["status"].replace("_", " ")
    if edge and edge.get("status") == "paused":
        return None  # silent because paused on purpose: its lag is the finding, if any
    active = info.get("active")
    if isinstance(active, (int, float)) and active >= 0:
        if active / 1e9 >= t.mirror_silent_after_s:
            return f"it has not heard from its source for {duration(active / 1e9)}"
    elif info:
        age = seconds_since(stream.get("created"), now)
        if age is not None and age >= t.mirror_silent_after_s:
            return f"it has never heard from its source in {duration(age)}"
    return None


def analyze_links(
    stream: dict,
    edges: list[dict] | None = None,
    *,
    now: datetime,
    cluster_id: str | None = None,
    t: Thresholds = DEFAULT,
) -> list[Finding]:
    """``edges``: the replication map's edges whose target is this stream (may be empty)."""
    name = stream.get("config", {}).get("name")
    where = {"cluster_id": cluster_id, "stream": name}
    found = []
    for kind, config, info in _links(stream):
        source = config.get("name") or info.get("name") or "?"
        edge = _edge(edges or [], kind, source)
        label = f"Mirror {name}" if kind == "mirror" else f"Stream {name}'s source {source}"
        active = info.get("active")
        evidence: dict[str, Any] = {
            "kind": kind,
            "source_stream": source,
            "source_api": (config.get("external") or {}).get("api"),
            "lag": info.get("lag"),
            "error": info.get("error"),
            "active_s": round(active / 1e9, 1)
            if isinstance(active, (int, float)) and active >= 0
            else None,
        }
        if edge:
            evidence.update(
                {
                    k: edge.get(k)
                    for k in (
                        "status",
                        "lag_messages",
                        "lag_seconds",
                        "source_cluster_id",
                        "measured_at",
                    )
                }
            )
        why = _broken(kind, config, info, edge, stream, now, t)
        if why:
            found.append(
                Finding(
                    code="mirror_broken",
                    severity="critical",
                    title=f"{label} is broken",
                    summary=f"It copies nothing from {source}{_origin(config, edge)}: {why}.",
                    evidence=evidence,
                    suggestion=(
                        "Check that the source stream exists and that its cluster (or "
                        "domain) is reachable from this one; recreate the "
                        f"{kind} if the source was replaced."
                    ),
                    **where,
                )
            )
            continue
        lag = (
            edge.get("lag_messages")
            if edge and edge.get("lag_messages") is not None
            else number(info.get("lag"))
        )
        lag_s = (
            number(edge.get("lag_seconds"))
            if edge and edge.get("lag_seconds") is not None
            else None
        )
        critical = lag >= t.mirror_lag_messages_critical or (
            lag_s is not None and lag_s >= t.mirror_lag_seconds_critical
        )
        behind = lag >= t.mirror_lag_messages or (
            lag_s is not None and lag_s >= t.mirror_lag_seconds
        )
        if not behind:
            continue
        paused = bool(edge and edge.get("status") == "paused")
        found.append(
            Finding(
                code="mirror_behind",
                severity="critical" if critical else "warning",
                title=f"{label} is behind",
                summary=(
                    f"It lacks {count(lag)} messages of {source}{_origin(config, edge)}"
                    + (f", the oldest {duration(lag_s)} old" if lag_s else "")
                    + ("; its replication is paused." if paused else ".")
                ),
                evidence=evidence,
                suggestion=(
                    "Resume its replication: while paused the source's messages pile up."
                    if paused
                    else "Check the link between the clusters (bandwidth, leafnode) and the load "
                    "of both servers; a mirror catches up by itself once the link keeps up."
                ),
                **where,
            )
        )
    return found
