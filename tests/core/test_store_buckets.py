"""KV buckets and object stores share one piece (``core.jetstream.buckets``,
``api.store_buckets``): each kind still configures its stream as the Go client does, reads its
status from its own stream, and the API keeps each kind's bucket routes under their own names and
permissions. Pure: no server is needed to build a stream config or the OpenAPI schema."""

from __future__ import annotations

import pytest

from api.app import create_app
from core.changes.execute import BUCKET_KINDS
from core.jetstream.buckets import BucketNotFound
from core.jetstream.kv import KV, KvBucket, KvBucketConfig, bucket_status
from core.jetstream.objects import OBJECT_STORES, ObjectStore, ObjectStoreConfig, store_status

MINUTE = 60 * 10**9


def test_a_kv_bucket_is_the_stream_the_go_client_makes():
    config = KvBucketConfig(
        bucket="config",
        history=5,
        ttl="1m",
        max_value_size=1024,
        description="flags",
        metadata={"team": "a"},
    )
    assert config.stream_config() == {
        "name": "KV_config",
        "subjects": ["$KV.config.>"],
        "retention": "limits",
        "max_msgs_per_subject": 5,
        "max_msgs": -1,
        "max_bytes": -1,
        "max_age": MINUTE,
        "max_msg_size": 1024,
        "max_consumers": -1,
        "storage": "file",
        "num_replicas": 1,
        "discard": "new",
        "duplicate_window": MINUTE,
        "allow_rollup_hdrs": True,
        "deny_delete": True,
        "deny_purge": False,
        "allow_direct": True,
        "compression": "none",
        "description": "flags",
        "metadata": {"team": "a"},
    }
    assert KvBucketConfig(bucket="b").stream_config()["duplicate_window"] == 2 * MINUTE


def test_an_object_store_is_the_stream_the_go_client_makes():
    config = ObjectStoreConfig(
        bucket="files", max_bytes=10, replicas=3, storage="memory", compression=True
    )
    assert config.stream_config() == {
        "name": "OBJ_files",
        "subjects": ["$O.files.C.>", "$O.files.M.>"],
        "retention": "limits",
        "max_age": 0,
        "max_bytes": 10,
        "storage": "memory",
        "num_replicas": 3,
        "discard": "new",
        "allow_rollup_hdrs": True,
        "allow_direct": True,
        "compression": "s2",
    }


def test_each_kind_reads_its_status_from_its_own_stream():
    kv_info = {
        "config": {
            "name": "KV_config",
            "max_msgs_per_subject": 5,
            "max_age": MINUTE,
            "max_msg_size": 1024,
            "num_replicas": 3,
            "storage": "file",
            "compression": "s2",
        },
        "state": {"messages": 7, "bytes": 99, "num_subjects": 4},
        "created": "t0",
    }
    assert bucket_status(kv_info) == {
        "bucket": "config",
        "description": None,
        "history": 5,
        "ttl": MINUTE,
        "max_value_size": 1024,
        "max_bytes": -1,
        "replicas": 3,
        "storage": "file",
        "compression": True,
        "metadata": {},
        "values": 7,
        "bytes": 99,
        "keys": 4,
        "created": "t0",
        "stream": "KV_config",
    }
    obj_info = {
        "config": {"name": "OBJ_files", "sealed": True, "metadata": {"a": "b"}},
        "state": {"bytes": 2048},
    }
    assert store_status(obj_info) == {
        "bucket": "files",
        "description": None,
        "ttl": 0,
        "max_bytes": -1,
        "replicas": 1,
        "storage": None,
        "compression": False,
        "sealed": True,
        "metadata": {"a": "b"},
        "size": 2048,
        "created": None,
        "stream": "OBJ_files",
    }


def test_the_change_kinds_map_to_their_bucket_kinds():
    assert BUCKET_KINDS == {"kv_bucket": KV, "object_store": OBJECT_STORES}
    assert (KV.store, KV.config, KV.stream_prefix) == (KvBucket, KvBucketConfig, "KV_")
    assert (OBJECT_STORES.store, OBJECT_STORES.config, OBJECT_STORES.stream_prefix) == (
        ObjectStore,
        ObjectStoreConfig,
        "OBJ_",
    )
    assert issubclass(BucketNotFound, Exception)


@pytest.mark.parametrize(
    ("base", "singular", "plural", "resource"),
    [
        ("kv", "kv_bucket", "kv_buckets", "kv_stores"),
        ("objects", "object_store", "object_stores", "object_stores"),
    ],
)
def test_each_kind_keeps_its_bucket_routes_names_and_permissions(base, singular, plural, resource):
    paths = create_app().openapi()["paths"]
    listing, one = (
        f"/api/v1/clusters/{{cluster_id}}/{base}",
        f"/api/v1/clusters/{{cluster_id}}/{base}/{{bucket}}",
    )
    expected = {
        (listing, "get"): (f"list_{plural}", "read", {"200", "422"}),
        (listing, "post"): (f"create_{singular}", "create", {"201", "202", "422"}),
        (one, "get"): (f"read_{singular}", "read", {"200", "422"}),
        (one, "delete"): (f"delete_{singular}", "delete", {"202", "204", "422"}),
    }
    for (path, method), (name, action, statuses) in expected.items():
        op = paths[path][method]
        suffix = path.removeprefix("/").replace("/", "_").replace("{", "_").replace("}", "_")
        assert op["operationId"] == f"{name}_{suffix}_{method}"
        assert op["security"] == [
            {"HTTPBearer": [f"{resource}:{action}:*"]},
            {"APIKeyHeader": [f"{resource}:{action}:*"]},
        ]
        assert statuses <= set(op["responses"]), (path, method)
