"""Where an export's chunks are kept: the backups' directory target (``core.backups.targets``),
``<backup root>/<organization id>/exports/<operation id>/<n:08d>``. The worker writes them, the API
reads them back for the download; a cancelled or failed export's chunks are removed."""

from __future__ import annotations

import uuid
from pathlib import Path

from core.backups.targets import DirectoryBackupTarget

DIRECTORY = "exports"


def export_store(backups_root: Path, org_id: uuid.UUID | str) -> DirectoryBackupTarget:
    return DirectoryBackupTarget.under(backups_root, org_id, DIRECTORY)


def chunk_key(operation_id: str, n: int) -> str:
    return f"{operation_id}/{n:08d}"


def export_prefix(operation_id: str) -> str:
    return f"{operation_id}/"
