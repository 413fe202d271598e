"""CLI test helpers. ``jsc`` runs the real command in-process (typer's CliRunner) against the API
of the session's ``stack``, with its own credentials file; ``cli_login`` is a credentials file
signed in as the admin once per session; ``signed_in`` is a jsc of another account.
``run_jsc_in_terminal`` runs the installed ``jsc`` script in a pseudo-terminal, to see the live
progress bar and answer prompts like a person."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

JSC = Path(sys.executable).parent / "jsc"
CLEAN_ENV = {
    "JSC_API_URL": None,
    "JSC_API_KEY": None,
    "JSC_CLUSTER": None,
    "JSC_PASSWORD": None,
    "JSC_DEBUG": None,
    "COLUMNS": "200",
}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Jsc:
    """``jsc(*args, input=None, **env)`` -> click Result, with this credentials file."""

    config: Path
    env: dict = field(default_factory=dict)

    def __call__(self, *args: str, input: str | bytes | None = None, **env: str | None):
        runner = CliRunner()
        result = runner.invoke(
            app,
            [str(a) for a in args],
            input=input,
            env={**CLEAN_ENV, "JSC_CONFIG": str(self.config), **self.env, **env},
            catch_exceptions=True,
        )
        if result.exception and not isinstance(result.exception, SystemExit):
            raise AssertionError(
                f"jsc {' '.join(map(str, args))} raised {result.exception!r}\n{result.output}"
            ) from result.exception
        return result

    def ok(self, *args: str, **kw):
        result = self(*args, **kw)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        return result


def fails(result, *sentences: str) -> str:
    """The command failed with exit 1 and these words on stderr, and no traceback anywhere."""
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr.startswith("Error: "), result.stderr
    for sentence in sentences:
        assert sentence in result.stderr, (sentence, result.stderr)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    return result.stderr


def signed_in(api_url: str, config: Path, email: str, password: str) -> Jsc:
    """A jsc with its own credentials file, signed in as this person (another organization's
    admin, a second approver, ...)."""
    jsc = Jsc(config)
    jsc.ok("login", "--url", api_url, "--email", email, "--password", password)
    return jsc


@pytest.fixture
def jsc_fresh(tmp_path) -> Jsc:
    """A jsc whose credentials file does not exist yet."""
    return Jsc(tmp_path / "jsc" / "credentials.json")


@pytest.fixture(scope="session")
def cli_login(stack, tmp_path_factory) -> Path:
    config = tmp_path_factory.mktemp("jsc-cli") / "credentials.json"
    Jsc(config).ok(
        "login",
        "--url",
        stack.api_url,
        "--email",
        stack.admin_email,
        "--password",
        stack.admin_password,
    )
    return config


@pytest.fixture
def jsc(cli_login) -> Jsc:
    return Jsc(cli_login)


# -- a real terminal ---------------------------------------------------------------------------


class Terminal:
    """The installed ``jsc`` under a pseudo-terminal: read its screen output, type, send Ctrl-C."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.master, slave = pty.openpty()
        full_env = {**os.environ, **{k: v for k, v in env.items() if v is not None}}
        for key, value in env.items():
            if value is None:
                full_env.pop(key, None)
        # Ctrl-C works as in a terminal even when the test run itself was started in the
        # background (a non-interactive shell starts background jobs with SIGINT ignored, and
        # Python then installs no KeyboardInterrupt handler).
        self.proc = subprocess.Popen(
            [str(JSC), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=full_env,
            close_fds=True,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        os.close(slave)
        self.raw = b""

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw.decode("utf-8", "replace"))

    def read(self, timeout: float = 0.2) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                self.raw += os.read(self.master, 65536)
            except OSError:  # the child closed the terminal
                pass

    def expect(self, pattern: str, timeout: float = 30.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            if match := re.search(pattern, self.text):
                return match
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} within {timeout}s; screen:\n{self.text}")
            self.read()

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def interrupt(self) -> None:
        os.kill(self.proc.pid, signal.SIGINT)

    def wait(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"jsc did not exit; screen:\n{self.text}")
            self.read(0.1)
        self.read(0.1)
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


@pytest.fixture
def terminal(cli_login):
    opened: list[Terminal] = []

    def start(*args: str, **env: str | None) -> Terminal:
        term = Terminal(
            [str(a) for a in args],
            {**CLEAN_ENV, "COLUMNS": "120", "JSC_CONFIG": str(cli_login), **env},
        )
        opened.append(term)
        return term

    yield start
    for term in opened:
        term.close()
