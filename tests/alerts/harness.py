"""The alert tests' harness: rules through the API, samples of a situation, an evaluation pass on
the real Temporal, and what came out (events, webhook deliveries, in-app notifications).

Samples come from the real collector (``tests.metrics.collecting.org_collector``: the
``core.collector`` code collecting this organization's clusters, as the stack's collector does
for its own) with ``collect()``; ``publish_sample`` publishes a made-up one (history with past
timestamps, for rate_anomaly) with ``LivePublisher``, the same way the collector does."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from core.alerts.events import EvaluationInput, EvaluationResult
from core.live.publisher import LivePublisher
from core.live.samples import StreamSample, sample_id
from core.live.subjects import stream_sample
from core.notify.webhooks import verify
from tests.fixtures import unique
from tests.metrics.collecting import org_collector
from tests.waiting import wait_until, wait_until_async


@dataclass
class Alerting:
    api: httpx.Client
    stack: Any
    headers: dict
    org_id: uuid.UUID
    cluster: dict
    receiver: Any
    webhook: dict
    live_nc: Any
    _temporal: Client | None = field(default=None, repr=False)

    # rules -----------------------------------------------------------------------------------
    def rule(self, **body) -> dict:
        body = {"name": unique("rule"), "cluster_id": self.cluster["id"], **body}
        reply = self.api.post("/api/v1/alerts/rules", headers=self.headers, json=body)
        assert reply.status_code == 201, reply.text
        return reply.json()

    def test(self, rule: dict) -> dict:
        reply = self.api.post(
            "/api/v1/alerts/test", headers=self.headers, json={"rule_id": rule["id"]}
        )
        assert reply.status_code == 200, reply.text
        return reply.json()

    # samples ---------------------------------------------------------------------------------
    async def collect(self, passes: int = 1) -> None:
        async with org_collector(self.stack.settings, self.org_id) as collector:
            for _ in range(passes):
                report = await collector.pass_once()
                assert self.cluster["id"] in collector.shares.held, report

    async def publish_sample(self, stream: str, at: datetime, **values) -> None:
        cid = uuid.UUID(self.cluster["id"])
        sample = StreamSample(
            id=sample_id(cid, "stream", stream, at),
            org_id=self.org_id,
            cluster_id=cid,
            stream=stream,
            timestamp=at,
            **{
                "messages": 0,
                "bytes": 0,
                "first_seq": 0,
                "last_seq": 0,
                "consumer_count": 0,
                **values,
            },
        )
        await LivePublisher(self.live_nc).publish(
            stream_sample(self.org_id, cid, stream), sample.model_dump_json(), str(sample.id)
        )

    async def until_measured(self, rule: dict, fires: bool, each=None, timeout: float = 90) -> dict:
        """Take samples (``each()``, by default a collection pass) until the rule, tested now,
        says it would fire (or would not, with known data)."""
        last: list[dict] = []

        async def check():
            await (each or self.collect)()
            last[:] = [self.test(rule)]
            return last[0] if last[0]["known"] and last[0]["would_fire"] is fires else None

        try:
            return await wait_until_async(
                check, f"{rule['kind']} measured as {'firing' if fires else 'ok'}", timeout, 0.5
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the last test said {last}") from None

    # evaluation ------------------------------------------------------------------------------
    async def temporal(self) -> Client:
        if self._temporal is None:
            s = self.stack.settings
            self._temporal = await Client.connect(
                s.temporal_address,
                namespace=s.temporal_namespace,
                data_converter=pydantic_data_converter,
            )
        return self._temporal

    async def evaluate(self, *rules: dict) -> EvaluationResult:
        client = await self.temporal()
        return await client.execute_workflow(
            "AlertEvaluationWorkflow",
            EvaluationInput(rule_ids=[r["id"] for r in rules]),
            id=unique("alerts-evaluate"),
            task_queue=self.stack.settings.task_queue,
            result_type=EvaluationResult,
        )

    async def transition(self, rule: dict, status: str, each=None) -> dict:
        """Sample (``each()``, by default a collection pass) and evaluate until the rule's
        event of ``status`` is recorded; answers the event."""

        async def check():
            await (each or self.collect)()
            await self.evaluate(rule)
            return self.events(rule_id=rule["id"], status=status)

        await wait_until_async(check, f"a {status} event of {rule['name']}", 90, every=0.5)
        return self.events(rule_id=rule["id"], status=status)[0]

    # outcomes --------------------------------------------------------------------------------
    def events(self, **filters) -> list[dict]:
        reply = self.api.get("/api/v1/alerts/events", headers=self.headers, params=filters)
        assert reply.status_code == 200, reply.text
        return reply.json()["items"]

    def deliveries(self, event_id: str) -> list[dict]:
        """The alert bodies the receiver got for the event, each signature checked."""
        secret = self.webhook["secret"]
        out = []
        for got in list(self.receiver.received):
            body = json.loads(got.body)
            if body.get("alert", {}).get("id") != event_id:
                continue
            assert got.headers["x-jsc-event"] == "alert"
            assert verify(
                secret, got.headers["x-jsc-timestamp"], got.body, got.headers["x-jsc-signature"]
            )
            out.append({**body, "delivery": got.headers["x-jsc-delivery"]})
        return out

    def delivered(self, event: dict) -> list[dict]:
        return wait_until(
            lambda: self.deliveries(event["id"]), f"the webhook delivery of {event['id']}", 60
        )

    def notified(self, event: dict) -> dict:
        def check():
            reply = self.api.get("/api/v1/notifications", headers=self.headers)
            assert reply.status_code == 200, reply.text
            return [n for n in reply.json()["items"] if n["id"] == event["id"]]

        note = wait_until(check, f"the in-app notification of {event['id']}", 60)[0]
        assert note["links"] == event["links"] and note["severity"] == event["severity"], note
        return note

    async def fires_and_resolves(
        self, rule: dict, *, breach, repair, during_breach=None, during_repair=None
    ) -> tuple[dict, dict]:
        """The whole story: the situation breaches, the rule fires (recorded, delivered to the
        webhook and in-app, once); repaired, it resolves (likewise). Answers both events."""
        await breach()
        await self.until_measured(rule, True, during_breach)
        firing = await self.transition(rule, "firing", during_breach)
        assert firing["kind"] == rule["kind"] and firing["rule_id"] == rule["id"], firing
        hooks = self.delivered(firing)
        assert len({h["delivery"] for h in hooks}) == 1, hooks  # one delivery (retries share it)
        assert hooks[0]["text"].startswith(":rotating_light:"), hooks[0]
        assert self.notified(firing)["event"] == "alert.firing"
        await repair()
        await self.until_measured(rule, False, during_repair)
        resolved = await self.transition(rule, "resolved", during_repair)
        assert resolved["transition"] == firing["transition"] + 1, (firing, resolved)
        assert self.delivered(resolved)[0]["alert"]["status"] == "resolved"
        assert self.notified(resolved)["event"] == "alert.resolved"
        return firing, resolved
