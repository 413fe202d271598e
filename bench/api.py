"""API benchmark: p50/p95 latency of listing 1,000 streams and of paging 100 messages.

    .venv/bin/python bench/api.py                  # starts a local stack in a temporary dir
    .venv/bin/python bench/api.py --api-url http://127.0.0.1:8000 --email admin@example.com \\
        --password ... --nats-url nats://127.0.0.1:4222     # or measures a running one (jsc up)

It creates the streams straight through NATS (the set-up is not what is measured), 1,000 empty
ones and one of 10,000 messages with and one without direct gets, then times, through HTTP:
``GET /clusters/{id}/streams`` (every stream with its state) and every page of
``GET .../streams/{name}/messages?limit=100`` following the cursor, forwards and backwards. It
prints the figures and removes what it created. Not part of the test suite; it never fails it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and this file would shadow the `api`
# package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import httpx  # noqa: E402
import nats  # noqa: E402

ADMIN_EMAIL, ADMIN_PASSWORD = "bench@example.com", "bench-Pass-1234"


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94]


async def _create_streams(
    nats_url: str, domain: str | None, prefix: str, count: int, messages: int
) -> None:
    nc = await nats.connect(nats_url)
    api = f"$JS.{domain}.API" if domain else "$JS.API"

    async def create(config: dict) -> None:
        reply = json.loads(
            (
                await nc.request(
                    f"{api}.STREAM.CREATE.{config['name']}", json.dumps(config).encode(), timeout=10
                )
            ).data
        )
        if "error" in reply:
            raise SystemExit(f"cannot create stream {config['name']}: {reply['error']}")

    for start in range(0, count, 50):
        await asyncio.gather(
            *(
                create(
                    {"name": f"{prefix}-{i:04d}", "subjects": [f"{prefix}.{i}"], "storage": "file"}
                )
                for i in range(start, min(start + 50, count))
            )
        )
    for direct in (False, True):
        name = f"{prefix}-msgs-{'direct' if direct else 'get'}"
        await create({"name": name, "subjects": [f"{name}.>"], "allow_direct": direct})
        js = nc.jetstream(domain=domain)
        pending = []
        for i in range(messages):
            body = json.dumps(
                {"order": i, "region": ("eu", "us", "ap")[i % 3], "amount": i * 7 % 1000}
            ).encode()
            pending.append(js.publish(f"{name}.orders.{('eu', 'us', 'ap')[i % 3]}", body))
            if len(pending) == 200:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    await nc.close()


async def _delete_streams(nats_url: str, domain: str | None, prefix: str) -> None:
    nc = await nats.connect(nats_url)
    api = f"$JS.{domain}.API" if domain else "$JS.API"
    names: list[str] = []
    while True:
        reply = json.loads(
            (
                await nc.request(f"{api}.STREAM.NAMES", json.dumps({"offset": len(names)}).encode())
            ).data
        )
        page = reply.get("streams") or []
        names += page
        if not page or len(names) >= reply.get("total", 0):
            break
    mine = [n for n in names if n.startswith(f"{prefix}-")]
    for start in range(0, len(mine), 50):
        await asyncio.gather(
            *(
                nc.request(f"{api}.STREAM.DELETE.{n}", b"", timeout=10)
                for n in mine[start : start + 50]
            )
        )
    await nc.close()


def _cluster_id(client: httpx.Client, headers: dict, nats_url: str, domain: str | None) -> str:
    for cluster in client.get("/api/v1/clusters", headers=headers).json().get("items", []):
        if nats_url in cluster.get("server_urls", []):
            return cluster["id"]
    reply = client.post(
        "/api/v1/clusters",
        headers=headers,
        json={
            "name": f"bench-{uuid.uuid4().hex[:6]}",
            "environment": "development",
            "server_urls": [nats_url],
            "jetstream_domain": domain,
        },
    )
    reply.raise_for_status()
    return reply.json()["id"]


def _timed(client: httpx.Client, path: str, headers: dict, params: dict | None = None):
    started = time.perf_counter()
    reply = client.get(path, headers=headers, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    if reply.status_code != 200:
        raise SystemExit(f"GET {path} answered {reply.status_code}: {reply.text[:300]}")
    return elapsed, reply.json()


def measure(
    api_url: str,
    email: str,
    password: str,
    nats_url: str,
    domain: str | None,
    streams: int,
    messages: int,
    rounds: int,
) -> list[tuple[str, list[float]]]:
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    began = time.monotonic()
    asyncio.run(_create_streams(nats_url, domain, prefix, streams, messages))
    print(
        f"created {streams} streams and 2 x {messages} messages in {time.monotonic() - began:.1f}s",
        file=sys.stderr,
    )
    results: list[tuple[str, list[float]]] = []
    try:
        with httpx.Client(base_url=api_url, timeout=120) as client:
            login = client.post("/api/v1/auth/login", json={"email": email, "password": password})
            login.raise_for_status()
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            cid = _cluster_id(client, headers, nats_url, domain)
            streams_path = f"/api/v1/clusters/{cid}/streams"

            _timed(client, streams_path, headers)  # warm the connection pool and caches
            samples = []
            for _ in range(rounds):
                elapsed, body = _timed(client, streams_path, headers)
                samples.append(elapsed)
            listed = len(body["items"])
            results.append((f"GET streams ({listed} streams)", samples))

            for kind in ("get", "direct"):
                path = f"{streams_path}/{prefix}-msgs-{kind}/messages"
                for direction in ("forward", "backward"):
                    samples, seen = [], 0
                    params: dict = {"limit": 100, "direction": direction}
                    while True:
                        elapsed, page = _timed(client, path, headers, params)
                        samples.append(elapsed)
                        seen += len(page["items"])
                        if not page["has_more"]:
                            break
                        params = {"limit": 100, "cursor": page["next_cursor"]}
                    assert seen == messages, f"paged {seen} messages of {messages}"
                    label = "msg get" if kind == "get" else "direct get"
                    results.append((f"page of 100 messages, {direction} ({label})", samples))
    finally:
        asyncio.run(_delete_streams(nats_url, domain, prefix))
    return results


def report(results: list[tuple[str, list[float]]]) -> None:
    print(f"{'operation':<46} {'n':>5} {'p50 ms':>9} {'p95 ms':>9}")
    for label, samples in results:
        p50, p95 = percentiles(samples)
        print(f"{label:<46} {len(samples):>5} {p50:>9.1f} {p95:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", help="a running API (default: start a local stack)")
    parser.add_argument("--email", default=None)
    parser.add_argument("--password", default=None)
    parser.add_argument("--nats-url", help="the NATS of the measured cluster (with --api-url)")
    parser.add_argument("--domain", default="hub", help="its JetStream domain ('' for none)")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    domain = args.domain or None

    if args.api_url:
        if not (args.email and args.password and args.nats_url):
            parser.error("--api-url needs --email, --password and --nats-url")
        report(
            measure(
                args.api_url,
                args.email,
                args.password,
                args.nats_url,
                domain,
                args.streams,
                args.messages,
                args.rounds,
            )
        )
        return

    from stack.launcher import Stack

    data_dir = Path(tempfile.mkdtemp(prefix="jsc-bench-"))
    data_dir.chmod(0o755)  # PostgreSQL runs as an unprivileged user who must enter it
    stack = Stack(
        data_dir,
        ui=False,
        demo=False,
        auto_ports=True,
        env_overrides={
            "JSC_ADMIN_EMAIL": ADMIN_EMAIL,
            "JSC_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "JSC_RATE_LIMIT_PER_MINUTE": "1000000",
        },
    )
    print(f"starting a local stack in {data_dir} ...", file=sys.stderr)
    try:
        stack.start()
        report(
            measure(
                stack.api_url,
                ADMIN_EMAIL,
                ADMIN_PASSWORD,
                stack.env["JSC_HUB_URL"],
                "hub",
                args.streams,
                args.messages,
                args.rounds,
            )
        )
    finally:
        stack.stop()
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
