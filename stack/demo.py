"""The local stack's demo: something to look at on a first ``jsc up``.

``register`` (run by the launcher once the API is ready, when the admin's password is known) logs in
through the API, registers the two local clusters (``local-hub``, ``local-dr``; their URLs are
updated when the ports moved) and ``local-prod`` (the hub server registered once more as a
production cluster, where changes wait for approval: through either registration, since one server
is judged by its strictest; it is registered last), creates the ``demo-orders`` stream on
local-hub and a ``payments`` team owning ``payments-`` there, with quotas, each only if absent.
``python -m stack.demo`` is the trickle the launcher supervises: about two JSON orders a second on
``demo.orders.<region>``, published with JetStream straight to the hub NATS (a local demo utility,
not an API client). While the stream does not exist it waits quietly and tries again.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from stack.ports import HOST

STREAM = "demo-orders"
REGIONS = ("eu-west", "us-east", "ap-south")


def _clusters(ports: dict[str, int]) -> list[dict]:
    return [
        {
            "name": "local-hub",
            "description": "Local primary cluster started by `jsc up`",
            "environment": "development",
            "server_urls": [f"nats://{HOST}:{ports['hub']}"],
            "jetstream_domain": "hub",
            "monitoring_url": f"http://{HOST}:{ports['hub_monitor']}",
        },
        {
            "name": "local-dr",
            "description": "Local disaster-recovery cluster (leafnode to local-hub)",
            "environment": "staging",
            "server_urls": [f"nats://{HOST}:{ports['dr']}"],
            "jetstream_domain": "dr",
            "monitoring_url": f"http://{HOST}:{ports['dr_monitor']}",
        },
        {
            "name": "local-prod",
            "description": "The local hub server registered as a production "
            "cluster: changes there follow the 'Production Changes' approval policy",
            "environment": "production",
            "server_urls": [f"nats://{HOST}:{ports['hub']}"],
            "jetstream_domain": "hub",
            "monitoring_url": f"http://{HOST}:{ports['hub_monitor']}",
        },
    ]


DEMO_TEAM = "payments"
DEMO_QUOTAS = {
    "streams": 15,
    "consumers": 50,
    "storage_bytes": 100 * 1024**3,
    "messages": 500_000_000,
    "max_msg_size": 8 * 1024**2,
    "max_replicas": 3,
}
"""The example limits of the source design's quota screen (section 7.1)."""


def _team(api, hub_id: str) -> None:
    teams = api.get("/api/v1/teams")
    teams.raise_for_status()
    if any(t["name"] == DEMO_TEAM for t in teams.json()["items"]):
        return
    made = api.post(
        "/api/v1/teams",
        json={
            "name": DEMO_TEAM,
            "description": "Demo team: self-service inside 'payments-' on local-hub",
            "namespaces": [{"cluster_id": hub_id, "prefix": "payments-"}],
        },
    )
    made.raise_for_status()
    api.put(
        f"/api/v1/teams/{made.json()['id']}/quotas", json={"limits": DEMO_QUOTAS}
    ).raise_for_status()


def _demo_stream(api, hub: str) -> None:
    found = api.get(f"/api/v1/clusters/{hub}/streams/{STREAM}")
    if found.status_code == 404:
        api.post(
            f"/api/v1/clusters/{hub}/streams",
            json={
                "name": STREAM,
                "subjects": ["demo.orders.>"],
                "max_age": "72h",
                "storage": "file",
                "num_replicas": 1,
            },
        ).raise_for_status()
    else:
        found.raise_for_status()


def register(
    api_url: str,
    email: str,
    password: str,
    ports: dict[str, int],
    say: Callable[[str], None] = print,
) -> bool:
    """Register the local clusters and the demo stream if absent. False (and said why) on failure:
    the demo is a convenience, the stack stays up without it."""
    import httpx

    try:
        with httpx.Client(base_url=api_url, timeout=15) as api:
            login = api.post("/api/v1/auth/login", json={"email": email, "password": password})
            login.raise_for_status()
            api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            listed = api.get("/api/v1/clusters")
            listed.raise_for_status()
            known = {c["name"]: c for c in listed.json()["items"]}
            # local-prod last: once the hub is also registered as production, a change on it
            # (the demo stream's creation included) is judged as production.
            clusters = sorted(_clusters(ports), key=lambda c: c["environment"] == "production")
            for cluster in clusters:
                if cluster["environment"] == "production":
                    _demo_stream(api, known["local-hub"]["id"])
                have = known.get(cluster["name"])
                if have is None:
                    made = api.post("/api/v1/clusters", json=cluster)
                    made.raise_for_status()
                    known[cluster["name"]] = made.json()
                elif [have["server_urls"], have["monitoring_url"]] != [
                    cluster["server_urls"],
                    cluster["monitoring_url"],
                ]:
                    moved = {
                        k: cluster[k] for k in ("server_urls", "monitoring_url")
                    }  # ports changed
                    api.patch(f"/api/v1/clusters/{have['id']}", json=moved).raise_for_status()
            _team(api, known["local-hub"]["id"])
        return True
    except httpx.HTTPStatusError as e:
        detail = e.response.text[:300]
        say(
            f"demo: {e.request.method} {e.request.url.path} answered "
            f"{e.response.status_code}: {detail}"
        )
    except (httpx.HTTPError, KeyError, ValueError) as e:
        say(
            "demo: could not register the local clusters and the demo stream: "
            f"{type(e).__name__}: {e}"
        )
    return False


def order() -> tuple[str, bytes]:
    region = random.choice(REGIONS)
    body = {
        "order_id": str(uuid.uuid4()),
        "region": region,
        "customer": f"cust-{random.randint(1, 500):04d}",
        "items": random.randint(1, 5),
        "amount": round(random.uniform(5, 400), 2),
        "currency": "EUR",
        "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    return f"demo.orders.{region}", json.dumps(body).encode()


async def trickle(url: str, rate: float = 2.0) -> None:
    import nats
    from nats.errors import Error as NatsError

    nc = await nats.connect(
        url, name="jsc-demo-trickle", max_reconnect_attempts=-1, reconnect_time_wait=1
    )
    js = nc.jetstream()
    waiting = False
    while True:
        subject, payload = order()
        try:
            await js.publish(subject, payload, timeout=2)
        except (TimeoutError, NatsError) as e:
            if not waiting:
                print(
                    f"demo: cannot publish to {STREAM} yet ({type(e).__name__}); retrying quietly",
                    flush=True,
                )
                waiting = True
            await asyncio.sleep(5)
            continue
        if waiting:
            print(f"demo: publishing to {STREAM} again", flush=True)
            waiting = False
        await asyncio.sleep(1 / rate)


def main() -> None:
    asyncio.run(trickle(os.environ["JSC_HUB_URL"]))


if __name__ == "__main__":
    main()
