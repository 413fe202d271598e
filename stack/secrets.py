"""The secrets the local stack generates once and keeps in ``<data-dir>/secrets.json`` (mode 0600).

They are reused on every later start: the encryption key in particular must never change, or the
cluster credentials stored encrypted in Postgres could no longer be read.
"""

from __future__ import annotations

import base64
import json
import os
import secrets as _random
from pathlib import Path

FILE = "secrets.json"

GENERATORS = {
    "secret_key": lambda: _random.token_urlsafe(48),  # signs JWT access tokens
    "encryption_key": lambda: base64.b64encode(_random.token_bytes(32)).decode(),  # AES-256-GCM
    "postgres_password": lambda: _random.token_urlsafe(24),
    "nats_link_password": lambda: _random.token_urlsafe(24),  # dr's leafnode login to hub
    "nats_jsc_password": lambda: _random.token_urlsafe(
        24
    ),  # the console's own NATS user (JSC account)
}


def load_or_create(data_dir: Path) -> dict[str, str]:
    """The stack's secrets: those already in the file, plus any missing one, generated now."""
    path = data_dir / FILE
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = {name: make() for name, make in GENERATORS.items() if not stored.get(name)}
    if missing or not path.exists():
        stored.update(missing)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(stored, f, indent=2)
        os.replace(tmp, path)
    os.chmod(path, 0o600)
    return stored
