"""A GitOps sync's change request (opened by the sync's activity, not the API's change gate) gets
the assistant's written risk summary too, once a model is configured: the activity owes the
summary's start in the transaction that opens the request, the API's outbox drainer starts it.
The model is played by the local Anthropic server (``fake_claude``)."""

from __future__ import annotations

from tests.ai.fake_anthropic import Text
from tests.approvals.setup import production_org
from tests.fixtures import unique
from tests.gitops.api_helpers import github_push, register_repo, wait_sync
from tests.waiting import wait_until


async def test_a_production_sync_request_gets_its_risk_summary(
    api, stack, git_remote, hub_nc, fake_claude
):
    prod = production_org(api, stack.env["JSC_HUB_URL"])
    stream = unique("GITRISK").upper().replace("-", "_")
    marker = unique("gitops-risk")
    fake_claude.script(stream, [Text(f"{marker}: one consumer added to {stream}.")])
    await hub_nc.jetstream().add_stream(name=stream, subjects=[f"{stream.lower()}.>"])
    try:
        repo = register_repo(prod, git_remote, env="production")
        git_remote.write(
            "environments/production/consumers.yaml",
            f"---\napiVersion: nats.io/v1\nkind: Consumer\nmetadata:\n  name: c1\n"
            f"spec:\n  streamName: {stream}\n  durableName: c1\n"
            f"  ackPolicy: explicit\n",
        )
        started = github_push(api, repo["id"], git_remote.commit("One consumer"))
        assert started.status_code == 202, started.text
        sync = wait_sync(prod, repo["id"], started.json()["sync_id"], "waiting_approval")
        request_id = sync["request_id"]
        summary = wait_until(
            lambda: prod.request(request_id)["risk_summary"], "the sync request's risk summary", 120
        )
        assert summary["text"].startswith(marker)
        sent = fake_claude.requests_matching(stream)
        assert len(sent) == 1 and "<untrusted_data" in sent[0].user_text
        rejected = prod.act(prod.admin, request_id, "reject", "not this one")
        assert rejected.status_code == 200, rejected.text
    finally:
        await hub_nc.jetstream().delete_stream(stream)
