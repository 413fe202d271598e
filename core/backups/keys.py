"""Where a backup's pieces are kept at its target: ``<org_id>/<backup_id>/<stream>/<attempt>/<n>``
for chunks (``attempt`` counts the server snapshots taken of a full item), and
``<org_id>/<backup_id>/manifest.json``."""

from __future__ import annotations

import uuid


def chunk_key(org_id: str, backup_id: str, stream: str, attempt: int, n: int) -> str:
    return f"{org_id}/{backup_id}/{stream}/{attempt}/{n:08d}"


def attempt_prefix(org_id: str, backup_id: str, stream: str, attempt: int) -> str:
    return f"{org_id}/{backup_id}/{stream}/{attempt}/"


def backup_prefix(org_id: str, backup_id: str) -> str:
    return f"{org_id}/{backup_id}/"


def manifest_key(org_id: uuid.UUID | str, backup_id: uuid.UUID | str) -> str:
    return f"{org_id}/{backup_id}/manifest.json"
