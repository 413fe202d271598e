"""jsc config export|diff|apply: a cluster's configuration as manifests and back, through the API,
checked against the NATS server with nats-py."""

from __future__ import annotations

import json

from tests.cli.conftest import fails, unique


async def test_export_then_diff_and_apply(jsc, hub_cluster, hub_nc, tmp_path):
    js = hub_nc.jetstream()
    prefix = unique("CFG").upper().replace("-", "_")
    name = f"{prefix}_ORDERS"
    await js.add_stream(name=name, subjects=[f"{name.lower()}.>"], max_age=3600)
    await js.add_consumer(name, durable_name="worker", ack_policy="explicit", max_deliver=5)
    try:
        out = jsc.ok(
            "config",
            "export",
            "-c",
            "test-hub",
            "--out",
            str(tmp_path),
            "--env",
            "dev",
            "--stream-prefix",
            prefix,
        ).stdout
        path = tmp_path / "environments" / "dev" / f"{name}.yaml"
        assert str(path) in out.replace("\n", "")
        text = path.read_text()
        assert "apiVersion: nats.io/v1" in text and "maxAge: 1h" in text and "worker" in text
        assert "no changes" in jsc.ok("config", "diff", str(tmp_path), "-c", "test-hub").stdout

        # git asks for more per subject and a new consumer: the diff shows it, apply does it
        assert "maxMsgsPerSubject: -1" in text
        path.write_text(text.replace("maxMsgsPerSubject: -1", "maxMsgsPerSubject: 3"))
        (path.parent / "extra.yaml").write_text(
            "apiVersion: jetstream.nats.io/v1beta2\nkind: Consumer\nmetadata:\n  name: audit\n"
            f"spec:\n  streamName: {name}\n  durableName: audit\n  ackPolicy: explicit\n"
        )
        diff = jsc.ok("config", "diff", str(tmp_path), "-c", "test-hub").stdout
        assert f"~ update stream {name}" in diff and "max_msgs_per_subject: -1 -> 3" in diff
        assert f"+ create consumer {name}/audit" in diff
        dry = json.loads(
            jsc.ok("config", "apply", str(tmp_path), "-c", "test-hub", "--dry-run", "--json").stdout
        )
        assert dry["dry_run"] is True and len(dry["changes"]) == 2
        assert (await js.stream_info(name)).config.max_msgs_per_subject == -1
        applied = json.loads(
            jsc.ok("config", "apply", str(tmp_path), "-c", "test-hub", "--json").stdout
        )
        assert sorted(r["status"] for r in applied["results"]) == ["applied", "applied"]
        assert (await js.stream_info(name)).config.max_msgs_per_subject == 3
        assert (await js.consumer_info(name, "audit")).config.durable_name == "audit"

        # a broken manifest: its errors, path:line, and nothing compared
        (path.parent / "bad.yaml").write_text(
            "kind: Stream\napiVersion: nats.io/v1\nmetadata: {name: X}\nspec:\n  maxAge: soon\n"
        )
        broken = jsc("config", "diff", str(tmp_path), "-c", "test-hub")
        assert "environments/dev/bad.yaml:5" in fails(broken, "errors")
    finally:
        await js.delete_stream(name)
