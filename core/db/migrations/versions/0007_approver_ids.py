"""approval groups refer to roles and teams by id: fill role_ids/team_ids of every stored policy
version and change request from the names they hold now (a rename after this changes nothing), and
give approvals:vote to the custom roles that could vote before (those with operations:read)

Revision ID: 0007_approver_ids
Revises: 0006_cluster_identity
Create Date: 2026-11-28 10:00:00
"""

import json
import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007_approver_ids"
down_revision = "0006_cluster_identity"
branch_labels = None
depends_on = None

# The built-in roles as they were at this revision; a built-in role's id is its name.
BUILTIN = ("admin", "editor", "viewer", "operator", "member")


def _directory(conn: sa.Connection, org_id: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    roles = {name: name for name in BUILTIN}
    roles |= {
        name: str(rid)
        for rid, name in conn.execute(
            sa.text("SELECT id, name FROM roles WHERE org_id = :o"), {"o": org_id}
        )
    }
    teams = {
        name: str(tid)
        for tid, name in conn.execute(
            sa.text("SELECT id, name FROM teams WHERE org_id = :o"), {"o": org_id}
        )
    }
    return roles, teams


def _bind(groups: Any, roles: dict[str, Any], teams: dict[str, Any]) -> tuple[list[Any], bool]:
    changed = False
    out = []
    for group in groups or []:
        if (
            isinstance(group, dict)
            and group.get("role_ids") is None
            and group.get("team_ids") is None
        ):
            group = {
                **group,
                "role_ids": [roles.get(r, "") for r in group.get("roles") or []],
                "team_ids": [teams.get(t, "") for t in group.get("teams") or []],
            }
            changed = True
        out.append(group)
    return out, changed


def upgrade() -> None:
    conn = op.get_bind()
    directories: dict[Any, tuple[dict[str, Any], dict[str, Any]]] = {}

    def directory(org_id: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        if org_id not in directories:
            directories[org_id] = _directory(conn, org_id)
        return directories[org_id]

    for row_id, org_id, definition in conn.execute(
        sa.text("SELECT id, org_id, definition FROM approval_policies")
    ).all():
        groups, changed = _bind((definition or {}).get("groups"), *directory(org_id))
        if changed:
            conn.execute(
                sa.text(
                    "UPDATE approval_policies SET definition = CAST(:d AS jsonb) WHERE id = :i"
                ),
                {"d": json.dumps({**definition, "groups": groups}), "i": row_id},
            )
    for row_id, org_id, decision in conn.execute(
        sa.text("SELECT id, org_id, decision FROM change_requests")
    ).all():
        groups, changed = _bind((decision or {}).get("groups"), *directory(org_id))
        if changed:
            conn.execute(
                sa.text("UPDATE change_requests SET decision = CAST(:d AS jsonb) WHERE id = :i"),
                {"d": json.dumps({**decision, "groups": groups}), "i": row_id},
            )
    voters = (
        conn.execute(
            sa.text(
                "SELECT DISTINCT role_id FROM permissions WHERE resource IN ('operations', '*') "
                "AND action IN ('read', 'manage', '*') AND role_id NOT IN (SELECT role_id FROM "
                "permissions WHERE resource IN ('approvals', '*') AND action IN ('vote', 'manage', "
                "'*'))"
            )
        )
        .scalars()
        .all()
    )
    for role_id in voters:
        conn.execute(
            sa.text(
                "INSERT INTO permissions (id, role_id, resource, action, conditions) "
                "VALUES (:i, :r, 'approvals', 'vote', CAST(:c AS jsonb))"
            ),
            {"i": uuid.uuid4(), "r": role_id, "c": json.dumps({"scope": "*"})},
        )


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(
        sa.text("DELETE FROM permissions WHERE resource = 'approvals' AND action = 'vote'")
    )
    for table, column in (("approval_policies", "definition"), ("change_requests", "decision")):
        for row_id, value in conn.execute(sa.text(f"SELECT id, {column} FROM {table}")).all():
            groups = [
                {k: v for k, v in g.items() if k not in ("role_ids", "team_ids")}
                for g in (value or {}).get("groups") or []
                if isinstance(g, dict)
            ]
            if value and value.get("groups"):
                conn.execute(
                    sa.text(f"UPDATE {table} SET {column} = CAST(:d AS jsonb) WHERE id = :i"),
                    {"d": json.dumps({**value, "groups": groups}), "i": row_id},
                )
