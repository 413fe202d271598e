"""The live stream: what the console pushes to its clients, kept in the internal JetStream stream
``JSC_LIVE`` (the ``JSC`` account, like ``JSC_EVENTS``).

- ``subjects``: the subject layout (per organization: metric samples per cluster and per stream,
  alerts, operations' progress), the channels clients subscribe to and the filter each maps to,
  and the stream's configuration.
- ``samples``: the typed samples the collector publishes and the ingester stores in ClickHouse.
- ``publisher``: publishing a body once (``Nats-Msg-Id``) from any process.

Every message's stream sequence is its event id: a client that reconnects with ``Last-Event-ID``
reads on from there, from whichever API replica serves it.
"""
