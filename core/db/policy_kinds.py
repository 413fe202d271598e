"""Data steps that migrations share (kept stable: a committed migration's behaviour must not
change). ``govern_new_kinds`` gives each current, unchanged seeded "Production Changes" policy a
new version whose kinds include the new kinds of change."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa


def govern_new_kinds(conn: sa.Connection, seeded_kinds: list[str], new_kinds: list[str]) -> None:
    """A new version of each current "Production Changes" policy whose kinds are still exactly
    ``seeded_kinds``, with ``new_kinds`` instead; a policy someone changed is theirs to change."""
    rows = conn.execute(
        sa.text(
            "SELECT id, org_id, policy_id, name, version, priority, enabled, definition, "
            "created_by FROM approval_policies WHERE is_current AND name = 'Production Changes'"
        )
    ).all()
    for row in rows:
        definition = dict(row.definition or {})
        triggers = dict(definition.get("triggers") or {})
        if triggers.get("kinds") != seeded_kinds:
            continue  # someone chose its kinds: theirs to change
        triggers["kinds"] = new_kinds
        definition.update(triggers=triggers, version=row.version + 1)
        conn.execute(
            sa.text("UPDATE approval_policies SET is_current = false WHERE id = :i"), {"i": row.id}
        )
        conn.execute(
            sa.text(
                "INSERT INTO approval_policies (id, org_id, policy_id, name, version, is_current, "
                "priority, enabled, definition, created_by, created_at) VALUES (:id, :org, :pid, "
                ":name, :version, true, :priority, :enabled, CAST(:definition AS jsonb), :by, "
                "now())"
            ),
            {
                "id": uuid.uuid4(),
                "org": row.org_id,
                "pid": row.policy_id,
                "name": row.name,
                "version": row.version + 1,
                "priority": row.priority,
                "enabled": row.enabled,
                "definition": json.dumps(definition),
                "by": row.created_by,
            },
        )
