"""The whole stack: the session stack's stack.json and `jsc status`, faults the platform rides
through, and `jsc up` itself as a real process (with the demo) stopped by Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading

import httpx
import nats

from stack.launcher import Stack
from stack.ports import free_port
from tests.conftest import make_data_dir, remove_data_dir
from tests.stack.util import descendants, exists, running, wait_for

JSC = [sys.executable, "-m", "cli.main"]


def jsc_status(data_dir) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*JSC, "status", "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=60
    )


def test_stack_json_lists_every_service_without_a_secret(stack):
    text = (stack.data_dir / "stack.json").read_text()
    info = json.loads(text)
    started = {"api", "worker", "collector", "ui", "temporal", "postgres", "redis", "hub", "dr"}
    assert started | {"clickhouse"} <= set(info["services"])
    for name in started:
        assert running(info["services"][name]["pid"]), name
    assert info["launcher"]["pid"] == os.getpid() and info["launcher"]["started_at"]
    assert info["state"] == "running"
    assert info["services"]["api"]["url"] == stack.api_url
    assert info["services"]["ui"]["url"] == stack.ui_url
    assert info["services"]["hub"]["url"] == stack.env["JSC_HUB_URL"]
    assert info["services"]["hub"]["monitoring"].startswith("http://127.0.0.1:")
    assert info["services"]["postgres"]["url"].startswith("postgresql+asyncpg://jsc@127.0.0.1:")
    assert info["services"]["clickhouse"] == {
        "mode": "chdb",
        "dsn": f"chdb://{stack.data_dir}/clickhouse",
    }
    secrets = json.loads((stack.data_dir / "secrets.json").read_text())
    for secret in [*secrets.values(), stack.admin_password]:
        assert secret not in text


def test_jsc_status_probes_every_service(stack, tmp_path):
    done = jsc_status(stack.data_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    for label in (
        "API",
        "UI",
        "Worker",
        "Temporal",
        "PostgreSQL",
        "Redis",
        "NATS hub",
        "NATS dr",
        "ClickHouse",
    ):
        assert re.search(rf"^  {label} +(ok|up|running|embedded)", done.stdout, re.M), (
            label,
            done.stdout,
        )
    missing = jsc_status(tmp_path)
    assert missing.returncode != 0 and "no stack.json" in missing.stderr


def test_a_sigkilled_worker_is_restarted(stack):
    before = stack.restarts.get("worker", 0)
    old = stack.kill("worker", signal.SIGKILL)
    wait_for(lambda: stack.restarts.get("worker", 0) == before + 1, what="the worker's restart")
    new = stack.pid("worker")
    assert new and new != old and not exists(old)
    wait_for(
        lambda: (
            json.loads((stack.data_dir / "stack.json").read_text())["services"]["worker"].get("pid")
            == new
        ),
        what="stack.json to show the new pid",
    )


def test_a_stopped_redis_makes_readyz_name_it(stack, api):
    stack.stop_service("redis")
    try:
        response = api.get("/readyz")
        assert response.status_code == 503 and "redis" in response.text.lower()
    finally:
        stack.start_service("redis")
    wait_for(lambda: api.get("/readyz").status_code == 200, what="/readyz to recover")


def test_services_given_by_the_environment_are_used_not_started(stack):
    """JSC_DATABASE_URL & co name external services: a second API joins the session stack's."""
    given = {
        k: stack.env[k]
        for k in (
            "JSC_DATABASE_URL",
            "JSC_REDIS_URL",
            "JSC_TEMPORAL_ADDRESS",
            "JSC_HUB_URL",
            "JSC_DR_URL",
            "JSC_SECRET_KEY",
            "JSC_ENCRYPTION_KEY",
            "JSC_ADMIN_EMAIL",
            "JSC_ADMIN_PASSWORD",
            "JSC_INTERNAL_NATS_URL",
        )
    }
    data_dir = make_data_dir()
    other = Stack(data_dir, only=["api"], auto_ports=True, env_overrides=given)
    try:
        other.start()
        assert other.wanted == ["api"] and set(other.info["services"]) >= {
            "postgres",
            "redis",
            "hub",
            "dr",
        }
        for name in ("postgres", "redis", "temporal", "hub", "dr"):
            entry = other.info["services"][name]
            assert entry["external"] is True and "pid" not in entry
        assert (
            other.info["services"]["postgres"]["url"] == stack.info["services"]["postgres"]["url"]
        )
        with httpx.Client(base_url=other.api_url, timeout=30) as api:
            assert api.get("/readyz").status_code == 200
            login = api.post(
                "/api/v1/auth/login",
                json={"email": stack.admin_email, "password": stack.admin_password},
            )
            assert login.status_code == 200, login.text
    finally:
        other.stop()
        remove_data_dir(data_dir)


class Running:
    """`jsc up` in a subprocess, its output collected line by line."""

    def __init__(self, data_dir, api_port: int):
        env = {**os.environ, "JSC_STACK_AUTO_PORTS": "1"}
        env.pop("JSC_ADMIN_PASSWORD", None)
        self.proc = subprocess.Popen(
            [*JSC, "up", "--data-dir", str(data_dir), "--api-port", str(api_port), "--no-ui"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)


def test_jsc_up_runs_the_demo_and_stops_everything_on_ctrl_c():
    data_dir = make_data_dir()
    up = Running(data_dir, free_port())
    try:
        wait_for(
            lambda: "JetStream Console is up" in up.output or up.proc.poll() is not None,
            timeout=90,
            what="`jsc up` to be ready",
        )
        assert up.proc.poll() is None, up.output
        info = json.loads((data_dir / "stack.json").read_text())
        password = re.search(r"Admin +admin@example.com +password: (\S+)", up.output).group(1)
        assert jsc_status(data_dir).returncode == 0

        with httpx.Client(base_url=info["services"]["api"]["url"], timeout=30) as api:
            token = api.post(
                "/api/v1/auth/login", json={"email": "admin@example.com", "password": password}
            )
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            clusters = {
                c["name"]: c for c in api.get("/api/v1/clusters", headers=headers).json()["items"]
            }
            assert {"local-hub", "local-dr", "local-prod"} <= set(clusters)
            assert clusters["local-prod"]["environment"] == "production"
            assert clusters["local-hub"]["jetstream_domain"] == "hub"
            teams = {
                t["name"]: t for t in api.get("/api/v1/teams", headers=headers).json()["items"]
            }
            quotas = api.get(f"/api/v1/teams/{teams['payments']['id']}/quotas", headers=headers)
            assert {q["resource"]: q["limit"] for q in quotas.json()["items"]}["streams"] == 15

        async def demo_messages() -> int:
            nc = await nats.connect(info["services"]["hub"]["url"])
            try:
                return (await nc.jetstream().stream_info("demo-orders")).state.messages
            finally:
                await nc.close()

        wait_for(
            lambda: asyncio.run(demo_messages()) >= 3, timeout=20, what="demo orders to trickle in"
        )

        tree = descendants(up.proc.pid)
        assert {
            info["services"][n]["pid"] for n in ("api", "worker", "demo", "hub", "postgres")
        } <= tree
        assert not [pid for pid in tree if exists(pid) and not running(pid)], (
            "no zombies while running"
        )
        up.proc.send_signal(signal.SIGINT)
        assert up.proc.wait(60) == 0, up.output
        assert "jsc: stopped." in up.output
        assert not [pid for pid in tree if exists(pid)], "every process was stopped and reaped"
        assert not (data_dir / "stack.json").exists()
    finally:
        if up.proc.poll() is None:
            up.proc.kill()
            up.proc.wait()
        remove_data_dir(data_dir)


LAUNCHER = """
import json, sys, time
from stack.launcher import Stack
s = Stack(sys.argv[1], only=["hub", "dr", "postgres", "redis"], auto_ports=True).start()
print(json.dumps({n: e["pid"] for n, e in s.info["services"].items() if "pid" in e}), flush=True)
time.sleep(600)
"""


def test_children_stop_when_the_launcher_is_sigkilled():
    data_dir = make_data_dir()
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(data_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        pids = json.loads(launcher.stdout.readline())
        assert set(pids) == {"hub", "dr", "postgres", "redis"} and all(
            running(p) for p in pids.values()
        )
        launcher.kill()
        launcher.wait()
        wait_for(
            lambda: not any(running(p) for p in pids.values()),
            timeout=10,
            what="the children to stop after their launcher's death",
        )
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        remove_data_dir(data_dir)
