-- The ClickHouse schema of the source design (section 2.2). Every statement is idempotent.

CREATE TABLE IF NOT EXISTS stream_metrics (
    cluster_id UUID,
    stream_name String,
    timestamp DateTime64(3, 'UTC'),
    messages_total UInt64,
    bytes_total UInt64,
    messages_rate Float64,
    bytes_rate Float64,
    consumer_count UInt32,
    first_seq UInt64,
    last_seq UInt64,
    subjects Array(String)
) ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (cluster_id, stream_name, timestamp)
TTL toDateTime(timestamp) + INTERVAL 90 DAY;

CREATE TABLE IF NOT EXISTS consumer_metrics (
    cluster_id UUID,
    stream_name String,
    consumer_name String,
    timestamp DateTime64(3, 'UTC'),
    pending_count UInt64,
    ack_pending UInt64,
    redelivered UInt64,
    waiting UInt64,
    delivered_rate Float64,
    ack_rate Float64,
    lag Int64
) ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (cluster_id, stream_name, consumer_name, timestamp)
TTL toDateTime(timestamp) + INTERVAL 90 DAY;

CREATE TABLE IF NOT EXISTS cluster_metrics (
    cluster_id UUID,
    server_id String,
    server_name String,
    timestamp DateTime64(3, 'UTC'),
    cpu_percent Float32,
    memory_bytes UInt64,
    connections UInt32,
    subscriptions UInt32,
    slow_consumers UInt32,
    in_msgs UInt64,
    out_msgs UInt64,
    in_bytes UInt64,
    out_bytes UInt64
) ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (cluster_id, server_id, timestamp)
TTL toDateTime(timestamp) + INTERVAL 180 DAY;

CREATE TABLE IF NOT EXISTS message_samples (
    cluster_id UUID,
    stream_name String,
    subject String,
    sequence UInt64,
    timestamp DateTime64(3, 'UTC'),
    headers Map(String, String),
    payload_preview String,
    payload_size UInt32,
    payload_type String
) ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (cluster_id, stream_name, subject, timestamp)
TTL toDateTime(timestamp) + INTERVAL 7 DAY;

-- ReplacingMergeTree on the event id: an event delivered twice by JetStream (at-least-once) is
-- kept once after merges, and queries read it with FINAL.
CREATE TABLE IF NOT EXISTS audit_logs (
    id UUID,
    org_id UUID,
    user_id Nullable(UUID),
    user_email String,
    timestamp DateTime64(3, 'UTC'),
    action String,
    resource_type String,
    resource_id String,
    resource_name String,
    cluster_id Nullable(UUID),
    ip_address IPv6,
    user_agent String,
    request_id String,
    changes String,
    status Enum8('success' = 1, 'failure' = 2, 'denied' = 3),
    error_message Nullable(String)
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (org_id, timestamp, action, id)
TTL toDateTime(timestamp) + INTERVAL 365 DAY;

CREATE TABLE IF NOT EXISTS alert_events (
    id UUID,
    org_id UUID,
    alert_rule_id UUID,
    cluster_id UUID,
    timestamp DateTime64(3, 'UTC'),
    severity Enum8('info' = 1, 'warning' = 2, 'critical' = 3),
    status Enum8('firing' = 1, 'resolved' = 2),
    metric_value Float64,
    threshold_value Float64,
    message String,
    notified_at Nullable(DateTime64(3, 'UTC')),
    resolved_at Nullable(DateTime64(3, 'UTC'))
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (org_id, alert_rule_id, timestamp, id)
TTL toDateTime(timestamp) + INTERVAL 90 DAY;

-- Roll-ups: the totals are gauges (max per period), the rates aggregate states.
CREATE TABLE IF NOT EXISTS stream_metrics_hourly (
    cluster_id UUID,
    stream_name String,
    hour DateTime('UTC'),
    messages_sum SimpleAggregateFunction(max, UInt64),
    bytes_sum SimpleAggregateFunction(max, UInt64),
    avg_rate AggregateFunction(avg, Float64),
    max_rate AggregateFunction(max, Float64),
    sample_count SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (cluster_id, stream_name, hour)
TTL hour + INTERVAL 365 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS stream_metrics_hourly_mv TO stream_metrics_hourly AS
SELECT cluster_id, stream_name, toStartOfHour(timestamp) AS hour,
       max(messages_total) AS messages_sum, max(bytes_total) AS bytes_sum,
       avgState(messages_rate) AS avg_rate, maxState(messages_rate) AS max_rate,
       count() AS sample_count
FROM stream_metrics
GROUP BY cluster_id, stream_name, hour;

CREATE TABLE IF NOT EXISTS stream_metrics_daily (
    cluster_id UUID,
    stream_name String,
    day Date,
    messages_sum SimpleAggregateFunction(max, UInt64),
    bytes_sum SimpleAggregateFunction(max, UInt64),
    avg_rate AggregateFunction(avg, Float64),
    max_rate AggregateFunction(max, Float64),
    sample_count SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (cluster_id, stream_name, day)
TTL day + INTERVAL 730 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS stream_metrics_daily_mv TO stream_metrics_daily AS
SELECT cluster_id, stream_name, toDate(timestamp) AS day,
       max(messages_total) AS messages_sum, max(bytes_total) AS bytes_sum,
       avgState(messages_rate) AS avg_rate, maxState(messages_rate) AS max_rate,
       count() AS sample_count
FROM stream_metrics
GROUP BY cluster_id, stream_name, day;

-- The collector's samples (issue 14): each row knows its sample (the ingester stores a sample at
-- most once by it) and its organization; the counters behind the rates are kept too.
ALTER TABLE stream_metrics ADD COLUMN IF NOT EXISTS sample_id UUID;
ALTER TABLE stream_metrics ADD COLUMN IF NOT EXISTS org_id UUID;
ALTER TABLE stream_metrics ADD COLUMN IF NOT EXISTS messages_in UInt64;
ALTER TABLE stream_metrics ADD COLUMN IF NOT EXISTS bytes_in UInt64;
ALTER TABLE stream_metrics ADD COLUMN IF NOT EXISTS messages_out_rate Float64;
ALTER TABLE stream_metrics ADD COLUMN IF NOT EXISTS max_bytes Int64 DEFAULT -1;
ALTER TABLE stream_metrics ADD COLUMN IF NOT EXISTS mirror_lag Nullable(Int64);
ALTER TABLE stream_metrics ADD COLUMN IF NOT EXISTS mirror_active_ms Nullable(Float64);
ALTER TABLE stream_metrics ADD COLUMN IF NOT EXISTS mirror_error String DEFAULT '';
ALTER TABLE stream_metrics ADD INDEX IF NOT EXISTS stream_sample_idx sample_id TYPE bloom_filter GRANULARITY 4;

ALTER TABLE consumer_metrics ADD COLUMN IF NOT EXISTS sample_id UUID;
ALTER TABLE consumer_metrics ADD COLUMN IF NOT EXISTS org_id UUID;
ALTER TABLE consumer_metrics ADD COLUMN IF NOT EXISTS delivered_total UInt64;
ALTER TABLE consumer_metrics ADD COLUMN IF NOT EXISTS acked_total UInt64;
ALTER TABLE consumer_metrics ADD COLUMN IF NOT EXISTS lag_trend Float64;
ALTER TABLE consumer_metrics ADD INDEX IF NOT EXISTS consumer_sample_idx sample_id TYPE bloom_filter GRANULARITY 4;

ALTER TABLE cluster_metrics ADD COLUMN IF NOT EXISTS sample_id UUID;
ALTER TABLE cluster_metrics ADD COLUMN IF NOT EXISTS org_id UUID;
ALTER TABLE cluster_metrics ADD COLUMN IF NOT EXISTS reachable UInt8 DEFAULT 1;
ALTER TABLE cluster_metrics ADD INDEX IF NOT EXISTS cluster_sample_idx sample_id TYPE bloom_filter GRANULARITY 4;

-- Consumer lag over long ranges: hourly and daily roll-ups like the streams'.
CREATE TABLE IF NOT EXISTS consumer_metrics_hourly (
    cluster_id UUID,
    stream_name String,
    consumer_name String,
    hour DateTime('UTC'),
    avg_lag AggregateFunction(avg, Int64),
    max_lag SimpleAggregateFunction(max, Int64),
    avg_ack_rate AggregateFunction(avg, Float64),
    max_ack_pending SimpleAggregateFunction(max, UInt64),
    sample_count SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (cluster_id, stream_name, consumer_name, hour)
TTL hour + INTERVAL 365 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS consumer_metrics_hourly_mv TO consumer_metrics_hourly AS
SELECT cluster_id, stream_name, consumer_name, toStartOfHour(timestamp) AS hour,
       avgState(lag) AS avg_lag, max(lag) AS max_lag, avgState(ack_rate) AS avg_ack_rate,
       max(ack_pending) AS max_ack_pending, count() AS sample_count
FROM consumer_metrics
GROUP BY cluster_id, stream_name, consumer_name, hour;

CREATE TABLE IF NOT EXISTS consumer_metrics_daily (
    cluster_id UUID,
    stream_name String,
    consumer_name String,
    day Date,
    avg_lag AggregateFunction(avg, Int64),
    max_lag SimpleAggregateFunction(max, Int64),
    avg_ack_rate AggregateFunction(avg, Float64),
    max_ack_pending SimpleAggregateFunction(max, UInt64),
    sample_count SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (cluster_id, stream_name, consumer_name, day)
TTL day + INTERVAL 730 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS consumer_metrics_daily_mv TO consumer_metrics_daily AS
SELECT cluster_id, stream_name, consumer_name, toDate(timestamp) AS day,
       avgState(lag) AS avg_lag, max(lag) AS max_lag, avgState(ack_rate) AS avg_ack_rate,
       max(ack_pending) AS max_ack_pending, count() AS sample_count
FROM consumer_metrics
GROUP BY cluster_id, stream_name, consumer_name, day;

-- Alert events (issue 14): what a reader needs without joining PostgreSQL. An acknowledgement
-- inserts the event again (same sorting key), so FINAL reads its newest version.
ALTER TABLE alert_events ADD COLUMN IF NOT EXISTS rule_name String;
ALTER TABLE alert_events ADD COLUMN IF NOT EXISTS kind String;
ALTER TABLE alert_events ADD COLUMN IF NOT EXISTS stream_name String;
ALTER TABLE alert_events ADD COLUMN IF NOT EXISTS consumer_name String;
ALTER TABLE alert_events ADD COLUMN IF NOT EXISTS transition UInt32;
ALTER TABLE alert_events ADD COLUMN IF NOT EXISTS notify UInt8 DEFAULT 1;
ALTER TABLE alert_events ADD COLUMN IF NOT EXISTS acknowledged_by Nullable(String);
ALTER TABLE alert_events ADD COLUMN IF NOT EXISTS acknowledged_at Nullable(DateTime64(3, 'UTC'));
ALTER TABLE alert_events ADD COLUMN IF NOT EXISTS body String;
