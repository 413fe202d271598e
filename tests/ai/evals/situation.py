"""Setting a case's situation up on a running console, and removing it afterwards.

Everything the console owns goes through its API as the admin (streams, consumers, mirrors,
teams, quotas, change requests), as a person would make it; what only a client of the cluster does
goes through NATS (publishing many messages, fetching without acknowledging, negative
acknowledgements). The people who ask are made through the API too: invited into the admin's
organization with their role, or an organization of their own (``other_org``).
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import nats
from nats.js import JetStreamContext

from core.operations import FINISHED
from tests.ai.evals.case import Case, Names, Publish, render
from tests.waiting import wait_until_async

PASSWORD = "eval-Pass-1234"
API = "/api/v1"


class SetupFailed(Exception):
    """The situation could not be set up (the case is scored as failed, with this reason)."""


def expect(reply: httpx.Response, *statuses: int) -> Any:
    if reply.status_code not in statuses:
        raise SetupFailed(
            f"{reply.request.method} {reply.request.url.path}: "
            f"{reply.status_code} {reply.text[:300]}"
        )
    return reply.json() if reply.content else None


# -- the people who ask ----------------------------------------------------------------------


@dataclass
class Person:
    role: str
    email: str
    headers: dict[str, str]


class People:
    """The admin, and one person per other role of the admin's organization (or of an
    organization of its own), made at first use and kept for the run."""

    def __init__(self, api: httpx.AsyncClient, admin: dict[str, str]):
        self.api, self.admin = api, admin
        self._made: dict[str, Person] = {}

    async def get(self, kind: str) -> Person:
        if kind == "admin":
            return Person("admin", "", self.admin)
        if kind not in self._made:
            self._made[kind] = await (
                self._stranger() if kind == "other_org" else self._invited(kind)
            )
        return self._made[kind]

    async def _invited(self, role: str) -> Person:
        email = f"eval-{role}-{uuid.uuid4().hex[:8]}@example.com"
        token = expect(
            await self.api.post(
                f"{API}/users/invite", headers=self.admin, json={"email": email, "role": role}
            ),
            201,
        )["token"]
        joined = expect(
            await self.api.post(
                f"{API}/auth/register", json={"token": token, "password": PASSWORD}
            ),
            201,
        )
        return Person(role, email, {"Authorization": f"Bearer {joined['access_token']}"})

    async def _stranger(self) -> Person:
        email = f"eval-stranger-{uuid.uuid4().hex[:8]}@example.com"
        joined = expect(
            await self.api.post(
                f"{API}/auth/register",
                json={
                    "email": email,
                    "password": PASSWORD,
                    "organization_name": f"eval-org-{uuid.uuid4().hex[:8]}",
                },
            ),
            201,
        )
        return Person(
            "admin of another organization",
            email,
            {"Authorization": f"Bearer {joined['access_token']}"},
        )


# -- the situation ---------------------------------------------------------------------------


def payload_of(publish: Publish, names: Names, n: int) -> bytes:
    value = render(publish.payload, {**names.values(), "n": str(n)})
    data = (value if isinstance(value, str) else json.dumps(value)).encode()
    if publish.size and len(data) < publish.size:
        data += b" " * (publish.size - len(data))
    return data


@dataclass
class Situation:
    """One case set up: ``build()``, then what it made (``streams``, their configs as set up),
    and ``remove()``. ``requests`` collects change requests to withdraw at the end, with the
    headers of the person who may withdraw them."""

    api: httpx.AsyncClient
    admin: dict[str, str]
    nats_url: str
    case: Case
    names: Names
    streams: list[str] = field(default_factory=list)
    configs: dict[str, dict] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    mirror_id: str | None = None

    @property
    def base(self) -> str:
        return f"{API}/clusters/{self.names.cluster_id}/streams"

    async def build(self) -> None:
        setup, names = self.case.setup, self.names
        nc = await nats.connect(self.nats_url)
        try:
            js = nc.jetstream()
            if setup.team:
                await self._team(js)
            if setup.mirror:
                await self._mirror(js)
            else:
                await self._stream(names.stream, [f"{names.subject}.>"], setup.stream)
            for consumer in setup.consumers:
                await self._post(
                    f"{self.base}/{names.stream}/consumers",
                    {"durable_name": consumer.name, **render(consumer.config, names)},
                )
            for publish in setup.publish:
                await self._publish(js, publish)
            if setup.fill:
                await self._fill(js)
            for pull in setup.pulls:
                await self._pull(js, pull.consumer, pull.count, pull.then, pull.rounds)
            if setup.lag_steps:
                await self._lag_steps(js)
            if setup.update_stream is not None:
                expect(
                    await self.api.patch(
                        f"{self.base}/{names.stream}",
                        headers=self.admin,
                        json=render(setup.update_stream, names),
                    ),
                    200,
                )
            if setup.mirror and setup.mirror.then:
                await self._mirror_then(js)
            if setup.change_request:
                await self._change_request()
            for audited in setup.audit:
                await self._audited(
                    render(audited.action, names), render(audited.resource_name, names)
                )
        finally:
            await nc.close()
        self.configs = {name: await self.config(name) for name in self.streams}

    async def config(self, stream: str) -> dict | None:
        reply = await self.api.get(f"{self.base}/{stream}", headers=self.admin)
        return reply.json()["config"] if reply.status_code == 200 else None

    async def remove(self) -> None:
        """Best effort: withdraw the requests, remove the mirror, the streams and the team."""
        for request_id, headers in self.requests:
            await self.api.post(
                f"{API}/approvals/{request_id}/withdraw",
                headers=headers,
                json={"comment": "evaluation case done"},
            )
        if self.mirror_id:
            await self.api.delete(f"{API}/mirrors/{self.mirror_id}", headers=self.admin)
        for stream in reversed(self.streams):
            await self.api.delete(f"{self.base}/{stream}", headers=self.admin)
        if self.names.team_id:
            await self.api.delete(f"{API}/teams/{self.names.team_id}", headers=self.admin)

    # -- pieces
    async def _post(self, path: str, body: dict) -> Any:
        return expect(await self.api.post(path, headers=self.admin, json=body), 201)

    async def _stream(self, name: str, subjects: list[str] | None, config: dict) -> None:
        body = {
            "name": name,
            "storage": "memory",
            **({"subjects": subjects} if subjects else {}),
            **render(config, self.names),
        }
        await self._post(self.base, body)
        self.streams.append(name)

    async def _publish(self, js: JetStreamContext, publish: Publish) -> None:
        subject = render(publish.subject, self.names)
        headers = render(publish.headers, self.names) or None
        for n in range(1, publish.count + 1):
            await js.publish(subject, payload_of(publish, self.names, n), headers=headers)

    async def _state(self, js: JetStreamContext, stream: str) -> Any:
        return (await js.stream_info(stream)).state

    async def _fill(self, js: JetStreamContext) -> None:
        fill, stream = self.case.setup.fill, self.names.stream
        limit = self.case.setup.stream[fill.of]
        target = math.ceil(limit * fill.percent / 100)
        one = Publish(count=1, subject=fill.subject, size=fill.size)

        def used(state: Any) -> int:
            return state.bytes if fill.of == "max_bytes" else state.messages

        await self._publish(js, one)
        each = max(1, used(await self._state(js, stream)))
        rest = max(0, target // each - 1)
        if rest:
            await self._publish(js, one.model_copy(update={"count": rest}))
        while used(await self._state(js, stream)) < target:
            await self._publish(js, one)

    async def _pull(
        self, js: JetStreamContext, consumer: str, count: int, then: str, rounds: int
    ) -> None:
        pull = await js.pull_subscribe_bind(durable=consumer, stream=self.names.stream)
        try:
            for round_ in range(rounds):
                fetched: list = []
                while len(fetched) < count:
                    fetched += await pull.fetch(count - len(fetched), timeout=10)
                action = then if round_ == rounds - 1 else "nak"
                for message in fetched:
                    if action == "ack":
                        await message.ack_sync()
                    elif action == "nak":
                        await message.nak()
        finally:
            await pull.unsubscribe()

    async def _lag_steps(self, js: JetStreamContext) -> None:
        """Each step waited for in a bucket of the history of its own (the history keeps one
        point per 5 s; two steps in one bucket would make fewer points)."""
        steps, total = self.case.setup.lag_steps, 0
        seen = len(await self._lag_points(steps.consumer))
        for _ in range(steps.steps):
            await self._publish(js, Publish(count=steps.count, subject=steps.subject))
            total += steps.count
            points = await wait_until_async(
                lambda lag=total, after=seen: self._lag_shown(steps.consumer, lag, after),
                f"the collector's sample of {steps.consumer} with lag {total}",
                timeout=180,
                every=0.5,
            )
            seen = len(points)

    async def _lag_points(self, consumer: str) -> list[dict]:
        reply = expect(
            await self.api.get(
                f"{API}/analytics/consumers/{consumer}/lag",
                headers=self.admin,
                params={
                    "cluster_id": self.names.cluster_id,
                    "stream": self.names.stream,
                    "range": "30m",
                },
            ),
            200,
        )
        return reply.get("lag") or []

    async def _lag_shown(self, consumer: str, lag: int, after: int) -> list[dict] | None:
        """The history once a new point shows ``lag``."""
        points = await self._lag_points(consumer)
        return points if len(points) > after and points[-1]["value"] == lag else None

    async def _mirror(self, js: JetStreamContext) -> None:
        mirror, names = self.case.setup.mirror, self.names
        await self._stream(names.source, [f"{names.subject}.>"], {})
        for publish in mirror.publish:
            await self._publish(js, publish)
        if mirror.via == "stream":
            await self._stream(
                names.stream, None, {**self.case.setup.stream, "mirror": {"name": names.source}}
            )
        else:
            started = expect(
                await self.api.post(
                    f"{API}/operations/mirror",
                    headers=self.admin,
                    json={
                        "source_cluster_id": names.cluster_id,
                        "source_stream": names.source,
                        "target_cluster_id": names.cluster_id,
                        "target_stream": names.stream,
                    },
                ),
                202,
            )
            self.mirror_id = started["mirror_id"]
            self.streams.append(names.stream)
            operation = await wait_until_async(
                lambda: self._finished(started["id"]), f"the mirror operation of {names.stream}"
            )
            if operation["status"] != "completed":
                raise SetupFailed(f"the mirror operation ended {operation['status']}")
        copied = sum(p.count for p in mirror.publish)
        await wait_until_async(
            lambda: self._holds(js, names.stream, copied),
            f"{names.stream} to copy its source's {copied} messages",
        )

    async def _finished(self, operation_id: str) -> dict | None:
        reply = expect(
            await self.api.get(f"{API}/operations/{operation_id}", headers=self.admin), 200
        )
        return reply if reply["status"] in FINISHED else None

    async def _holds(self, js: JetStreamContext, stream: str, count: int) -> bool:
        return (await self._state(js, stream)).messages >= count

    async def _mirror_then(self, js: JetStreamContext) -> None:
        mirror, names = self.case.setup.mirror, self.names
        if mirror.then == "delete_source":
            expect(await self.api.delete(f"{self.base}/{names.source}", headers=self.admin), 204)
            self.streams.remove(names.source)
        elif mirror.then == "pause":
            if not self.mirror_id:
                raise SetupFailed("only the console's mirror (via: operation) can be paused")
            expect(
                await self.api.post(f"{API}/mirrors/{self.mirror_id}/pause", headers=self.admin),
                200,
            )
        for publish in mirror.publish_after:
            await self._publish(js, publish)

    async def _team(self, js: JetStreamContext) -> None:
        team, names = self.case.setup.team, self.names
        made = await self._post(
            f"{API}/teams",
            {
                "name": names.team,
                "namespaces": [{"cluster_id": names.cluster_id, "prefix": names.stream}],
            },
        )
        names.team_id = str(made["id"])
        if team.quotas:
            expect(
                await self.api.put(
                    f"{API}/teams/{names.team_id}/quotas",
                    headers=self.admin,
                    json={"limits": team.quotas},
                ),
                200,
            )
        for i in range(1, team.streams + 1):
            await self._stream(f"{names.stream}_{i}", [f"{names.subject}x{i}.>"], {})

    async def _change_request(self) -> None:
        request, names = self.case.setup.change_request, self.names
        filed = expect(
            await self.api.post(
                f"{API}/ai/proposals",
                headers=self.admin,
                json={
                    "cluster_id": names.cluster_id,
                    "kind": "stream",
                    "operation": "update",
                    "stream": names.stream,
                    "config": render(request.config, names),
                    "reason": render(request.reason, names),
                },
            ),
            202,
        )
        self.requests.append((str(filed["request_id"]), self.admin))

    async def _audited(self, action: str, resource_name: str) -> None:
        async def found() -> bool:
            reply = expect(
                await self.api.get(
                    f"{API}/audit/logs",
                    headers=self.admin,
                    params={"limit": 200, "action": action, "resource_name": resource_name},
                ),
                200,
            )
            return any(
                e.get("action") == action and e.get("resource_name") == resource_name
                for e in reply["items"]
            )

        await wait_until_async(found, f"the audit record {action} of {resource_name}")
