"""``POST /api/v1/ai/proposals``, the route the assistant's ``propose_change`` tool calls, outside
in: the change gate of a person's change (permission, namespace, validation, quotas, policy)
and never an applied change."""

from __future__ import annotations

import pytest

from tests.api.orgs import add_cluster, add_team, invite, signup
from tests.fixtures import unique

MB = 1024 * 1024


@pytest.fixture
def org(api, stack):
    owner = signup(api)
    cluster = add_cluster(api, owner, stack.env["JSC_HUB_URL"])
    prefix = unique("P").upper().replace("-", "_")
    stream = f"{prefix}_ORDERS"
    assert (
        api.post(
            f"/api/v1/clusters/{cluster['id']}/streams",
            headers=owner.headers,
            json={"name": stream, "subjects": [f"{stream.lower()}.>"], "storage": "memory"},
        ).status_code
        == 201
    )
    return owner, cluster["id"], prefix, stream


def _propose(api, headers, cid, **body):
    body = {"cluster_id": cid, "kind": "stream", "operation": "update", "reason": "test", **body}
    return api.post("/api/v1/ai/proposals", headers=headers, json=body)


def test_an_update_becomes_a_request_reviewed_by_another_person(api, org):
    owner, cid, _, stream = org
    reply = _propose(api, owner.headers, cid, stream=stream, config={"max_bytes": 4 * MB})
    assert reply.status_code == 202, reply.text
    request = api.get(
        f"/api/v1/approvals/{reply.json()['request_id']}", headers=owner.headers
    ).json()
    assert request["status"] == "waiting_approval"
    groups = request["decision"]["groups"]
    assert groups and set(groups[0]["roles"]) <= {"admin", "editor"}
    assert any("assistant" in r for r in request["decision"]["reasons"])
    # the owner cannot approve what the assistant filed for them
    vote = api.post(
        f"/api/v1/approvals/{request['id']}/approve", headers=owner.headers, json={"comment": "ok"}
    )
    assert vote.status_code in (403, 409)
    # another admin approves; then it is applied
    second = invite(api, owner, "admin")
    vote = api.post(
        f"/api/v1/approvals/{request['id']}/approve", headers=second.headers, json={"comment": "ok"}
    )
    assert vote.status_code in (200, 202), vote.text


def test_creations_of_streams_and_consumers(api, org):
    owner, cid, prefix, stream = org
    new = f"{prefix}_NEW"
    created = _propose(
        api,
        owner.headers,
        cid,
        operation="create",
        stream=new,
        config={"subjects": [f"{new.lower()}.>"], "storage": "file"},
    )
    assert created.status_code == 202, created.text
    assert (
        api.get(f"/api/v1/clusters/{cid}/streams/{new}", headers=owner.headers).status_code == 404
    )  # not applied
    consumer = _propose(
        api,
        owner.headers,
        cid,
        kind="consumer",
        operation="create",
        stream=stream,
        consumer="billing",
        config={"ack_policy": "explicit", "max_ack_pending": 100},
    )
    assert consumer.status_code == 202, consumer.text
    again = _propose(
        api, owner.headers, cid, operation="create", stream=stream, config={"subjects": ["x.>"]}
    )
    assert again.status_code == 409 and "already exists" in again.json()["detail"]


def test_the_configuration_is_validated_like_the_api(api, org):
    owner, cid, _, stream = org
    bad = _propose(api, owner.headers, cid, stream=stream, config={"num_replicas": 9})
    assert bad.status_code == 422 and "config.num_replicas" in bad.text
    for body, field in (
        ({"kind": "consumer"}, "consumer"),
        ({"operation": "delete"}, "operation"),
        ({"reason": ""}, "reason"),
        ({"stream": "a b"}, "stream"),
    ):
        reply = _propose(api, owner.headers, cid, **{"stream": stream, "config": {}, **body})
        assert reply.status_code == 422 and field in reply.text, body


def test_roles_namespaces_and_organizations(api, org, stack):
    owner, cid, prefix, stream = org
    outside = unique("OUT").upper().replace("-", "_")
    assert (
        api.post(
            f"/api/v1/clusters/{cid}/streams",
            headers=owner.headers,
            json={"name": outside, "subjects": [f"{outside.lower()}.>"], "storage": "memory"},
        ).status_code
        == 201
    )
    member = invite(api, owner, "member")
    add_team(api, owner, (cid, prefix), members=(member,))
    for role in ("viewer", "operator"):
        who = invite(api, owner, role)
        assert (
            _propose(api, who.headers, cid, stream=stream, config={"max_bytes": MB}).status_code
            == 403
        ), role
    editor = invite(api, owner, "editor")
    assert (
        _propose(api, editor.headers, cid, stream=stream, config={"max_bytes": MB}).status_code
        == 202
    )
    assert (
        _propose(api, member.headers, cid, stream=stream, config={"max_bytes": MB}).status_code
        == 202
    )  # inside the namespace
    assert (
        _propose(api, member.headers, cid, stream=outside, config={"max_bytes": MB}).status_code
        == 403
    )  # outside it
    stranger = signup(api)
    assert (
        _propose(api, stranger.headers, cid, stream=stream, config={"max_bytes": MB}).status_code
        == 404
    )


def test_quotas_apply(api, org):
    owner, cid, prefix, stream = org
    member = invite(api, owner, "member")
    team = add_team(api, owner, (cid, prefix), members=(member,))
    assert (
        api.put(
            f"/api/v1/teams/{team['id']}/quotas",
            headers=owner.headers,
            json={"limits": {"streams": 1}},
        ).status_code
        == 200
    )
    reply = _propose(
        api,
        member.headers,
        cid,
        operation="create",
        stream=f"{prefix}_TWO",
        config={"subjects": [f"{prefix.lower()}_two.>"]},
    )
    assert reply.status_code == 409 and "quota-requests" in reply.json()["detail"]
