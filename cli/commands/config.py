"""``jsc config export|diff|apply``: a cluster's configuration as GitOps manifests.

- ``export`` writes what a cluster runs as ``environments/<env>/<name>.yaml`` (the source design's
  format, or NACK's with ``--format nack``), so a team can start a repository from it.
- ``diff`` loads local manifests (``gitops.loader``: the same validation as a sync) and shows what
  a sync would change on the cluster (``gitops.planner``).
- ``apply`` makes those changes through the API's normal routes, so policy and approvals apply as
  to any change; ``--dry-run`` only shows the plan.

Everything goes through the API (the CLI never talks to NATS).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from cli.client import Api, CliError
from cli.common import cluster_option, confirm, connect, force_option, json_option
from cli.output import Group, emit_json, is_pending, say
from gitops import plan_doc
from gitops.export import export_environment
from gitops.live import resource_of
from gitops.loader import load_tree
from gitops.planner import Desired, Live, plan

app = Group(help="A cluster's configuration as GitOps manifests: export, diff, apply.")


class Format(StrEnum):
    nats = "nats"
    nack = "nack"


def read_cluster(api: Api, cluster_id: str, prefix: str = "") -> list[Live]:
    """The cluster's resources, through the API, as ``gitops.live`` reads them."""
    infos = api.get(f"/clusters/{cluster_id}/streams")["items"]
    resources = [r for r in (resource_of(i) for i in infos) if r.name.startswith(prefix)]
    out = list(resources)
    for r in resources:
        if r.kind != "stream":
            continue
        consumers = api.get(f"/clusters/{cluster_id}/streams/{r.name}/consumers")["items"]
        out += [
            Live("consumer", c["name"], r.name, dict(c["config"]))
            for c in consumers
            if (c.get("config") or {}).get("durable_name")
        ]
    return out


def _managed(prefix: str | None):
    return lambda kind, name, stream: bool(prefix) and (stream or name).startswith(prefix)


def _load(root: Path, env: str | None) -> tuple[str, list]:
    if not root.is_dir():
        raise CliError(
            f"{root} is not a directory (give the repository's root, which holds "
            "environments/<env>/)."
        )
    loaded = load_tree(root)
    for warning in loaded.warnings:
        say(f"warning: {warning}")
    if loaded.errors:
        raise CliError(
            "The manifests have errors; nothing was compared:\n" + "\n".join(loaded.errors)
        )
    envs = sorted(loaded.resources_by_env)
    if env is None:
        if len(envs) != 1:
            raise CliError(f"Give --env: the manifests hold {', '.join(envs) or 'no environment'}.")
        env = envs[0]
    if env not in loaded.resources_by_env:
        raise CliError(f"No manifests under environments/{env}/ (found: {', '.join(envs)}).")
    return env, loaded.resources_by_env[env]


def _plan(
    api: Api, cluster: dict, root: Path, env: str | None, prune: bool, prefix: str | None
) -> tuple[str, dict]:
    env, desired = _load(root, env)
    live = read_cluster(api, cluster["id"])
    result = plan(
        [Desired(r.kind, r.name, r.stream, r.config) for r in desired],
        live,
        prune=prune,
        managed=_managed(prefix),
    )
    return env, plan_doc.env_doc(cluster["id"], result, desired, live)


@app.command("export")
def export(
    cluster: str | None = cluster_option(),
    out: Path = typer.Option(Path("."), "--out", "-o", help="The repository's root."),
    env: str | None = typer.Option(
        None, "--env", help="The environment directory (default: the cluster's environment)."
    ),
    prefix: str = typer.Option(
        "", "--stream-prefix", help="Only streams and buckets whose name starts with this."
    ),
    fmt: Format = typer.Option(
        Format.nats, "--format", help="nats (the console's) or nack (NACK's CRDs)."
    ),
    as_json: bool = json_option(),
) -> None:
    """Write the cluster's streams, consumers, KV buckets and object stores as manifests."""
    with connect() as api:
        found = api.cluster(cluster)
        live = read_cluster(api, found["id"], prefix)
    directory = out / "environments" / (env or found.get("environment") or "default")
    directory.mkdir(parents=True, exist_ok=True)
    files = export_environment(live, fmt.value)
    for name, text in files.items():
        (directory / name).write_text(text)
    written = [str(directory / name) for name in sorted(files)]
    if as_json:
        emit_json({"files": written})
        return
    say(
        f"Wrote {len(written)} file(s) under {directory}"
        if written
        else f"Nothing to export from {found['name']}."
    )
    for path in written:
        say(f"  {path}")


@app.command("diff")
def diff(
    root: Path = typer.Argument(..., help="The repository's root (holds environments/)."),
    cluster: str | None = cluster_option(),
    env: str | None = typer.Option(None, "--env", help="Which environments/<env>/."),
    prune: bool = typer.Option(
        False,
        "--prune",
        help="Also show deletions of what git does not have (within --stream-prefix).",
    ),
    prefix: str | None = typer.Option(
        None, "--stream-prefix", help="The namespace the manifests manage (for --prune)."
    ),
    as_json: bool = json_option(),
) -> None:
    """What applying the local manifests would change on the cluster."""
    with connect() as api:
        found = api.cluster(cluster)
        env, planned = _plan(api, found, root, env, prune, prefix)
    if as_json:
        emit_json({"environment": env, **planned})
        return
    say(plan_doc.diff_of({env: planned}))


@app.command("apply")
def apply(
    root: Path = typer.Argument(..., help="The repository's root (holds environments/)."),
    cluster: str | None = cluster_option(),
    env: str | None = typer.Option(None, "--env", help="Which environments/<env>/."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show the plan."),
    prune: bool = typer.Option(
        False, "--prune", help="Delete what git does not have (within --stream-prefix)."
    ),
    prefix: str | None = typer.Option(
        None, "--stream-prefix", help="The namespace the manifests manage."
    ),
    force: bool = force_option(),
    as_json: bool = json_option(),
) -> None:
    """Apply the local manifests through the API (changes policy holds wait for approval)."""
    with connect() as api:
        found = api.cluster(cluster)
        env, planned = _plan(api, found, root, env, prune, prefix)
        if dry_run or not planned["changes"]:
            if as_json:
                emit_json({"environment": env, "dry_run": dry_run, **planned})
            else:
                say(plan_doc.diff_of({env: planned}))
            return
        if not as_json:
            say(plan_doc.diff_of({env: planned}))
        destructive = [c for c in planned["changes"] if c["action"] in ("replace", "delete")]
        if destructive:
            confirm(
                f"{len(destructive)} resource(s) will be deleted or recreated (their "
                "messages are lost). Go on?",
                force,
            )
        results = [_apply_one(api, found["id"], change) for change in planned["changes"]]
    if as_json:
        emit_json({"environment": env, "results": results})
        return
    for result in results:
        say(
            f"{result['status']:>16}  {result['action']} {result['resource']}"
            + (f"  ({result['detail']})" if result.get("detail") else "")
        )


def _paths(cluster_id: str, change: dict) -> tuple[str, str]:
    base = f"/clusters/{cluster_id}"
    if change["kind"] == "consumer":
        collection = f"{base}/streams/{change['stream']}/consumers"
    else:
        collection = (
            base + {"stream": "/streams", "kv": "/kv", "object_store": "/objects"}[change["kind"]]
        )
    return collection, f"{collection}/{change['name']}"


def _apply_one(api: Api, cluster_id: str, change: dict) -> dict[str, Any]:
    collection, item = _paths(cluster_id, change)
    out = {"action": change["action"], "resource": change["resource"]}
    try:
        if change["action"] in ("delete", "replace"):
            answer = api.delete(item)
            if is_pending(answer) or change["action"] == "delete":
                return {**out, **_outcome(answer, "deleted")}
        if change["action"] == "update":
            if change["kind"] in ("kv", "object_store"):
                return {
                    **out,
                    "status": "skipped",
                    "detail": "a bucket's settings are changed "
                    "by a GitOps sync, not through the bucket routes",
                }
            answer = api.patch(item, change["config"])
        else:
            answer = api.post(collection, change["config"])
        return {**out, **_outcome(answer, "applied")}
    except CliError as exc:
        return {**out, "status": "failed", "detail": str(exc)}


def _outcome(answer: Any, done: str) -> dict[str, Any]:
    if is_pending(answer):
        return {"status": "waiting_approval", "detail": f"request {answer['request_id']}"}
    return {"status": done}
