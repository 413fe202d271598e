"""GitOps fixtures: a real git remote (a bare repository under JSC_GITOPS_LOCAL_ROOT, reached as
``file://``) and a working clone the test commits to and pushes from, as a team would."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import GITOPS_LOCAL_ROOT

GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "LANG": "C"}


def git(cwd: Path, *args: str, env: dict | None = None) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV, **(env or {})},
    ).stdout.strip()


@dataclass
class GitRemote:
    """``url`` is the bare repository's file:// URL; ``work`` a clone on ``branch``."""

    bare: Path
    work: Path
    branch: str = "main"

    @property
    def url(self) -> str:
        return f"file://{self.bare}"

    def write(self, rel: str, text: str) -> None:
        path = self.work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def remove(self, rel: str) -> None:
        (self.work / rel).unlink()

    def commit(
        self,
        message: str,
        *,
        author: str = "Jane Doe",
        email: str = "jane@example.com",
        push: bool = True,
    ) -> str:
        """Commit everything in the working clone (and push it): the new commit's sha."""
        who = {
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": author,
            "GIT_COMMITTER_EMAIL": email,
        }
        git(self.work, "add", "--all")
        git(self.work, "commit", "--quiet", "--allow-empty", "-m", message, env=who)
        if push:
            git(self.work, "push", "--quiet", "origin", f"HEAD:refs/heads/{self.branch}")
        return git(self.work, "rev-parse", "HEAD")

    def branches(self) -> dict[str, str]:
        out = git(
            self.bare, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads"
        )
        return dict(line.split(" ", 1) for line in out.splitlines() if line)

    def show(self, ref: str, rel: str) -> str:
        return git(self.bare, "show", f"{ref}:{rel}")


def make_remote(root: Path = GITOPS_LOCAL_ROOT, branch: str = "main") -> GitRemote:
    name = f"r{uuid.uuid4().hex[:10]}"
    bare, work = root / f"{name}.git", root.parent / f"{root.name}-work" / name
    work.parent.mkdir(parents=True, exist_ok=True)
    git(root, "init", "--quiet", "--bare", f"--initial-branch={branch}", str(bare))
    git(work.parent, "init", "--quiet", f"--initial-branch={branch}", str(work))
    git(work, "remote", "add", "origin", f"file://{bare}")
    return GitRemote(bare, work, branch)


@pytest.fixture
def git_remote():
    remote = make_remote()
    yield remote
    shutil.rmtree(remote.bare, ignore_errors=True)
    shutil.rmtree(remote.work, ignore_errors=True)
