"""An evaluation case as its YAML file says it: a situation (``setup``), a question asked by a
person (``person``, ``context``), what must come of it (``expect``) and, for the suite, the turns
the scripted model plays (``script``). Strict: an unknown key or placeholder is an error naming
it, so a typo in a case never turns into a check that silently passes.

Placeholders in the question, the setup, the expectations and the script: ``{stream}`` (the
case's stream), ``{consumer}`` (its first consumer), ``{cluster_id}``, ``{subject}`` (the root of
the case's subjects: a stream captures ``{subject}.>``), ``{source}`` (the stream a mirror copies),
``{team}`` / ``{team_id}`` (the case's team); in a payload also ``{n}``, the message's number.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ai.findings import FindingCode

CASES = Path(__file__).parent / "cases"
CODES: tuple[str, ...] = get_args(FindingCode)
QUICK_S = 120.0  # a situation that takes longer to show its findings is set up before the others
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
NAMES = ("stream", "consumer", "cluster_id", "subject", "source", "team", "team_id")
Person = Literal["admin", "editor", "viewer", "operator", "member", "other_org"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- the situation ---------------------------------------------------------------------------


class Publish(_Strict):
    """``count`` messages on ``subject``; ``payload`` (text or JSON) may use ``{n}``; ``size`` pads
    each payload to that many bytes."""

    count: int = Field(1, ge=1, le=5000)
    subject: str
    payload: Any = "message {n}"
    size: int | None = Field(None, ge=1, le=65536)
    headers: dict[str, str] = Field(default_factory=dict)


class Fill(_Strict):
    """Publish until the stream holds ``percent`` of its ``max_bytes`` or ``max_msgs``."""

    percent: float = Field(gt=0, lt=100)
    of: Literal["max_bytes", "max_msgs"]
    subject: str
    size: int = Field(100, ge=1, le=65536)


class Consumer(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    config: dict[str, Any] = Field(default_factory=dict)


class Pull(_Strict):
    """Fetch ``count`` messages of a pull consumer and leave them unacknowledged (``none``),
    acknowledge them, or acknowledge them negatively (``nak``: redelivered at once); ``rounds``
    repeats it (naks then redeliveries)."""

    consumer: str
    count: int = Field(ge=1, le=1000)
    then: Literal["none", "ack", "nak"] = "none"
    rounds: int = Field(1, ge=1, le=10)


class Mirror(_Strict):
    """``{stream}`` mirrors ``{source}`` (which captures ``{subject}.>``): a plain mirror stream
    (``via: stream``) or the console's mirror operation (``via: operation``). ``publish`` goes
    into the source before; ``then`` deletes the source once copied, or pauses the replication,
    after which ``publish_after`` goes into the source."""

    via: Literal["stream", "operation"] = "stream"
    publish: list[Publish] = Field(default_factory=list)
    then: Literal["delete_source", "pause"] | None = None
    publish_after: list[Publish] = Field(default_factory=list)


class Team(_Strict):
    """A team whose namespace is the prefix ``{stream}`` on the case's cluster, with limits, and
    ``streams`` more streams of its own (``{stream}_1``, ...) besides the case's."""

    quotas: dict[str, int] = Field(default_factory=dict)
    streams: int = Field(0, ge=0, le=20)


class ChangeRequest(_Strict):
    """A change request filed before the question (``POST /ai/proposals`` as the admin): an
    update of ``{stream}`` that waits for approval."""

    config: dict[str, Any]
    reason: str


class Audited(_Strict):
    """An audit record to wait for before asking (the audit log is written asynchronously)."""

    action: str
    resource_name: str


class LagSteps(_Strict):
    """Lag growing as the console's collector sees it: ``steps`` times, ``count`` more messages
    for ``consumer`` (which takes none), each step waited for in the consumer's lag history
    (``GET /analytics/consumers/{name}/lag``) before the next. Needs a collector sampling the
    cluster (the test stack's samples the admin organization's clusters every 2 s)."""

    consumer: str
    subject: str
    count: int = Field(150, ge=1, le=5000)
    steps: int = Field(4, ge=3, le=10)


class Setup(_Strict):
    stream: dict[str, Any] = Field(
        default_factory=dict,
        description="the stream's config; the name and subjects are given unless set",
    )
    consumers: list[Consumer] = Field(default_factory=list)
    publish: list[Publish] = Field(default_factory=list)
    fill: Fill | None = None
    pulls: list[Pull] = Field(default_factory=list)
    lag_steps: LagSteps | None = None
    update_stream: dict[str, Any] | None = None
    mirror: Mirror | None = None
    team: Team | None = None
    change_request: ChangeRequest | None = None
    audit: list[Audited] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Setup:
        names = {c.name for c in self.consumers}
        for pull in self.pulls:
            if pull.consumer not in names:
                raise ValueError(f"pulls: no consumer named '{pull.consumer}' in consumers")
        if self.lag_steps and self.lag_steps.consumer not in names:
            raise ValueError(f"lag_steps: no consumer named '{self.lag_steps.consumer}'")
        if self.mirror and (self.publish or self.fill or self.stream.get("subjects")):
            raise ValueError(
                "a mirror takes its messages from its source: publish into "
                "mirror.publish, not publish/fill, and give it no subjects"
            )
        if self.fill and self.fill.of not in self.stream:
            raise ValueError(f"fill: the stream's config sets no {self.fill.of}")
        return self


# -- what must come of it --------------------------------------------------------------------


class Expect(_Strict):
    findings: list[str] = Field(default_factory=list, description="codes that must be found")
    absent: list[str] = Field(default_factory=list, description="codes that must not ('all': none)")
    tools: list[str] = Field(default_factory=list, description="tools the model must call")
    not_called: list[str] = Field(default_factory=list, description="tools it must not call")
    no_proposal: bool = False
    proposal: bool = False
    not_in_model_input: list[str] = Field(default_factory=list)
    in_model_input: list[str] = Field(default_factory=list)
    tool_errors: list[int] | None = Field(
        None, description="[]: no tool fails; [404]: the failing tools answer 404, and one does"
    )

    @field_validator("findings", "absent", mode="before")
    @classmethod
    def _codes(cls, codes: Any) -> Any:
        if codes == "all":
            return list(CODES)
        for code in codes if isinstance(codes, list) else []:
            if code not in CODES:
                raise ValueError(f"'{code}' is not a finding code ({', '.join(CODES)})")
        return codes

    @model_validator(mode="after")
    def _meaningful(self) -> Expect:
        if set(self.findings) & set(self.absent):
            raise ValueError("a code cannot be both expected and absent")
        if self.proposal and self.no_proposal:
            raise ValueError("'proposal' and 'no_proposal' contradict each other")
        return self


class ToolCall(_Strict):
    tool: str
    input: dict[str, Any] = Field(default_factory=dict)


class ScriptTurn(_Strict):
    """One answer of the scripted model: a tool call, several at once, a final text, or the
    final text quoting the finding codes its ``diagnose`` call read."""

    tool: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    tools: list[ToolCall] | None = None
    text: str | None = None
    quote_findings: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> ScriptTurn:
        kinds = [
            self.tool is not None,
            self.tools is not None,
            self.text is not None,
            self.quote_findings,
        ]
        if sum(kinds) != 1:
            raise ValueError("a turn is one of: tool (+input), tools, text, quote_findings")
        return self

    @property
    def final(self) -> bool:
        return self.text is not None or self.quote_findings


class Case(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str
    person: Person = "admin"
    question: str = Field(min_length=1)
    context: list[Literal["cluster", "stream", "consumer"]] = Field(default_factory=list)
    settle_s: float = Field(
        QUICK_S,
        gt=0,
        le=900,
        description="how long the situation may take to "
        "show its findings (a stalled consumer: 5 minutes after creation); "
        "a case of more than 120 s is set up before the others",
    )
    setup: Setup = Field(default_factory=Setup)
    expect: Expect
    script: list[ScriptTurn] = Field(min_length=1)

    @property
    def slow(self) -> bool:
        return self.settle_s > QUICK_S

    @model_validator(mode="after")
    def _complete(self) -> Case:
        if not self.script[-1].final or any(t.final for t in self.script[:-1]):
            raise ValueError("script: tool turns, then one final turn (text or quote_findings)")
        if "consumer" in self.context and not self.setup.consumers:
            raise ValueError("context: a consumer needs setup.consumers")
        if "stream" in self.context and "cluster" not in self.context:
            raise ValueError("context: a stream needs its cluster")
        unknown = sorted(set(PLACEHOLDER.findall(self.model_dump_json())) - {*NAMES, "n"})
        if unknown:
            raise ValueError(
                f"unknown placeholder(s): {', '.join(unknown)} (known: "
                f"{', '.join(NAMES)}, and n in payloads)"
            )
        return self


def load(path: Path) -> Case:
    try:
        case = Case.model_validate(yaml.safe_load(path.read_text()))
    except ValueError as exc:
        raise ValueError(f"{path.name}: {exc}") from None
    if case.name != path.stem:
        raise ValueError(f"{path.name}: its name is '{case.name}', not its file's name")
    return case


def load_all(folder: Path = CASES) -> list[Case]:
    cases = [load(p) for p in sorted(folder.glob("*.yaml"))]
    questions = [c.question for c in cases]
    for case in cases:
        inside = [q for q in questions if q != case.question and case.question in q]
        if questions.count(case.question) > 1 or inside:
            raise ValueError(
                f"{case.name}: its question must not occur in another case's "
                f"(the scripted model picks its answer by the question)"
            )
    return cases


# -- names of one run ------------------------------------------------------------------------


@dataclass
class Names:
    """The names a case's placeholders stand for in one run: unique, so runs and cases never
    meet on a shared cluster."""

    cluster_id: str
    stream: str
    subject: str
    consumer: str = ""
    source: str = ""
    team: str = ""
    team_id: str = ""

    @classmethod
    def of(cls, case: Case, cluster_id: str) -> Names:
        token = uuid.uuid4().hex[:8]
        stream = f"EVAL_{case.name.upper()}_{token}"
        return cls(
            cluster_id=cluster_id,
            stream=stream,
            subject=f"eval.{token}",
            consumer=case.setup.consumers[0].name if case.setup.consumers else "",
            source=f"{stream}_SRC" if case.setup.mirror else "",
            team=f"eval-{case.name.replace('_', '-')}-{token}" if case.setup.team else "",
        )

    def values(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in NAMES}


def render(value: Any, names: Names | dict[str, str]) -> Any:
    """``value`` with its placeholders replaced, in strings, lists and mappings (keys too)."""
    values = names.values() if isinstance(names, Names) else names
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), value)
    if isinstance(value, list):
        return [render(v, values) for v in value]
    if isinstance(value, dict):
        return {render(k, values): render(v, values) for k, v in value.items()}
    return value
