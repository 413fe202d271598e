"""What KV buckets and object stores share: each is a stream named after its bucket
(``KV_<bucket>``, ``OBJ_<bucket>``), created with the settings the Go client gives it, listed by
its subjects, opened (``BucketNotFound`` when missing) and deleted alike.

``core.jetstream.kv`` and ``core.jetstream.objects`` each describe their kind with a ``BucketKind``
and a ``BucketConfig`` subclass, and add what only they do (keys and revisions; chunked objects).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from core.jetstream.api import JetStreamApi, JetStreamError
from core.jetstream.config import Duration

BUCKET_PATTERN = r"^[a-zA-Z0-9_-]+$"


class BucketNotFound(Exception):
    pass


class BucketConfig(BaseModel):
    """The settings every kind of bucket has; a kind adds its own and names its subjects."""

    model_config = ConfigDict(extra="forbid")
    bucket: str = Field(min_length=1, max_length=240, pattern=BUCKET_PATTERN)
    description: str | None = Field(default=None, max_length=4096)
    ttl: Duration = 0
    max_bytes: int = Field(default=-1, ge=-1)
    replicas: int = Field(default=1, ge=1, le=5)
    storage: Literal["file", "memory"] = "file"
    compression: bool = False
    metadata: dict[str, str] | None = None

    def bucket_stream(self, name: str, subjects: list[str], **settings: Any) -> dict[str, Any]:
        """The stream ``name`` of this bucket: the settings all kinds share, then ``settings``."""
        config: dict[str, Any] = {
            "name": name,
            "subjects": subjects,
            "retention": "limits",
            "max_age": self.ttl,
            "max_bytes": self.max_bytes,
            "storage": self.storage,
            "num_replicas": self.replicas,
            "discard": "new",
            "allow_rollup_hdrs": True,
            "allow_direct": True,
            "compression": "s2" if self.compression else "none",
            **settings,
        }
        if self.description:
            config["description"] = self.description
        if self.metadata:
            config["metadata"] = self.metadata
        return config

    def stream_config(self) -> dict[str, Any]:
        raise NotImplementedError


def common_status(info: dict[str, Any], stream_prefix: str, **fields: Any) -> dict[str, Any]:
    """A bucket's settings from its stream's info (and ``fields``, a kind's own)."""
    config = info["config"]
    return {
        "bucket": config["name"].removeprefix(stream_prefix),
        "description": config.get("description"),
        "ttl": config.get("max_age", 0),
        "max_bytes": config.get("max_bytes", -1),
        "replicas": config.get("num_replicas", 1),
        "storage": config.get("storage"),
        "compression": config.get("compression", "none") != "none",
        "metadata": config.get("metadata") or {},
        **fields,
        "created": info.get("created"),
        "stream": config["name"],
    }


class StreamBucket:
    """One bucket of a cluster, opened: its stream's name and info."""

    STREAM_PREFIX = ""

    def __init__(self, js: JetStreamApi, bucket: str, info: dict[str, Any]):
        self.js, self.bucket, self.stream_info = js, bucket, info
        self.stream = self.STREAM_PREFIX + bucket

    @classmethod
    async def open(cls, js: JetStreamApi, bucket: str) -> Self:
        try:
            info = await js.stream_info(cls.STREAM_PREFIX + bucket)
        except JetStreamError as exc:
            if exc.not_found:
                raise BucketNotFound(bucket) from None
            raise
        return cls(js, bucket, info)


@dataclass(frozen=True)
class BucketKind:
    """A kind of bucket: how its streams are named and found, and what its status says."""

    label: str  # "KV bucket", for sentences
    stream_prefix: str  # "KV_"
    subjects: str  # "$KV.>": what every such stream captures part of
    status: Callable[[dict[str, Any]], dict[str, Any]]
    config: type[BucketConfig]
    store: type[StreamBucket]

    async def list(self, js: JetStreamApi) -> list[dict[str, Any]]:
        streams = await js.stream_list(self.subjects)
        return sorted(
            (self.status(s) for s in streams if s["config"]["name"].startswith(self.stream_prefix)),
            key=lambda b: b["bucket"],
        )

    async def create(self, js: JetStreamApi, config: BucketConfig) -> dict[str, Any]:
        return self.status(await js.stream_create(config.stream_config()))

    async def delete(self, js: JetStreamApi, bucket: str) -> None:
        await js.stream_delete(self.stream_prefix + bucket)
