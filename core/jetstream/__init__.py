"""JetStream administration: the connection pool (one nats-py connection per registered
cluster), the raw JetStream API client, and the validated stream/consumer configuration models
that use JetStream's own JSON field names."""
