"""Who may back up, restore, read and delete backups, and what a request is refused for, through
the HTTP API on the real stack: roles of one organization, another organization that sees
nothing of it, and input errors with a sentence a person can act on."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from core.backups.selection import backup_root
from tests.api.orgs import add_team
from tests.backups.api_helpers import Streams, backup_org
from tests.fixtures import unique


@pytest.fixture
async def streams(hub_nc):
    made = Streams(hub_nc)
    yield made
    await made.remove()


@pytest.fixture
def org(api, stack):
    return backup_org(api, stack)


async def test_roles_may_take_restore_and_delete_as_their_permissions_say(api, org, streams):
    stream = await streams.make(count=5)
    viewer, operator, editor = (org.member(r) for r in ("viewer", "operator", "editor"))

    refused = org.backup([stream], headers=viewer.headers)
    assert refused.status_code == 403, refused.text
    assert "backups" in refused.json()["detail"]

    started = org.backup([stream], headers=operator.headers)  # operators take backups
    assert started.status_code == 202, started.text
    backup_id = started.json()["backup_id"]
    for who in (viewer, operator):  # neither restores
        reply = org.restore(backup_id, "restored_x", headers=who.headers)
        assert reply.status_code == 403, reply.text
        deleted = api.delete(f"/api/v1/backups/{backup_id}", headers=who.headers)
        assert deleted.status_code == 403, deleted.text
    for who in (viewer, operator, editor):  # everyone reads
        assert org.read_backup(backup_id, headers=who.headers)["id"] == backup_id
    assert (
        api.delete(f"/api/v1/backups/{backup_id}", headers=editor.headers).status_code == 403
    )  # only admins delete
    schedule = api.post(
        "/api/v1/backup-schedules",
        headers=editor.headers,
        json={
            "name": "nope",
            "cluster_id": org.hub["id"],
            "full": {"every": "1h", "retention_days": 1},
        },
    )
    assert schedule.status_code == 403, schedule.text


async def test_another_organization_sees_and_restores_nothing(api, stack, org, streams):
    stream = await streams.make(count=3)
    started = org.backup([stream])
    assert started.status_code == 202, started.text
    backup_id = started.json()["backup_id"]
    other = backup_org(api, stack)

    assert api.get(f"/api/v1/backups/{backup_id}", headers=other.headers).status_code == 404
    assert api.get("/api/v1/backups", headers=other.headers).json()["items"] == []
    listed = api.get("/api/v1/backups", headers=org.headers).json()["items"]
    assert [b["id"] for b in listed] == [backup_id]
    restore = other.restore(backup_id, "stolen")
    assert restore.status_code == 404, restore.text
    assert api.post(f"/api/v1/backups/{backup_id}/verify", headers=other.headers).status_code == 404
    assert api.delete(f"/api/v1/backups/{backup_id}", headers=other.headers).status_code == 404
    # its clusters are not theirs either: as source, as target, as restore destination
    theirs = api.post(
        "/api/v1/operations/backup",
        headers=other.headers,
        json={"cluster_id": org.hub["id"], "streams": [stream]},
    )
    assert theirs.status_code == 404, theirs.text
    into = other.backup([stream], target={"cluster_id": org.dr["id"]})
    assert into.status_code == 404, into.text
    assert "cluster" in into.json()["detail"]
    mine = org.restore(backup_id, "restored_x", cluster_id=other.hub["id"])
    assert mine.status_code == 404, mine.text


async def test_what_a_backup_request_is_refused_for(api, stack, org, streams):
    stream = await streams.make(count=1)
    missing = org.backup([stream, "no_such_stream"])
    assert missing.status_code == 404 and "no_such_stream" in missing.json()["detail"]
    unknown = api.post(
        "/api/v1/operations/backup",
        headers=org.headers,
        json={"cluster_id": str(uuid.uuid4()), "streams": "all"},
    )
    assert unknown.status_code == 404, unknown.text

    team = api.post(
        "/api/v1/teams",
        headers=org.headers,
        json={
            "name": "empty-team",
            "namespaces": [{"cluster_id": org.hub["id"], "prefix": "nothing_here_"}],
        },
    )
    assert team.status_code == 201, team.text
    nothing = org.backup("all", team_id=team.json()["id"])
    assert nothing.status_code == 409 and "Nothing to back up" in nothing.json()["detail"]
    outside = org.backup([stream], team_id=team.json()["id"])
    assert outside.status_code == 409, outside.text

    lonely = backup_org(api, stack, dr=False)  # no other cluster to keep a backup on
    reply = lonely.backup([stream])
    assert reply.status_code == 422 and "target" in reply.json()["detail"], reply.text

    for bad in (
        {"directory": "../escape"},
        {"directory": "/etc"},
        {"bucket": "x"},
        {"cluster_id": org.dr["id"], "bucket": "has space"},
    ):
        reply = org.backup([stream], target=bad)
        assert reply.status_code == 422, (bad, reply.text)
    assert org.backup([], kind="full").status_code == 422
    assert org.backup([stream], kind="differential").status_code == 422


async def test_a_directory_target_cannot_leave_the_backup_root_through_a_link(
    api, stack, org, streams
):
    stream = await streams.make(count=1)
    home = backup_root(stack.settings) / org.admin.org_id
    home.mkdir(parents=True, exist_ok=True)
    link = home / "elsewhere"
    if not link.exists():
        os.symlink("/tmp", link)
    reply = org.backup([stream], target={"directory": "elsewhere/x"})
    assert reply.status_code == 422 and "outside" in reply.json()["detail"], reply.text
    assert Path(link).is_symlink()


async def test_what_a_restore_request_is_refused_for(api, org, streams, hub_nc):
    stream = await streams.make(count=2)
    other = await streams.make(count=1)
    started = org.backup([stream, other])
    assert started.status_code == 202, started.text
    backup_id = started.json()["backup_id"]

    assert org.restore(str(uuid.uuid4()), "x").status_code == 404
    unknown_cluster = org.restore(backup_id, "x", cluster_id=str(uuid.uuid4()), stream=stream)
    assert unknown_cluster.status_code == 404, unknown_cluster.text
    ambiguous = org.restore(backup_id, "x")
    assert ambiguous.status_code == 422 and "stream" in ambiguous.json()["detail"]
    absent = org.restore(backup_id, "x", stream="not_in_it")
    assert absent.status_code == 422 and "not_in_it" in absent.json()["detail"]
    bad_name = org.restore(backup_id, "has space", stream=stream)
    assert bad_name.status_code == 422


async def test_a_team_scoped_reader_sees_only_its_teams_backups(api, org, streams):
    prefix = f"{unique('teamread').replace('-', '_')}_"
    mine = await streams.make(name=f"{prefix}orders", count=2)
    other = await streams.make(count=2)
    reader = org.member("member")
    add_team(api, org.admin, (org.hub["id"], prefix), members=(reader,))
    role = api.post(
        "/api/v1/roles",
        headers=org.headers,
        json={
            "name": unique("backup-team-reader"),
            "permissions": ["clusters:read:*", "backups:read:team"],
        },
    )
    assert role.status_code == 201, role.text
    assert (
        api.patch(
            f"/api/v1/users/{reader.user_id}",
            headers=org.headers,
            json={"role": role.json()["name"]},
        ).status_code
        == 200
    )
    ids = {}
    for name in (mine, other):
        started = org.backup([name])
        assert started.status_code == 202, started.text
        ids[name] = started.json()["backup_id"]

    listed = api.get(
        "/api/v1/backups", headers=reader.headers, params={"cluster_id": org.hub["id"]}
    )
    assert listed.status_code == 200, listed.text
    seen = {b["id"] for b in listed.json()["items"]}
    assert ids[mine] in seen and ids[other] not in seen
    assert api.get(f"/api/v1/backups/{ids[mine]}", headers=reader.headers).status_code == 200
    hidden = api.get(f"/api/v1/backups/{ids[other]}", headers=reader.headers)
    assert hidden.status_code == 404, hidden.text
    # the organization's admin still sees both
    every = {
        b["id"]
        for b in api.get(
            "/api/v1/backups", headers=org.headers, params={"cluster_id": org.hub["id"]}
        ).json()["items"]
    }
    assert {ids[mine], ids[other]} <= every
    for backup_id in ids.values():
        org.wait_verified(backup_id)
