"""Running evaluation cases against a console: set each situation up, wait until the analyzers see
what it was built to show, ask the chat as the case's person, gather what came of it, score it,
remove the situation; then a table and ``score: N/M cases, K/L checks``.

With ``fake`` (the local Anthropic server the console talks to) each case's script is played by
the model; without it, the console's own model answers (a real one: ``bench/ai_eval.py``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from ai.loop import run_tool
from ai.tools import all_tools
from ai.tools.base import ChatContext, ToolContext
from tests.ai.chatting import read_events
from tests.ai.evals.case import Case, Names, load_all, render
from tests.ai.evals.checks import Check, Outcome, score
from tests.ai.evals.scripted import turns
from tests.ai.evals.situation import API, People, Person, SetupFailed, Situation
from tests.waiting import wait_until_async

NOT_REPLAYED = ("propose_change",)  # the one tool that is not a read


@dataclass
class Target:
    """A running console: its API (``api`` has the base URL), an admin's headers, the NATS URL
    of the cluster the cases are set up on and its id there; ``fake`` when the model is the
    scripted local server."""

    api: httpx.AsyncClient
    admin: dict[str, str]
    nats_url: str
    cluster_id: str
    fake: Any = None
    people: People | None = None

    def __post_init__(self) -> None:
        self.people = self.people or People(self.api, self.admin)


@dataclass
class Result:
    case: Case
    person: str = ""
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.error and all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[str]:
        failed = [
            f"{c.name} ({c.detail})" if c.detail else c.name for c in self.checks if not c.passed
        ]
        return ([f"error: {self.error}"] if self.error else []) + failed


async def cluster_for(api: httpx.AsyncClient, admin: dict[str, str], nats_url: str) -> str:
    """The id of the admin's cluster at ``nats_url``, registered for the evaluation if none."""
    reply = await api.get(f"{API}/clusters", headers=admin)
    reply.raise_for_status()
    for cluster in reply.json()["items"]:
        if nats_url in (cluster.get("server_urls") or []):
            return str(cluster["id"])
    made = await api.post(
        f"{API}/clusters",
        headers=admin,
        json={
            "name": f"eval-{int(time.time())}",
            "environment": "development",
            "server_urls": [nats_url],
        },
    )
    made.raise_for_status()
    return str(made.json()["id"])


def context_of(case: Case, names: Names) -> dict[str, str]:
    values = {
        "cluster": ("cluster_id", names.cluster_id),
        "stream": ("stream", names.stream),
        "consumer": ("consumer", names.consumer),
    }
    return dict(values[part] for part in case.context)


async def ask(
    api: httpx.AsyncClient, headers: dict[str, str], question: str, context: dict[str, str]
) -> list[tuple[str, dict[str, Any]]]:
    body: dict[str, Any] = {"message": question, **({"context": context} if context else {})}
    async with api.stream(
        "POST", f"{API}/ai/chat", json=body, headers=headers, timeout=300
    ) as reply:
        if reply.status_code != 200:
            await reply.aread()
            raise SetupFailed(f"the chat answered {reply.status_code}: {reply.text[:300]}")
        return read_events([line async for line in reply.aiter_lines()])


async def diagnose(
    api: httpx.AsyncClient, headers: dict[str, str], context: dict[str, str]
) -> tuple[int, dict | None]:
    reply = await api.get(f"{API}/ai/diagnose", headers=headers, params=context, timeout=60)
    return reply.status_code, reply.json() if reply.status_code == 200 else None


async def settle(target: Target, case: Case, context: dict[str, str]) -> None:
    """Wait until the admin's diagnosis shows the findings the situation was built to show, at
    most the case's ``settle_s`` (a mirror notices its source is gone after ~10 s; a consumer is
    stalled 5 minutes after its creation)."""
    wanted = set(case.expect.findings)
    if not wanted:
        return

    async def shown() -> set[str] | None:
        status, found = await diagnose(target.api, target.admin, context)
        codes = {f["code"] for f in (found or {}).get("findings", [])}
        return codes if wanted <= codes else None

    try:
        await wait_until_async(
            shown, f"the findings {sorted(wanted)}", timeout=case.settle_s, every=1.0
        )
    except AssertionError:
        pass  # scored: the diagnose check says what was found


async def replay(
    api: httpx.AsyncClient,
    person: Person,
    context: dict[str, str],
    events: list[tuple[str, dict[str, Any]]],
) -> str:
    """The read tools the model called, run again as the person: what they gave the model
    (the console's tools render them the same way for the same state)."""
    tools = all_tools()
    async with httpx.AsyncClient(
        base_url=str(api.base_url), headers=person.headers, timeout=60
    ) as as_person:
        ctx = ToolContext(
            api=as_person,
            context=ChatContext(**context),
            conversation_id="evaluation-replay",
            may_propose=lambda body: "a replay proposes nothing",
        )
        contents = [
            (await run_tool(tools, ctx, call["name"], call.get("input") or {})).content
            for kind, call in events
            if kind == "tool_call" and call["name"] not in NOT_REPLAYED
        ]
    return "\n".join(contents)


async def requests_on(
    api: httpx.AsyncClient, admin: dict[str, str], situation: Situation, known: set[str]
) -> list[dict[str, Any]]:
    """The change requests filed on the case's streams, but those the setup filed."""
    reply = await api.get(
        f"{API}/approvals",
        headers=admin,
        params={"cluster_id": situation.names.cluster_id, "limit": 500},
    )
    reply.raise_for_status()
    ours = set(situation.streams) | {situation.names.stream}
    return [
        r
        for r in reply.json()["items"]
        if r["id"] not in known
        and (r["spec"].get("name") in ours or r["spec"].get("stream") in ours)
    ]


async def prepare(target: Target, case: Case) -> Situation:
    """The case's situation, built (``Situation.names`` has the run's names)."""
    situation = Situation(
        target.api, target.admin, target.nats_url, case, Names.of(case, target.cluster_id)
    )
    try:
        await situation.build()
    except BaseException:
        try:
            await situation.remove()
        finally:
            raise
    return situation


async def run_case(
    target: Target, case: Case, prepared: Situation | Exception | None = None
) -> Result:
    """Set up (unless ``prepared`` before), ask, score, remove."""
    started = time.monotonic()
    result = Result(case)
    situation = prepared if isinstance(prepared, Situation) else None
    try:
        if isinstance(prepared, Exception):
            raise prepared
        person = await target.people.get(case.person)
        result.person = person.role
        situation = situation or await prepare(target, case)
        result.checks = await ask_and_score(target, case, situation, person)
    except Exception as exc:  # noqa: BLE001 - one broken case must not end the run
        result.error = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        if situation is not None:
            try:
                await situation.remove()
            except Exception:  # noqa: BLE001 - removal is best effort
                pass
        result.seconds = time.monotonic() - started
    return result


async def ask_and_score(
    target: Target, case: Case, situation: Situation, person: Person
) -> list[Check]:
    names = situation.names
    context = context_of(case, names)
    await settle(target, case, context)
    question = render(case.question, names)
    filed_by_setup = {request_id for request_id, _ in situation.requests}
    if target.fake is not None:
        target.fake.script(question, turns(case, names))
    outcome = Outcome(before=dict(situation.configs))
    outcome.events = await ask(target.api, person.headers, question, context)
    for proposal in outcome.of("proposal"):
        situation.requests.append((str(proposal["request_id"]), person.headers))
    outcome.diagnose_status, outcome.diagnosis = await diagnose(target.api, person.headers, context)
    if target.fake is not None:
        outcome.model_input = "\n".join(
            json.dumps(r.body, ensure_ascii=False) for r in target.fake.requests_matching(question)
        )
    outcome.replayed = await replay(target.api, person, context, outcome.events)
    outcome.after = {name: await situation.config(name) for name in situation.configs}
    outcome.requests = await requests_on(target.api, target.admin, situation, filed_by_setup)
    return score(case, names, outcome)


async def prepare_slow(target: Target, cases: Sequence[Case]) -> dict[str, Situation | Exception]:
    """The situations that take minutes to show their findings, built before the others run."""
    prepared: dict[str, Situation | Exception] = {}
    for case in cases:
        if case.slow:
            try:
                prepared[case.name] = await prepare(target, case)
            except Exception as exc:  # noqa: BLE001 - reported by its case
                prepared[case.name] = exc
    return prepared


async def run_all(target: Target, cases: Sequence[Case] | None = None, echo=print) -> list[Result]:
    cases = list(cases if cases is not None else load_all())
    prepared = await prepare_slow(target, cases)
    results = []
    for case in sorted(cases, key=lambda c: c.slow):
        result = await run_case(target, case, prepared.get(case.name))
        echo(row(result))
        results.append(result)
    echo(score_line(results))
    return results


def row(result: Result) -> str:
    passed = sum(c.passed for c in result.checks)
    mark = "PASS" if result.passed else "FAIL"
    line = (
        f"{mark}  {result.case.name:<34} {result.person or result.case.person:<30} "
        f"{passed:>2}/{len(result.checks):<2} checks  {result.seconds:5.1f}s"
    )
    return line + "".join(f"\n        - {failure}" for failure in result.failures)


def score_line(results: Sequence[Result]) -> str:
    checks = [c for r in results for c in r.checks]
    return (
        f"score: {sum(r.passed for r in results)}/{len(results)} cases, "
        f"{sum(c.passed for c in checks)}/{len(checks)} checks"
    )
