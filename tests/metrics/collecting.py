"""Collectors for tests: the real ``core.collector`` code, in the test process, collecting only one
organization's clusters (as ``JSC_COLLECT_ORGS`` makes a production collector do), and readers of
the samples it published to ``JSC_LIVE``."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager

import nats
from sqlalchemy.ext.asyncio import create_async_engine

from core.collector.process import make_collector
from core.live import subjects
from core.live.samples import ClusterSample, StreamSample


@asynccontextmanager
async def org_collector(settings, org_id: uuid.UUID | str):
    """A collector of ``org_id``'s clusters; call ``pass_once()`` to collect. Leaves (gives its
    leases back) at the end."""
    nc = await nats.connect(settings.events_nats_url)
    engine = create_async_engine(settings.database_url)
    collector = await make_collector(
        settings.model_copy(update={"collect_orgs": str(org_id)}), nc, engine
    )
    try:
        yield collector
    finally:
        await collector.shares.leave()
        await collector.pool.close()
        await engine.dispose()
        await nc.close()


async def last_stream_sample(nc, org, cluster, stream) -> StreamSample:
    msg = await nc.jetstream().get_last_msg(
        subjects.STREAM, subjects.stream_sample(org, cluster, stream)
    )
    return StreamSample.model_validate_json(msg.data)


async def last_cluster_sample(nc, org, cluster) -> ClusterSample:
    msg = await nc.jetstream().get_last_msg(subjects.STREAM, subjects.cluster_sample(org, cluster))
    return ClusterSample.model_validate_json(msg.data)
