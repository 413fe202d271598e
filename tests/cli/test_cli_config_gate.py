"""jsc config on a production cluster of an organization of its own: ``apply`` goes through the
API's normal routes, so what policy holds back waits for approval (the command says so and NATS
is unchanged, checked with nats-py), the exported environment is the cluster's, and another
organization's admin can neither export nor apply to that cluster."""

from __future__ import annotations

import json

import pytest

from tests.approvals.setup import consumer_exists, production_org
from tests.cli.conftest import fails, signed_in, unique


@pytest.fixture
async def prod(api, stack, hub_nc, tmp_path):
    org = production_org(api, stack.env["JSC_HUB_URL"])
    org.stream = unique("CFGPROD").upper().replace("-", "_")
    js = hub_nc.jetstream()
    await js.add_stream(name=org.stream, subjects=[f"{org.stream.lower()}.>"])
    org.as_admin = signed_in(
        stack.api_url, tmp_path / "prod" / "credentials.json", org.admin.email, org.admin.password
    )
    yield org
    await js.delete_stream(org.stream)


async def test_apply_to_production_waits_for_approval(prod, hub_nc, tmp_path):
    cid = prod.cluster_id
    out = prod.as_admin.ok(
        "config", "export", "-c", cid, "--out", str(tmp_path), "--stream-prefix", prod.stream
    ).stdout
    exported = tmp_path / "environments" / "production" / f"{prod.stream}.yaml"
    assert str(exported) in out.replace("\n", "")  # the cluster's environment names the folder
    (exported.parent / "audit.yaml").write_text(
        "apiVersion: jetstream.nats.io/v1beta2\nkind: Consumer\nmetadata:\n  name: audit\n"
        f"spec:\n  streamName: {prod.stream}\n  durableName: audit\n  ackPolicy: explicit\n"
    )
    applied = json.loads(
        prod.as_admin.ok("config", "apply", str(tmp_path), "-c", cid, "--json").stdout
    )
    assert [r["status"] for r in applied["results"]] == ["waiting_approval"], applied
    assert applied["results"][0]["detail"].startswith("request ")
    assert not await consumer_exists(hub_nc, prod.stream, "audit")
    text = prod.as_admin.ok("config", "apply", str(tmp_path), "-c", cid).stdout
    assert "waiting_approval" in text and f"create consumer {prod.stream}/audit" in text


async def test_another_organization_cannot_read_or_change_the_cluster(prod, stack, api, tmp_path):
    other = production_org(api, stack.env["JSC_HUB_URL"])
    stranger = signed_in(
        stack.api_url,
        tmp_path / "other" / "credentials.json",
        other.admin.email,
        other.admin.password,
    )
    exported = stranger("config", "export", "-c", prod.cluster_id, "--out", str(tmp_path / "o"))
    fails(exported)
    assert not (tmp_path / "o" / "environments").exists()
    (tmp_path / "m" / "environments" / "production").mkdir(parents=True)
    (tmp_path / "m" / "environments" / "production" / "s.yaml").write_text(
        f"apiVersion: nats.io/v1\nkind: Stream\nmetadata:\n  name: {prod.stream}_X\nspec:\n"
        f'  subjects: ["{prod.stream.lower()}x.>"]\n'
    )
    fails(stranger("config", "apply", str(tmp_path / "m"), "-c", prod.cluster_id))
