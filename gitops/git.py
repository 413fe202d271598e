"""Git access for GitOps: check a remote's URL, fetch one commit into a fresh temporary checkout,
resolve a ref, push a new branch. Every call runs the ``git`` command line (GitPython reads the
commit) in a sandbox an attacker who can register a repository cannot talk their way out of:

- remotes: ``https://``, ``ssh://`` or scp-like ``user@host:path``, and ``file://`` only for a
  repository under ``JSC_GITOPS_LOCAL_ROOT`` (symlinks resolved; unset: refused). No ``http://``,
  ``git://``, ``ext::`` or any other transport or remote helper: git itself is told so too
  (``protocol.allow=never`` and only the remote's own protocol allowed).
- hosts are judged by the outbound policy (``JSC_ALLOWED_GIT_NETWORKS``, :mod:`core.netpolicy`)
  when a URL is stored and again at every call; git then connects to the address that was checked
  (curl's resolve pin for https, ``HostName`` for ssh), and http redirects are not followed, so
  neither a DNS answer that changes nor a redirect reaches an internal address.
- git runs with a clean environment: a temporary ``HOME``, no system or global configuration,
  no terminal prompts, no hooks, no submodules, no credential helpers, and a time limit
  (``JSC_GITOPS_TIMEOUT_S``) after which the whole process group is killed.
- secrets never reach argv, the URL or an error message: a token travels as an ``http.extraHeader``
  in ``GIT_CONFIG_*`` variables; an ssh key is written 0600 to the call's temporary directory and
  used with ``IdentitiesOnly``, strict host key checking against the repository's ``known_hosts``
  and ``BatchMode``. Errors are scrubbed of every secret before they are raised.
- refs and branch names are checked (no leading ``-``, no ``..``, no control characters) before
  they reach a command line.

Each call works in its own temporary directory under ``JSC_GITOPS_WORK_DIR``, deleted on exit.
The functions block: call them from a thread (``asyncio.to_thread``) in async code.
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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timezone
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from core.netpolicy import RESOLVE_TIMEOUT_S, OutboundRefused, host_address

MAX_URL_LENGTH = 2048
MAX_REF_LENGTH = 255
FULL_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
                        r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$")
_USER = re.compile(r"^[A-Za-z0-9._~+][A-Za-z0-9._~+-]{0,63}$")
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/:]+)@)?(?P<host>\[[^\]/]+\]|[^@/:\[\]]+):(?P<path>.+)$")
_TRANSPORT = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
_REF_BAD = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|/\.|\.lock(?:/|$)|^[-/.]|[/.]$")
SUPPORTED = ("https://host/path, ssh://[user@]host[:port]/path, user@host:path, or "
             "file:///path for a repository under the platform's local root")


class GitError(Exception):
    """A git operation that failed, with a message a person can act on and never a secret.

    ``reason``: "invalid" (a URL, ref or path the platform refuses), "refused" (the outbound
    policy), "unreachable" (the remote did not answer: network, DNS, time limit), "auth"
    (authentication or host key), "not_found" (no such repository, branch, tag or commit),
    "failed" (anything else git reported)."""

    def __init__(self, message: str, reason: str = "failed"):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class RepoAccess:
    """Where a repository is and how to authenticate: ``auth_type`` "none", "token" (https) or
    "ssh_key" (with ``known_hosts``, the lines ``ssh-keyscan`` prints for the host)."""

    url: str
    auth_type: str = "none"
    token: str | None = field(default=None, repr=False)
    ssh_key: str | None = field(default=None, repr=False)
    known_hosts: str | None = None


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    email: str
    message: str
    committed_at: str  # ISO 8601, UTC


@dataclass(frozen=True)
class Checkout:
    root: Path  # the repository's working tree (the files of ``commit``)
    commit: Commit


@dataclass(frozen=True)
class Remote:
    """A parsed, syntactically valid remote URL."""

    scheme: str  # https | ssh | file
    url: str
    host: str = ""
    port: int | None = None
    user: str | None = None
    path: str = ""

    @property
    def label(self) -> str:
        """The URL without any user information, safe to show."""
        return redact_url(self.url)


# --- URLs -------------------------------------------------------------------------------------

def redact_url(url: str) -> str:
    """``https://user:secret@host/x`` -> ``https://host/x`` (scp-like and paths unchanged)."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", r"\1", url)


def _invalid(message: str) -> GitError:
    return GitError(message, "invalid")


def _check_host(host: str, url: str) -> str:
    literal = host_address(host)
    if literal is not None:
        if "%" in host:
            raise _invalid(f"'{redact_url(url)}': an address with a zone is not a git remote")
        return str(literal)
    if not _HOST_NAME.match(host) or host.startswith("-"):
        raise _invalid(f"'{host}' is not a host name; give a URL such as {SUPPORTED}")
    return host.lower().rstrip(".")


def parse_remote(url: str) -> Remote:
    """The URL's parts, or a GitError ("invalid") saying what is wrong with it."""
    if not isinstance(url, str) or not url:
        raise _invalid(f"give the repository's URL: {SUPPORTED}")
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(f"a repository URL has at most {MAX_URL_LENGTH} characters")
    if re.search(r"[\x00-\x20\x7f]", url):
        raise _invalid("a repository URL must not contain spaces or control characters")
    if url.startswith("-"):
        raise _invalid(f"a repository URL must not start with '-'; give {SUPPORTED}")
    if _TRANSPORT.match(url):
        raise _invalid(f"git transports and remote helpers ('{url.split('::')[0]}::') are not "
                       f"allowed; give {SUPPORTED}")
    if "://" in url:
        scheme = url.split("://", 1)[0].lower()
        if scheme not in ("https", "ssh", "file"):
            hint = " (use https://)" if scheme in ("http", "git") else ""
            raise _invalid(f"'{scheme}://' remotes are not allowed{hint}; give {SUPPORTED}")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise _invalid(f"'{redact_url(url)}' is not a valid URL: {exc}") from None
        if parts.query or parts.fragment or "?" in url or "#" in url:
            raise _invalid("a repository URL has no query (?) or fragment (#)")
        if scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise _invalid("a file:// URL names a local path: file:///path/to/repo.git")
            path = unquote(parts.path)
            if not path.startswith("/") or "\x00" in path:
                raise _invalid("a file:// URL names an absolute path: file:///path/to/repo.git")
            return Remote("file", url, path=path)
        if parts.password is not None:
            raise _invalid("a repository URL must not carry a password: give the token in "
                           "'token' (https) or use an ssh key")
        user = unquote(parts.username) if parts.username is not None else None
        if user is not None and not _USER.match(user):
            raise _invalid(f"'{user}' is not a user name for a git remote")
        host = _check_host(parts.hostname or "", url) if parts.hostname else ""
        if not host:
            raise _invalid(f"'{redact_url(url)}' names no host; give {SUPPORTED}")
        path = unquote(parts.path)
        if path in ("", "/") or path.lstrip("/").startswith("-"):
            raise _invalid(f"'{redact_url(url)}' names no repository path")
        return Remote(scheme, url, host=host, port=port, user=user, path=path)
    match = _SCP_LIKE.match(url)
    if not match:
        raise _invalid(f"'{redact_url(url)}' is not a repository URL; give {SUPPORTED}")
    user, host, path = match.group("user"), match.group("host").strip("[]"), match.group("path")
    if user is not None and not _USER.match(user):
        raise _invalid(f"'{user}' is not a user name for a git remote")
    if path.startswith((":", "-")):
        raise _invalid(f"'{url}' is not a repository URL; give {SUPPORTED}")
    return Remote("ssh", url, host=_check_host(host, url), user=user, path=path)


def _local_path(remote: Remote, settings) -> Path:
    """The repository directory a file:// URL names, confined to JSC_GITOPS_LOCAL_ROOT."""
    root_setting = getattr(settings, "gitops_local_root", None)
    if not root_setting:
        raise GitError("file:// remotes are not enabled on this platform (an operator allows "
                       "them under a directory with JSC_GITOPS_LOCAL_ROOT); use https:// or ssh",
                       "refused")
    root = Path(root_setting).resolve()
    try:
        path = Path(remote.path).resolve(strict=True)
    except (OSError, RuntimeError):
        path = None
    if path is None or not path.is_relative_to(root) or path == root:
        raise GitError(f"'{remote.path}' is not a repository under the platform's local root "
                       f"({root}); file:// remotes may only point there", "refused")
    return path


def _resolve_host(host: str, port: int | None) -> list[str]:
    """Every address a name stands for (GitError "unreachable" when it does not resolve)."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        future = pool.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        infos = future.result(timeout=RESOLVE_TIMEOUT_S)
    except (OSError, UnicodeError, concurrent.futures.TimeoutError) as exc:
        raise GitError(f"'{host}' does not resolve: {exc or 'no answer in time'}",
                       "unreachable") from None
    finally:
        pool.shutdown(wait=False)
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    if not addresses:
        raise GitError(f"'{host}' does not resolve", "unreachable")
    return addresses


def _checked_addresses(remote: Remote, settings) -> list[str]:
    policy = settings.git_policy
    addresses = ([remote.host] if host_address(remote.host) is not None
                 else _resolve_host(remote.host, remote.port))
    try:
        for address in addresses:
            policy.check_address(remote.host, ipaddress.ip_address(address))
    except OutboundRefused as exc:
        raise GitError(str(exc), "refused") from None
    return addresses


def validate_url(url: str, settings) -> str:
    """The URL when the platform may use it as a git remote; else a GitError whose message says
    why (fit for a 422). A host name that does not resolve (yet) is accepted: it is checked again
    at every call. Blocks for at most a few seconds (DNS)."""
    remote = parse_remote(url)
    if remote.scheme == "file":
        _local_path(remote, settings)
        return url
    try:
        _checked_addresses(remote, settings)
    except GitError as exc:
        if exc.reason != "unreachable":
            raise
    return url


# --- refs and paths ---------------------------------------------------------------------------

def check_ref(ref: str, what: str = "ref") -> str:
    """A branch, tag or full commit sha that is safe on a command line, or GitError "invalid"."""
    if not isinstance(ref, str) or not ref:
        raise _invalid(f"give a {what}: a branch, a tag or a full commit sha")
    if len(ref) > MAX_REF_LENGTH:
        raise _invalid(f"a {what} has at most {MAX_REF_LENGTH} characters")
    if FULL_SHA.match(ref):
        return ref
    if _REF_BAD.search(ref) or ref == "@":
        shown = ref if ref.isprintable() else ref.encode("unicode_escape").decode()
        raise _invalid(f"'{shown}' is not a valid {what}: it must not start with '-', '/' or '.', "
                       "nor contain '..', spaces, control characters or any of ~^:?*[\\")
    return ref


def check_branch(branch: str) -> str:
    check_ref(branch, "branch name")
    if FULL_SHA.match(branch) or branch.startswith("refs/") or branch == "HEAD":
        raise _invalid(f"'{branch}' is not a branch name to create")
    return branch


def check_file_path(path: str) -> PurePosixPath:
    """A path inside the repository to write: relative, no '..', nothing under .git."""
    pure = PurePosixPath(path) if isinstance(path, str) and path else None
    if (pure is None or pure.is_absolute() or "\\" in path or re.search(r"[\x00-\x1f\x7f]", path)
            or any(part in ("", ".", "..") for part in path.split("/"))
            or any(part.lower() == ".git" for part in pure.parts)):
        raise _invalid(f"'{path}' is not a file path inside the repository (relative, no '..', "
                       "nothing under .git)")
    return pure


# --- running git ------------------------------------------------------------------------------

@dataclass
class _Call:
    """One call's sandbox: its temporary directory, git's environment, the secrets to scrub."""

    remote: Remote
    tmp: Path
    env: dict[str, str]
    timeout: float
    secrets: list[str]

    def scrub(self, text: str) -> str:
        for secret in sorted((s for s in self.secrets if s), key=len, reverse=True):
            text = text.replace(secret, "***")
        text = re.sub(r"(?i)(authorization:\s*)(\S+\s+)?\S+", r"\1***", text)
        return re.sub(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@", r"\1", text)


def _config_env(pairs: list[tuple[str, str]]) -> dict[str, str]:
    env = {"GIT_CONFIG_COUNT": str(len(pairs))}
    for i, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env


def _base_config(protocol: str) -> list[tuple[str, str]]:
    return [
        ("protocol.allow", "never"), (f"protocol.{protocol}.allow", "always"),
        ("core.hooksPath", "/dev/null"), ("core.fsmonitor", "false"),
        ("core.askPass", ""), ("credential.helper", ""), ("credential.interactive", "false"),
        ("submodule.recurse", "false"), ("fetch.recurseSubmodules", "false"),
        ("push.recurseSubmodules", "no"), ("http.followRedirects", "false"),
        ("http.lowSpeedLimit", "1000"), ("http.lowSpeedTime", "30"),
        ("protocol.version", "2"), ("init.defaultBranch", "main"), ("advice.detachedHead", "false"),
        ("gc.auto", "0"), ("maintenance.auto", "false"), ("commit.gpgSign", "false"),
        ("tag.gpgSign", "false"), ("safe.directory", "*"), ("core.symlinks", "true"),
    ]


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


@contextmanager
def _call(access: RepoAccess, settings) -> Iterator[_Call]:
    remote = parse_remote(access.url)
    work = Path(settings.gitops_work_dir or Path(settings.data_dir) / "gitops").absolute()
    work.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = Path(tempfile.mkdtemp(prefix="git-", dir=work))
    try:
        home = tmp / "home"
        home.mkdir(mode=0o700)
        env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
               "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
               "LANG": "C", "LC_ALL": "C", "LANGUAGE": "C", "TZ": "UTC",
               "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
               "GIT_TERMINAL_PROMPT": "0", "GIT_PROTOCOL_FROM_USER": "0",
               "GIT_NO_REPLACE_OBJECTS": "1", "GIT_OPTIONAL_LOCKS": "0"}
        for name in ("http_proxy", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY",
                     "all_proxy", "ALL_PROXY"):  # the operator's proxy, if any
            if os.environ.get(name):
                env[name] = os.environ[name]
        secrets: list[str] = []
        config = _base_config("file" if remote.scheme == "file" else remote.scheme)
        if remote.scheme == "file":
            _local_path(remote, settings)
        else:
            if access.auth_type == "token" and remote.scheme != "https":
                raise _invalid("a token authenticates https remotes only; use an ssh key for ssh")
            if access.auth_type == "ssh_key" and remote.scheme != "ssh":
                raise _invalid("an ssh key authenticates ssh remotes only; use a token for https")
            addresses = _checked_addresses(remote, settings)
            if remote.scheme == "https":
                config += _https_config(remote, addresses, access, settings, secrets)
            else:
                env["GIT_SSH_COMMAND"] = _ssh_command(remote, addresses[0], access, tmp, secrets)
                env["GIT_SSH_VARIANT"] = "ssh"
        env.update(_config_env(config))
        yield _Call(remote, tmp, env, float(getattr(settings, "gitops_timeout_s", 120.0)), secrets)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _https_config(remote: Remote, addresses: list[str], access: RepoAccess, settings,
                  secrets: list[str]) -> list[tuple[str, str]]:
    config = []
    if host_address(remote.host) is None:  # connect to the addresses that were checked
        shown = ",".join(f"[{a}]" if ":" in a else a for a in addresses)
        config.append(("http.curloptResolve", f"{remote.host}:{remote.port or 443}:{shown}"))
    ca = getattr(settings, "gitops_ca_file", None)
    if ca:
        config.append(("http.sslCAInfo", str(Path(ca).absolute())))
    if access.auth_type == "token":
        if not access.token:
            raise _invalid("this repository authenticates with a token but none is stored")
        user = remote.user or "x-access-token"
        basic = base64.b64encode(f"{user}:{access.token}".encode()).decode()
        secrets += [access.token, basic]
        config.append(("http.extraHeader", f"Authorization: Basic {basic}"))
    return config


def _ssh_command(remote: Remote, address: str, access: RepoAccess, tmp: Path,
                 secrets: list[str]) -> str:
    ssh_dir = tmp / "ssh"
    ssh_dir.mkdir(mode=0o700)
    known_hosts = ssh_dir / "known_hosts"
    _write_private(known_hosts, (access.known_hosts or "").replace("\r\n", "\n").strip() + "\n")
    options = ["-F", os.devnull, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
               "-o", f"UserKnownHostsFile={known_hosts}", "-o", f"GlobalKnownHostsFile={os.devnull}",
               "-o", "IdentitiesOnly=yes", "-o", "PasswordAuthentication=no",
               "-o", "KbdInteractiveAuthentication=no", "-o", "UpdateHostKeys=no",
               "-o", "ProxyCommand=none", "-o", "ProxyJump=none", "-o", "PermitLocalCommand=no",
               "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "ForwardAgent=no",
               "-o", "ForwardX11=no", "-o", "ClearAllForwardings=yes", "-o", "ConnectTimeout=15",
               "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=2",
               "-o", "LogLevel=ERROR"]
    if host_address(remote.host) is None:  # connect to the address that was checked
        alias = remote.host if remote.port in (None, 22) else f"[{remote.host}]:{remote.port}"
        options += ["-o", f"HostName={address}", "-o", f"HostKeyAlias={alias}"]
    if access.auth_type == "ssh_key":
        if not access.ssh_key:
            raise _invalid("this repository authenticates with an ssh key but none is stored")
        if not (access.known_hosts or "").strip():
            raise _invalid("an ssh key needs the host's known_hosts lines (ssh-keyscan <host>)")
        key = ssh_dir / "id"
        _write_private(key, access.ssh_key.replace("\r\n", "\n").strip() + "\n")
        secrets += [access.ssh_key.strip(), *access.ssh_key.strip().splitlines()[1:-1]]
        options += ["-o", f"IdentityFile={key}"]
    else:
        options += ["-o", f"IdentityFile={os.devnull}", "-o", "PubkeyAuthentication=no"]
    return shlex.join(["ssh", *options])


def _explain(call: _Call, what: str, stderr: str) -> GitError:
    text = call.scrub(stderr)
    lines = [ln.strip() for ln in text.splitlines()
             if ln.strip() and not ln.startswith(("hint:", "remote: Counting", "remote: Compress"))]
    detail = "; ".join(lines[-4:])[:600]
    low = text.lower()
    where = call.remote.label
    if "host key verification failed" in low or "no matching host key" in low \
            or "remote host identification has changed" in low:
        return GitError(f"{what} {where}: the host key does not match known_hosts (give the "
                        "lines `ssh-keyscan` prints for the host)", "auth")
    if ("authentication failed" in low or "permission denied" in low
            or "could not read username" in low or "could not read password" in low
            or "http 401" in low or "http 403" in low or " 401" in low or " 403" in low):
        return GitError(f"{what} {where}: authentication failed (check the token or ssh key and "
                        f"its access to the repository): {detail}", "auth")
    if "certificate" in low and ("verif" in low or "problem" in low or "expired" in low):
        return GitError(f"{what} {where}: the server's TLS certificate is not trusted (an operator "
                        f"can add a private CA with JSC_GITOPS_CA_FILE): {detail}", "auth")
    if re.search(r"returned error: 30[1278]", low):
        return GitError(f"{what} {where}: the server answered with a redirect, which the platform "
                        "does not follow; give the repository's final URL", "failed")
    if "stale info" in low or "already exists" in low:
        return GitError(f"{what} {where}: a branch of that name already exists", "invalid")
    if ("couldn't find remote ref" in low or "not our ref" in low or "unknown revision" in low
            or "no such remote ref" in low or "invalid refspec" in low):
        return GitError(f"{what} {where}: {detail}", "not_found")
    if ("repository not found" in low or "does not appear to be a git repository" in low
            or "not found" in low or "http 404" in low):
        return GitError(f"{what} {where}: no repository there (or no access): {detail}",
                        "not_found")
    if ("could not resolve" in low or "connection refused" in low or "timed out" in low
            or "could not connect" in low or "failed to connect" in low
            or "connection reset" in low or "network is unreachable" in low
            or "no route to host" in low or "connection closed" in low):
        return GitError(f"{what} {where}: the remote is unreachable: {detail}", "unreachable")
    return GitError(f"{what} {where} failed: {detail or 'git gave no reason'}")


def _git(call: _Call, args: list[str], what: str, cwd: Path | None = None,
         extra_env: Mapping[str, str] | None = None) -> str:
    """Run ``git args`` in the call's sandbox: its stdout, or the scrubbed GitError."""
    proc = subprocess.Popen(["git", *args], cwd=cwd or call.tmp, env={**call.env, **(extra_env or {})},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=call.timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # git and its helpers (ssh, remote-https)
        except ProcessLookupError:
            pass
        proc.communicate()
        raise GitError(f"{what} {call.remote.label}: no answer within {call.timeout:g} s",
                       "unreachable") from None
    if proc.returncode:
        raise _explain(call, what, err.decode("utf-8", "replace"))
    return out.decode("utf-8", "replace")


def _remote_arg(call: _Call) -> str:
    return call.remote.url


def _commit_of(call: _Call, repo_dir: Path, sha: str | None = None) -> Commit:
    import git  # GitPython reads the commit, with the call's environment

    repo = git.Repo(repo_dir)
    repo.git.update_environment(**call.env)
    try:
        commit = repo.commit(sha or "HEAD")
        when = commit.committed_datetime.astimezone(timezone.utc)
        return Commit(sha=commit.hexsha, author=commit.author.name or "",
                      email=commit.author.email or "", message=str(commit.message).strip(),
                      committed_at=when.isoformat().replace("+00:00", "Z"))
    finally:
        repo.close()


def _fetch(call: _Call, ref: str, depth: int = 1) -> Path:
    """A fresh repository in the call's directory with ``ref`` (branch, tag, sha) checked out."""
    check_ref(ref)
    repo = call.tmp / "repo"
    _git(call, ["init", "--quiet", "--template=", str(repo)], "preparing a checkout of")
    _git(call, ["fetch", "--quiet", f"--depth={depth}", "--no-tags", "--no-recurse-submodules",
                "--", _remote_arg(call), ref],
         f"fetching '{ref}' from", cwd=repo)
    _git(call, ["checkout", "--quiet", "--detach", "FETCH_HEAD", "--"], "checking out", cwd=repo)
    return repo


# --- the operations ---------------------------------------------------------------------------

@contextmanager
def checkout(access: RepoAccess, ref: str, settings) -> Iterator[Checkout]:
    """The files of ``ref`` (a branch, a tag or a full commit sha) in a fresh temporary
    directory, deleted when the block exits."""
    check_ref(ref)
    with _call(access, settings) as call:
        repo = _fetch(call, ref)
        yield Checkout(root=repo, commit=_commit_of(call, repo))


def resolve(access: RepoAccess, ref: str, settings) -> str:
    """The commit sha ``ref`` names on the remote (a full sha is answered as is)."""
    check_ref(ref)
    if FULL_SHA.match(ref):
        return ref
    with _call(access, settings) as call:
        out = _git(call, ["ls-remote", "--", _remote_arg(call), ref, f"{ref}^{{}}"], f"looking up '{ref}' on")
    refs: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, name = line.partition("\t")
        if FULL_SHA.match(sha):
            refs[name] = sha
    for name in (f"refs/heads/{ref}", f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}", ref,
                 f"{ref}^{{}}" if ref.startswith("refs/tags/") else ""):
        if name and name in refs:
            return refs[name]
    raise GitError(f"no branch or tag '{ref}' in {redact_url(access.url)}", "not_found")


def push_branch(access: RepoAccess, base: str, branch: str, files: dict[str, bytes | None],
                message: str, author: tuple[str, str], settings) -> Commit:
    """A new branch ``branch`` on the remote: ``base`` with ``files`` written (bytes) or deleted
    (None), committed by ``author`` (name, email). An existing branch of that name is an error."""
    check_ref(base)
    check_branch(branch)
    name, email = author
    if (not name or not email or re.search(r"[\x00-\x1f\x7f<>]", name + email)
            or len(name) > 200 or len(email) > 254 or "@" not in email):
        raise _invalid("the author needs a name and an email address (no <, > or control "
                       "characters)")
    if not message or not message.strip() or "\x00" in message:
        raise _invalid("give a commit message")
    if not files:
        raise _invalid("a commit needs at least one file to write or delete")
    paths = {str(check_file_path(p)): content for p, content in files.items()}
    with _call(access, settings) as call:
        repo = _fetch(call, base)
        root = repo.resolve()
        for rel, content in paths.items():
            target = repo / rel
            if not target.parent.resolve().is_relative_to(root):
                raise _invalid(f"'{rel}' is behind a symbolic link that leaves the repository")
            if target.is_symlink() or (content is None and target.exists()):
                target.unlink()
            if content is not None:
                if target.is_dir():
                    raise _invalid(f"'{rel}' is a directory in the repository")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
        _git(call, ["add", "--all", "--", *paths], "staging the files for", cwd=repo)
        message_file = call.tmp / "message"
        message_file.write_text(message.strip() + "\n", encoding="utf-8")
        who = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
               "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
        if not _git(call, ["diff", "--cached", "--name-only"], "comparing the files of", cwd=repo):
            raise GitError(f"nothing to commit: '{base}' already holds these files", "invalid")
        _git(call, ["commit", "--quiet", "--no-verify", f"--file={message_file}"],
             "committing for", cwd=repo, extra_env=who)
        # --force-with-lease with an empty expectation: the branch must not exist yet
        _git(call, ["push", "--quiet", "--no-verify", f"--force-with-lease=refs/heads/{branch}:",
                    "--", _remote_arg(call), f"HEAD:refs/heads/{branch}"],
             f"pushing branch '{branch}' to", cwd=repo)
        return _commit_of(call, repo)
