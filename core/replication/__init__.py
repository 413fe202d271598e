"""Replication and disaster recovery over JetStream's own mechanisms.

- ``models``: the typed requests (a mirror, a DR pair, a failover) the API, the workflows and the
  activities share;
- ``mirrors``: how the console makes a mirror (a durable, flow-controlled consumer on the source,
  so replication can be paused and resumed where it stood), probes the link before creating
  anything, and pauses or resumes it.

A mirror in another cluster reads through ``mirror.external.api`` (``$JS.<domain>.API``); the
local stack's hub↔dr leafnode lets only that plumbing cross (``stack/nats.py``).
"""
