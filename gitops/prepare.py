"""A repository's commit made ready to sync: fetched, loaded, planned against each environment's
cluster and judged by policy. The sync workflow's first activity and ``GET /repos/{id}/plan`` both
go through here, so what a plan shows is what a sync does.

- ``load_commit``: a fresh shallow checkout of the ref (``gitops.git``), the tree loaded with
  ``gitops.loader.load_tree(root, repo.path)``, the checkout deleted again.
- ``plan_commit``: per environment of the repository, its cluster's live state (``gitops.live``)
  against what git declares there, planned with ``prune`` when the repository's prune is
  ``with_approval``. What the repository manages (which live resources missing from git are its
  deletions): what git had at the last sync that applied, and any name in ``repo.namespaces``
  (``gitops.views.managed_by``).
- ``judge_plan``: every change judged through ``core.changes.judge`` (the API's own path): the
  cluster's effective environment, the owning team's quota, the organization's policies; a replace
  is judged as the delete and the create it is. The repository acts organization-wide (an admin
  configured it), so team namespaces do not bind it; a manual sync is judged with its requester's
  id and role. Any auto-rejection or quota excess rejects the whole sync; every change
  auto-approved and none a replace or delete applies it at once; otherwise one change request for
  the commit waits, with the approval groups of every change that needs one (each group once,
  the organization's default group when only the sync's own rule asks) and every change's risk
  notes.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.changes.judge import JudgeCache, QuotaExceeded, current_policies, judge, team_history
from core.changes.models import ChangeSpec
from core.cluster_identity import strictest
from core.clusters import ClusterNotFound, endpoint, get_cluster
from core.db.gitops_models import GitRepository, GitSync
from core.db.models import NatsCluster
from core.policy import DEFAULT_GROUP, ChangeRequest, Decision, decide, risk_notes
from core.policy.models import ApprovalGroup
from gitops import views
from gitops.git import Commit, RepoAccess, checkout
from gitops.live import desired_of, read_live
from gitops.loader import LoadResult, load_tree
from gitops.planner import Change, Plan, plan

APPLIED = ("succeeded", "partially_applied", "no_changes")
Outcome = Literal["no_changes", "apply", "approval", "rejected"]


def access_of(repo: GitRepository, cipher) -> RepoAccess:
    """How to reach the repository's remote, its secrets opened."""
    secrets: dict[str, Any] = {}
    if repo.credentials:
        secrets = cipher.decrypt(repo.credentials, context=f"gitops-repo:{repo.id}") or {}
    return RepoAccess(url=repo.url, auth_type=repo.auth_type, token=secrets.get("token"),
                      ssh_key=secrets.get("ssh_key"), known_hosts=secrets.get("known_hosts"))


def _fetch_and_load(access: RepoAccess, ref: str, settings, subdir: str
                    ) -> tuple[Commit, LoadResult]:
    with checkout(access, ref, settings) as tree:
        return tree.commit, load_tree(tree.root, subdir)


async def load_commit(access: RepoAccess, ref: str, settings, subdir: str
                      ) -> tuple[Commit, LoadResult]:
    """(the commit, the loaded tree) of ``ref``; raises ``gitops.git.GitError``."""
    return await asyncio.to_thread(_fetch_and_load, access, ref, settings, subdir)


@dataclass
class EnvPlanned:
    environment: str
    cluster: NatsCluster
    plan: Plan
    desired: dict[str, dict]  # ref -> the config git declares
    live: dict[str, dict]  # ref -> the live config, of the resources that change
    resources: list[str]  # refs git declares in this environment
    needs_approval: bool = False


@dataclass
class Verdict:
    outcome: Outcome
    reasons: list[str] = field(default_factory=list)
    decision: Decision | None = None  # the combined decision a change request waits on
    notes: list[str] = field(default_factory=list)
    environment: str | None = None  # the strictest of the clusters that change
    team_id: uuid.UUID | None = None  # the one team every change belongs to, if one


async def previous_resources(db: AsyncSession, repo_id: uuid.UUID) -> dict[str, set[str]]:
    """The refs git had per environment at the repository's last sync that applied."""
    plan_json = await db.scalar(
        select(GitSync.plan).where(GitSync.repo_id == repo_id, GitSync.status.in_(APPLIED))
        .order_by(GitSync.created_at.desc()).limit(1))
    return {env: set(refs) for env, refs in ((plan_json or {}).get("resources") or {}).items()}


async def plan_commit(db: AsyncSession, pool, cipher, repo: GitRepository, loaded: LoadResult,
                      previous: dict[str, set[str]], only: list[str] | None = None
                      ) -> tuple[dict[str, EnvPlanned], list[str]]:
    """(plans per environment, warnings). Raises ``ClusterNotFound`` for an environment whose
    cluster is gone, and what reaching a cluster raises (``ClusterUnreachable``,
    ``JetStreamUnavailable``)."""
    warnings = [f"environments/{env}: no cluster is mapped to environment '{env}' in this "
                "repository's settings; skipped" for env in sorted(loaded.resources_by_env)
                if env not in (repo.environments or {})]
    out: dict[str, EnvPlanned] = {}
    for env, cluster_id in sorted((repo.environments or {}).items()):
        cluster = await get_cluster(db, repo.org_id, uuid.UUID(str(cluster_id)))
        js = await pool.jetstream(endpoint(cipher, cluster))
        live = await read_live(js)
        declared = loaded.resources_by_env.get(env, [])
        desired = desired_of(declared)
        managed = views.managed_by(previous.get(env, set()), list(repo.namespaces or []))
        planned = views.keep_only(plan(desired, live, prune=repo.prune == "with_approval",
                                       managed=managed), env, list(only or []))
        live_by_ref = {views.ref_of(r.kind, r.name, r.stream): r.config for r in live}
        changed = {c.ref for c in planned.changes}
        out[env] = EnvPlanned(
            environment=env, cluster=cluster, plan=planned,
            desired={views.ref_of(d.kind, d.name, d.stream): d.config for d in desired},
            live={ref: cfg for ref, cfg in live_by_ref.items() if ref in changed},
            resources=sorted(views.ref_of(d.kind, d.name, d.stream) for d in desired))
    return out, warnings


def stored_plan(envs: dict[str, EnvPlanned], only: list[str] | None = None) -> dict[str, Any]:
    """The plan as a ``GitSync`` keeps it: what a ``SyncView`` shows (``environments``,
    ``summary``, ``diff``), and what applying and later syncs need (``desired`` configs of the
    changes, ``resources`` in git per environment, the ``only`` filter)."""
    plans = {env: p.plan for env, p in envs.items()}
    return {
        "environments": {env: views.env_plan_view(p.plan, str(p.cluster.id), p.needs_approval)
                         for env, p in envs.items()},
        "summary": views.summary(plans), "diff": views.diff(plans),
        "resources": {env: p.resources for env, p in envs.items()},
        "desired": {env: {c.ref: p.desired[c.ref] for c in p.plan.changes if c.ref in p.desired}
                    for env, p in envs.items()},
        "only": list(only or []),
    }


def _specs(change: Change, cluster_id: uuid.UUID, desired: dict | None, live: dict | None
           ) -> list[tuple[ChangeSpec, dict | None]]:
    """The typed changes policy judges for one planned change: (spec, before)."""
    kind = views.POLICY_KINDS[change.kind]

    def spec(operation: str, config: dict | None) -> ChangeSpec:
        return ChangeSpec(kind=kind, operation=operation, cluster_id=cluster_id, name=change.name,
                          stream=change.stream, config=config)

    if change.action == "create":
        return [(spec("create", desired), None)]
    if change.action == "update":
        return [(spec("update", {**(live or {}), **(desired or {})}), live)]
    if change.action == "replace":
        return [(spec("delete", None), live), (spec("create", desired), None)]
    return [(spec("delete", None), live)]


def _union(groups: list[ApprovalGroup]) -> list[ApprovalGroup]:
    seen, out = set(), []
    for group in groups:
        key = group.model_dump_json()
        if key not in seen:
            seen.add(key)
            out.append(group)
    return out


def _loss_note(env: str, change: Change) -> str | None:
    stored = change.kind in ("stream", "kv", "object_store")
    if change.action == "replace":
        return (f"{env}: {change.ref} is deleted and created again ({change.reason})"
                + ("; every message it holds is lost." if stored else "; its position is lost."))
    if change.action == "delete":
        return (f"{env}: {change.ref} is deleted (not in git)"
                + ("; every message it holds is lost." if stored else "."))
    return None


async def judge_plan(db: AsyncSession, sessions: async_sessionmaker, pool, cipher,
                     repo: GitRepository, envs: dict[str, EnvPlanned], *, requester_id: str,
                     requester_roles: list[str], price_per_gb: float) -> Verdict:
    """The verdict on the whole plan (see the module docstring); sets each environment's
    ``needs_approval``. Raises ``core.changes.judge.UsageUnknown`` when a team's usage cannot be
    measured."""
    cache = JudgeCache()
    rejected: list[str] = []
    needing: list[Decision] = []
    reasons: list[str] = []
    notes: list[str] = []
    teams: set[uuid.UUID | None] = set()
    environments: list[str] = []
    for env, planned in sorted(envs.items()):
        if not planned.plan.changes:
            continue
        env_needs = False
        for change in planned.plan.changes:
            forced = change.action in ("replace", "delete")
            env_needs |= forced
            if forced:
                notes.append(_loss_note(env, change))
            for spec, before in _specs(change, planned.cluster.id, planned.desired.get(change.ref),
                                       planned.live.get(change.ref)):
                try:
                    judged = await judge(db, sessions, pool, cipher, org_id=repo.org_id,
                                         cluster=planned.cluster, spec=spec,
                                         requester_id=requester_id,
                                         requester_roles=requester_roles, namespace_exempt=True,
                                         price_per_gb=price_per_gb, before=before, cache=cache)
                except QuotaExceeded as exc:
                    rejected.append(f"{env}: {change.ref}: {exc} (team '{exc.team.name}')")
                    continue
                teams.add(judged.team.id if judged.team else None)
                environments.append(judged.environment)
                outcome = judged.decision.outcome
                if outcome == "auto_rejected":
                    rejected += [f"{env}: {change.ref}: {r}" for r in judged.decision.reasons]
                elif outcome == "needs_approval":
                    env_needs = True
                    needing.append(judged.decision)
                    reasons += [f"{env}: {change.ref}: {r}" for r in judged.decision.reasons]
                    history = await team_history(db, judged.team.id if judged.team else None)
                    notes += [f"{env}: {change.ref}: {n}"
                              for n in risk_notes(judged.change, history, price_per_gb)]
        planned.needs_approval = env_needs
    if not any(p.plan.changes for p in envs.values()):
        return Verdict("no_changes")
    environment = strictest(environments) if environments else None
    team_id = next(iter(teams)) if len(teams) == 1 else None
    if rejected:
        return Verdict("rejected", rejected, environment=environment, team_id=team_id)
    sync_decision = await _sync_decision(db, repo, cache, environment, requester_id,
                                         requester_roles, price_per_gb)
    if sync_decision.outcome == "auto_rejected":
        return Verdict("rejected", sync_decision.reasons, environment=environment,
                       team_id=team_id)
    if sync_decision.outcome == "needs_approval":
        needing.append(sync_decision)
        reasons += sync_decision.reasons
    forced = [c for p in envs.values() for c in p.plan.changes
              if c.action in ("replace", "delete")]
    if not needing and not forced:
        return Verdict("apply", environment=environment, team_id=team_id)
    if forced:
        reasons.append(f"{len(forced)} change(s) delete or replace a resource: a sync never "
                       "does that without approval.")
    groups = _union([g for d in needing for g in d.groups]) or [DEFAULT_GROUP]
    slas = [d.sla_hours for d in needing if d.sla_hours]
    first = needing[0] if needing else None
    decision = Decision(outcome="needs_approval", policy=first.policy if first else None,
                        groups=groups, reasons=reasons, sla_hours=min(slas) if slas else None,
                        escalation=first.escalation if first else [])
    return Verdict("approval", reasons, decision, [n for n in notes if n],
                   environment=environment, team_id=team_id)


async def _sync_decision(db: AsyncSession, repo: GitRepository, cache: JudgeCache,
                         environment: str | None, requester_id: str, requester_roles: list[str],
                         price_per_gb: float) -> Decision:
    """What the organization's policies say of the sync itself (kind ``gitops_sync``, operation
    ``sync``): a policy naming that kind can require its own approvers for every sync."""
    if cache.policies is None:
        cache.policies = await current_policies(db, repo.org_id)
    request = ChangeRequest(kind="gitops_sync", operation="sync",
                            environment=environment or "development", namespace_exempt=True,
                            resource_name=repo.name, requester_id=requester_id,
                            requester_roles=requester_roles)
    return decide(request, cache.policies, True, price_per_gb)


__all__ = ["APPLIED", "ClusterNotFound", "EnvPlanned", "Verdict", "access_of", "judge_plan",
           "load_commit", "plan_commit", "previous_resources", "stored_plan"]
