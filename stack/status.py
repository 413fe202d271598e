"""What the console prints about a local stack: the summary when ``jsc up`` is ready, and
``jsc status`` (stack.json with each service's live health)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

from stack import probes, state

LABELS = {
    "api": "API",
    "ui": "UI",
    "worker": "Worker",
    "collector": "Collector",
    "temporal": "Temporal",
    "hub": "NATS hub",
    "dr": "NATS dr",
    "postgres": "PostgreSQL",
    "redis": "Redis",
    "clickhouse": "ClickHouse",
    "demo": "Demo",
}


def _line(name: str, s: dict) -> str:
    if name == "api":
        return f"{s['url']}   (docs {s['docs']})"
    if name == "worker":
        return f"Temporal task queue {s['task_queue']}"
    if name == "collector":
        return f"a pass every {s['interval_s']:g} s, clusters of {s['orgs']} organizations"
    if name == "temporal":
        http = f", HTTP {s['http']}" if s.get("http") else ""
        return f"{s['address']}   (namespace {s['namespace']}{http})"
    if name in ("hub", "dr"):
        monitoring = f"   monitoring {s['monitoring']}" if s.get("monitoring") else ""
        return f"{s['url']}{monitoring}   (JetStream domain {s['domain']})"
    if name == "clickhouse":
        return f"{s['mode']}: {s['dsn']}" + (
            "   (embedded, opened by the API only)" if s["mode"] == "chdb" else ""
        )
    if name == "demo":
        return f"publishes {s['publishes']}"
    if name == "postgres" and not s.get("external"):
        return f"{s['url']}   (password in secrets.json)"
    return str(s.get("url"))


def rows(info: dict) -> list[tuple[str, str]]:
    out = []
    for name, s in info.get("services", {}).items():
        text = _line(name, s)
        if s.get("external"):
            text += "   [external]"
        out.append((name, text))
    return out


def summary(info: dict, admin_email: str | None, admin_password: str | None) -> str:
    lines = [
        f"JetStream Console is up (ready in {info.get('ready_in_s', '?')} s). "
        "Ctrl-C stops everything."
    ]
    lines += [f"  {LABELS.get(n, n):<11} {text}" for n, text in rows(info)]
    lines.append(
        f"  {'Data':<11} {info['data_dir']}   (logs in {info['logs']}, secrets in secrets.json)"
    )
    if admin_email:
        if admin_password:
            lines.append(f"  {'Admin':<11} {admin_email}   password: {admin_password}")
        else:
            lines.append(
                f"  {'Admin':<11} {admin_email}   (password: JSC_ADMIN_PASSWORD, or the one "
                "printed at the first start)"
            )
    return "\n".join(lines)


def _host_port(address: str) -> tuple[str, int] | None:
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    return (parts.hostname, parts.port) if parts.hostname and parts.port else None


def health(name: str, s: dict) -> str:
    """A short live verdict on one service."""
    if name in ("worker", "collector", "demo"):
        return "running" if state.pid_alive(s.get("pid")) else "not running"
    if name == "clickhouse":
        return (
            "embedded (via the API)"
            if s["mode"] == "chdb"
            else _http(f"{s['dsn'].rstrip('/')}/ping")
        )
    if name == "api":
        return _http(f"{s['url']}/readyz")
    if name == "ui":
        return _http(f"{s['url']}/_stcore/health")
    if name in ("hub", "dr") and s.get("monitoring"):
        return _http(f"{s['monitoring']}/healthz")
    target = _host_port(s.get("address") or s.get("url") or "")
    if target is None:
        return "unknown"
    return "up (TCP)" if probes.tcp(target[1], target[0]) else "down"


def _http(url: str) -> str:
    code, body = probes.http_get(url, timeout=2)
    if code is None:
        return "down"
    if code == 200:
        return "ok"
    try:
        down = json.loads(body).get("unavailable")  # the API's /readyz names what is down
    except (ValueError, AttributeError):
        down = None
    return f"unhealthy (HTTP {code}" + (f": {', '.join(down)} down)" if down else ")")


def print_status(data_dir: Path) -> int:
    """``jsc status``: 0 when the launcher runs and every service is healthy, else 1."""
    data_dir = Path(data_dir).absolute()
    info = state.read(data_dir)
    if info is None:
        print(
            f"no local stack in {data_dir} (no {state.STACK_FILE}); start one with `jsc up`",
            file=sys.stderr,
        )
        return 1
    launcher = info.get("launcher", {})
    alive = state.pid_alive(launcher.get("pid"))
    print(
        f"local stack in {data_dir}: launcher pid {launcher.get('pid')} "
        f"{'running' if alive else 'NOT running (stale stack.json)'}, "
        f"started {launcher.get('started_at')}, "
        f"state {info.get('state', '?')}"
    )
    healthy = alive
    for name, text in rows(info):
        verdict = health(name, info["services"][name]) if alive else "-"
        healthy &= verdict.startswith(("ok", "up", "running", "embedded"))
        pid = info["services"][name].get("pid")
        print(
            f"  {LABELS.get(name, name):<11} {verdict:<24} {text}"
            + (f"   pid {pid}" if pid else "")
        )
    if info.get("restarts"):
        print("  restarts: " + ", ".join(f"{n} ×{c}" for n, c in info["restarts"].items()))
    return 0 if healthy else 1
