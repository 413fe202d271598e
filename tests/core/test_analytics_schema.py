"""The ClickHouse schema applies idempotently on the embedded engine, and its roll-ups work."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from core.analytics.store import TABLES, AnalyticsStore
from core.audit import AUDIT_COLUMNS, AuditEvent


def test_schema_applies_twice_and_rolls_up(tmp_path):
    store = AnalyticsStore(f"chdb://{tmp_path / 'ch'}")
    store.apply_schema()
    store.apply_schema()
    tables = {row[0] for row in store.query("SHOW TABLES")}
    assert set(TABLES) <= tables
    assert {"stream_metrics_hourly_mv", "stream_metrics_daily_mv"} <= tables
    ttl = store.query(
        "SELECT create_table_query FROM system.tables WHERE name = 'audit_logs' "
        "AND database = currentDatabase()"
    )[0][0]
    assert "TTL" in ttl and "365" in ttl

    cluster = uuid.uuid4()
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    columns = [
        "cluster_id",
        "stream_name",
        "timestamp",
        "messages_total",
        "bytes_total",
        "messages_rate",
        "bytes_rate",
        "consumer_count",
        "first_seq",
        "last_seq",
        "subjects",
    ]
    rows = [
        [
            cluster,
            "orders",
            hour + timedelta(minutes=m),
            100 * (m + 1),
            1000,
            float(rate),
            1.0,
            1,
            1,
            100,
            ["orders.eu"],
        ]
        for m, rate in enumerate((10, 20, 30))
    ]
    store.insert("stream_metrics", rows[:2], columns)
    store.insert("stream_metrics", rows[2:], columns)  # two inserts: two parts to merge
    hourly = store.query(
        "SELECT max(messages_sum), avgMerge(avg_rate), maxMerge(max_rate), sum(sample_count) "
        "FROM stream_metrics_hourly WHERE cluster_id = {c:UUID}",
        {"c": str(cluster)},
    )
    assert hourly == [(300, 20.0, 30.0, 3)]
    daily = store.query(
        "SELECT sum(sample_count) FROM stream_metrics_daily WHERE cluster_id = {c:UUID}",
        {"c": str(cluster)},
    )
    assert daily == [(3,)]

    event = AuditEvent(
        org_id=uuid.uuid4(),
        action="stream.create",
        resource_type="stream",
        ip_address="10.0.0.1",
        changes={"after": {"name": "x"}},
    )
    store.insert("audit_logs", [event.row(), event.row()], AUDIT_COLUMNS)  # delivered twice
    stored = store.query(
        "SELECT action, ip_address FROM audit_logs FINAL WHERE id = {i:UUID}", {"i": str(event.id)}
    )
    assert len(stored) == 1 and stored[0][0] == "stream.create"
    assert str(stored[0][1].ipv4_mapped) == "10.0.0.1"
    store.close()


def test_a_redelivered_sample_is_stored_once(tmp_path):
    """The metrics ingester's sink: the same batch inserted twice (its ack lost, the API killed
    between insert and ack) leaves one row per sample, and the roll-ups count it once."""
    from core.analytics.metric_rows import MetricsSink
    from core.live.samples import ClusterSample, ConsumerSample, StreamSample, sample_id

    store = AnalyticsStore(f"chdb://{tmp_path / 'ch'}")
    store.apply_schema()
    cluster, org = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC).replace(microsecond=0)
    stream = StreamSample(
        id=sample_id(cluster, "stream", "ORDERS", now),
        org_id=org,
        cluster_id=cluster,
        stream="ORDERS",
        timestamp=now,
        messages=5,
        bytes=50,
        first_seq=1,
        last_seq=5,
        consumer_count=1,
        consumers=[
            ConsumerSample(
                name="c",
                pending=1,
                ack_pending=2,
                redelivered=0,
                waiting=0,
                delivered=4,
                acked=2,
                lag=3,
            )
        ],
    )
    summary = ClusterSample(
        id=sample_id(cluster, "cluster", "", now),
        org_id=org,
        cluster_id=cluster,
        timestamp=now,
        reachable=True,
    )
    batch = [("s", stream.model_dump_json().encode()), ("c", summary.model_dump_json().encode())]
    sink = MetricsSink()
    sink.insert(store, batch)
    sink.insert(store, batch[:1])
    sink.insert(store, batch)
    param = {"c": str(cluster)}
    for table in ("stream_metrics", "consumer_metrics", "cluster_metrics"):
        assert store.query(f"SELECT count() FROM {table} WHERE cluster_id = {{c:UUID}}", param) == [
            (1,)
        ], table
    assert store.query(
        "SELECT sum(sample_count) FROM stream_metrics_hourly WHERE cluster_id = {c:UUID}", param
    ) == [(1,)]
    assert store.query(
        "SELECT sum(sample_count) FROM consumer_metrics_daily WHERE cluster_id = {c:UUID}", param
    ) == [(1,)]
    store.close()
