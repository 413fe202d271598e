"""One diagnosis: read what a scope holds through the console's own API as the caller (so it sees
exactly what the person sees), run the analyzers, and answer a ``Diagnosis``: the findings, what
was checked and what could not be read.

Scopes: one consumer (``stream`` + ``consumer``); one stream and its consumers; one cluster (its
streams, their consumers, mirrors and the quotas of the teams with a namespace on it); nothing
given: every cluster the caller can list and every team's quotas. Without ``cluster_id`` a stream
is looked for in every cluster the caller can list.

Bounded: every stream one list answers gets the stream checks (no extra read), but consumers are
read for at most ``MAX_STREAMS`` streams per cluster, lag histories for the ``MAX_HISTORIES``
consumers with the most lag, and ``ai.reading`` caps the reads of one diagnosis, 4 at a time.

A refusal (403), something missing (404) or a service down (503) is a line of ``errors``; the one
exception is the scope itself: a cluster, stream or consumer the caller named and may not read, or
that does not exist for them, raises ``ScopeRefused`` with the API's status and words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import httpx

from ai.analyzers import Thresholds, analyze_consumer, analyze_links, analyze_quotas, analyze_stream
from ai.analyzers.consumers import filters_to_count
from ai.findings import Checked, Diagnosis, Finding
from ai.reading import BUDGET, Reader, segment
from core.quotas import owned_name

MAX_CLUSTERS = 10
MAX_STREAMS = 100  # streams of a cluster whose consumers are read
MAX_CONSUMERS = 100  # consumers of a stream
MAX_HISTORIES = 30
MAX_COUNTS = 30
MAX_TEAMS = 20
REFUSALS = (403, 404)

Target = tuple[str, dict[str, Any]]  # (cluster id, stream info)


class ScopeRefused(Exception):
    """The cluster, stream or consumer asked about cannot be read by the caller."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def _name(info: dict[str, Any]) -> str:
    return info.get("config", {}).get("name") or ""


class _Run:
    def __init__(self, reader: Reader, now: datetime, thresholds: Thresholds):
        self.read, self.now, self.t = reader, now, thresholds
        self.findings: list[Finding] = []
        self.checked: list[Checked] = []
        self.cluster_names: dict[str, str] = {}

    def result(self) -> Diagnosis:
        return Diagnosis(
            findings=self.findings, checked=self.checked, errors=list(self.read.errors)
        ).sorted()

    def cluster(self, cid: str) -> str:
        return f"cluster {self.cluster_names.get(cid, cid)}"

    # -- scope ---------------------------------------------------------------------------
    async def clusters(self, cluster_id: str | None) -> list[str]:
        if cluster_id:
            reply = await self.read.get(f"/api/v1/clusters/{segment(cluster_id)}")
            if reply.status in REFUSALS:
                raise ScopeRefused(reply.status, reply.detail)
            if not reply.ok:
                self.read.refused(f"cluster {cluster_id}", reply)
                return []
            self.cluster_names[cluster_id] = reply.body.get("name", cluster_id)
            return [cluster_id]
        reply = await self.read.get("/api/v1/clusters")
        if not reply.ok:
            self.read.refused("the clusters", reply)
            return []
        items = reply.body.get("items", [])
        if len(items) > MAX_CLUSTERS:
            self.read.note(
                f"only the first {MAX_CLUSTERS} of {len(items)} clusters were checked: "
                "ask about one cluster to check another"
            )
        for item in items[:MAX_CLUSTERS]:
            self.cluster_names[str(item["id"])] = item.get("name", str(item["id"]))
        return [str(item["id"]) for item in items[:MAX_CLUSTERS]]

    async def find_stream(self, cids: list[str], name: str, *, explicit: bool) -> list[Target]:
        replies = await asyncio.gather(
            *(self.read.get(f"/api/v1/clusters/{cid}/streams/{segment(name)}") for cid in cids)
        )
        found = [(cid, r.body) for cid, r in zip(cids, replies, strict=False) if r.ok]
        refused = [r for r in replies if r.status in REFUSALS]
        if explicit and refused:
            raise ScopeRefused(refused[0].status, refused[0].detail)
        for cid, reply in zip(cids, replies, strict=False):
            if not reply.ok and reply.status not in REFUSALS:
                self.read.refused(f"stream {name} on {self.cluster(cid)}", reply)
        if not found and not self.read.errors:
            forbidden = [r for r in refused if r.status == 403]
            if forbidden:
                raise ScopeRefused(403, forbidden[0].detail)
            raise ScopeRefused(404, f"No stream '{name}' in the clusters you can read.")
        return found

    async def list_streams(self, cid: str) -> list[Target]:
        reply = await self.read.get(f"/api/v1/clusters/{cid}/streams")
        if not reply.ok:
            self.read.refused(f"the streams of {self.cluster(cid)}", reply)
            return []
        self.checked.append(Checked(cluster_id=cid))
        return [(cid, info) for info in reply.body.get("items", [])]

    # -- streams, their consumers and links ----------------------------------------------
    async def streams(self, targets: list[Target]) -> None:
        for cid, info in targets:
            self.checked.append(Checked(cluster_id=cid, stream=_name(info)))
            self.findings += analyze_stream(info, now=self.now, cluster_id=cid, t=self.t)
        with_consumers = self._bounded_by_cluster(
            [
                (cid, info)
                for cid, info in targets
                if info.get("state", {}).get("consumer_count", 1) > 0
            ]
        )
        lists = await asyncio.gather(
            *(
                self.read.get(f"/api/v1/clusters/{cid}/streams/{segment(_name(info))}/consumers")
                for cid, info in with_consumers
            )
        )
        pairs = []
        for (cid, info), reply in zip(with_consumers, lists, strict=False):
            if not reply.ok:
                self.read.refused(f"the consumers of {_name(info)} on {self.cluster(cid)}", reply)
                continue
            items = reply.body.get("items", [])
            if len(items) > MAX_CONSUMERS:
                self.read.note(
                    f"only {MAX_CONSUMERS} of the {len(items)} consumers of "
                    f"{_name(info)} were checked"
                )
            pairs += [(cid, info, c) for c in items[:MAX_CONSUMERS]]
        await self.consumers(pairs)
        await self.links(targets)

    def _bounded_by_cluster(self, targets: list[Target]) -> list[Target]:
        kept: list[Target] = []
        per: dict[str, int] = {}
        for cid, info in sorted(targets, key=lambda t: (t[0], _name(t[1]))):
            per[cid] = per.get(cid, 0) + 1
            if per[cid] <= MAX_STREAMS:
                kept.append((cid, info))
        for cid, n in per.items():
            if n > MAX_STREAMS:
                self.read.note(
                    f"the consumers of only {MAX_STREAMS} of the {n} streams of "
                    f"{self.cluster(cid)} were checked: ask about one stream to check "
                    "its consumers"
                )
        return kept

    async def consumer_scope(self, targets: list[Target], name: str) -> None:
        replies = await asyncio.gather(
            *(
                self.read.get(
                    f"/api/v1/clusters/{cid}/streams/{segment(_name(info))}/consumers/{segment(name)}"
                )
                for cid, info in targets
            )
        )
        pairs = [
            (cid, info, r.body) for (cid, info), r in zip(targets, replies, strict=False) if r.ok
        ]
        refused = [r for r in replies if r.status in REFUSALS]
        if not pairs and refused:
            raise ScopeRefused(refused[0].status, refused[0].detail)
        for (cid, info), reply in zip(targets, replies, strict=False):
            if not reply.ok and reply.status not in REFUSALS:
                self.read.refused(f"consumer {name} of {_name(info)} on {self.cluster(cid)}", reply)
        await self.consumers(pairs)

    async def consumers(self, pairs: list[tuple[str, dict, dict]]) -> None:
        def lag(c: dict) -> int:
            return int(c.get("num_pending") or 0) + int(c.get("num_ack_pending") or 0)

        lagging = sorted((p for p in pairs if lag(p[2]) > 0), key=lambda p: -lag(p[2]))
        if len(lagging) > MAX_HISTORIES:
            self.read.note(
                f"lag histories were read for the {MAX_HISTORIES} consumers with the "
                f"most lag of {len(lagging)} with some"
            )
        histories = dict(
            zip(
                [(cid, _name(s), c["name"]) for cid, s, c in lagging[:MAX_HISTORIES]],
                await asyncio.gather(
                    *(
                        self.history(cid, _name(s), c["name"])
                        for cid, s, c in lagging[:MAX_HISTORIES]
                    )
                ),
                strict=False,
            )
        )
        wanted = list(
            dict.fromkeys(
                (cid, _name(s), f) for cid, s, c in pairs for f in filters_to_count(s, c, self.t)
            )
        )[:MAX_COUNTS]
        counts = dict(
            zip(wanted, await asyncio.gather(*(self.count(*w) for w in wanted)), strict=False)
        )
        for cid, stream, consumer in pairs:
            name = _name(stream)
            self.checked.append(Checked(cluster_id=cid, stream=name, consumer=consumer["name"]))
            mine = {
                f: counts[(cid, name, f)]
                for f in filters_to_count(stream, consumer, self.t)
                if counts.get((cid, name, f)) is not None
            }
            self.findings += analyze_consumer(
                stream,
                consumer,
                now=self.now,
                history=histories.get((cid, name, consumer["name"])),
                subject_counts=mine,
                cluster_id=cid,
                t=self.t,
            )

    async def history(self, cid: str, stream: str, consumer: str) -> dict | None:
        reply = await self.read.get(
            f"/api/v1/analytics/consumers/{segment(consumer)}/lag",
            cluster_id=cid,
            stream=stream,
            range=self.t.lag_window,
        )
        if not reply.ok:
            self.read.refused("lag history", reply)
            return None
        return reply.body

    async def count(self, cid: str, stream: str, subject: str) -> int | None:
        """Messages of ``stream`` on ``subject`` (the stream's subject counts)."""
        reply = await self.read.get(
            f"/api/v1/clusters/{cid}/streams/{segment(stream)}", subjects_filter=subject
        )
        if not reply.ok:
            self.read.refused(f"the subject counts of {stream}", reply)
            return None
        return sum((reply.body.get("state", {}).get("subjects") or {}).values())

    async def links(self, targets: list[Target]) -> None:
        linked = [
            (cid, info)
            for cid, info in targets
            if info.get("config", {}).get("mirror") or info.get("config", {}).get("sources")
        ]
        cids = list(dict.fromkeys(cid for cid, _ in linked))
        maps = await asyncio.gather(
            *(self.read.get("/api/v1/replication", cluster_id=cid) for cid in cids)
        )
        edges: dict[tuple[str, str], list[dict]] = {}
        for cid, reply in zip(cids, maps, strict=False):
            if not reply.ok:
                self.read.refused(f"the replication map of {self.cluster(cid)}", reply)
                continue
            names = {str(c.get("id")): c.get("name") for c in reply.body.get("clusters", [])}
            for edge in reply.body.get("edges", []):
                if str(edge.get("target_cluster_id")) == cid:
                    named = {
                        **edge,
                        "source_cluster_name": names.get(str(edge.get("source_cluster_id"))),
                    }
                    edges.setdefault((cid, edge.get("target_stream")), []).append(named)
        for cid, info in linked:
            self.findings += analyze_links(
                info, edges.get((cid, _name(info)), []), now=self.now, cluster_id=cid, t=self.t
            )

    # -- quotas --------------------------------------------------------------------------
    async def quotas(self, relevant: Callable[[dict], bool]) -> None:
        reply = await self.read.get("/api/v1/teams")
        if not reply.ok:
            self.read.refused("team quotas", reply)
            return
        teams = [t for t in reply.body.get("items", []) if relevant(t)]
        if len(teams) > MAX_TEAMS:
            self.read.note(f"the quotas of only {MAX_TEAMS} of {len(teams)} teams were checked")
        reports = await asyncio.gather(
            *(self.read.get(f"/api/v1/teams/{t['id']}/quotas") for t in teams[:MAX_TEAMS])
        )
        for team, report in zip(teams, reports, strict=False):
            if report.ok:
                self.findings += analyze_quotas(report.body, self.t)
            else:
                self.read.refused(f"the quotas of team {team.get('name')}", report)


def _on(namespaces: Iterable[dict], cids: set[str], stream: str | None = None) -> bool:
    return any(
        str(n.get("cluster_id")) in cids
        and (stream is None or owned_name(stream).startswith(n.get("prefix", "")))
        for n in namespaces
    )


async def diagnose(
    api: httpx.AsyncClient,
    *,
    cluster_id: str | None = None,
    stream: str | None = None,
    consumer: str | None = None,
    now: datetime | None = None,
    thresholds: Thresholds | None = None,
    budget: int = BUDGET,
) -> Diagnosis:
    """The diagnosis of a scope, read through ``api`` (the console's API as the caller)."""
    if consumer and not stream:
        raise ValueError("a consumer needs its stream")
    run = _Run(Reader(api, budget=budget), now or datetime.now(UTC), thresholds or Thresholds())
    cids = await run.clusters(str(cluster_id) if cluster_id else None)
    if stream:
        targets = await run.find_stream(cids, stream, explicit=cluster_id is not None)
        if consumer:
            await run.consumer_scope(targets, consumer)
        else:
            await run.streams(targets)
            found_on = {cid for cid, _ in targets}
            await run.quotas(lambda team: _on(team.get("namespaces", []), found_on, stream))
        return run.result()
    lists = await asyncio.gather(*(run.list_streams(cid) for cid in cids))
    await run.streams([target for listed in lists for target in listed])
    if cluster_id:
        await run.quotas(lambda team: _on(team.get("namespaces", []), set(cids)))
    else:
        await run.quotas(lambda team: True)
    return run.result()
