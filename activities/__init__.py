"""Temporal activities: thin, idempotent adapters over ``core`` that perform the side effects the
workflows decide on (NATS, PostgreSQL, events)."""
