"""The ClickHouse schema applies idempotently on the embedded engine, and its roll-ups work."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from core.analytics.store import TABLES, AnalyticsStore
from core.audit import AUDIT_COLUMNS, AuditEvent


def test_schema_applies_twice_and_rolls_up(tmp_path):
    store = AnalyticsStore(f"chdb://{tmp_path / 'ch'}")
    store.apply_schema()
    store.apply_schema()
    tables = {row[0] for row in store.query("SHOW TABLES")}
    assert set(TABLES) <= tables
    assert {"stream_metrics_hourly_mv", "stream_metrics_daily_mv"} <= tables
    ttl = store.query("SELECT create_table_query FROM system.tables WHERE name = 'audit_logs' "
                      "AND database = currentDatabase()")[0][0]
    assert "TTL" in ttl and "365" in ttl

    cluster = uuid.uuid4()
    hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    columns = ["cluster_id", "stream_name", "timestamp", "messages_total", "bytes_total",
               "messages_rate", "bytes_rate", "consumer_count", "first_seq", "last_seq", "subjects"]
    rows = [[cluster, "orders", hour + timedelta(minutes=m), 100 * (m + 1), 1000, float(rate), 1.0,
             1, 1, 100, ["orders.eu"]] for m, rate in enumerate((10, 20, 30))]
    store.insert("stream_metrics", rows[:2], columns)
    store.insert("stream_metrics", rows[2:], columns)  # two inserts: two parts to merge
    hourly = store.query(
        "SELECT max(messages_sum), avgMerge(avg_rate), maxMerge(max_rate), sum(sample_count) "
        "FROM stream_metrics_hourly WHERE cluster_id = {c:UUID}", {"c": str(cluster)})
    assert hourly == [(300, 20.0, 30.0, 3)]
    daily = store.query("SELECT sum(sample_count) FROM stream_metrics_daily WHERE cluster_id = {c:UUID}",
                        {"c": str(cluster)})
    assert daily == [(3,)]

    event = AuditEvent(org_id=uuid.uuid4(), action="stream.create", resource_type="stream",
                       ip_address="10.0.0.1", changes={"after": {"name": "x"}})
    store.insert("audit_logs", [event.row(), event.row()], AUDIT_COLUMNS)  # delivered twice
    stored = store.query("SELECT action, ip_address FROM audit_logs FINAL WHERE id = {i:UUID}",
                         {"i": str(event.id)})
    assert len(stored) == 1 and stored[0][0] == "stream.create"
    assert str(stored[0][1].ipv4_mapped) == "10.0.0.1"
    store.close()
