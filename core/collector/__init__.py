"""The metrics collector: its own process (``jsc collector``; ``jsc up`` supervises one, production
runs any number), each owning a share of the registered clusters.

- ``shares``: who collects which cluster. Collectors announce themselves in a NATS KV bucket of
  the internal account; rendezvous hashing over the live ones gives each cluster one owner, and
  a lease (a KV key created with compare-and-set, renewed every pass, expiring with the bucket's
  TTL) makes that exclusive: no two collect a cluster, a dead one's clusters are taken over once
  its leases expire.
- ``reading``: one cluster read: streams with their state, their consumers, the account, and the
  servers' ``varz`` where a monitoring URL is known.
- ``sampling``: pure: raw infos and the previous samples -> samples with rates, lag and trend.
- ``runner``: the pass loop: leases, reads, samples published to ``JSC_LIVE`` in one pipelined
  burst (the ingester stores them in ClickHouse; clients get them pushed).
"""
