"""The launcher's files in the data dir: ``stack.json`` (what runs where) and the lock that keeps
two launchers off the same data dir."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from stack.errors import StackError

STACK_FILE = "stack.json"
LOCK_FILE = "launcher.lock"


def read(data_dir: Path) -> dict | None:
    try:
        return json.loads((data_dir / STACK_FILE).read_text())
    except FileNotFoundError:
        return None
    except ValueError:
        return {}


def write(data_dir: Path, info: dict) -> None:
    path = data_dir / STACK_FILE
    tmp = path.with_name(f".{STACK_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp, path)


def remove(data_dir: Path) -> None:
    (data_dir / STACK_FILE).unlink(missing_ok=True)


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def lock(data_dir: Path) -> int:
    """Take the data dir's launcher lock (held until the returned fd is closed), or refuse
    clearly."""
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        info = read(data_dir) or {}
        launcher = info.get("launcher", {})
        who = (
            f" (pid {launcher['pid']}, started {launcher.get('started_at', '?')})"
            if launcher.get("pid")
            else ""
        )
        raise StackError(
            f"a local stack is already running on {data_dir}{who}; stop it first "
            "(Ctrl-C in its terminal), or choose another --data-dir"
        ) from None
    return fd


def stale_notes(data_dir: Path) -> list[str]:
    """What a stack.json left by a launcher that did not stop cleanly says (call with the lock
    held)."""
    info = read(data_dir)
    if info is None:
        return []
    pid = info.get("launcher", {}).get("pid")
    notes = [
        f"{data_dir / STACK_FILE} is stale: its launcher (pid {pid}) is no longer running; "
        "starting afresh"
    ]
    for name, service in info.get("services", {}).items():
        if pid_alive(service.get("pid")):
            notes.append(
                f"process {service['pid']} ({name}) recorded there is still alive; "
                "if it is a leftover of that run, stop it"
            )
    return notes


def redact(url: str | None) -> str | None:
    """The URL without its password (stack.json and the console never show one)."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=user + host))
