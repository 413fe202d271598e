"""Message replay: copy stored messages of a stream (subject filter, sequence or time range) to
another stream, another cluster, or the same stream under a new subject prefix, exactly once.

``models`` holds the typed request and checkpoint (pure, shared with workflows), ``source``
reads the range without durable state, ``destination`` publishes and verifies, ``pipeline`` joins
them with a bounded window of outstanding acknowledgements and a rate limit.
"""
