"""Where backups are kept: a ``BackupTarget`` stores named chunks (at most a few MiB each).

- ``ObjectStoreBackupTarget``: a JetStream object store bucket on a registered cluster (created,
  file storage, when missing), written and read with ``core.jetstream.objects`` (the Go and
  Python clients' format: the console's object browser shows the backups too).
- ``DirectoryBackupTarget``: files under ``JSC_BACKUP_DIR/<org id>/<directory>``; nothing that
  resolves outside that root is read or written (``..``, absolute paths, symlinks), and a chunk
  is written to a temporary file, flushed, then renamed over its name.

Another kind (S3, ...) implements the same five methods and gets a branch in ``open_target``.
Keys are ``/``-separated relative names (``<org>/<backup>/<stream>/<attempt>/<n:08d>``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import shutil
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from pathlib import Path
from typing import Any

from core.jetstream.api import JetStreamApi, JetStreamError
from core.jetstream.buckets import BucketNotFound
from core.jetstream.objects import (
    DIGEST_PREFIX,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreConfig,
    chunk_subject,
    create_store,
    meta_subject,
)

PUT_CHUNK = 1024 * 1024  # object store message size (clamped below the server's max payload)

# an async callable giving the JetStreamApi of a cluster id
JetStreamConnect = Callable[[str], Awaitable[JetStreamApi]]


class ChunkMissing(Exception):
    """A chunk the database records is not at the target."""

    def __init__(self, key: str, where: str):
        super().__init__(f"chunk '{key}' is missing from {where}")
        self.key, self.where = key, where


class ChunkCorrupted(Exception):
    """A chunk's bytes are not the ones recorded when it was stored."""

    def __init__(self, message: str, *, key: str = "", expected: str = "", found: str = ""):
        super().__init__(message)
        self.key, self.expected, self.found = key, expected, found


class TargetRefused(ValueError):
    """A target that may not be used (a directory outside the backup root, ...)."""


class BackupTarget(ABC):
    description: str = "a backup target"

    @abstractmethod
    async def put(self, key: str, data: bytes) -> str:
        """Store ``data`` as ``key``, replacing what was there (a retry writes the same key);
        the SHA-256 (hex) of what was stored."""

    @abstractmethod
    async def get(self, key: str) -> bytes:
        """The bytes of ``key``; ChunkMissing when there are none. Callers check them against
        the SHA-256 recorded when they were stored."""

    @abstractmethod
    async def delete_prefix(self, prefix: str) -> int:
        """Remove every key starting with ``prefix``; how many were removed."""

    @abstractmethod
    async def keys(self, prefix: str = "") -> list[str]:
        """The keys starting with ``prefix``, sorted."""

    async def close(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Release what the target holds (connections belong to the pool: nothing by default)."""


def check_key(key: str) -> str:
    parts = key.split("/")
    if (
        not key
        or key.startswith("/")
        or any(p in ("", ".", "..") for p in parts)
        or "\x00" in key
        or "\\" in key
    ):
        raise TargetRefused(f"'{key}' is not a relative key")
    return key


# -- object store --------------------------------------------------------------------------------


class ObjectStoreBackupTarget(BackupTarget):
    def __init__(self, store: ObjectStore, where: str = "", chunk_size: int = PUT_CHUNK):
        self.store, self.chunk_size = store, chunk_size
        self.description = f"object store '{store.bucket}'" + (f" on {where}" if where else "")

    @classmethod
    async def open(
        cls,
        js: JetStreamApi,
        bucket: str,
        *,
        where: str = "",
        create: bool = True,
        chunk_size: int = PUT_CHUNK,
    ) -> ObjectStoreBackupTarget:
        """The bucket, created (file storage) when missing and ``create``."""
        try:
            store = await ObjectStore.open(js, bucket)
        except BucketNotFound:
            if not create:
                raise
            try:
                await create_store(
                    js,
                    ObjectStoreConfig(
                        bucket=bucket, storage="file", description="backups of JetStream Console"
                    ),
                )
            except JetStreamError as exc:
                if exc.err_code != 10058:  # created meanwhile by another backup
                    raise
            store = await ObjectStore.open(js, bucket)
        chunk_size = min(chunk_size, max(1024, js.nc.max_payload - 1024))
        return cls(store, where, chunk_size)

    async def put(self, key: str, data: bytes) -> str:
        async def source() -> AsyncIterator[bytes]:
            yield data

        info, _ = await self.store.put(check_key(key), source(), chunk_size=self.chunk_size)
        # the object's own digest is the SHA-256 of exactly these bytes: not computed twice
        return base64.urlsafe_b64decode(info["digest"].removeprefix(DIGEST_PREFIX)).hex()

    async def get(self, key: str) -> bytes:
        """The object's chunk messages joined (its digest is not recomputed here: the caller
        compares the bytes with the SHA-256 it recorded)."""
        try:
            info = await self.store.info(check_key(key))
        except ObjectNotFound:
            raise ChunkMissing(key, self.description) from None
        size = int(info.get("size") or 0)
        pieces, seen = [], 0
        subject = chunk_subject(self.store.bucket, info.get("nuid") or "")
        async with aclosing(self.store.reader.scan(1, subject, batch=16)) as found:
            async for msg in found:
                pieces.append(msg.data)
                seen += len(msg.data)
                if seen >= size:
                    break
        if seen != size:
            raise ChunkCorrupted(
                f"chunk '{key}' in {self.description} is damaged: {seen} "
                f"bytes found, its description says {size}",
                key=key,
            )
        return b"".join(pieces)

    async def keys(self, prefix: str = "") -> list[str]:
        infos, _ = await self.store.list(limit=10_000_000)
        return sorted(i["name"] for i in infos if str(i.get("name", "")).startswith(prefix))

    async def delete_prefix(self, prefix: str) -> int:
        removed = 0
        for key in await self.keys(prefix):
            try:
                info = await self.store.info(key)
            except ObjectNotFound:
                continue
            if info.get("nuid"):
                await self.store._purge_chunks(info["nuid"])
            # no deletion marker: the object's description goes too
            await self.store.js.stream_purge(
                self.store.stream, {"filter": meta_subject(self.store.bucket, key)}
            )
            removed += 1
        return removed


# -- directory -----------------------------------------------------------------------------------


class DirectoryBackupTarget(BackupTarget):
    def __init__(self, root: Path):
        self.root = root
        self.description = f"directory '{root}'"

    @classmethod
    def under(cls, base: Path, org_id: uuid.UUID | str, directory: str) -> DirectoryBackupTarget:
        """``base/<org_id>/<directory>``, created; TargetRefused when it is, or resolves (through
        a symlink), anywhere else."""
        if (
            not directory
            or directory.startswith("/")
            or "\\" in directory
            or "\x00" in directory
            or any(p in (".", "..") for p in directory.strip("/").split("/"))
        ):
            raise TargetRefused(
                f"the directory '{directory}' must be a relative path under the "
                "backup root, without '..'"
            )
        org_root = Path(base).absolute() / str(uuid.UUID(str(org_id)))
        org_root.mkdir(parents=True, exist_ok=True)
        real_org = org_root.resolve()
        root = org_root / directory.strip("/")
        if not _inside(root.resolve(), real_org):  # a symlink on the way points elsewhere
            raise TargetRefused(f"the directory '{directory}' resolves outside the backup root")
        root.mkdir(parents=True, exist_ok=True)
        real = root.resolve()
        if not _inside(real, real_org):
            raise TargetRefused(f"the directory '{directory}' resolves outside the backup root")
        return cls(real)

    def _path(self, key: str) -> Path:
        path = self.root / check_key(key)
        if not _inside(path.parent.resolve(), self.root) or path.is_symlink():
            raise TargetRefused(f"'{key}' resolves outside {self.description}")
        return path

    async def put(self, key: str, data: bytes) -> str:
        path = self._path(key)
        return await asyncio.to_thread(_write_atomically, path, data, self.root)

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(_read_no_follow, path)
        except FileNotFoundError:
            raise ChunkMissing(key, self.description) from None

    async def keys(self, prefix: str = "") -> list[str]:
        return await asyncio.to_thread(self._keys, prefix)

    def _keys(self, prefix: str) -> list[str]:
        found = []
        for dirpath, _dirnames, filenames in os.walk(self.root, followlinks=False):
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix) and not name.startswith(".tmp-"):
                    found.append(key)
        return sorted(found)

    async def delete_prefix(self, prefix: str) -> int:
        keys = await self.keys(prefix)

        def remove() -> int:
            removed = 0
            for key in keys:
                try:
                    os.unlink(self._path(key))
                    removed += 1
                except FileNotFoundError:
                    pass
            # empty directories the prefix named go too (a whole backup: "<org>/<backup>/")
            if prefix.endswith("/"):
                top = self.root / check_key(prefix.rstrip("/"))
                if top.is_dir() and not top.is_symlink() and _inside(top.resolve(), self.root):
                    shutil.rmtree(top, ignore_errors=True)
            return removed

        return await asyncio.to_thread(remove)


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _write_atomically(path: Path, data: bytes, root: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not _inside(path.parent.resolve(), root):
        raise TargetRefused(f"'{path}' resolves outside the backup directory")
    temp = path.parent / f".tmp-{path.name}-{uuid.uuid4().hex[:8]}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)
        return hashlib.sha256(data).hexdigest()
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise


def _read_no_follow(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


# -- a backup row's target -----------------------------------------------------------------------


def target_cluster_id(target: dict[str, Any]) -> str | None:
    """The cluster holding an object store target (None for a directory)."""
    return str(target["cluster_id"]) if target.get("type") == "object_store" else None


def describe_target(target: dict[str, Any]) -> str:
    if target.get("type") == "object_store":
        return f"object store '{target.get('bucket')}' on cluster {target.get('cluster_id')}"
    return f"directory '{target.get('directory')}'"


async def open_target(
    target: dict[str, Any],
    org_id: uuid.UUID | str,
    *,
    jetstream: JetStreamConnect | None = None,
    backups_root: Path | None = None,
    create: bool = True,
) -> BackupTarget:
    """The target a backup row's ``target`` names: ``{"type": "object_store", "cluster_id",
    "bucket"}`` (``jetstream``: an async callable giving the JetStreamApi of a cluster id, e.g.
    through the pool) or ``{"type": "directory", "directory"}`` (under ``backups_root``, by
    default the settings' ``JSC_BACKUP_DIR``)."""
    kind = target.get("type")
    if kind == "object_store":
        if jetstream is None:
            raise TargetRefused("an object store target needs a cluster connection")
        js = await jetstream(str(target["cluster_id"]))
        return await ObjectStoreBackupTarget.open(
            js,
            target.get("bucket") or "jsc-backups",
            where=f"cluster {target['cluster_id']}",
            create=create,
        )
    if kind == "directory":
        if backups_root is None:
            from core.settings import get_settings

            backups_root = get_settings().backups_root
        return DirectoryBackupTarget.under(backups_root, org_id, str(target.get("directory", "")))
    raise TargetRefused(f"unknown backup target type '{kind}'")
