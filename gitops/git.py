"""Git access for GitOps repositories (GitPython over the ``git`` command).

Remotes are https (with a token), ssh (with a key and the host's known_hosts line) or ``file://``
(a local bare repository, only under ``JSC_GITOPS_LOCAL_ROOT``). Everything else is refused, and
so are the hosts the platform must not reach (``core.netpolicy``, ``JSC_ALLOWED_GIT_NETWORKS``),
checked when a URL is stored and again, resolved, right before every call; git is then pinned to
the address that was checked (``http.curloptResolve`` for https, ``HostName`` for ssh).

Every call runs git in a fresh temporary directory with no system or user configuration, hooks
off, only the remote's protocol allowed, http redirects not followed (a public host could
otherwise send git on to an internal one), no prompts, and a timeout after which git and its
helpers (ssh, git-remote-https) are killed. A call given no checked ``address`` checks the host
itself; a given one must still be an address the policy allows. A token travels as an HTTP
header through git's environment (never in argv or the URL); an ssh key is a 0600 file in the
temporary directory. Errors carry git's last words with every secret scrubbed.

- :func:`validate_url`: the URL check when a repository is registered (async, resolves names).
- :func:`checkout`: a shallow checkout of a ref (branch, tag or commit) in a temporary directory.
- :func:`resolve`: the commit a ref names on the remote.
- :func:`push_branch`: a commit of some files on a new branch from a base commit, pushed.
"""

from __future__ import annotations

import base64
import concurrent.futures
import ipaddress
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import git

from core.netpolicy import RESOLVE_TIMEOUT_S, OutboundRefused, Unresolvable
from core.settings import Settings

GIT_TIMEOUT_S = 120
SHA_RE = re.compile(r"^[0-9a-f]{40}$")
# A ref or branch name: git's own rules, and never something git could read as an option.
_REF_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/+@-]{0,254}$")
_SCP_RE = re.compile(r"^(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+):(?P<path>[^\s:][^\s]*)$")
_HOST_RE = re.compile(r"^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$")
_USER_RE = re.compile(r"^[A-Za-z0-9._~+][A-Za-z0-9._~+-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


class GitError(Exception):
    """A git operation that failed, in words a person can act on (never with a secret).

    ``reason``: "invalid" (a URL, ref or path the platform refuses), "refused" (the outbound
    policy), "failed" (git or the remote)."""

    def __init__(self, message: str, reason: str = "failed"):
        super().__init__(message)
        self.reason = reason


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
    if (
        not _REF_RE.match(ref)
        or ".." in ref
        or "//" in ref
        or ref.endswith((".", "/", ".lock"))
        or "@{" in ref
    ):
        raise GitError(
            f"'{ref[:80]}' is not a usable {what}: use letters, digits and . _ / + @ -, "
            "starting with a letter or digit, without '..'.",
            "invalid",
        )
    return ref


def _usable_host(host: str) -> bool:
    """A DNS name or an IP address (an IPv6 one as urlsplit gives it, without brackets)."""
    if ":" in host:
        try:
            ipaddress.IPv6Address(host.strip("[]"))
            return True
        except ValueError:
            return False
    return bool(host) and not host.startswith("-") and bool(_HOST_RE.match(host))


def parse_url(url: str) -> Remote:
    """The remote a URL names, or GitError saying which forms are accepted."""
    accepted = (
        "Use https://host/path, ssh://user@host/path, user@host:path or file:///path "
        "(under the directory the platform allows for local repositories)."
    )
    if not url or _CONTROL.search(url) or url.startswith("-") or len(url) > 2048:
        raise GitError(
            f"The repository URL is empty, too long, or has spaces or control "
            f"characters. {accepted}",
            "invalid",
        )
    scp = _SCP_RE.match(url)
    if scp and "://" not in url:
        if not _usable_host(scp["host"]) or scp["user"].startswith("-"):
            raise GitError(f"The repository URL has no usable host name. {accepted}", "invalid")
        return Remote("ssh", scp["host"], None, scp["user"], scp["path"])
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise GitError(f"A repository URL has no query (?) or fragment (#). {accepted}", "invalid")
    if scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise GitError(
                f"A file:// URL names an absolute local path (file:///path). {accepted}", "invalid"
            )
        if "%" in parts.path:  # git decodes %2e%2e/..%2f: the path checked must be git's
            raise GitError(
                "A file:// URL is given without percent-encoding (file:///path).", "invalid"
            )
        return Remote("file", path=parts.path)
    if scheme not in ("https", "ssh"):
        raise GitError(f"'{scheme or url[:20]}' remotes are not supported. {accepted}", "invalid")
    try:
        host, port = parts.hostname or "", parts.port
    except ValueError:
        raise GitError(f"The repository URL has an invalid port. {accepted}", "invalid") from None
    if not _usable_host(host):
        raise GitError(f"The repository URL has no usable host name. {accepted}", "invalid")
    if scheme == "https" and parts.password:
        raise GitError(
            "Put the token in the repository's `token` field, not in the URL.", "invalid"
        )
    user = unquote(parts.username or "")
    if user and not _USER_RE.match(user):
        raise GitError(f"'{user[:40]}' is not a user name for a git remote.", "invalid")
    if parts.path in ("", "/"):
        raise GitError(f"The repository URL names no repository path. {accepted}", "invalid")
    return Remote(scheme, host, port, user, parts.path)


def display_url(url: str) -> str:
    """The URL with any user information removed, for showing and for error messages."""
    parts = urlsplit(url)
    if parts.scheme and "@" in parts.netloc:
        return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
    return url


def _local_path(remote: Remote, settings: Settings) -> Path:
    root = settings.gitops_local_root
    if root is None:
        raise GitError(
            "file:// repositories are not allowed on this platform "
            "(JSC_GITOPS_LOCAL_ROOT is not set). Use an https or ssh remote.",
            "refused",
        )
    base = root.resolve()
    path = Path(remote.path).resolve()  # symlinks resolved: a link out of the root is refused
    if path != base and base not in path.parents or "%" in str(path):
        raise GitError(
            f"file:// repositories must be under {base} (JSC_GITOPS_LOCAL_ROOT).", "refused"
        )
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
        raise GitError(str(exc), "refused") from None
    except Unresolvable as exc:
        raise GitError(f"The git remote cannot be reached: {exc}") from None


def _address_for_call(remote: Remote, settings: Settings, address: str | None) -> str | None:
    """The address git is pinned to: the caller's checked one (which must still be allowed), or,
    when none is given, the host resolved and checked here (blocking, at most a few seconds)."""
    if remote.scheme == "file":
        return None
    policy, host = settings.git_policy, remote.host.strip("[]")
    if address is None:
        try:
            literal = ipaddress.ip_address(host)
            addresses = [str(literal)]
        except ValueError:
            pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
            try:
                infos = pool.submit(
                    socket.getaddrinfo, host, remote.port, type=socket.SOCK_STREAM
                ).result(timeout=RESOLVE_TIMEOUT_S)
            except (OSError, UnicodeError, concurrent.futures.TimeoutError) as exc:
                raise GitError(
                    f"The git remote cannot be reached: '{host}' does not resolve "
                    f"({exc or 'no answer in time'})."
                ) from None
            finally:
                pool.shutdown(wait=False)
            addresses = list(dict.fromkeys(str(i[4][0]).split("%")[0] for i in infos))
        if not addresses:
            raise GitError(f"The git remote cannot be reached: '{host}' does not resolve.")
    else:
        addresses = [address]
    try:
        for item in addresses:
            policy.check_address(host, ipaddress.ip_address(item))
    except (OutboundRefused, ValueError) as exc:
        raise GitError(str(exc), "refused") from None
    return addresses[0]


async def validate_url(url: str, settings: Settings) -> str:
    """The URL as stored (stripped), or GitError with a message for a person."""
    url = url.strip()
    await checked_address(url, settings, stored=True)
    return url


class _Session:
    """One git invocation context: a temporary home, the environment, the secrets' files."""

    def __init__(self, access: RepoAccess, settings: Settings, address: str | None):
        self.access, self.remote, self.settings = access, parse_url(access.url), settings
        address = _address_for_call(self.remote, settings, address)
        base = settings.gitops_checkouts
        base.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix="git-", dir=base))
        self.home = self.dir / "home"
        self.home.mkdir()
        self.secrets: list[str] = [s for s in (access.token,) if s]
        if access.ssh_key:  # never in a message either, line by line
            self.secrets += [
                ln.strip()
                for ln in access.ssh_key.strip().splitlines()
                if len(ln.strip()) >= 16 and "PRIVATE KEY" not in ln
            ]
        self.env = self._environment(address)

    def _environment(self, address: str | None) -> dict[str, str]:
        remote = self.remote
        config = [
            ("core.hooksPath", "/dev/null"),
            ("protocol.allow", "never"),
            (f"protocol.{remote.scheme}.allow", "always"),
            ("submodule.recurse", "false"),
            ("fetch.recurseSubmodules", "false"),
            ("core.fsmonitor", "false"),
            ("credential.helper", ""),
            ("advice.detachedHead", "false"),
            ("init.defaultBranch", "main"),
            ("transfer.fsckObjects", "true"),
            ("http.followRedirects", "false"),
            ("http.lowSpeedLimit", "1000"),
            ("http.lowSpeedTime", "30"),
            ("core.askPass", ""),
            ("gc.auto", "0"),
            ("commit.gpgSign", "false"),
            ("push.recurseSubmodules", "no"),
        ]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "/bin/false",
            "SSH_ASKPASS": "/bin/false",
            "GIT_ALLOW_PROTOCOL": remote.scheme,
            "GIT_PROTOCOL_FROM_USER": "0",
            "LANG": "C",
            "GIT_SSH_VARIANT": "ssh",
        }
        if remote.scheme == "https":
            if self.settings.gitops_ca_bundle is not None:
                config.append(("http.sslCAInfo", str(self.settings.gitops_ca_bundle)))
            if self.access.token:  # the URL's user name if it gives one (oauth2@ for GitLab)
                user = remote.user or "x-access-token"
                basic = base64.b64encode(f"{user}:{self.access.token}".encode()).decode()
                self.secrets.append(basic)
                config.append(("http.extraHeader", f"Authorization: Basic {basic}"))
            if address is not None:
                pinned = f"[{address}]" if ":" in address else address
                config.append(
                    (
                        "http.curloptResolve",
                        f"{remote.host.strip('[]')}:{remote.port or 443}:{pinned}",
                    )
                )
        if remote.scheme == "ssh":
            env["GIT_SSH_COMMAND"] = self._ssh_command(address)
        for i, (key, value) in enumerate(config):
            env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
        env["GIT_CONFIG_COUNT"] = str(len(config))
        return env

    def _ssh_command(self, address: str | None) -> str:
        known = self.dir / "known_hosts"
        known.write_text((self.access.known_hosts or "").strip() + "\n")
        parts = [
            "ssh",
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            f"UserKnownHostsFile={known}",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "ConnectTimeout=20",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "PasswordAuthentication=no",
            "-o",
            "KbdInteractiveAuthentication=no",
            "-o",
            "ProxyCommand=none",
            "-o",
            "ProxyJump=none",
            "-o",
            "ControlMaster=no",
            "-o",
            "ControlPath=none",
            "-o",
            "ForwardAgent=no",
            "-o",
            "ClearAllForwardings=yes",
            "-o",
            "PermitLocalCommand=no",
            "-o",
            "UpdateHostKeys=no",
        ]
        if self.access.ssh_key:
            key = self.dir / "id_key"
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(self.access.ssh_key.replace("\r\n", "\n").strip() + "\n")
            parts += ["-i", str(key)]
        else:
            parts += ["-i", "/dev/null"]
        if address is not None:  # connect to the address checked; verify the key of the name
            host, port = self.remote.host, self.remote.port
            alias = host if port in (None, 22) else f"[{host}]:{port}"  # as known_hosts names it
            parts += ["-o", f"HostName={address}", "-o", f"HostKeyAlias={alias}"]
        return shlex.join(parts)

    def scrub(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        text = re.sub(r"(?i)(authorization:\s*)(\S+\s+)?\S+", r"\1***", text)
        text = re.sub(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@", r"\1", text)  # user:pass@
        return text.replace(self.access.url, display_url(self.access.url))

    def run(self, repo_git: git.Git, *args: str) -> str:
        """Run git in ``repo_git``'s directory with this session's environment alone (GitPython
        would add the process's own, whose ``GIT_*`` variables must not reach a tenant's fetch)."""
        # its own process group: on timeout git's helpers (ssh, git-remote-https) go with it
        proc = subprocess.Popen(
            ["git", *args],
            cwd=repo_git.working_dir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(timeout=GIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.communicate()
            raise GitError(
                f"git {args[0]} from {display_url(self.access.url)} took longer than "
                f"{GIT_TIMEOUT_S} s and was stopped."
            ) from None
        if proc.returncode != 0:
            last = [line.strip() for line in stderr.splitlines() if line.strip()][-3:]
            text = " ".join(last) or f"exit status {proc.returncode}"
            if re.search(r"returned error: 30[1278]", text):
                text += (
                    " (the server redirects elsewhere, which the platform does not follow: "
                    "give the repository's final URL)"
                )
            elif "certificate" in text.lower():
                text += (
                    " (an operator can trust a private certificate authority with "
                    "JSC_GITOPS_CA_BUNDLE)"
                )
            raise GitError(
                self.scrub(f"git {args[0]} from {display_url(self.access.url)} failed: " + text)
            )
        return stdout

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _url_for_git(access: RepoAccess, settings: Settings) -> str:
    remote = parse_url(access.url)
    if remote.scheme == "file":
        return "file://" + str(_local_path(remote, settings))
    return access.url


def _init(session: _Session) -> tuple[Path, git.Repo]:
    """An empty repository in the session's directory (no templates), read with its environment."""
    root = session.dir / "repo"
    session.run(git.Git(str(session.dir)), "init", "--quiet", "--template=", str(root))
    repo = git.Repo(root)
    repo.git.update_environment(**session.env)
    return root, repo


def _commit_of(commit: git.Commit) -> Commit:
    return Commit(
        sha=commit.hexsha,
        author=commit.author.name or "",
        email=commit.author.email or "",
        message=str(commit.message).strip(),
        committed_at=commit.committed_datetime.isoformat(),
    )


@contextmanager
def checkout(
    access: RepoAccess, ref: str, settings: Settings, *, address: str | None = None
) -> Iterator[Checkout]:
    """A shallow checkout of ``ref`` in a temporary directory, removed afterwards. ``address`` is
    the remote host's checked address (:func:`checked_address`), which git is pinned to."""
    check_ref(ref)
    session = _Session(access, settings, address)
    try:
        url = _url_for_git(access, settings)
        root, repo = _init(session)
        session.run(
            repo.git,
            "fetch",
            "--depth=1",
            "--no-tags",
            "--no-recurse-submodules",
            "--quiet",
            "--",
            url,
            ref,
        )
        session.run(repo.git, "checkout", "--quiet", "--detach", "FETCH_HEAD")
        commit = _commit_of(repo.head.commit)
        repo.close()
        yield Checkout(root=root, commit=commit)
    finally:
        session.close()


def resolve(access: RepoAccess, ref: str, settings: Settings, *, address: str | None = None) -> str:
    """The commit ``ref`` names on the remote (a full sha is answered as it is)."""
    check_ref(ref)
    if SHA_RE.match(ref):
        return ref
    session = _Session(access, settings, address)
    try:
        out = session.run(
            git.Git(str(session.dir)),
            "ls-remote",
            "--",
            _url_for_git(access, settings),
            ref,
            f"{ref}^{{}}",
        )  # an annotated tag: the commit it points to too
    finally:
        session.close()
    rows = [line.split("\t") for line in out.splitlines() if "\t" in line]
    for wanted in (f"refs/heads/{ref}", f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}", ref):
        for sha, name in rows:
            if name == wanted:
                return sha
    raise GitError(f"'{ref}' names no branch or tag of {display_url(access.url)}.", "not_found")


_AUTHOR_BAD = re.compile(r"[\x00-\x1f\x7f<>]")


def _check_path(rel: str) -> None:
    """A file path inside the repository to write: relative, no '..', nothing under .git."""
    parts = rel.split("/") if isinstance(rel, str) else []
    if (
        not parts
        or rel.startswith("/")
        or "\\" in rel
        or _CONTROL.search(rel.replace(" ", "_"))
        or any(p in ("", ".", "..") for p in parts)
        or any(p.lower() == ".git" for p in parts)
    ):
        raise GitError(
            f"'{str(rel)[:120]}' is outside the repository (a relative path, without "
            "'..', not under .git).",
            "invalid",
        )


def push_branch(
    access: RepoAccess,
    base: str,
    branch: str,
    files: dict[str, bytes | None],
    message: str,
    author: tuple[str, str],
    settings: Settings,
    *,
    address: str | None = None,
) -> Commit:
    """Commit ``files`` (relative path → content; None deletes) on a new ``branch`` made from
    ``base`` and push it. An existing branch of that name is never overwritten."""
    check_ref(base)
    check_ref(branch, "branch name")
    for rel in files:
        _check_path(rel)
    name, email = author
    if not name or not email or _AUTHOR_BAD.search(name + email):
        raise GitError(
            "The commit's author needs a name and an email address (no <, > or "
            "control characters).",
            "invalid",
        )
    session = _Session(access, settings, address)
    try:
        url = _url_for_git(access, settings)
        root, repo = _init(session)
        session.run(
            repo.git, "fetch", "--quiet", "--no-tags", "--no-recurse-submodules", "--", url, base
        )
        session.run(repo.git, "checkout", "--quiet", "-b", branch, "FETCH_HEAD")
        real_root = root.resolve()
        for rel, content in files.items():
            target = root / rel
            if not target.parent.resolve().is_relative_to(real_root):
                raise GitError(f"'{rel}' is outside the repository.", "invalid")
            if target.is_symlink() or (content is None and target.is_file()):
                target.unlink()  # a link is replaced by the file, never written through
            if content is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
        session.run(repo.git, "add", "--all", "--", ".")
        session.env.update(
            GIT_AUTHOR_NAME=name,
            GIT_AUTHOR_EMAIL=email,
            GIT_COMMITTER_NAME="JetStream Console",
            GIT_COMMITTER_EMAIL="gitops@jetstream-console.invalid",
        )
        session.run(repo.git, "commit", "--quiet", "--no-verify", "-m", message)
        # an empty expectation: the push is refused if the branch exists (never overwritten,
        # not even fast-forwarded)
        session.run(
            repo.git,
            "push",
            "--quiet",
            "--no-verify",
            f"--force-with-lease=refs/heads/{branch}:",
            "--",
            url,
            f"HEAD:refs/heads/{branch}",
        )
        repo.git.update_environment(**session.env)
        commit = _commit_of(repo.head.commit)
        repo.close()
        return commit
    finally:
        session.close()
