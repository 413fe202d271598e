"""The audit log: filters, paging, and export as CSV and JSON lines."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from tests.fixtures import unique, wait_for_audit


def test_filters_paging_and_export(api, admin_headers, hub_cluster):
    started = datetime.now(UTC) - timedelta(seconds=1)
    base = f"/api/v1/clusters/{hub_cluster['id']}/streams"
    names = [unique("audited") for _ in range(3)]
    for name in names:
        assert (
            api.post(
                base, headers=admin_headers, json={"name": name, "subjects": [f"{name}.>"]}
            ).status_code
            == 201
        )
    for name in names:
        wait_for_audit(api, admin_headers, action="stream.create", resource_name=name)

    one = api.get(
        "/api/v1/audit/logs",
        headers=admin_headers,
        params={"resource_name": names[1], "action": "stream.create"},
    ).json()["items"]
    assert [e["resource_name"] for e in one] == [names[1]]
    assert (
        one[0]["cluster_id"] == hub_cluster["id"] and one[0]["changes"]["after"]["name"] == names[1]
    )

    recent = {
        "action": "stream.create",
        "since": started.isoformat(),
        "cluster_id": hub_cluster["id"],
    }
    first = api.get(
        "/api/v1/audit/logs", headers=admin_headers, params={**recent, "limit": 2}
    ).json()
    second = api.get(
        "/api/v1/audit/logs",
        headers=admin_headers,
        params={**recent, "limit": 2, "offset": first["next_offset"]},
    ).json()
    paged = [e["id"] for e in first["items"] + second["items"]]
    assert len(paged) == len(set(paged)) >= 3
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (
        api.get("/api/v1/audit/logs", headers=admin_headers, params={"since": future}).json()[
            "items"
        ]
        == []
    )

    lines = api.get(
        "/api/v1/audit/logs/export", headers=admin_headers, params={**recent, "format": "jsonl"}
    )
    assert lines.headers["content-type"].startswith("application/x-ndjson")
    exported = [json.loads(line) for line in lines.text.splitlines()]
    assert {e["resource_name"] for e in exported} >= set(names)
    table = api.get(
        "/api/v1/audit/logs/export", headers=admin_headers, params={**recent, "format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert {r["resource_name"] for r in rows} >= set(names)
    assert json.loads(rows[0]["changes"])
    for name in names:
        api.delete(f"{base}/{name}", headers=admin_headers)


async def test_only_auditors_read_the_log(api, make_member):
    editor, _, _ = await make_member("editor")
    assert api.get("/api/v1/audit/logs/export", headers=editor).status_code == 403
    bad = api.get("/api/v1/audit/logs", headers=editor, params={"status": "maybe"})
    assert bad.status_code in (403, 422)
