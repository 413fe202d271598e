"""Backup targets: a directory target never reads or writes outside JSC_BACKUP_DIR/<org> (``..``,
absolute paths, a symlink on the way, a symlinked key), writes atomically and lists, reads and
deletes by prefix; an object store target (on the stack's dr server) does the same, and a
missing chunk says which."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from core.backups.targets import (
    ChunkMissing,
    DirectoryBackupTarget,
    ObjectStoreBackupTarget,
    TargetRefused,
    open_target,
)
from tests.conftest import make_data_dir, remove_data_dir


@pytest.fixture
def root():
    path = make_data_dir("jsc-backup-root-")
    yield path
    remove_data_dir(path)


async def _round_trip(target) -> None:
    await target.put("o/b1/S/1/00000000", b"first")
    await target.put("o/b1/S/1/00000000", b"again")  # a retry overwrites
    await target.put("o/b1/S/1/00000001", b"x" * 300_000)
    await target.put("o/b2/S/1/00000000", b"other")
    assert await target.get("o/b1/S/1/00000000") == b"again"
    assert await target.get("o/b1/S/1/00000001") == b"x" * 300_000
    assert await target.keys("o/b1/") == ["o/b1/S/1/00000000", "o/b1/S/1/00000001"]
    with pytest.raises(ChunkMissing, match="o/b1/S/1/00000009"):
        await target.get("o/b1/S/1/00000009")
    assert await target.delete_prefix("o/b1/") == 2
    assert await target.keys("o/") == ["o/b2/S/1/00000000"]
    with pytest.raises(ChunkMissing):
        await target.get("o/b1/S/1/00000001")


async def test_directory_target_round_trip(root):
    org = uuid.uuid4()
    target = DirectoryBackupTarget.under(root, org, "nightly/orders")
    assert target.root == (root / str(org) / "nightly" / "orders").resolve()
    await _round_trip(target)
    assert not [p for p in target.root.rglob(".tmp-*")]  # temporary files renamed or removed


@pytest.mark.parametrize("directory", ["../elsewhere", "a/../../b", "/etc", "a/./b", "..", ""])
def test_directory_target_refuses_paths_outside(root, directory):
    with pytest.raises(TargetRefused):
        DirectoryBackupTarget.under(root, uuid.uuid4(), directory)


async def test_directory_target_refuses_symlinks_out(root):
    org = uuid.uuid4()
    outside = make_data_dir("jsc-outside-")
    try:
        (root / str(org)).mkdir(parents=True)
        os.symlink(outside, root / str(org) / "escape")
        with pytest.raises(TargetRefused, match="outside"):
            DirectoryBackupTarget.under(root, org, "escape")
        with pytest.raises(TargetRefused, match="outside"):
            DirectoryBackupTarget.under(root, org, "escape/deeper")
        target = DirectoryBackupTarget.under(root, org, "inside")
        os.symlink(outside, target.root / "link")
        with pytest.raises(TargetRefused):
            await target.put("link/chunk", b"data")
        (outside / "secret").write_bytes(b"secret")
        os.symlink(outside / "secret", target.root / "file-link")
        with pytest.raises(TargetRefused):
            await target.get("file-link")
        with pytest.raises(TargetRefused):
            await target.put("a/../../x", b"data")
        assert os.listdir(outside) == ["secret"]
        assert (outside / "secret").read_bytes() == b"secret"
    finally:
        remove_data_dir(outside)


async def test_open_target_builds_directories_under_the_org(root):
    org = uuid.uuid4()
    target = await open_target({"type": "directory", "directory": "d1"}, org, backups_root=root)
    assert isinstance(target, DirectoryBackupTarget)
    assert Path(target.root).parent == (root / str(org)).resolve()
    with pytest.raises(TargetRefused):
        await open_target({"type": "s3"}, org, backups_root=root)


async def test_object_store_target_round_trip(dr_js):
    bucket = f"jsc-test-{uuid.uuid4().hex[:8]}"
    target = await ObjectStoreBackupTarget.open(dr_js, bucket)  # created when missing
    try:
        assert (await dr_js.stream_info(f"OBJ_{bucket}"))["config"]["storage"] == "file"
        await _round_trip(target)
        again = await ObjectStoreBackupTarget.open(dr_js, bucket)
        assert await again.keys("") == ["o/b2/S/1/00000000"]
    finally:
        await dr_js.stream_delete(f"OBJ_{bucket}")
