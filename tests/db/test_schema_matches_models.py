"""The ORM models describe exactly the schema the migrations build: a column, index or foreign
key added to one and not the other is found here, not in production."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import core.db.models  # noqa: F401  (registers the models on Base.metadata)
import core.outbox  # noqa: F401  (and the outbox's)
from core.db.base import Base
from core.db.migrate import upgrade_to
from tests.db.test_migrations_over_data import scratch_db  # noqa: F401  (fixture)


async def test_the_models_match_the_migrated_schema(scratch_db):  # noqa: F811
    await upgrade_to(scratch_db, "head")
    async with scratch_db.connect() as conn:
        diffs = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    assert diffs == []
