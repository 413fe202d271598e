"""Names, titles and descriptions refuse C0/C1 control characters on every route that creates or
renames something, with a 422 naming the field, and take ordinary Unicode. The routes are the
table below; the OpenAPI schema says which request fields name something, so a new route with a
name that is not in the table (or not guarded) fails here."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.api.orgs import PASSWORD, Account, add_cluster, invite, signup
from tests.fixtures import unique

BAD = ["\x82W", "a\x00b"]
GOOD = ["Équipe données", "数据"]
STREAM_GOOD = ["数据", "Données"]  # a stream or consumer name has no spaces
LABEL_FIELDS = {
    "name",
    "title",
    "description",
    "first_name",
    "last_name",
    "organization_name",
    "durable_name",
}
# Request fields that are named like a label but are not one of the console's names.
EXEMPT = {
    (
        "POST",
        "/api/v1/ai/configure",
        "description",
    ): "a request to the assistant in free text, checked by its own rule",
    (
        "POST",
        "/api/v1/clusters/{cluster_id}/streams",
        "description",
    ): "JetStream's own field: a config read from a cluster is posted back unchanged",
    (
        "POST",
        "/api/v1/clusters/{cluster_id}/streams/{stream}/consumers",
        "description",
    ): "JetStream's own field: a config read from a cluster is posted back unchanged",
    (
        "POST",
        "/api/v1/clusters/{cluster_id}/kv",
        "description",
    ): "JetStream's own field (a KV bucket's stream description)",
    (
        "POST",
        "/api/v1/clusters/{cluster_id}/objects",
        "description",
    ): "JetStream's own field (an object store's stream description)",
    (
        "PATCH",
        "/api/v1/clusters/{cluster_id}/objects/{bucket}/info/{name}",
        "description",
    ): "an object's own metadata in the object store",
}
WIDGET = {"query": {"metric": "messages_rate", "filters": {"stream": "ORDERS"}, "range": "24h"}}


@dataclass
class Case:
    method: str
    path: str  # the OpenAPI path; {placeholders} are filled from the module's objects
    field: str  # as the 422 names it
    body: Callable[[str], dict[str, Any]]
    good: list[str] | None = field(default_factory=lambda: GOOD)  # None: an ASCII-only name

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} {self.field}"


def _with(key: str, **base) -> Callable[[str], dict]:
    """A body of ``base`` (values called if callable) with ``key`` set to the value tried."""
    return lambda v: {**{k: b() if callable(b) else b for k, b in base.items()}, key: v}


def _name(v: str) -> str:
    return f"{v}-{uuid.uuid4().hex[:6]}"  # unique, for names that must be


def _uniq(key: str, **base) -> Callable[[str], dict]:
    return lambda v: {**{k: b() if callable(b) else b for k, b in base.items()}, key: _name(v)}


def _rule(v: str, ctx: dict) -> dict:
    return {
        "name": v,
        "kind": "consumer_lag",
        "cluster_id": ctx["cluster"],
        "stream": "ORDERS",
        "consumer": "billing",
        "threshold": 100,
        "for": "5m",
    }


def _policy(**extra) -> dict:
    return {
        "name": unique("Policy"),
        "priority": 50,
        "triggers": {"environments": ["production"], "kinds": ["stream"]},
        "groups": [{"name": "Admins", "count": 1, "roles": ["admin"]}],
        **extra,
    }


RID = str(uuid.uuid4())  # an object that does not exist: the body is refused before it is looked up
CASES = [
    Case("POST", "/api/v1/organizations", "name", _uniq("name")),
    Case("PATCH", "/api/v1/organizations/{org}", "name", _uniq("name")),
    Case(
        "POST",
        "/api/v1/auth/register",
        "organization_name",
        lambda v: {
            "email": f"{unique('label')}@example.com",
            "password": PASSWORD,
            "organization_name": _name(v),
        },
    ),
    Case(
        "POST",
        "/api/v1/auth/register",
        "first_name",
        lambda v: {
            "email": f"{unique('label')}@example.com",
            "password": PASSWORD,
            "organization_name": unique("Org"),
            "first_name": v,
        },
    ),
    Case(
        "POST",
        "/api/v1/auth/register",
        "last_name",
        lambda v: {
            "email": f"{unique('label')}@example.com",
            "password": PASSWORD,
            "organization_name": unique("Org"),
            "last_name": v,
        },
    ),
    Case("PATCH", "/api/v1/users/{member}", "first_name", _with("first_name")),
    Case("PATCH", "/api/v1/users/{member}", "last_name", _with("last_name")),
    Case("POST", "/api/v1/teams", "name", _uniq("name")),
    Case("POST", "/api/v1/teams", "description", _with("description", name=lambda: unique("t"))),
    Case("PATCH", "/api/v1/teams/{team}", "name", _uniq("name")),
    Case("PATCH", "/api/v1/teams/{team}", "description", _with("description")),
    Case("POST", "/api/v1/roles", "name", _with("name"), good=None),
    Case("POST", "/api/v1/roles", "description", _with("description", name=lambda: unique("role"))),
    Case("PATCH", "/api/v1/roles/{role}", "name", _with("name"), good=None),
    Case("PATCH", "/api/v1/roles/{role}", "description", _with("description")),
    Case("POST", "/api/v1/api-keys", "name", _uniq("name")),
    Case("PATCH", "/api/v1/api-keys/{key}", "name", _uniq("name")),
    Case(
        "POST",
        "/api/v1/clusters",
        "name",
        _with("name", environment="development", server_urls=["nats://127.0.0.1:4222"]),
        good=None,
    ),
    Case(
        "POST",
        "/api/v1/clusters",
        "description",
        _with(
            "description",
            name="x",
            environment="development",
            server_urls=["nats://127.0.0.1:4222"],
        ),
        good=None,
    ),  # not registered twice: see PATCH
    Case("PATCH", "/api/v1/clusters/{cluster}", "name", _with("name"), good=None),
    Case("PATCH", "/api/v1/clusters/{cluster}", "description", _with("description")),
    Case("POST", "/api/v1/dashboards", "name", _uniq("name")),
    Case(
        "POST",
        "/api/v1/dashboards",
        "widgets.0.title",
        lambda v: {"name": unique("board"), "widgets": [{**WIDGET, "title": v}]},
    ),
    Case("PATCH", "/api/v1/dashboards/{dashboard}", "name", _uniq("name")),
    Case(
        "PATCH",
        "/api/v1/dashboards/{dashboard}",
        "widgets.0.title",
        lambda v: {"widgets": [{**WIDGET, "title": v}]},
    ),
    Case("POST", "/api/v1/dashboards/{dashboard}/clone", "name", _uniq("name")),
    Case("POST", "/api/v1/alerts/rules", "name", lambda v: {"ctx": True, "name": _name(v)}),
    Case("PATCH", "/api/v1/alerts/rules/{rule}", "name", _uniq("name")),
    Case("POST", "/api/v1/webhooks", "name", _uniq("name", url="https://hooks.example.com/labels")),
    Case("PATCH", "/api/v1/webhooks/{webhook}", "name", _uniq("name")),
    Case("POST", "/api/v1/approval-policies", "name", lambda v: _policy(name=_name(v))),
    Case("POST", "/api/v1/approval-policies", "description", lambda v: _policy(description=v)),
    Case(
        "POST",
        "/api/v1/approval-policies",
        "groups.0.name",
        lambda v: _policy(groups=[{"name": v, "count": 1, "roles": ["admin"]}]),
    ),
    Case("PATCH", "/api/v1/approval-policies/{policy}", "name", _uniq("name")),
    Case("PATCH", "/api/v1/approval-policies/{policy}", "description", _with("description")),
    Case(
        "POST",
        "/api/v1/clusters/{cluster}/streams",
        "name",
        lambda v: {"name": _name(v), "subjects": [f"{unique('labels')}.>"]},
        good=STREAM_GOOD,
    ),
    Case(
        "POST",
        "/api/v1/clusters/{cluster}/streams",
        "sources.0.name",  # a stream it names
        lambda v: {"name": unique("labels"), "sources": [{"name": v}]},
        good=None,
    ),
    Case(
        "POST",
        "/api/v1/clusters/{cluster}/streams/{stream}/consumers",
        "name",
        _uniq("name", ack_policy="explicit"),
        good=STREAM_GOOD,
    ),
    Case(
        "POST",
        "/api/v1/clusters/{cluster}/streams/{stream}/consumers",
        "durable_name",
        _uniq("durable_name", ack_policy="explicit"),
        good=STREAM_GOOD,
    ),
    Case(
        "POST",
        "/api/v1/dr/pairs",
        "name",
        _with(
            "name",
            primary_cluster_id=RID,
            standby_cluster_id=str(uuid.uuid4()),
            streams=[{"stream": "orders"}],
        ),
        good=None,
    ),
    Case(
        "POST",
        "/api/v1/dr/pairs",
        "description",
        _with(
            "description",
            name="pair",
            primary_cluster_id=RID,
            standby_cluster_id=str(uuid.uuid4()),
            streams=[{"stream": "orders"}],
        ),
        good=None,
    ),
    Case("PATCH", f"/api/v1/dr/pairs/{RID}", "description", _with("description"), good=None),
    Case(
        "POST",
        "/api/v1/operations/mirror",
        "description",
        _with(
            "description",
            source_cluster_id=RID,
            source_stream="orders",
            target_cluster_id=RID,
            target_stream="orders-copy",
        ),
        good=None,
    ),
    Case(
        "POST",
        "/api/v1/operations/mirror",
        "target_stream",
        _with(
            "target_stream", source_cluster_id=RID, source_stream="orders", target_cluster_id=RID
        ),
        good=None,
    ),
    Case(
        "POST",
        "/api/v1/backup-schedules",
        "name",
        _with("name", cluster_id=RID, streams=["orders"], full={"cron": "0 2 * * *"}),
        good=None,
    ),
    Case("PATCH", f"/api/v1/backup-schedules/{RID}", "name", _with("name"), good=None),
    Case(
        "POST",
        "/api/v1/gitops/repos",
        "name",
        _with("name", url="https://git.example.com/config.git", environments={"dev": RID}),
        good=None,
    ),
    Case("PATCH", f"/api/v1/gitops/repos/{RID}", "name", _with("name"), good=None),
]


@pytest.fixture(scope="module")
def objects(api, stack) -> dict[str, Any]:
    """An organization of its own with one of each object a case renames."""
    owner = signup(api)
    h = owner.headers

    def made(path: str, body: dict) -> str:
        reply = api.post(path, headers=h, json=body)
        assert reply.status_code == 201, reply.text
        return str(reply.json()["id"])

    cluster = add_cluster(api, owner, stack.env["JSC_HUB_URL"])["id"]
    stream = unique("labels")
    reply = api.post(
        f"/api/v1/clusters/{cluster}/streams",
        headers=h,
        json={"name": stream, "subjects": [f"{stream}.>"]},
    )
    assert reply.status_code in (200, 201), reply.text
    ctx = {
        "owner": owner,
        "org": owner.org_id,
        "cluster": cluster,
        "stream": stream,
        "member": invite(api, owner, "viewer").user_id,
        "team": made("/api/v1/teams", {"name": unique("team")}),
        "role": made("/api/v1/roles", {"name": unique("role")}),
        "key": made("/api/v1/api-keys", {"name": unique("key")}),
        "dashboard": made("/api/v1/dashboards", {"name": unique("board")}),
        "webhook": made(
            "/api/v1/webhooks", {"name": unique("hook"), "url": "https://hooks.example.com/labels"}
        ),
        "policy": made("/api/v1/approval-policies", _policy()),
    }
    ctx["rule"] = made("/api/v1/alerts/rules", _rule(unique("rule"), ctx))
    yield ctx
    for name in [stream, *ctx.get("streams", [])]:
        api.delete(f"/api/v1/clusters/{cluster}/streams/{name}", headers=h)


def send(api, objects: dict, case: Case, value: str):
    body = case.body(value)
    if body.pop("ctx", False):
        body = _rule(body["name"], objects)
    path = case.path.format(**{k: v for k, v in objects.items() if isinstance(v, str)})
    owner: Account = objects["owner"]
    headers = {} if path == "/api/v1/auth/register" else owner.headers
    return api.request(case.method, path, headers=headers, json=body), body


@pytest.mark.parametrize("value", BAD, ids=["C1", "NUL"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_control_character_is_refused_naming_the_field(api, objects, case, value):
    reply, _ = send(api, objects, case, value)
    assert reply.status_code == 422, reply.text
    problem = reply.json()
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert case.field in [e["field"] for e in problem["errors"]], problem
    assert f"{case.field}: " in problem["detail"]
    if case.good is not None:  # a Label: the sentence says what is wrong
        message = next(e["message"] for e in problem["errors"] if e["field"] == case.field)
        assert "must not contain control characters" in message


ACCEPTING = [(c, g) for c in CASES if c.good for g in c.good]


@pytest.mark.parametrize("case,value", ACCEPTING, ids=[f"{c.id} {g}" for c, g in ACCEPTING])
def test_ordinary_unicode_is_accepted(api, objects, case, value):
    reply, body = send(api, objects, case, value)
    assert reply.status_code in (200, 201, 202), reply.text
    sent = body.get(case.field) if "." not in case.field else value
    if case.path.endswith("/streams"):
        objects.setdefault("streams", []).append(sent)
    if case.path != "/api/v1/auth/register":  # it answers with tokens, not the profile
        sent = sent if sent is not None else value
        assert sent in json.dumps(reply.json(), ensure_ascii=False)


def _label_fields(schema: dict, node: dict, prefix: str = "") -> list[tuple[str, dict]]:
    """(dotted field, its string schema) of every label-like field of a request body."""
    comps = schema["components"]["schemas"]
    node = comps[node["$ref"].split("/")[-1]] if "$ref" in node else node
    found = []
    for key, prop in node.get("properties", {}).items():
        options = prop.get("anyOf", [prop])
        for option in options:
            option = comps[option["$ref"].split("/")[-1]] if "$ref" in option else option
            if option.get("type") == "string" and key in LABEL_FIELDS:
                found.append((prefix + key, option))
            elif option.get("type") == "array" and "items" in option and not prefix:
                found += _label_fields(schema, option["items"], f"{prefix}{key}.0.")
    return found


def test_every_name_in_a_request_body_is_guarded_and_in_the_table(api):
    schema = api.get("/openapi.json").json()
    table = {(c.method, re.sub(r"/[0-9a-f-]{36}", "/{id}", c.path), c.field) for c in CASES}
    missing, unguarded = [], []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if method not in ("post", "put", "patch") or not body:
                continue
            for name, prop in _label_fields(schema, body["schema"]):
                key = (method.upper(), path, name)
                if key in EXEMPT:
                    continue
                pattern = prop.get("pattern")
                if not pattern or any(re.search(pattern, bad) for bad in BAD):
                    unguarded.append(key)
                generic = re.sub(r"\{[a-z_]+\}", "{id}", path)
                if not any(
                    m == key[0] and re.sub(r"\{[a-z_]+\}", "{id}", p) == generic and f == name
                    for m, p, f in table
                ):
                    missing.append(key)
    assert not unguarded, f"label fields whose schema lets control characters in: {unguarded}"
    assert not missing, f"label fields of request bodies not in CASES: {missing}"


ROLES = ("admin", "editor", "viewer", "operator", "member")


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_is_refused_before_or_told_the_field(api, make_member, role):
    headers, _, _ = await make_member(role, org="new")
    ordinary = api.post("/api/v1/api-keys", headers=headers, json={"name": "Clé d'équipe"})
    bad = api.post("/api/v1/api-keys", headers=headers, json={"name": "\x82W"})
    if ordinary.status_code == 201:
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "name", bad.text
    else:
        assert ordinary.status_code == 403 and bad.status_code == 403, bad.text
    listed = api.get("/api/v1/api-keys", headers=headers)
    if listed.status_code == 200:
        assert all("\x82" not in k["name"] for k in listed.json()["items"])
