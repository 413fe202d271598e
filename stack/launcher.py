"""The local stack: :class:`Stack` (used by ``jsc up`` and by the tests) and ``run_foreground``.

``Stack.start()`` checks the data dir and every port first, then starts, in order: NATS hub, then
NATS dr, PostgreSQL, Redis and Temporal together (each skipped when ``JSC_*`` names an external
one), then bootstraps the database (``core.bootstrap.prepare``), then the API, the worker and the
UI, then the demo. It raises :class:`StackError` with a message for a person, having stopped
whatever it had started. ``stop()`` stops everything in reverse order.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from core.netpolicy import LOOPBACK, join_networks
from stack import demo as demo_mod
from stack import nats, ports, probes, services, state
from stack import postgres as pg
from stack import secrets as stack_secrets
from stack.errors import StackError
from stack.ports import HOST
from stack.status import summary
from stack.supervisor import Supervisor, enable_subreaper

# JSC_* variable that makes a backing service external (the launcher does not start it)
EXTERNAL = {
    "postgres": "JSC_DATABASE_URL",
    "redis": "JSC_REDIS_URL",
    "temporal": "JSC_TEMPORAL_ADDRESS",
    "hub": "JSC_HUB_URL",
    "dr": "JSC_DR_URL",
}
PORTS_OF = {
    "hub": ("hub", "hub_monitor", "hub_leaf"),
    "dr": ("dr", "dr_monitor"),
    "temporal": ("temporal", "temporal_http", "temporal_metrics"),
    "postgres": ("postgres",),
    "redis": ("redis",),
    "api": ("api",),
    "ui": ("ui",),
}


def settings_from(env: Mapping[str, str]):
    """A core Settings built from ``env`` (JSC_* variables) rather than from os.environ."""
    from core.settings import Settings

    values = {
        f: env[f"JSC_{f.upper()}"] for f in Settings.model_fields if f"JSC_{f.upper()}" in env
    }
    try:
        return Settings(**values)
    except ValidationError as e:
        wrong = "; ".join(f"JSC_{str(err['loc'][0]).upper()}: {err['msg']}" for err in e.errors())
        raise StackError(f"invalid configuration: {wrong}") from None


class Stack:
    def __init__(
        self,
        data_dir: Path | str,
        *,
        ui: bool = True,
        demo: bool = True,
        api_port: int | None = None,
        ui_port: int | None = None,
        auto_ports: bool = False,
        env_overrides: Mapping[str, str] | None = None,
        only: Iterable[str] | None = None,
        subreaper: bool = False,
    ):
        """``only`` limits the stack to a subset of services.ORDER (tests); the app part
        (bootstrap, API, worker, UI, demo) runs only when "api" is in it."""
        self.data_dir = Path(data_dir).absolute()
        self.environ = {**os.environ, **(env_overrides or {})}
        wanted = set(only if only is not None else services.ORDER)
        if not ui:
            wanted.discard("ui")
        if not demo:
            wanted.discard("demo")
        if "api" not in wanted:
            wanted -= set(services.APP)
        self.external = {
            name: self.environ[var] for name, var in EXTERNAL.items() if self.environ.get(var)
        }
        if ("hub" in self.external) != ("dr" in self.external):
            raise StackError(
                "set both JSC_HUB_URL and JSC_DR_URL (an external pair), or neither "
                "(the local hub and dr, linked by a leafnode)"
            )
        self.wanted = [n for n in services.ORDER if n in wanted and n not in self.external]
        self._explicit = {"api": api_port, "ui": ui_port}
        self._auto = auto_ports or ports.auto_ports_requested(self.environ)
        self._subreaper = subreaper
        self.ports: dict[str, int] = {}
        self.env: dict[str, str] = {}  # the JSC_* configuration given to every child
        self.info: dict = {}  # what stack.json holds
        self.admin_email: str | None = None
        self.admin_password: str | None = None  # known on a first start, or when given
        self._generated_password: str | None = None  # printed once by summary(), never logged
        self._lock_fd: int | None = None
        self._sup: Supervisor | None = None
        self._write_lock = threading.Lock()
        self._started_at = ""

    # -- URLs -------------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return self.env.get("JSC_API_URL", "")

    @property
    def ui_url(self) -> str | None:
        return f"http://{HOST}:{self.ports['ui']}" if "ui" in self.ports else None

    @property
    def settings(self):
        return settings_from({**self.environ, **self.env})

    # -- start ------------------------------------------------------------------------------
    def start(self) -> Stack:
        began = time.monotonic()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        self._lock_fd = state.lock(self.data_dir)
        try:
            for note in state.stale_notes(self.data_dir):
                print(f"jsc: {note}", file=sys.stderr)
            needed = [p for n in self.wanted for p in PORTS_OF.get(n, ())]
            self.ports = ports.resolve(
                needed, self._explicit, auto=self._auto, environ=self.environ
            )
            ports.check_free(self.ports)
            secrets = stack_secrets.load_or_create(self.data_dir)
            self.env = self._child_env(secrets)
            self._started_at = datetime.now(UTC).isoformat(timespec="seconds")
            self._sup = Supervisor(self.data_dir / "logs", on_change=self._write_state)
            self._write_state()
            self._start_backing(secrets)
            if "api" in self.wanted:
                self._start_app()
            self.info["ready_in_s"] = round(time.monotonic() - began, 1)
            self._write_state(state_="running")
            if self._subreaper:
                enable_subreaper()
                self._sup.reap_orphans = True
        except BaseException:
            self.stop()
            raise
        return self

    def _child_env(self, secrets: dict[str, str]) -> dict[str, str]:
        p, given = self.ports, self.environ
        env = {
            "JSC_DATA_DIR": str(self.data_dir),
            "JSC_ADMIN_EMAIL": self.settings.admin_email,
            "JSC_SECRET_KEY": given.get("JSC_SECRET_KEY") or secrets["secret_key"],
            "JSC_ENCRYPTION_KEY": given.get("JSC_ENCRYPTION_KEY") or secrets["encryption_key"],
        }
        if "postgres" in self.wanted:
            env["JSC_DATABASE_URL"] = pg.url(p["postgres"], secrets["postgres_password"])
        if "redis" in self.wanted:
            env["JSC_REDIS_URL"] = f"redis://{HOST}:{p['redis']}/0"
        if "temporal" in self.wanted:
            env["JSC_TEMPORAL_ADDRESS"] = f"{HOST}:{p['temporal']}"
        if "hub" in self.wanted:
            env["JSC_HUB_URL"] = f"nats://{HOST}:{p['hub']}"
            env["JSC_DR_URL"] = f"nats://{HOST}:{p['dr']}"
            # The console's own streams: hub's JSC account, as the jsc user (never a tenant's APP).
            env["JSC_INTERNAL_NATS_URL"] = given.get("JSC_INTERNAL_NATS_URL") or nats.internal_url(
                p, secrets["nats_jsc_password"]
            )
            # The local clusters listen on loopback: cluster URLs may point there too.
            env["JSC_ALLOWED_CLUSTER_NETWORKS"] = join_networks(
                given.get("JSC_ALLOWED_CLUSTER_NETWORKS"), LOOPBACK
            )
        if "api" in self.wanted:
            env.update(
                JSC_API_HOST=HOST,
                JSC_API_PORT=str(p["api"]),
                JSC_API_URL=f"http://{HOST}:{p['api']}",
            )
        if "ui" in self.wanted:
            env["JSC_UI_PORT"] = str(p["ui"])
            # links in mails (invitations, password resets) lead to this UI unless told otherwise
            env["JSC_PUBLIC_URL"] = given.get("JSC_PUBLIC_URL") or f"http://{HOST}:{p['ui']}"
        return {**{k: v for k, v in given.items() if k.startswith("JSC_")}, **env}

    def _start_backing(self, secrets: dict[str, str]) -> None:
        p, sup, first, rest = self.ports, self._sup, [], []
        if "hub" in self.wanted:
            moved = nats.adopt_global_streams(self.data_dir / "nats")
            if moved:
                print(
                    f"jsc: moved NATS streams of an older data dir into their accounts: "
                    f"{', '.join(moved)}",
                    file=sys.stderr,
                )
            confs = nats.write_configs(
                self.data_dir / "nats",
                p,
                secrets["nats_link_password"],
                secrets["nats_jsc_password"],
            )
            first.append(services.nats_server("hub", confs["hub"], p["hub_monitor"]))
            rest.append(services.nats_server("dr", confs["dr"], p["dr_monitor"], leaf=True))
        if "postgres" in self.wanted:
            with open(self.data_dir / "logs" / "postgres.log", "ab") as log:
                pgdata = pg.prepare(self.data_dir, secrets["postgres_password"], log)
            rest.append(services.postgres(pgdata, p["postgres"], secrets["postgres_password"]))
        if "redis" in self.wanted:
            rest.append(services.redis(p["redis"], self.data_dir))
        if "temporal" in self.wanted:
            rest.append(services.temporal(p, self.data_dir, self.settings.temporal_namespace))
        if first:
            sup.start(*first)
        if rest:
            sup.start(*rest)

    def _start_app(self) -> None:
        try:
            from core.bootstrap import prepare
        except ImportError as e:
            raise StackError(f"cannot bootstrap the database: {e}") from None
        settings = self.settings
        try:
            result = probes.run_async(lambda: prepare(settings))
        except StackError:
            raise
        except Exception as e:
            raise StackError(f"bootstrapping the database failed: {type(e).__name__}: {e}") from e
        self.admin_email = result.admin_email
        given = settings.admin_password.get_secret_value() if settings.admin_password else None
        self._generated_password = result.generated_password
        self.admin_password = result.generated_password or given
        child_env = {**self.environ, **self.env}
        apps = [services.api(self.ports["api"], child_env)]
        if "worker" in self.wanted:
            apps.append(services.worker(child_env))
        if "collector" in self.wanted:
            apps.append(services.collector(child_env))
        if "ui" in self.wanted:
            apps.append(services.ui(self.ports["ui"], child_env))
        self._sup.start(*apps)
        if "demo" in self.wanted:
            if self.admin_password:
                demo_mod.register(
                    self.api_url,
                    self.admin_email,
                    self.admin_password,
                    self.ports,
                    say=lambda m: print(f"jsc: {m}", file=sys.stderr),
                )
            self._sup.start(services.demo(child_env))

    # -- state ------------------------------------------------------------------------------
    def _write_state(self, state_: str | None = None) -> None:
        with self._write_lock:
            if state_:
                self.info["state"] = state_
            self.info.update(self._describe())
            state.write(self.data_dir, self.info)

    def _describe(self) -> dict:
        p, pids = self.ports, (self._sup.pids() if self._sup else {})
        s = self.settings
        svc: dict[str, dict] = {}
        if "api" in self.wanted:
            svc["api"] = {"url": self.api_url, "docs": f"{self.api_url}/docs"}
        if "worker" in self.wanted:
            svc["worker"] = {"task_queue": s.task_queue}
        if "collector" in self.wanted:
            svc["collector"] = {"interval_s": s.collect_interval_s, "orgs": s.collect_orgs or "all"}
        if "ui" in self.wanted:
            svc["ui"] = {"url": self.ui_url}
        if "demo" in self.wanted:
            svc["demo"] = {"publishes": "demo.orders.<region> on hub"}
        svc["temporal"] = {
            "address": self.env.get("JSC_TEMPORAL_ADDRESS"),
            "namespace": s.temporal_namespace,
        }
        if "temporal" in self.wanted:
            svc["temporal"]["http"] = f"http://{HOST}:{p['temporal_http']}"
        svc["postgres"] = {"url": state.redact(self.env.get("JSC_DATABASE_URL"))}
        svc["redis"] = {"url": state.redact(self.env.get("JSC_REDIS_URL"))}
        for name in ("hub", "dr"):
            svc[name] = {
                "url": state.redact(self.env.get(f"JSC_{name.upper()}_URL")),
                "domain": name,
            }
            if name in self.wanted:
                svc[name]["monitoring"] = f"http://{HOST}:{p[name + '_monitor']}"
        svc["clickhouse"] = {"mode": s.clickhouse_mode, "dsn": state.redact(s.clickhouse_dsn)}
        for name, entry in svc.items():
            if name in self.external:
                entry["external"] = True
            elif name in pids:
                entry["pid"] = pids[name]
        return {
            "data_dir": str(self.data_dir),
            "launcher": {"pid": os.getpid(), "started_at": self._started_at},
            "services": svc,
            "restarts": self.restarts,
            "logs": str(self.data_dir / "logs"),
        }

    def summary(self) -> str:
        """What ``jsc up`` prints on its terminal: a generated admin password appears here (once,
        at the first start) and nowhere else; one given in JSC_ADMIN_PASSWORD is not echoed."""
        return summary(self.info, self.admin_email, self._generated_password)

    # -- faults and control -----------------------------------------------------------------
    @property
    def restarts(self) -> dict[str, int]:
        return {n: c for n, c in self._sup.restarts().items() if c} if self._sup else {}

    def pid(self, name: str) -> int | None:
        return self._sup.pids().get(name) if self._sup else None

    @property
    def supervisor(self) -> Supervisor:
        if self._sup is None:
            raise StackError("the stack is not running")
        return self._sup

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Send ``sig`` to one service's process (a fault: the supervisor restarts it)."""
        return self.supervisor.kill(name, sig)

    def stop_service(self, name: str, sig: int | None = None) -> None:
        """Stop one service (with ``sig``, e.g. SIGKILL, for a crash); it stays stopped (not
        restarted) until ``start_service``."""
        self.supervisor.stop(name, sig)

    def start_service(self, name: str) -> None:
        """Start a service stopped by ``stop_service`` again, and wait until it is ready."""
        self.supervisor.start(self.supervisor.spec(name))

    # -- stop -------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop every process this stack started (reverse order), release the data dir."""
        if self._sup is not None:
            self._sup.stop_all()
            self._sup = None
        if self._lock_fd is not None:
            state.remove(self.data_dir)
            os.close(self._lock_fd)
            self._lock_fd = None


def run_foreground(
    data_dir: Path, ui: bool = True, demo: bool = True, api_port: int = 8000, ui_port: int = 8501
) -> int:
    """``jsc up``: start the stack, print where everything is, supervise it until Ctrl-C/SIGTERM."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    # Installed explicitly: a launcher started in the background inherits SIGINT ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    stack = None
    try:
        stack = Stack(
            data_dir, ui=ui, demo=demo, api_port=api_port, ui_port=ui_port, subreaper=True
        )
        print(f"jsc: starting the local stack in {stack.data_dir} ...", flush=True)
        stack.start()
        print(stack.summary(), flush=True)
        while True:
            time.sleep(3600)
    except StackError as e:
        print(f"jsc up: {e}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        if stack is None:
            return 130
    signal.signal(
        signal.SIGINT, lambda *_: print("jsc: stopping, please wait ...", file=sys.stderr)
    )
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("jsc: stopping every service ...", flush=True)
    stack.stop()
    print("jsc: stopped.", flush=True)
    return 0
