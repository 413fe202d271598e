"""ClickHouse: the analytics schema (metrics, message samples, audit logs, alert events and their
hourly/daily roll-ups), the client (a real server, or the embedded chdb engine), and the one
ingester that moves events from the internal JetStream stream into it.

chdb can be opened by one process only. In the local stack that process is the API, which runs the
ingester; the worker and everything else publish events to the ``JSC_EVENTS`` stream instead of
writing to ClickHouse. Several API replicas need a ClickHouse server (``JSC_CLICKHOUSE_URL``): they
then share the ingester's durable consumer, so each event is inserted once.
"""
