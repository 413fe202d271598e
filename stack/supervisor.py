"""Starts the stack's processes, restarts those that die, and stops them all without orphans.

Each child runs in its own process group (a Ctrl-C in the terminal reaches only the launcher, which
then stops everything in order) and is told by the kernel to stop when the launcher dies, even by
SIGKILL (``PR_SET_PDEATHSIG``). The kernel ties that to the *thread* that forked the child, so every
child is forked by one long-lived "spawner" thread. A process that dies is restarted with
exponential backoff (0.5 s doubling to 30 s, back to 0.5 s once it stayed up 10 s); each restart is
said on stderr with the exit code.
"""

from __future__ import annotations

import ctypes
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from stack.errors import StackError
from stack.services import Service

INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 30.0
STABLE_AFTER = 10.0  # seconds up after which a death is no longer part of a crash loop
GRACE = 1.0  # a service without a readiness probe is "up" when it still runs after this long
TICK = 0.2

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def enable_subreaper() -> None:
    """Orphaned grandchildren (e.g. a killed server's workers) become ours to reap, not init's."""
    _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"


def log_tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n".join("    " + line for line in text)


@dataclass
class _Proc:
    spec: Service
    log: Path
    popen: subprocess.Popen | None = None
    started: float = 0.0
    restarts: int = 0
    backoff: float = INITIAL_BACKOFF
    supervised: bool = False
    restart_at: float | None = None


class Supervisor:
    def __init__(
        self,
        logs_dir: Path,
        on_change: Callable[[], None] = lambda: None,
        say: Callable[[str], None] | None = None,
    ):
        self.logs_dir = logs_dir
        self.on_change = on_change
        self.say = say or (lambda msg: print(f"jsc: {msg}", file=sys.stderr, flush=True))
        self.reap_orphans = False  # only where every child of this process is ours (jsc up)
        self._procs: dict[str, _Proc] = {}
        self._lock = threading.RLock()
        self._spawner = ThreadPoolExecutor(1, thread_name_prefix="jsc-spawn")
        self._closing = threading.Event()
        self._monitor = threading.Thread(target=self._watch, name="jsc-supervisor", daemon=True)
        self._monitor.start()

    # -- starting ---------------------------------------------------------------------------
    def start(self, *specs: Service) -> None:
        """Start ``specs`` together, wait until each is ready, then supervise them.

        Raises StackError naming the service, with the tail of its log, if one exits or times
        out."""
        procs = []
        with self._lock:
            for spec in specs:
                proc = self._procs.get(spec.name)
                if proc and proc.popen and proc.popen.poll() is None:
                    raise StackError(f"{spec.name} is already running (pid {proc.popen.pid})")
                if proc is None:
                    proc = self._procs[spec.name] = _Proc(spec, self.logs_dir / f"{spec.name}.log")
                proc.spec, proc.supervised, proc.restart_at, proc.backoff = (
                    spec,
                    False,
                    None,
                    INITIAL_BACKOFF,
                )
                self._spawn(proc)
                procs.append(proc)
        self.on_change()
        for proc in procs:
            self._wait_ready(proc)
            with self._lock:
                proc.supervised = True

    def _spawn(self, proc: _Proc) -> None:
        spec = proc.spec
        sig = spec.stop_signal
        with open(proc.log, "ab") as log:
            started = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"=== {started} jsc: starting {shlex.join(spec.argv)}\n".encode())
            log.flush()
            try:
                proc.popen = self._spawner.submit(
                    subprocess.Popen,
                    spec.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=spec.env,
                    cwd=spec.cwd,
                    process_group=0,
                    preexec_fn=lambda: _libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0),
                    **spec.popen,
                ).result()
            except OSError as e:
                raise StackError(
                    f"{spec.name} could not be started ({spec.argv[0]}): {e}"
                ) from None
        proc.started = time.monotonic()

    def _wait_ready(self, proc: _Proc) -> None:
        spec = proc.spec
        deadline = proc.started + spec.timeout
        while True:
            code = proc.popen.poll()
            if code is not None:
                raise StackError(
                    f"{spec.name} exited with {describe_exit(code)} while starting; "
                    f"the end of {proc.log}:\n{log_tail(proc.log)}"
                )
            if spec.ready() if spec.ready else time.monotonic() - proc.started >= GRACE:
                return
            if time.monotonic() > deadline:
                why = f" ({spec.explain()})" if spec.explain else ""
                raise StackError(
                    f"{spec.name} did not become ready within {spec.timeout:g} s{why}; "
                    f"the end of {proc.log}:\n{log_tail(proc.log)}"
                )
            time.sleep(0.1)

    # -- watching ---------------------------------------------------------------------------
    def _watch(self) -> None:
        while not self._closing.wait(TICK):
            changed = False
            with self._lock:
                for proc in self._procs.values():
                    if proc.supervised and proc.popen is not None:
                        changed |= self._check(proc)
                if self.reap_orphans:
                    self._reap_orphans()
            if changed:
                self.on_change()

    def _check(self, proc: _Proc) -> bool:
        now = time.monotonic()
        name = proc.spec.name
        if proc.restart_at is None:
            code = proc.popen.poll()
            if code is None:
                return False
            uptime = now - proc.started
            if uptime >= STABLE_AFTER:
                proc.backoff = INITIAL_BACKOFF
            delay, proc.backoff = proc.backoff, min(proc.backoff * 2, MAX_BACKOFF)
            proc.restart_at = now + delay
            self._note(
                proc,
                f"{name} (pid {proc.popen.pid}) exited with {describe_exit(code)} after "
                f"{uptime:.1f} s; restarting in {delay:g} s",
            )
            return False
        if now < proc.restart_at:
            return False
        proc.restart_at = None
        try:
            self._spawn(proc)
        except StackError as e:
            delay, proc.backoff = proc.backoff, min(proc.backoff * 2, MAX_BACKOFF)
            proc.restart_at = now + delay
            self._note(proc, f"{e}; trying again in {delay:g} s")
            return False
        proc.restarts += 1
        self._note(proc, f"{name} restarted (pid {proc.popen.pid}, restart #{proc.restarts})")
        return True

    def _note(self, proc: _Proc, message: str) -> None:
        self.say(message)
        with open(proc.log, "a") as log:
            log.write(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} jsc: {message}\n")

    def _reap_orphans(self) -> None:
        """Reap zombie children that are not ours: orphans handed to us as subreaper."""
        mine = {p.popen.pid for p in self._procs.values() if p.popen is not None}
        me = os.getpid()
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in mine:
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] == "Z" and int(fields[1]) == me:
                try:
                    os.waitpid(int(entry), os.WNOHANG)
                except ChildProcessError:
                    pass

    # -- looking and acting -----------------------------------------------------------------
    def pids(self) -> dict[str, int]:
        with self._lock:
            return {
                n: p.popen.pid
                for n, p in self._procs.items()
                if p.popen is not None and p.popen.poll() is None
            }

    def restarts(self) -> dict[str, int]:
        with self._lock:
            return {n: p.restarts for n, p in self._procs.items()}

    def spec(self, name: str) -> Service:
        with self._lock:
            if name not in self._procs:
                raise StackError(f"no service named {name!r} (known: {', '.join(self._procs)})")
            return self._procs[name].spec

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Send ``sig`` to the service's process (not its group): a fault, the supervisor reacts."""
        with self._lock:
            popen = self._procs[name].popen
            if popen is None or popen.poll() is not None:
                raise StackError(f"{name} is not running")
            os.kill(popen.pid, sig)
            return popen.pid

    # -- stopping ---------------------------------------------------------------------------
    def stop(self, name: str, sig: int | None = None) -> None:
        """Stop one service and leave it stopped (no restart) until ``start`` is called again;
        ``sig`` (e.g. SIGKILL, a crash) instead of the service's own stop signal."""
        with self._lock:
            proc = self._procs.get(name)
            if proc is None:
                return
            proc.supervised, proc.restart_at = False, None
        if proc.popen is not None:
            _terminate(proc.popen, sig or proc.spec.stop_signal, proc.spec.stop_timeout)
        self.on_change()

    def stop_all(self) -> None:
        """Stop every process, in reverse order of start, then the supervisor's own threads."""
        with self._lock:
            procs = list(self._procs.values())
            for proc in procs:
                proc.supervised, proc.restart_at = False, None
        for proc in reversed(procs):
            if proc.popen is not None:
                _terminate(proc.popen, proc.spec.stop_signal, proc.spec.stop_timeout)
        self._closing.set()
        self._monitor.join()
        with self._lock:
            if self.reap_orphans:
                self._reap_orphans()
        self._spawner.shutdown()


def _terminate(popen: subprocess.Popen, sig: int, timeout: float) -> None:
    if popen.poll() is None:
        try:
            os.kill(popen.pid, sig)
            popen.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill_group(popen.pid)
        except ProcessLookupError:
            pass
    popen.wait()
    _kill_group(popen.pid)  # whatever the process left behind in its group


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
