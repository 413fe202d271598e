"""Key-value stores and object stores of a cluster."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from ui.client.approvals import RequestSubmitted, submitted
from ui.client.base import BaseClient, _items, _key, _seg

Storage = Literal["file", "memory"]


class KvBucketSpec(TypedDict, total=False):
    bucket: str
    description: str
    history: int
    ttl: int
    max_value_size: int
    replicas: int
    storage: Storage


@dataclass(frozen=True)
class KvBucket:
    bucket: str
    description: str
    history: int
    ttl: int
    max_value_size: int
    max_bytes: int
    replicas: int
    storage: str
    values: int
    bytes: int
    keys: int
    created: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KvBucket:
        return cls(
            str(data["bucket"]),
            data.get("description") or "",
            int(data.get("history") or 1),
            int(data.get("ttl") or 0),
            int(data.get("max_value_size") if data.get("max_value_size") is not None else -1),
            int(data.get("max_bytes") if data.get("max_bytes") is not None else -1),
            int(data.get("replicas") or 1),
            str(data.get("storage") or ""),
            int(data.get("values") or 0),
            int(data.get("bytes") or 0),
            int(data.get("keys") or 0),
            data.get("created"),
        )


@dataclass(frozen=True)
class KvEntry:
    bucket: str
    key: str
    revision: int
    created: str | None
    operation: str
    value: Any
    encoding: str
    size: int
    truncated: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KvEntry:
        return cls(
            str(data.get("bucket") or ""),
            str(data.get("key") or ""),
            int(data.get("revision") or 0),
            data.get("created"),
            str(data.get("operation") or "PUT"),
            data.get("value"),
            str(data.get("encoding") or "text"),
            int(data.get("size") or 0),
            bool(data.get("truncated")),
        )


@dataclass(frozen=True)
class KeyList:
    items: list[str]
    truncated: bool


class ObjectStoreSpec(TypedDict, total=False):
    bucket: str
    description: str
    ttl: int
    max_bytes: int
    replicas: int
    storage: Storage


@dataclass(frozen=True)
class ObjectStore:
    bucket: str
    description: str
    ttl: int
    max_bytes: int
    replicas: int
    storage: str
    sealed: bool
    size: int
    created: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ObjectStore:
        return cls(
            str(data["bucket"]),
            data.get("description") or "",
            int(data.get("ttl") or 0),
            int(data.get("max_bytes") if data.get("max_bytes") is not None else -1),
            int(data.get("replicas") or 1),
            str(data.get("storage") or ""),
            bool(data.get("sealed")),
            int(data.get("size") or 0),
            data.get("created"),
        )


@dataclass(frozen=True)
class ObjectInfo:
    name: str
    size: int
    mtime: str | None
    digest: str | None
    chunks: int
    description: str
    headers: dict[str, list[str]]
    deleted: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ObjectInfo:
        headers = {
            str(k): list(v) if isinstance(v, (list, tuple)) else [str(v)]
            for k, v in (data.get("headers") or {}).items()
        }
        return cls(
            str(data.get("name") or ""),
            int(data.get("size") or 0),
            data.get("mtime"),
            data.get("digest"),
            int(data.get("chunks") or 0),
            data.get("description") or "",
            headers,
            bool(data.get("deleted")),
        )

    @property
    def content_type(self) -> str | None:
        values = self.headers.get("Content-Type") or []
        return values[0] if values else None


class StoresApi(BaseClient):
    # ---- key-value stores

    def list_kv_buckets(self, cluster_id: str) -> list[KvBucket]:
        return [KvBucket.from_json(b) for b in _items(self._request("GET", _kv_path(cluster_id)))]

    def create_kv_bucket(self, cluster_id: str, spec: KvBucketSpec) -> KvBucket | RequestSubmitted:
        """The bucket, or the request when policy sends it for approval (``202``)."""
        data = self._request("POST", _kv_path(cluster_id), json=dict(spec))
        return submitted(data) or KvBucket.from_json(data)

    def kv_bucket(self, cluster_id: str, bucket: str) -> KvBucket:
        return KvBucket.from_json(self._request("GET", _kv_path(cluster_id, bucket)))

    def delete_kv_bucket(self, cluster_id: str, bucket: str) -> RequestSubmitted | None:
        """None once deleted; the request when it waits for approval."""
        return submitted(self._request("DELETE", _kv_path(cluster_id, bucket)))

    def kv_keys(
        self, cluster_id: str, bucket: str, filter: str | None = None, limit: int = 1000
    ) -> KeyList:
        data = self._request(
            "GET", f"{_kv_path(cluster_id, bucket)}/keys", params={"filter": filter, "limit": limit}
        )
        return KeyList([str(k) for k in data.get("items") or []], bool(data.get("truncated")))

    def kv_get(self, cluster_id: str, bucket: str, key: str) -> KvEntry:
        return KvEntry.from_json(
            self._request("GET", f"{_kv_path(cluster_id, bucket)}/keys/{_key(key)}")
        )

    def kv_put(self, cluster_id: str, bucket: str, key: str, value: Any) -> int:
        """Store a value (a string as text, anything else as JSON); the new revision."""
        data = self._request(
            "PUT", f"{_kv_path(cluster_id, bucket)}/keys/{_key(key)}", json={"value": value}
        )
        return int(data["revision"])

    def kv_delete(self, cluster_id: str, bucket: str, key: str) -> None:
        self._request("DELETE", f"{_kv_path(cluster_id, bucket)}/keys/{_key(key)}")

    def kv_history(self, cluster_id: str, bucket: str, key: str) -> list[KvEntry]:
        data = self._request("GET", f"{_kv_path(cluster_id, bucket)}/history/{_key(key)}")
        return [KvEntry.from_json(e) for e in _items(data)]

    # ---- object stores

    def list_object_stores(self, cluster_id: str) -> list[ObjectStore]:
        return [
            ObjectStore.from_json(b)
            for b in _items(self._request("GET", _objects_path(cluster_id)))
        ]

    def create_object_store(
        self, cluster_id: str, spec: ObjectStoreSpec
    ) -> ObjectStore | RequestSubmitted:
        """The store, or the request when policy sends it for approval (``202``)."""
        data = self._request("POST", _objects_path(cluster_id), json=dict(spec))
        return submitted(data) or ObjectStore.from_json(data)

    def delete_object_store(self, cluster_id: str, bucket: str) -> RequestSubmitted | None:
        """None once deleted; the request when it waits for approval."""
        return submitted(self._request("DELETE", _objects_path(cluster_id, bucket)))

    def list_objects(self, cluster_id: str, bucket: str) -> list[ObjectInfo]:
        data = self._request("GET", f"{_objects_path(cluster_id, bucket)}/files")
        return [ObjectInfo.from_json(o) for o in _items(data)]

    def upload_object(
        self,
        cluster_id: str,
        bucket: str,
        name: str,
        data: bytes,
        *,
        content_type: str | None = None,
    ) -> ObjectInfo:
        headers = {"Content-Type": content_type or "application/octet-stream"}
        info = self._request(
            "PUT",
            f"{_objects_path(cluster_id, bucket)}/files/{_key(name)}",
            content=data,
            headers=headers,
        )
        return ObjectInfo.from_json(info or {"name": name, "size": len(data)})

    def download_object(self, cluster_id: str, bucket: str, name: str) -> bytes:
        return self._request(
            "GET", f"{_objects_path(cluster_id, bucket)}/files/{_key(name)}", raw=True
        )

    def delete_object(self, cluster_id: str, bucket: str, name: str) -> None:
        self._request("DELETE", f"{_objects_path(cluster_id, bucket)}/files/{_key(name)}")


def _kv_path(cluster_id: str, bucket: str | None = None) -> str:
    base = f"/clusters/{_seg(cluster_id)}/kv"
    return base if bucket is None else f"{base}/{_seg(bucket)}"


def _objects_path(cluster_id: str, bucket: str | None = None) -> str:
    base = f"/clusters/{_seg(cluster_id)}/objects"
    return base if bucket is None else f"{base}/{_seg(bucket)}"
