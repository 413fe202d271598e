"""``jsc approval get`` prints the assistant's risk summary after the reasons and risk notes, with
the model that wrote it, once written (the model played by ``fake_claude``)."""

from __future__ import annotations

from tests.ai.fake_anthropic import Text
from tests.approvals.setup import production_org
from tests.cli.conftest import signed_in, unique
from tests.waiting import wait_until


async def test_approval_get_prints_the_risk_summary(api, stack, hub_nc, tmp_path, fake_claude):
    org = production_org(api, stack.env["JSC_HUB_URL"])
    stream = unique("CLIRISK").upper().replace("-", "_")
    words = f"{unique('cli-marker')}: a new consumer on a production stream."
    fake_claude.script(stream, [Text(words)])
    await hub_nc.jetstream().add_stream(name=stream, subjects=[f"{stream}.>"])
    try:
        asked = api.post(
            f"/api/v1/clusters/{org.cluster_id}/streams/{stream}/consumers",
            headers=org.admin.headers,
            json={"durable_name": "c1", "ack_policy": "explicit"},
        )
        assert asked.status_code == 202, asked.text
        request_id = asked.json()["request_id"]
        summary = wait_until(lambda: org.request(request_id)["risk_summary"], "the summary", 120)
        jsc = signed_in(
            stack.api_url, tmp_path / "credentials.json", org.admin.email, org.admin.password
        )
        out = jsc.ok("approval", "get", request_id).stdout
        assert f"Assistant's risk summary ({summary['model']}):\n  {words}\n" in out, out
        assert out.index("Reasons:") < out.index("Assistant's risk summary")
        assert org.act(org.admin, request_id, "withdraw").status_code == 200
    finally:
        await hub_nc.jetstream().delete_stream(stream)
