"""Tables fit an 80-column terminal: one line per row, nothing wrapped mid-word, ids shortened
when the full ones do not fit (``--json`` keeps them whole)."""

from __future__ import annotations

import json

from tests.fixtures import unique


def test_cluster_ls_fits_80_columns_and_json_keeps_everything(jsc, api, admin_headers, stack):
    name = unique("a-rather-long-cluster-name-for-the-table")
    reply = api.post(
        "/api/v1/clusters",
        headers=admin_headers,
        json={
            "name": name,
            "environment": "development",
            "jetstream_domain": "hub",
            "server_urls": [stack.env["JSC_HUB_URL"], stack.env["JSC_DR_URL"]],
        },
    )
    assert reply.status_code == 201, reply.text
    cluster = reply.json()
    narrow = jsc.ok("cluster", "ls", COLUMNS="80").stdout
    lines = narrow.splitlines()
    assert lines and all(len(line) <= 80 for line in lines), narrow
    rows = [line for line in lines if cluster["id"][:8] in line]
    assert len(rows) == 1, narrow  # the cluster's row is one line
    assert cluster["id"] not in narrow  # the id shortened to what fits
    assert "developmen\\n" not in narrow and "development" in narrow
    wide = jsc.ok("cluster", "ls", COLUMNS="200").stdout
    assert cluster["id"] in wide and name in wide  # room enough: everything whole
    listed = json.loads(jsc.ok("cluster", "ls", "--json", COLUMNS="80").stdout)["items"]
    assert {"id": cluster["id"], "name": name}.items() <= next(
        c for c in listed if c["id"] == cluster["id"]
    ).items()
    api.delete(f"/api/v1/clusters/{cluster['id']}", headers=admin_headers)
