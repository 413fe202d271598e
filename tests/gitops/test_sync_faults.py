"""A worker SIGKILLed in the middle of applying a sync: the apply is retried, skips what its
recorded results say is applied, applies the rest, and the record names every resource once."""

from __future__ import annotations

import uuid
from signal import SIGKILL

from sqlalchemy import select

from core.db.gitops_models import GitSync
from core.jetstream.api import JetStreamApi
from tests.approvals.setup import production_org
from tests.fixtures import unique
from tests.gitops.api_helpers import (
    consumer_item,
    github_push,
    register_repo,
    stream_manifest,
    wait_sync,
)
from tests.waiting import wait_until_async

STREAMS = 200  # and one consumer each: 400 resources, several seconds of applying


async def test_a_worker_killed_mid_apply_resumes_with_an_exact_record(
    api, stack, git_remote, hub_nc, db_sessions
):
    dev = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    prefix = unique("FAULT").upper().replace("-", "_")
    names = [f"{prefix}_{i:03d}" for i in range(STREAMS)]
    repo = register_repo(dev, git_remote)
    for name in names:
        git_remote.write(
            f"environments/dev/{name}.yaml",
            stream_manifest(name, consumers=consumer_item("w", f"{name.lower()}.x")),
        )
    started = github_push(dev.api, repo["id"], git_remote.commit("many"))
    assert started.status_code == 202, started.text
    sync_id = started.json()["sync_id"]

    async def some_applied():
        async with db_sessions() as db:
            results = await db.scalar(
                select(GitSync.results).where(GitSync.id == uuid.UUID(sync_id))
            )
        return 0 < len(results or []) < 2 * STREAMS

    await wait_until_async(some_applied, "the apply to be under way", every=0.02)
    stack.stop_service("worker", SIGKILL)
    stack.start_service("worker")

    sync = wait_sync(
        dev, repo["id"], sync_id, "succeeded", "failed", "partially_applied", timeout=600
    )
    assert sync["status"] == "succeeded", (sync["status"], sync["error"])
    resources = [r["resource"] for r in sync["results"]]
    assert sorted(resources) == sorted(
        [f"stream {n}" for n in names] + [f"consumer {n}/w" for n in names]
    )
    assert all(r["status"] == "applied" for r in sync["results"])
    js = JetStreamApi(hub_nc, timeout=30)
    for name in names:
        assert (await js.consumer_info(name, "w"))["name"] == "w"
        await js.stream_delete(name)
