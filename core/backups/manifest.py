"""``<org_id>/<backup_id>/manifest.json`` at a backup's target: the backup as ``BackupOut`` (for
people, and for a disaster that took the database; a restore without the database is out of
scope)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from core.backups.keys import manifest_key
from core.backups.rows import BackupOut
from core.backups.target_access import opened


def manifest_bytes(out: BackupOut) -> bytes:
    return json.dumps(out.model_dump(mode="json"), indent=1, sort_keys=True).encode()


async def write_manifest(org_id: uuid.UUID | str, out: BackupOut, **access: Any) -> None:
    async with opened(out.target, org_id, **access) as target:
        await target.put(manifest_key(org_id, out.id), manifest_bytes(out))
