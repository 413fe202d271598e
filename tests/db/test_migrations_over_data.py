"""Migrations that rewrite stored rows, run over a database holding such rows (a fresh database
on the test PostgreSQL, migrated up to the revision before, filled, then migrated to head)."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from core.db.migrate import upgrade_to

OLD_SEEDED_KINDS = ["stream", "consumer", "kv_bucket", "object_store", "purge", "replay"]


@pytest.fixture
async def scratch_db(stack):
    """An empty database of its own, dropped afterwards."""
    url = make_url(stack.env["JSC_DATABASE_URL"])
    name = f"jsc_migration_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_async_engine(url.set(database=name))
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def _org(conn, slug: str) -> uuid.UUID:
    org_id = uuid.uuid4()
    await conn.execute(
        text(
            "INSERT INTO organizations (id, name, slug, plan, settings, created_at, "
            "updated_at) VALUES (:i, :n, :s, 'free', '{}', now(), now())"
        ),
        {"i": org_id, "n": slug, "s": slug},
    )
    return org_id


async def _policy(conn, org_id: uuid.UUID, name: str, kinds: list[str]) -> uuid.UUID:
    policy_id = uuid.uuid4()
    definition = {
        "name": name,
        "version": 1,
        "priority": 20,
        "triggers": {"environments": ["production"], "kinds": kinds},
        "groups": [{"name": "Platform", "count": 1, "roles": ["admin"], "teams": [], "users": []}],
    }
    await conn.execute(
        text(
            "INSERT INTO approval_policies (id, org_id, policy_id, name, version, is_current, "
            "priority, enabled, definition, created_at) "
            "VALUES (:i, :o, :i, :n, 1, true, 20, true, "
            "CAST(:d AS jsonb), now())"
        ),
        {"i": policy_id, "o": org_id, "n": name, "d": json.dumps(definition)},
    )
    return policy_id


async def _versions(conn, policy_id: uuid.UUID) -> list[tuple[int, bool, dict]]:
    rows = await conn.execute(
        text(
            "SELECT version, is_current, definition FROM approval_policies "
            "WHERE policy_id = :p ORDER BY version"
        ),
        {"p": policy_id},
    )
    return [(r.version, r.is_current, r.definition) for r in rows]


async def test_0008_lets_the_untouched_seeded_policy_govern_mirrors_and_failovers(scratch_db):
    await upgrade_to(scratch_db, "0007_approver_ids")
    async with scratch_db.begin() as conn:
        seeded = await _policy(
            conn, await _org(conn, "seeded"), "Production Changes", OLD_SEEDED_KINDS
        )
        chosen = await _policy(
            conn, await _org(conn, "chosen"), "Production Changes", ["stream", "consumer"]
        )
        other = await _policy(conn, await _org(conn, "other"), "Our own policy", OLD_SEEDED_KINDS)
    await upgrade_to(scratch_db, "0008_replication")
    async with scratch_db.connect() as conn:
        versions = await _versions(conn, seeded)
        assert [(v, current) for v, current, _ in versions] == [(1, False), (2, True)]
        assert versions[0][2]["triggers"]["kinds"] == OLD_SEEDED_KINDS  # history kept as it was
        assert versions[1][2]["triggers"]["kinds"] == OLD_SEEDED_KINDS + ["mirror", "failover"]
        assert versions[1][2]["version"] == 2
        assert versions[1][2]["groups"] == versions[0][2]["groups"]
        # A policy whose kinds someone chose, or of another name, is theirs: unchanged.
        for policy_id, kinds in ((chosen, ["stream", "consumer"]), (other, OLD_SEEDED_KINDS)):
            [(version, current, definition)] = await _versions(conn, policy_id)
            assert (version, current, definition["triggers"]["kinds"]) == (1, True, kinds)
        tables = set(
            (
                await conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            ).scalars()
        )
        assert {"mirrors", "dr_pairs"} <= tables


async def test_0009_lets_the_untouched_seeded_policy_govern_restores(scratch_db):
    await upgrade_to(scratch_db, "0007_approver_ids")
    async with scratch_db.begin() as conn:
        seeded = await _policy(
            conn, await _org(conn, "seeded"), "Production Changes", OLD_SEEDED_KINDS
        )
        chosen = await _policy(
            conn, await _org(conn, "chosen"), "Production Changes", ["stream", "restore"]
        )
    await upgrade_to(scratch_db, "head")
    async with scratch_db.connect() as conn:
        versions = await _versions(conn, seeded)
        assert [(v, current) for v, current, _ in versions] == [(1, False), (2, False), (3, True)]
        assert versions[1][2]["triggers"]["kinds"] == OLD_SEEDED_KINDS + ["mirror", "failover"]
        assert versions[2][2]["triggers"]["kinds"] == OLD_SEEDED_KINDS + [
            "mirror",
            "failover",
            "restore",
        ]
        [(version, current, definition)] = await _versions(conn, chosen)
        assert (version, current, definition["triggers"]["kinds"]) == (
            1,
            True,
            ["stream", "restore"],
        )
        tables = set(
            (
                await conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            ).scalars()
        )
        assert {"backup_schedules", "backups", "backup_items", "backup_chunks"} <= tables


async def test_0007_binds_stored_approval_groups_to_the_ids_of_their_names(scratch_db):
    await upgrade_to(scratch_db, "0006_cluster_identity")
    async with scratch_db.begin() as conn:
        org_id = await _org(conn, "approvers")
        role_id, team_id = uuid.uuid4(), uuid.uuid4()
        await conn.execute(
            text(
                "INSERT INTO roles (id, org_id, name, description, is_system, "
                "created_at, updated_at) VALUES (:i, :o, 'team_lead', '', false, "
                "now(), now())"
            ),
            {"i": role_id, "o": org_id},
        )
        await conn.execute(
            text(
                "INSERT INTO teams (id, org_id, name, description, created_at, "
                "updated_at) VALUES (:i, :o, 'platform', '', now(), now())"
            ),
            {"i": team_id, "o": org_id},
        )
        policy_id = uuid.uuid4()
        definition = {
            "name": "Production Changes",
            "version": 1,
            "priority": 20,
            "groups": [
                {
                    "name": "Platform Team or Team Lead",
                    "count": 1,
                    "roles": ["admin", "team_lead", "nobody"],
                    "teams": ["platform"],
                    "users": [],
                }
            ],
        }
        await conn.execute(
            text(
                "INSERT INTO approval_policies (id, org_id, policy_id, name, version, is_current, "
                "priority, enabled, definition, created_at) "
                "VALUES (:i, :o, :i, 'Production Changes', 1, true, 20, true, "
                "CAST(:d AS jsonb), now())"
            ),
            {"i": policy_id, "o": org_id, "d": json.dumps(definition)},
        )
    await upgrade_to(scratch_db, "0007_approver_ids")
    async with scratch_db.connect() as conn:
        [(_, _, stored)] = await _versions(conn, policy_id)
    [group] = stored["groups"]
    # A built-in role's id is its name; a name that named nothing binds nothing ("").
    assert group["role_ids"] == ["admin", str(role_id), ""]
    assert group["team_ids"] == [str(team_id)]
