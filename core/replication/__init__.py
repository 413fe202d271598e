"""Replication and disaster recovery over JetStream's own mechanisms.

- ``models``: the typed requests (a mirror, a DR pair, a failover) the API, the workflows and the
  activities share;
- ``mirrors``: how the console makes a mirror (a durable, flow-controlled consumer on the source,
  so replication can be paused and resumed where it stood), probes the link before creating
  anything, and pauses or resumes it;
- ``links``: which way a mirror reads its source (one JetStream, or another domain), and whether
  a stream already mirrors another;
- ``lifecycle``: creating a mirror (consumer, then stream) and removing one (stream, then
  consumer), each safe to run again;
- ``catchup``: how far a mirror has caught up, read from its source consumer and its stream;
- ``rows``: the console's ``mirrors`` rows (registering a job's, claiming target names, states);
- ``steps``: what ``MirrorWorkflow`` and its activities pass each other;
- the replication map (``GET /api/v1/replication``): ``topology`` finds every mirror and source on
  an organization's clusters and joins the console's rows and pairs, ``measure`` reads each edge's
  source side, ``lag`` counts and classifies (pure), ``overview`` assembles the map and each DR
  pair's RPO, ``views`` is what the API answers;
- failover: ``plan`` (what a failover works from and reports), ``planning`` (a request resolved
  and measured), ``failover`` (measure, fence, catch up, promote, canary), ``drill`` (the same on
  temporary copies), ``reverse`` (the old primary kept aside and made a mirror of the new one),
  ``active_side`` (the ``jsc_dr_active`` bucket clients follow) and ``records`` (the pair and
  mirror rows).

A mirror in another cluster reads through ``mirror.external.api`` (``$JS.<domain>.API``); the
local stack's hub↔dr leafnode lets only that plumbing cross (``stack/nats.py``).
"""
