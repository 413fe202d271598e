"""GitOps test fixtures: a local git remote the platform may use.

``git_remote`` is a bare repository under the test session's ``JSC_GITOPS_LOCAL_ROOT`` (set by
tests/conftest.py, inherited by the stack's API and worker, so its ``file://`` URL is accepted
there) with a working clone to commit and push from. It starts with one commit on ``main`` (a
README). Helpers::

    git_remote.url                       # file:///.../<name>.git
    git_remote.write("environments/dev/orders.yaml", text)   # in the working clone
    git_remote.delete("environments/dev/old.yaml")
    sha = git_remote.commit("add orders", author=("Alice", "alice@example.com"))
    git_remote.push()                    # the current branch (or push("other-branch"))
    sha = git_remote.commit_and_push("msg", {"path": "text", "gone.yaml": None})
    git_remote.branch("feature")         # switch the working clone to a (new) branch
    git_remote.remote_sha("main")        # what the bare repository holds

``make_git_remote(name=None)`` makes more of them.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

DEFAULT_AUTHOR = ("Test Author", "author@example.com")


def git_env(home: Path) -> dict[str, str]:
    """A git environment that ignores the machine's configuration."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C",
            "GIT_TERMINAL_PROMPT": "0"}


def run_git(cwd: Path, *args: str, env: dict[str, str], extra: dict[str, str] | None = None) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, env={**env, **(extra or {})},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout.strip()


@dataclass
class GitRemote:
    """A bare repository (``bare``) and a working clone of it (``work``)."""

    bare: Path
    work: Path
    env: dict[str, str]
    current: str = "main"

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def git(self, *args: str, author: tuple[str, str] = DEFAULT_AUTHOR) -> str:
        name, email = author
        return run_git(self.work, *args, env=self.env, extra={
            "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email})

    def write(self, path: str, content: str | bytes) -> Path:
        target = self.work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return target

    def delete(self, path: str) -> None:
        (self.work / path).unlink()

    def commit(self, message: str = "change", author: tuple[str, str] = DEFAULT_AUTHOR) -> str:
        """Commit every change of the working clone; the new commit's sha."""
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message, author=author)
        return self.head()

    def push(self, branch: str | None = None) -> str:
        """Push the working clone's HEAD to ``branch`` (default: the current one); its sha."""
        self.git("push", "--quiet", "--force", "origin", f"HEAD:refs/heads/{branch or self.current}")
        return self.head()

    def commit_and_push(self, message: str = "change", files: dict[str, str | bytes | None] | None = None,
                        author: tuple[str, str] = DEFAULT_AUTHOR) -> str:
        for path, content in (files or {}).items():
            if content is None:
                self.delete(path)
            else:
                self.write(path, content)
        self.commit(message, author)
        return self.push()

    def branch(self, name: str) -> None:
        """Switch the working clone to branch ``name`` (created from HEAD if new)."""
        exists = self.git("branch", "--list", name)
        self.git("checkout", "--quiet", *(() if exists else ("-b",)), name)
        self.current = name

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def remote_sha(self, ref: str = "main") -> str:
        return run_git(self.bare, "rev-parse", ref, env=self.env)

    def show(self, ref: str, path: str) -> str:
        """A file as the bare repository holds it at ``ref``."""
        return run_git(self.bare, "show", f"{ref}:{path}", env=self.env)


def local_root() -> Path:
    root = os.environ.get("JSC_GITOPS_LOCAL_ROOT")
    assert root, "tests/conftest.py sets JSC_GITOPS_LOCAL_ROOT"
    return Path(root)


def create_remote(name: str | None = None) -> GitRemote:
    """A new bare repository under the local root with one commit (README) on main."""
    name = name or f"repo-{uuid.uuid4().hex[:8]}"
    base = local_root() / f"{name}-{uuid.uuid4().hex[:6]}"
    base.mkdir(parents=True)
    home = base / "home"
    home.mkdir()
    env = git_env(home)
    bare = base / f"{name}.git"
    run_git(base, "init", "--quiet", "--bare", "--initial-branch=main", str(bare), env=env)
    work = base / "work"
    run_git(base, "clone", "--quiet", str(bare), str(work), env=env)
    remote = GitRemote(bare=bare, work=work, env=env)
    remote.git("checkout", "--quiet", "-B", "main")
    remote.commit_and_push("initial commit", {"README.md": f"# {name}\n"})
    return remote


@pytest.fixture
def make_git_remote() -> Callable[..., GitRemote]:
    return create_remote


@pytest.fixture
def git_remote() -> GitRemote:
    return create_remote()
