"""Git access for GitOps repositories (GitPython over the ``git`` command).

Remotes are https (with a token), ssh (with a key and the host's known_hosts line) or ``file://``
(a local bare repository, only under ``JSC_GITOPS_LOCAL_ROOT``). Everything else is refused, and
so are the hosts the platform must not reach (``core.netpolicy``, ``JSC_ALLOWED_GIT_NETWORKS``),
checked when a URL is stored and again, resolved, right before every call; git is then pinned to
the address that was checked (``http.curloptResolve`` for https, ``HostName`` for ssh).

Every call runs git in a fresh temporary directory with no system or user configuration, hooks
off, only the remote's protocol allowed, no prompts, and a timeout. A token travels as an HTTP
header through git's environment (never in argv or the URL); an ssh key is a 0600 file in the
temporary directory. Errors carry git's last words with every secret scrubbed.

- :func:`validate_url`: the URL check when a repository is registered (async, resolves names).
- :func:`checkout`: a shallow checkout of a ref (branch, tag or commit) in a temporary directory.
- :func:`resolve`: the commit a ref names on the remote.
- :func:`push_branch`: a commit of some files on a new branch from a base commit, pushed.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import git

from core.netpolicy import OutboundRefused, Unresolvable
from core.settings import Settings

GIT_TIMEOUT_S = 120
SHA_RE = re.compile(r"^[0-9a-f]{40}$")
# A ref or branch name: git's own rules, and never something git could read as an option.
_REF_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/+@-]{0,254}$")
_SCP_RE = re.compile(r"^(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+):(?P<path>[^\s:][^\s]*)$")
_HOST_RE = re.compile(r"^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$")


class GitError(Exception):
    """A git operation that failed, in words a person can act on (never with a secret)."""


@dataclass(frozen=True)
class RepoAccess:
    url: str
    auth_type: str = "none"  # "none" | "token" | "ssh_key"
    token: str | None = None
    ssh_key: str | None = None
    known_hosts: str | None = None


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    email: str
    message: str
    committed_at: str  # ISO 8601


@dataclass(frozen=True)
class Checkout:
    root: Path
    commit: Commit


@dataclass(frozen=True)
class Remote:
    """A parsed remote: ``scheme`` is https, ssh or file; ``path`` is the local path for file."""

    scheme: str
    host: str = ""
    port: int | None = None
    user: str = ""
    path: str = ""


def check_ref(ref: str, what: str = "ref") -> str:
    """A branch, tag or commit name git cannot mistake for an option or a range."""
    if (not _REF_RE.match(ref) or ".." in ref or "//" in ref or ref.endswith((".", "/", ".lock"))
            or "@{" in ref):
        raise GitError(f"'{ref[:80]}' is not a usable {what}: use letters, digits and . _ / + @ -, "
                       "starting with a letter or digit, without '..'.")
    return ref


def parse_url(url: str) -> Remote:
    """The remote a URL names, or GitError saying which forms are accepted."""
    accepted = ("Use https://host/path, ssh://user@host/path, user@host:path or file:///path "
                "(under the directory the platform allows for local repositories).")
    if not url or any(c in url for c in "\x00\r\n\t ") or url.startswith("-"):
        raise GitError(f"The repository URL is empty or has spaces or control characters. {accepted}")
    scp = _SCP_RE.match(url)
    if scp and "://" not in url:
        return Remote("ssh", scp["host"], None, scp["user"], scp["path"])
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise GitError(f"A file:// URL names an absolute local path (file:///path). {accepted}")
        return Remote("file", path=parts.path)
    if scheme not in ("https", "ssh"):
        raise GitError(f"'{scheme or url[:20]}' remotes are not supported. {accepted}")
    try:
        host, port = parts.hostname or "", parts.port
    except ValueError:
        raise GitError(f"The repository URL has an invalid port. {accepted}") from None
    if not host or not _HOST_RE.match(host.strip("[]") if ":" in host else host):
        raise GitError(f"The repository URL has no usable host name. {accepted}")
    if scheme == "https" and parts.password:
        raise GitError("Put the token in the repository's `token` field, not in the URL.")
    return Remote(scheme, host, port, parts.username or "", parts.path)


def display_url(url: str) -> str:
    """The URL with any user information removed, for showing and for error messages."""
    parts = urlsplit(url)
    if parts.scheme and "@" in parts.netloc:
        return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
    return url


def _local_path(remote: Remote, settings: Settings) -> Path:
    root = settings.gitops_local_root
    if root is None:
        raise GitError("file:// repositories are not allowed on this platform "
                       "(JSC_GITOPS_LOCAL_ROOT is not set). Use an https or ssh remote.")
    base = root.resolve()
    path = Path(remote.path).resolve()  # symlinks resolved: a link out of the root is refused
    if path != base and base not in path.parents:
        raise GitError(f"file:// repositories must be under {base} (JSC_GITOPS_LOCAL_ROOT).")
    return path


async def checked_address(url: str, settings: Settings, *, stored: bool = False) -> str | None:
    """Check the remote's host against the platform's networks; the address git must use (None
    for file:// remotes). ``stored``: a name that does not resolve yet is accepted."""
    remote = parse_url(url)
    if remote.scheme == "file":
        _local_path(remote, settings)
        return None
    policy = settings.git_policy
    port = remote.port or (443 if remote.scheme == "https" else 22)
    host = remote.host.strip("[]")
    try:
        if stored:
            await policy.check_stored(host, port)
            return None
        return (await policy.resolve(host, port))[0]
    except OutboundRefused as exc:
        raise GitError(str(exc)) from None
    except Unresolvable as exc:
        raise GitError(f"The git remote cannot be reached: {exc}") from None


async def validate_url(url: str, settings: Settings) -> str:
    """The URL as stored (stripped), or GitError with a message for a person."""
    url = url.strip()
    await checked_address(url, settings, stored=True)
    return url


class _Session:
    """One git invocation context: a temporary home, the environment, the secrets' files."""

    def __init__(self, access: RepoAccess, settings: Settings, address: str | None):
        self.access, self.remote, self.settings = access, parse_url(access.url), settings
        base = settings.gitops_checkouts
        base.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix="git-", dir=base))
        self.home = self.dir / "home"
        self.home.mkdir()
        self.secrets: list[str] = [s for s in (access.token,) if s]
        self.env = self._environment(address)

    def _environment(self, address: str | None) -> dict[str, str]:
        remote = self.remote
        config = [("core.hooksPath", "/dev/null"), ("protocol.allow", "never"),
                  (f"protocol.{remote.scheme}.allow", "always"), ("submodule.recurse", "false"),
                  ("fetch.recurseSubmodules", "false"), ("core.fsmonitor", "false"),
                  ("credential.helper", ""), ("advice.detachedHead", "false"),
                  ("init.defaultBranch", "main"), ("transfer.fsckObjects", "true")]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home),
               "XDG_CONFIG_HOME": str(self.home), "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false", "SSH_ASKPASS": "/bin/false",
               "GIT_ALLOW_PROTOCOL": remote.scheme, "GIT_PROTOCOL_FROM_USER": "0", "LANG": "C",
               "GIT_SSH_VARIANT": "ssh"}
        if remote.scheme == "https":
            if self.settings.gitops_ca_bundle is not None:
                config.append(("http.sslCAInfo", str(self.settings.gitops_ca_bundle)))
            if self.access.token:
                basic = base64.b64encode(f"x-access-token:{self.access.token}".encode()).decode()
                self.secrets.append(basic)
                config.append(("http.extraHeader", f"Authorization: Basic {basic}"))
            if address is not None:
                config.append(("http.curloptResolve",
                               f"{remote.host.strip('[]')}:{remote.port or 443}:{address}"))
        if remote.scheme == "ssh":
            env["GIT_SSH_COMMAND"] = self._ssh_command(address)
        for i, (key, value) in enumerate(config):
            env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
        env["GIT_CONFIG_COUNT"] = str(len(config))
        return env

    def _ssh_command(self, address: str | None) -> str:
        known = self.dir / "known_hosts"
        known.write_text((self.access.known_hosts or "").strip() + "\n")
        parts = ["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                 "-o", f"UserKnownHostsFile={known}", "-o", "GlobalKnownHostsFile=/dev/null",
                 "-o", "ConnectTimeout=20", "-o", "IdentitiesOnly=yes"]
        if self.access.ssh_key:
            key = self.dir / "id_key"
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(self.access.ssh_key.strip() + "\n")
            parts += ["-i", str(key)]
        else:
            parts += ["-i", "/dev/null"]
        if address is not None:  # connect to the address checked; verify the key of the name
            host, port = self.remote.host, self.remote.port
            alias = host if port in (None, 22) else f"[{host}]:{port}"  # as known_hosts names it
            parts += ["-o", f"HostName={address}", "-o", f"HostKeyAlias={alias}"]
        return " ".join(parts)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text.replace(self.access.url, display_url(self.access.url))

    def run(self, repo_git: git.Git, *args: str) -> str:
        """Run git in ``repo_git``'s directory with this session's environment alone (GitPython
        would add the process's own, whose ``GIT_*`` variables must not reach a tenant's fetch)."""
        try:
            done = subprocess.run(["git", *args], cwd=repo_git.working_dir, env=self.env,
                                  capture_output=True, text=True, timeout=GIT_TIMEOUT_S,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise GitError(f"git {args[0]} from {display_url(self.access.url)} took longer than "
                           f"{GIT_TIMEOUT_S} s and was stopped.") from None
        if done.returncode != 0:
            last = [line.strip() for line in done.stderr.splitlines() if line.strip()][-3:]
            raise GitError(self.scrub(f"git {args[0]} from {display_url(self.access.url)} failed: "
                                      + (" ".join(last) or f"exit status {done.returncode}")))
        return done.stdout

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _url_for_git(access: RepoAccess, settings: Settings) -> str:
    remote = parse_url(access.url)
    if remote.scheme == "file":
        return "file://" + str(_local_path(remote, settings))
    return access.url


def _commit_of(commit: git.Commit) -> Commit:
    return Commit(sha=commit.hexsha, author=commit.author.name or "", email=commit.author.email or "",
                  message=str(commit.message).strip(),
                  committed_at=commit.committed_datetime.isoformat())


@contextmanager
def checkout(access: RepoAccess, ref: str, settings: Settings, *,
             address: str | None = None) -> Iterator[Checkout]:
    """A shallow checkout of ``ref`` in a temporary directory, removed afterwards. ``address`` is
    the remote host's checked address (:func:`checked_address`), which git is pinned to."""
    check_ref(ref)
    session = _Session(access, settings, address)
    try:
        url = _url_for_git(access, settings)
        root = session.dir / "repo"
        repo = git.Repo.init(root)
        session.run(repo.git, "fetch", "--depth=1", "--no-tags", "--quiet", "--", url, ref)
        session.run(repo.git, "checkout", "--quiet", "--detach", "FETCH_HEAD")
        yield Checkout(root=root, commit=_commit_of(repo.head.commit))
    finally:
        session.close()


def resolve(access: RepoAccess, ref: str, settings: Settings, *, address: str | None = None) -> str:
    """The commit ``ref`` names on the remote (a full sha is answered as it is)."""
    check_ref(ref)
    if SHA_RE.match(ref):
        return ref
    session = _Session(access, settings, address)
    try:
        out = session.run(git.Git(str(session.dir)), "ls-remote", "--", _url_for_git(access, settings),
                          ref)
    finally:
        session.close()
    rows = [line.split("\t") for line in out.splitlines() if "\t" in line]
    for wanted in (f"refs/heads/{ref}", f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}", ref):
        for sha, name in rows:
            if name == wanted:
                return sha
    raise GitError(f"'{ref}' names no branch or tag of {display_url(access.url)}.")


def push_branch(access: RepoAccess, base: str, branch: str, files: dict[str, bytes | None],
                message: str, author: tuple[str, str], settings: Settings, *,
                address: str | None = None) -> Commit:
    """Commit ``files`` (relative path → content; None deletes) on a new ``branch`` made from
    ``base`` and push it. An existing branch of that name is never overwritten."""
    check_ref(base)
    check_ref(branch, "branch name")
    session = _Session(access, settings, address)
    try:
        url = _url_for_git(access, settings)
        root = session.dir / "repo"
        repo = git.Repo.init(root)
        session.run(repo.git, "fetch", "--quiet", "--no-tags", "--", url, base)
        session.run(repo.git, "checkout", "--quiet", "-b", branch, "FETCH_HEAD")
        for rel, content in files.items():
            target = (root / rel).resolve()
            if root.resolve() not in target.parents:
                raise GitError(f"'{rel}' is outside the repository.")
            if content is None:
                target.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
        session.run(repo.git, "add", "--all", "--", ".")
        name, email = author
        session.env.update(GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
                           GIT_COMMITTER_NAME="JetStream Console",
                           GIT_COMMITTER_EMAIL="gitops@jetstream-console.invalid")
        session.run(repo.git, "commit", "--quiet", "--no-verify", "-m", message)
        session.run(repo.git, "push", "--quiet", "--", url, f"HEAD:refs/heads/{branch}")
        return _commit_of(repo.head.commit)
    finally:
        session.close()
