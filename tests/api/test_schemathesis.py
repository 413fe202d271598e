"""Schemathesis over the live OpenAPI schema, authenticated, with every check it has (the
``--checks all`` of its command line): no 5xx, every status code, content type, header and body
the schema declares, schema-invalid input refused, schema-valid input accepted (but where a reason
below says why not), authentication not ignored. It runs as the admin of an organization of its
own, so whatever it creates or deletes touches nothing the other tests use.

Its coverage phase is not run here, so the undeclared-method checks have a test of their own
(every path, every method it does not declare: ``405`` with the exact ``Allow``)."""

from __future__ import annotations

import os

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from tests.api.routes import fill, operations

EXAMPLES_PER_OPERATION = 8
# The same generated cases on every run, so CI judges the change and not the dice; set
# JSC_SCHEMATHESIS_RANDOM=1 to explore new cases (do it often: it is how bugs are found).
DERANDOMIZE = not os.environ.get("JSC_SCHEMATHESIS_RANDOM")
# Streams that never end (server-sent events) and the call that would end its own session.
SKIPPED = ("/watch", "/auth/logout", "/stream/metrics")
# Schema-valid input these routes refuse, and why: what makes it acceptable is a fact of the
# world (a reachable server, an existing object of the right kind), not of the request's shape.
REACH = (
    "a URL is accepted only when it resolves into the networks the platform may reach "
    "(DESIGN rule 8): a fact of DNS and settings, not of the request's shape"
)
CONTROL = "names and text refuse C0/C1 control characters (core.labels), not said in the schema"
PERMISSION = "a permission must be one the RBAC catalogue knows (core.rbac), checked at run time"
POSITIVE_NOT_ALWAYS_ACCEPTED: dict[str, str] = {
    "POST /api/v1/clusters": REACH,
    "POST /api/v1/webhooks": REACH,
    "PATCH /api/v1/webhooks/{webhook_id}": CONTROL,
    "POST /api/v1/gitops/repos": REACH + "; an ssh remote needs known_hosts",
    "PATCH /api/v1/gitops/repos/{repo_id}": "interval is a duration such as 5m "
    "(parsed, no pattern)",
    "POST /api/v1/ai/chat": "a conversation id must be one of the caller's; " + CONTROL,
    "POST /api/v1/ai/configure": "needs a model configured on the server, and " + CONTROL,
    "POST /api/v1/ai/proposals": "the proposed config is validated as a stream or consumer config",
    "POST /api/v1/alerts/rules": "a threshold's range and a cooldown's syntax depend on the kind",
    "POST /api/v1/alerts/test": "a rule to test must be named (rule_id or an inline rule)",
    "POST /api/v1/alerts/rules/{rule_id}/snooze": "'for' is a duration such as 1h (parsed)",
    "GET /api/v1/analytics/metrics": "a metric must be one of the catalogue (core.analytics)",
    "POST /api/v1/analytics/query": "a metric must be one of the catalogue (core.analytics)",
    "GET /api/v1/analytics/cluster/overview": "range is a duration such as 1h (parsed)",
    "GET /api/v1/analytics/consumers/{name}/lag": "range is a duration such as 1h (parsed)",
    "GET /api/v1/ai/diagnose": "the stream and consumer named are read through the API, whose "
    "names refuse control characters (core.labels)",
    "PATCH /api/v1/clusters/{cluster_id}": "credentials: a user goes with its password, and a "
    "creds file or token is checked as such (validated, not said in the schema)",
    "POST /api/v1/clusters/{cluster_id}/kv/{bucket}/keys": "keys follow NATS key rules, and a "
    "value's form must fit its encoding",
    "POST /api/v1/auth/forgot-password": "an e-mail address is checked by email-validator, "
    "not by a pattern",
    "POST /api/v1/dr/pairs": "the two clusters must exist, differ and be reachable, and "
    "RPO/RTO are bounded by each other (validated, not said in the schema)",
    "POST /api/v1/clusters/{cluster_id}/kv": "metadata keys and values follow NATS header rules, "
    "and a bucket's limits are checked against the cluster's",
    "GET /api/v1/alerts/events": "since must be before until; years before 1970 are refused",
    "GET /api/v1/audit/logs": "since must be before until; years before 1970 are refused",
    "GET /api/v1/audit/logs/export": "since must be before until; years before 1970 are refused",
    "POST /api/v1/api-keys": PERMISSION,
    "PATCH /api/v1/api-keys/{key_id}": PERMISSION,
    "POST /api/v1/roles": PERMISSION,
    "POST /api/v1/approval-policies": "group teams must exist; durations and counts cross-checked",
    "POST /api/v1/approvals/{request_id}/reject": "a rejection needs a comment saying why",
    "POST /api/v1/auth/register": "a password must pass the strength rules; an invitation or an "
    "organization is needed (anyOf over nullable pairs)",
    "POST /api/v1/auth/reset-password": "a password must pass the strength rules",
    "POST /api/v1/auth/mfa/verify": "a TOTP code is right only for the current 30 seconds",
    "POST /api/v1/users/invite": "an e-mail address and a role that exists are checked",
    "POST /api/v1/backup-schedules": "a target directory and stream names are checked ("
    + CONTROL
    + ")",
    "PATCH /api/v1/backup-schedules/{schedule_id}": CONTROL,
    "POST /api/v1/operations/backup": "a backup needs at least one stream of the cluster",
    "POST /api/v1/operations/failover": "give pair_id, or primary_cluster_id with streams (anyOf "
    "over nullable fields, left out of the schema)",
    "POST /api/v1/operations/replay": "on the same cluster a destination subject is needed",
    "POST /api/v1/clusters/{cluster_id}/streams/{stream}/consumers": "a consumer config needs a "
    "name and JetStream's rules",
    "POST /api/v1/clusters/{cluster_id}/streams/{stream}/consumers/{name}/pause": (
        "pausing until a time in the past is refused"
    ),
    "POST /api/v1/dashboards": "widgets are validated by kind",
    "PATCH /api/v1/dashboards/{dashboard_id}": "widgets are validated by kind",
    "GET /api/v1/clusters/{cluster_id}/kv/{bucket}/keys": "key filters follow NATS subject rules",
    "GET /api/v1/clusters/{cluster_id}/kv/{bucket}/keys/{key}": "keys follow NATS key rules",
    "PUT /api/v1/clusters/{cluster_id}/kv/{bucket}/keys/{key}": "keys follow NATS key rules",
    "DELETE /api/v1/clusters/{cluster_id}/kv/{bucket}/keys/{key}": "keys follow NATS key rules",
    "GET /api/v1/clusters/{cluster_id}/kv/{bucket}/history/{key}": "keys follow NATS key rules",
    "GET /api/v1/clusters/{cluster_id}/streams/{name}/messages": "a cursor is one the API issued",
    "GET /api/v1/clusters/{cluster_id}/streams/{name}/messages/last": "subjects follow NATS rules",
    "POST /api/v1/clusters/{cluster_id}/streams/{name}/messages": "subjects and header names "
    "follow NATS rules",
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
IMPLICIT = {"HEAD", "OPTIONS"}  # answered by routes the schema does not list (CORS preflight)


def all_checks() -> list:
    load_all_checks()
    return [check for check in CHECKS.get_all() if not isinstance(check, type)]


def _failures(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [f for inner in exc.exceptions for f in _failures(inner)]
    return [exc]


async def test_every_check_passes_on_every_operation(stack, make_member):
    signed_in, _, _ = await make_member("admin", org="new")
    # Its generated bad passwords and keys (and ignored_auth's invalid credentials) count against
    # an address of each case's own (the API trusts X-Forwarded-For from loopback, as from a local
    # proxy), not against every test's 127.0.0.1: the address throttle has tests of its own.
    addresses = (f"198.18.{n // 250}.{n % 250 + 1}" for n in range(10**6))
    schema = schemathesis.openapi.from_url(f"{stack.api_url}/openapi.json")
    checks = all_checks()
    assert {c.__name__ for c in checks} >= {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "ignored_auth",
        "negative_data_rejection",
        "positive_data_acceptance",
        "response_headers_conformance",
        "response_schema_conformance",
    }
    positive = CHECKS.get_one("positive_data_acceptance")
    operations_ = [result.ok() for result in schema.get_all_operations()]
    found: dict[tuple[str, str], str] = {}
    checked = 0
    for operation in operations_:
        if any(part in operation.path for part in SKIPPED):
            continue
        checked += 1
        excluded = [positive] if operation.label in POSITIVE_NOT_ALWAYS_ACCEPTED else []
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=DERANDOMIZE,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(operation, excluded, case):
            headers = {**signed_in, "X-Forwarded-For": next(addresses)}
            try:
                case.call_and_validate(
                    base_url=stack.api_url,
                    headers=headers,
                    timeout=15,
                    checks=checks,
                    excluded_checks=excluded,
                )
            except (AssertionError, BaseExceptionGroup) as exc:
                for failure in _failures(exc):
                    title = getattr(failure, "title", type(failure).__name__)
                    found.setdefault(
                        (operation.label, title),
                        f"{operation.label}: {failure}"[:700]
                        + f"\n  {case.as_curl_command()[:400]}",
                    )

        run(operation, excluded)
    assert checked > 50, f"only {checked} operations in the schema?"
    if os.environ.get("JSC_SCHEMATHESIS_REPORT"):  # every failure, for whoever fixes them
        with open(os.environ["JSC_SCHEMATHESIS_REPORT"], "w") as report:
            report.write("\n\n".join(found.values()))
    assert not found, f"{len(found)} failures:\n" + "\n\n".join(list(found.values())[:40])


async def test_an_undeclared_method_is_405_with_the_path_s_methods(stack, make_member):
    headers, _, _ = await make_member("admin", org="new")
    schema = httpx.get(f"{stack.api_url}/openapi.json").json()
    declared: dict[str, set[str]] = {}
    for method, path, _ in operations(schema):
        declared.setdefault(path, set()).add(method)
    wrong: list[str] = []
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as client:
        for path, methods in sorted(declared.items()):
            op = next(op for m, p, op in operations(schema) if p == path)
            url = fill(path, op, "00000000-0000-0000-0000-000000000000")
            for method in sorted(set(METHODS) - methods):
                reply = client.request(method, url)
                allow = {
                    m.strip() for m in reply.headers.get("allow", "").split(",") if m.strip()
                } - IMPLICIT
                if reply.status_code != 405 or allow != methods:
                    wrong.append(
                        f"{method} {path}: {reply.status_code}, Allow {sorted(allow)}, "
                        f"declared {sorted(methods)}"
                    )
                elif reply.headers["content-type"] != "application/problem+json":
                    wrong.append(f"{method} {path}: {reply.headers['content-type']}")
    assert len(declared) > 100
    assert not wrong, "\n".join(wrong)
