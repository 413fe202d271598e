"""Where the CLI keeps the API's address and the session's tokens, and how it finds them.

The credentials file is ``$JSC_CONFIG`` or ``~/.config/jsc/credentials.json``, written with mode
0600 (its folder 0700) and replaced atomically. ``JSC_API_URL`` overrides the stored URL and
``JSC_API_KEY`` replaces the stored session: an API key is sent as ``X-API-Key`` and never stored.
Stored tokens are only sent to the URL they were issued by.

A refresh token is single-use, and using one twice revokes the whole session; two ``jsc`` processes
refreshing at once must therefore not both spend it. ``refresh_lock`` serialises refreshes between
processes (an ``flock`` beside the file), and whoever gets the lock second finds the tokens already
rotated in the file and uses those.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8000"


def config_path() -> Path:
    configured = os.environ.get("JSC_CONFIG", "").strip()
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME", "").strip() or Path.home() / ".config"
    return Path(base) / "jsc" / "credentials.json"


def normalize_url(url: str) -> str:
    """``host:8000/`` or ``http://host:8000/api/v1`` -> ``http://host:8000``."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = f"http://{url}"
    return url.removesuffix("/api/v1").rstrip("/")


@dataclass
class Credentials:
    url: str = DEFAULT_URL
    email: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    expires_at: float | None = None  # epoch seconds, informational
    extra: dict = field(default_factory=dict)  # unknown keys of a newer CLI, kept on rewrite

    @property
    def signed_in(self) -> bool:
        return bool(self.access_token)

    def to_json(self) -> dict:
        data = asdict(self)
        extra = data.pop("extra")
        return {**extra, **data}

    @classmethod
    def from_json(cls, data: dict) -> Credentials:
        known = {
            k: data[k]
            for k in ("url", "email", "access_token", "refresh_token", "expires_at")
            if k in data
        }
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(**known, extra=extra)


class ConfigError(Exception):
    """The credentials file cannot be read or written; the message says which and why."""


def load(path: Path | None = None) -> Credentials:
    path = path or config_path()
    try:
        text = path.read_text()
    except FileNotFoundError:
        return Credentials()
    except OSError as exc:
        raise ConfigError(f"Cannot read the credentials file {path}: {exc.strerror}.") from None
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError
    except ValueError:
        raise ConfigError(
            f"The credentials file {path} is not valid JSON; remove it and run `jsc login` again."
        ) from None
    return Credentials.from_json(data)


def save(creds: Credentials, path: Path | None = None) -> Path:
    """Write atomically with mode 0600 (a half-written file never replaces a good one)."""
    path = path or config_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".credentials-", dir=path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(creds.to_json(), out, indent=2)
                out.write("\n")
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        os.chmod(path, 0o600)
    except OSError as exc:
        raise ConfigError(f"Cannot write the credentials file {path}: {exc.strerror}.") from None
    return path


@contextlib.contextmanager
def refresh_lock(path: Path | None = None) -> Iterator[None]:
    """Hold an exclusive lock shared by every ``jsc`` process using this credentials file."""
    path = path or config_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(f"{path}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    except OSError:  # a read-only place: refresh without the lock rather than not at all
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def api_url(creds: Credentials) -> str:
    """The API to talk to: JSC_API_URL, else the one signed in to, else the local default."""
    env = os.environ.get("JSC_API_URL", "").strip()
    return normalize_url(env) if env else normalize_url(creds.url or DEFAULT_URL)


def api_key() -> str | None:
    return os.environ.get("JSC_API_KEY", "").strip() or None
