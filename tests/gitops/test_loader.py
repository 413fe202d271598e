"""The GitOps loader: both manifest formats, validation, and hostile input (pure, no stack)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from gitops.loader import load_tree

DESIGN_STREAM = """\
apiVersion: nats.io/v1
kind: Stream
metadata:
  name: ORDERS
  namespace: payments
  labels:
    team: payments
spec:
  description: "Customer order events"
  subjects:
    - "orders.>"
  retention: limits
  storage: file
  maxBytes: 107374182400  # 100GB
  maxAge: 168h            # 7 days
  maxMsgSize: 8388608     # 8MB
  replicas: 3
  compression: s2
  discard: old
  duplicateWindow: 5m
  placement:
    tags:
      - ssd
  mirror: null
  sources: []
  schema:
    type: avro
    ref: schemas/order.avsc
  consumers:
    - name: order-processor
      durableName: order-processor
      deliverPolicy: all
      ackPolicy: explicit
      ackWait: 30s
      maxDeliver: 5
      maxAckPending: 1000
      filterSubject: "orders.created.>"
"""

# As NACK's deploy/examples write them (stream.yml, consumer_pull.yml, stream_servers.yml).
NACK_STREAM = """---
apiVersion: jetstream.nats.io/v1beta2
kind: Stream
metadata:
  name: mystream
spec:
  name: mystream
  subjects: ["orders.*"]
  storage: file
  maxAge: 1h
  replicas: 1"""
NACK_CONSUMER = """---
apiVersion: jetstream.nats.io/v1beta2
kind: Consumer
metadata:
  name: my-pull-consumer
spec:
  streamName: mystream
  durableName: my-pull-consumer
  deliverPolicy: all
  filterSubject: orders.received
  maxDeliver: 20
  ackPolicy: explicit
"""
NACK_SERVERS = """apiVersion: jetstream.nats.io/v1beta2
kind: Stream
metadata:
  name: mystream2-k8s
spec:
  name: mystream2
  servers:
  - nats://acme.org:4222
  tls:
    clientCert: /etc/certs/client/foo/client-cert.pem
    rootCas:
    - /etc/certs/ca/foo/ca-cert.pem
  creds: /etc/jsc-creds/my.creds
"""


def write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def by_name(result, env):
    return {(r.kind, r.name): r for r in result.resources_by_env.get(env, [])}


def test_design_format_with_inline_consumer(tmp_path):
    write(tmp_path, "environments/production/streams/orders.yaml", DESIGN_STREAM)
    result = load_tree(tmp_path)
    assert result.errors == []
    res = by_name(result, "production")
    stream = res[("stream", "ORDERS")]
    assert stream.config["num_replicas"] == 3
    assert stream.config["max_bytes"] == 107374182400
    assert stream.config["max_age"] == 168 * 3600 * 10**9
    assert stream.config["duplicate_window"] == 5 * 60 * 10**9
    assert stream.config["placement"] == {"tags": ["ssd"]}
    assert "mirror" not in stream.config
    assert stream.source == "environments/production/streams/orders.yaml" and stream.line == 1
    consumer = res[("consumer", "order-processor")]
    assert consumer.stream == "ORDERS"
    assert consumer.config["ack_wait"] == 30 * 10**9
    assert consumer.config["ack_policy"] == "explicit"
    assert consumer.config["max_ack_pending"] == 1000
    assert consumer.line == 30
    assert any("schema" in w and ":26:" in w for w in result.warnings)


def test_nack_examples_load_unchanged_mixed_with_design(tmp_path):
    write(tmp_path, "environments/staging/nack.yml", NACK_STREAM + "\n" + NACK_CONSUMER)
    write(tmp_path, "environments/staging/servers.yaml", NACK_SERVERS)
    write(tmp_path, "environments/staging/design.yaml", DESIGN_STREAM)
    write(
        tmp_path,
        "environments/staging/kv.yaml",
        """\
apiVersion: jetstream.nats.io/v1beta2
kind: KeyValue
metadata:
  name: my-kv-k8s
spec:
  bucket: my-kv
  history: 20
  ttl: 1h
  replicas: 1
---
apiVersion: nats.io/v1
kind: ObjectStore
metadata:
  name: blobs
spec:
  maxBytes: 1048576
  storage: memory
""",
    )
    write(tmp_path, "environments/staging/notes.txt", "not yaml")
    result = load_tree(tmp_path)
    assert result.errors == []
    res = by_name(result, "staging")
    assert res[("stream", "mystream")].config == {
        "name": "mystream",
        "subjects": ["orders.*"],
        "storage": "file",
        "max_age": 3600 * 10**9,
        "num_replicas": 1,
    }
    consumer = res[("consumer", "my-pull-consumer")]
    assert consumer.stream == "mystream"
    assert consumer.config == {
        "durable_name": "my-pull-consumer",
        "deliver_policy": "all",
        "filter_subject": "orders.received",
        "max_deliver": 20,
        "ack_policy": "explicit",
    }
    # spec.name, not metadata.name; connection fields ignored with a warning naming the line
    assert ("stream", "mystream2") in res and ("stream", "mystream2-k8s") not in res
    servers_warnings = [
        w for w in result.warnings if w.startswith("environments/staging/servers.yaml")
    ]
    assert any(":7:" in w and "servers" in w for w in servers_warnings)
    assert any(":9:" in w and "tls" in w for w in servers_warnings)
    assert any(":13:" in w and "creds" in w for w in servers_warnings)
    assert res[("kv", "my-kv")].config["ttl"] == 3600 * 10**9
    assert res[("kv", "my-kv")].config["history"] == 20
    assert res[("object_store", "blobs")].config == {
        "bucket": "blobs",
        "max_bytes": 1048576,
        "storage": "memory",
    }
    assert {("stream", "ORDERS"), ("consumer", "order-processor")} <= set(res)


def test_environments_are_separate_and_subdir(tmp_path):
    write(tmp_path, "nats/environments/a/s.yaml", NACK_STREAM)
    write(tmp_path, "nats/environments/b/deep/er/s.yaml", NACK_STREAM)
    result = load_tree(tmp_path, "nats")
    assert result.errors == [] and set(result.resources_by_env) == {"a", "b"}


def test_validation_errors_read_like_the_api_with_path_and_line(tmp_path):
    write(
        tmp_path,
        "environments/prod/bad.yaml",
        """\
apiVersion: jetstream.nats.io/v1beta2
kind: Stream
metadata:
  name: bad
spec:
  name: bad
  replicas: 9
  retention: forever
  maxAge: soon
""",
    )
    write(
        tmp_path,
        "environments/prod/typo.yaml",
        """\
apiVersion: jetstream.nats.io/v1beta2
kind: Consumer
metadata: {name: c}
spec:
  streamName: s
  durableName: c
  ackPolicy: explicit
  maxDelivr: 3
""",
    )
    result = load_tree(tmp_path)
    errors = "\n".join(result.errors)
    assert "environments/prod/bad.yaml:7: stream bad: num_replicas:" in errors
    assert "environments/prod/bad.yaml:8: stream bad: retention:" in errors
    assert "environments/prod/bad.yaml:9: stream bad: max_age:" in errors
    assert "environments/prod/typo.yaml:8: Consumer: unknown field 'maxDelivr'" in errors
    assert result.resources_by_env == {}


def test_syntax_error_carries_path_and_line(tmp_path):
    write(
        tmp_path,
        "environments/prod/broken.yaml",
        "apiVersion: nats.io/v1\nkind: Stream\nspec: [\n  a: b\n",
    )
    result = load_tree(tmp_path)
    assert len(result.errors) == 1
    assert result.errors[0].startswith("environments/prod/broken.yaml:")
    assert int(result.errors[0].split(":")[1]) >= 3


def test_duplicates_name_both_places(tmp_path):
    write(tmp_path, "environments/prod/one.yaml", NACK_STREAM)
    write(tmp_path, "environments/prod/two.yaml", "# a comment\n" + NACK_STREAM)
    write(tmp_path, "environments/dev/one.yaml", NACK_STREAM)  # other env: fine
    result = load_tree(tmp_path)
    assert result.errors == [
        "environments/prod/two.yaml:3: duplicate stream mystream in environment 'prod' "
        "(also at environments/prod/one.yaml:2)"
    ]


def test_duplicate_keys_refused(tmp_path):
    write(tmp_path, "environments/p/s.yaml", NACK_STREAM + "\n  replicas: 3\n")
    result = load_tree(tmp_path)
    assert result.errors and "duplicate key 'replicas'" in result.errors[0]
    assert result.errors[0].startswith("environments/p/s.yaml:12:")


def test_python_tag_refused(tmp_path):
    write(
        tmp_path,
        "environments/p/evil.yaml",
        "apiVersion: nats.io/v1\nkind: Stream\nmetadata:\n"
        "  name: !!python/object/apply:os.system ['touch /tmp/pwned']\n",
    )
    result = load_tree(tmp_path)
    assert result.errors == [
        "environments/p/evil.yaml:4: tags are not allowed "
        "(tag:yaml.org,2002:python/object/apply:os.system)"
    ]


def test_custom_and_standard_tags_refused(tmp_path):
    write(tmp_path, "environments/p/a.yaml", "kind: !Custom Stream\n")
    write(tmp_path, "environments/p/b.yaml", "---\nkind: Stream\nspec: !!str x\n")
    result = load_tree(tmp_path)
    assert result.errors == [
        "environments/p/a.yaml:1: tags are not allowed (!Custom)",
        "environments/p/b.yaml:3: tags are not allowed (tag:yaml.org,2002:str)",
    ]


def test_billion_laughs_refused_quickly(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    write(tmp_path, "environments/p/lol.yaml", "\n".join(lines) + "\n")
    start = time.monotonic()
    result = load_tree(tmp_path)
    assert time.monotonic() - start < 1
    assert result.errors == ["environments/p/lol.yaml:1: anchors are not allowed (&a)"]


def test_alias_refused(tmp_path):
    write(tmp_path, "environments/p/alias.yaml", "x: *nope\n")
    result = load_tree(tmp_path)
    assert len(result.errors) == 1 and result.errors[0].startswith("environments/p/alias.yaml:1:")


def test_huge_file_refused_unread(tmp_path):
    write(tmp_path, "environments/p/huge.yaml", b"# " + b"x" * (5 * 1024 * 1024) + b"\n")
    write(tmp_path, "environments/p/ok.yaml", NACK_STREAM)
    result = load_tree(tmp_path)
    assert len(result.errors) == 1
    assert result.errors[0].startswith("environments/p/huge.yaml:1: file is ")
    assert "limit" in result.errors[0]
    assert ("stream", "mystream") in by_name(result, "p")


def test_symlink_to_etc_passwd_refused(tmp_path):
    write(tmp_path, "environments/p/ok.yaml", NACK_STREAM)
    os.symlink("/etc/passwd", tmp_path / "environments/p/passwd.yaml")
    result = load_tree(tmp_path)
    assert result.errors == [
        "environments/p/passwd.yaml:1: symlink points outside the repository; refused"
    ]


def test_symlinked_directory_out_of_root_refused(tmp_path):
    outside = tmp_path / "outside"
    write(outside, "secret.yaml", NACK_STREAM)
    root = tmp_path / "repo"
    write(root, "environments/p/ok.yaml", NACK_STREAM.replace("mystream", "other"))
    os.symlink(outside, root / "environments/p/linked")
    os.symlink(outside, root / "environments/evil")
    result = load_tree(root)
    assert sorted(result.errors) == [
        "environments/evil:1: symlinked directory points outside the repository; refused",
        "environments/p/linked:1: symlinked directory points outside the repository; refused",
    ]
    assert list(by_name(result, "p")) == [("stream", "other")]
    assert "evil" not in result.resources_by_env


def test_symlinked_environments_dir_and_subdir_refused(tmp_path):
    outside = tmp_path / "outside"
    write(outside, "environments/p/s.yaml", NACK_STREAM)
    root = tmp_path / "repo"
    root.mkdir()
    os.symlink(outside, root / "sub")
    result = load_tree(root, "sub")
    assert result.errors and "outside the repository" in result.errors[0]
    assert result.resources_by_env == {}


def test_non_jetstream_documents_skipped_with_warning(tmp_path):
    write(
        tmp_path,
        "environments/p/mixed.yaml",
        "apiVersion: v1\nkind: ConfigMap\n---\n"
        "apiVersion: jetstream.nats.io/v1beta2\nkind: Account\n"
        "---\n---\n" + NACK_STREAM,
    )
    result = load_tree(tmp_path)
    assert result.errors == []
    assert len(result.warnings) == 2
    assert result.warnings[1].startswith("environments/p/mixed.yaml:4:")


def test_not_a_mapping_is_an_error(tmp_path):
    write(tmp_path, "environments/p/list.yaml", "- a\n- b\n")
    result = load_tree(tmp_path)
    assert result.errors == ["environments/p/list.yaml:1: a manifest must be a mapping"]
