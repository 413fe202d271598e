"""/healthz and /readyz; a stopped backing service turns readiness to 503 naming it, and the
requests that need it answer 503 naming it too, never a stack trace."""

from __future__ import annotations

import time

import pytest


def wait_ready(api, expect: int, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        reply = api.get("/readyz")
        if reply.status_code == expect:
            return reply
        assert time.monotonic() < deadline, f"/readyz stayed {reply.status_code}: {reply.text}"
        time.sleep(0.3)


def test_health_and_readiness(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = wait_ready(api, 200).json()
    assert ready["checks"] == {
        name: "ok"
        for name in (
            "postgres",
            "redis",
            "temporal",
            "clickhouse",
            "nats",
            "ingester",
            "metrics_ingester",
        )
    }


def test_openapi_docs_and_metrics_are_served(api):
    assert api.get("/docs").status_code == 200
    paths = api.get("/openapi.json").json()["paths"]
    assert "/api/v1/clusters/{cluster_id}/streams/{name}/purge" in paths
    api.get("/healthz")
    metrics = api.get("/metrics/")
    assert metrics.status_code == 200 and "jsc_http_requests_total" in metrics.text


@pytest.mark.parametrize("service", ["redis", "postgres"])
def test_a_stopped_service_turns_readyz_503_naming_it(
    api, admin_headers, hub_cluster, stack, service
):
    stack.stop_service(service)
    try:
        down = wait_ready(api, 503)
        assert down.headers["content-type"].startswith("application/problem+json")
        assert down.json()["unavailable"] == [service]
        assert service in down.json()["detail"]
        # A request that needs it says which service is down.
        reply = api.get(f"/api/v1/clusters/{hub_cluster['id']}", headers=admin_headers)
        assert reply.status_code == 503, reply.text
        assert reply.json()["service"] == service
        assert "Traceback" not in reply.text
    finally:
        stack.start_service(service)
    wait_ready(api, 200, timeout=60)
    assert (
        api.get(f"/api/v1/clusters/{hub_cluster['id']}", headers=admin_headers).status_code == 200
    )


def test_every_answer_carries_its_request_id(api):
    """Given by the caller, it is kept; else one is made. A streamed answer gets it too."""
    assert (
        api.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    made = api.get("/healthz").headers["x-request-id"]
    assert len(made) == 32 and made != api.get("/healthz").headers["x-request-id"]
