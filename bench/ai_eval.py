"""The assistant's evaluation cases against a running console and its real model.

    make ai-eval                                   # or:
    JSC_API_URL=http://127.0.0.1:8000 JSC_ADMIN_EMAIL=admin@example.com JSC_ADMIN_PASSWORD=... \\
        .venv/bin/python bench/ai_eval.py [--case NAME ...] [--nats-url nats://127.0.0.1:4222]

The console must have a model (``ANTHROPIC_API_KEY`` set in ITS environment; this script sends
nothing to Anthropic itself). Each case of tests/ai/evals/cases is set up on the cluster at the
NATS URL (registered in the admin's organization if it is not yet; ``JSC_EVAL_NATS_URL``, else
``JSC_HUB_URL``, else the local default), asked through ``POST /api/v1/ai/chat`` as the case's
person (people of other roles are invited, another organization signed up, through the API), with
no script: the model chooses its tools. The deterministic checks hold whatever the model does;
the tool checks and "the answer shows" measure it. Prints each case and
``score: N/M cases, K/L checks``; it always exits 0 (it is a measurement, not a test).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/api.py would shadow the `api`
# package; the repository's root must be importable (tests.ai.evals).
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import httpx  # noqa: E402

from tests.ai.evals.case import load_all  # noqa: E402
from tests.ai.evals.runner import Target, cluster_for, run_all  # noqa: E402


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api-url", default=os.environ.get("JSC_API_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--email", default=os.environ.get("JSC_ADMIN_EMAIL", "admin@example.com"))
    parser.add_argument("--password", default=os.environ.get("JSC_ADMIN_PASSWORD"))
    parser.add_argument(
        "--nats-url",
        default=os.environ.get(
            "JSC_EVAL_NATS_URL", os.environ.get("JSC_HUB_URL", "nats://127.0.0.1:4222")
        ),
    )
    parser.add_argument(
        "--case", action="append", default=[], help="run only this case (repeatable)"
    )
    return parser.parse_args()


async def main(args: argparse.Namespace) -> None:
    cases = [c for c in load_all() if not args.case or c.name in args.case]
    if not args.password:
        print("Set JSC_ADMIN_PASSWORD (or --password): the admin of the console to evaluate.")
        return
    async with httpx.AsyncClient(base_url=args.api_url, timeout=60) as api:
        login = await api.post(
            "/api/v1/auth/login", json={"email": args.email, "password": args.password}
        )
        if login.status_code != 200:
            print(
                f"Cannot sign in at {args.api_url} as {args.email}: {login.status_code} "
                f"{login.text[:200]}"
            )
            return
        admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
        cluster_id = await cluster_for(api, admin, args.nats_url)
        print(
            f"{len(cases)} case(s) against {args.api_url} (cluster {cluster_id} at "
            f"{args.nats_url}), the console's own model"
        )
        await run_all(
            Target(api=api, admin=admin, nats_url=args.nats_url, cluster_id=cluster_id), cases
        )


if __name__ == "__main__":
    try:
        asyncio.run(main(arguments()))
    except Exception as exc:  # noqa: BLE001 - a benchmark reports, it never fails the suite
        print(f"the evaluation stopped: {type(exc).__name__}: {exc}")
    sys.exit(0)
