"""``<org_id>/<backup_id>/manifest.json`` at a backup's target: the backup as ``BackupOut`` (for
people, and for a disaster that took the database; a restore without the database is out of
scope)."""

from __future__ import annotations

import json

from core.backups.rows import BackupOut


def manifest_bytes(out: BackupOut) -> bytes:
    return json.dumps(out.model_dump(mode="json"), indent=1, sort_keys=True).encode()


async def write_manifest(pool, cipher, settings, out: BackupOut) -> None:
    from core.backups import targets  # the engine's
    await targets.write_manifest(pool, cipher, settings, out, manifest_bytes(out))
