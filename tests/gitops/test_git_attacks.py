"""gitops.git as an attacker who signed up a minute ago would probe it, beyond test_git.py: a
percent-encoded way out of the local root, redirects to internal hosts, calls made without a
checked address, a token looked for on every process's command line, option injection through
URLs, a timeout that must take git's helpers with it, the server's own git configuration, and
pushes that would overwrite a branch or write through a symlink or into .git."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import threading
from pathlib import Path

import pytest

from core.settings import Settings
from gitops import git as gitops_git
from gitops.git import GitError, RepoAccess, checkout, push_branch, resolve, validate_url
from tests.conftest import GITOPS_LOCAL_ROOT
from tests.gitops.conftest import git as run_git
from tests.gitops.conftest import make_remote
from tests.gitops.https_git import GitHttpsServer, command_lines_with

TOKEN = "ghp_attack-test-token-0123456789"
AUTHOR = ("Bob", "bob@example.com")


@pytest.fixture
def settings(tmp_path):
    return Settings(
        gitops_local_root=GITOPS_LOCAL_ROOT,
        gitops_work_dir=tmp_path / "work",
        allowed_git_networks="",
    )


@pytest.fixture
def https_server(tmp_path):
    (tmp_path / "tls").mkdir()
    server = GitHttpsServer(GITOPS_LOCAL_ROOT, TOKEN, tmp_path / "tls")
    yield server
    server.close()


def loopback_settings(tmp_path, server) -> Settings:
    return Settings(
        gitops_local_root=None,
        gitops_work_dir=tmp_path / "work",
        allowed_git_networks="127.0.0.1/32",
        gitops_ca_bundle=server.cert,
    )


def committed(remote, files: dict[str, str], message: str = "change") -> str:
    for rel, text in files.items():
        remote.write(rel, text)
    return remote.commit(message)


# --- file:// ----------------------------------------------------------------------------------


def test_a_percent_encoded_path_cannot_leave_the_local_root(settings, tmp_path):
    """git decodes %2F and %2e in file:// URLs: the path checked must be the path git opens."""
    remote = make_remote()
    committed(remote, {"secret.yaml": "s: 1\n"})
    secret = tmp_path / "secret.git"  # a repository outside the root
    remote.bare.rename(secret)
    up = "/".join([".."] * len(GITOPS_LOCAL_ROOT.parts[1:]))
    for encoded in (
        f"{GITOPS_LOCAL_ROOT}/{up.replace('/', '%2F')}{secret}",
        f"{GITOPS_LOCAL_ROOT}/{up.replace('..', '%2e%2e')}{secret}",
    ):
        url = f"file://{encoded}"
        assert run_git(tmp_path, "ls-remote", url)  # plain git reaches the secret through it
        with pytest.raises(GitError) as err:
            asyncio.run(validate_url(url, settings))
        assert err.value.reason == "invalid"
        with pytest.raises(GitError):
            resolve(RepoAccess(url), "main", settings)


def test_a_symlink_to_a_repository_outside_the_root_is_refused_at_call_time(settings, tmp_path):
    """A link placed after the URL was stored: the call checks again (resolving links)."""
    remote = make_remote()
    committed(remote, {"a.yaml": "a: 1\n"})
    outside = tmp_path / "moved.git"
    remote.bare.rename(outside)
    remote.bare.symlink_to(outside)
    try:
        with pytest.raises(GitError, match="must be under") as err:
            with checkout(RepoAccess(remote.url), "main", settings):
                pass
        assert err.value.reason == "refused"
    finally:
        remote.bare.unlink()


# --- URLs, refs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ssh://-oProxyCommand=touch%20/tmp/pwned@example.com/repo.git",
        "ssh://-oProxyCommand=x/repo.git",
        "git@-oProxyCommand=x:repo.git",
        "-oProxyCommand=x@example.com:repo.git",
        "https://example.com/repo.git?upload-pack=x",
        "https://example.com/repo.git#frag",
        "https://example.com",
        "ssh://git@example.com",
        "https://exa%6dple.com/repo.git",
        "ext::sh -c id",
        "ext::sh",
        "transport::example.com/repo",
        "file:///etc/../etc",
        "http://example.com/repo.git",
        "https://example.com/" + "a" * 3000,
    ],
)
def test_urls_that_smuggle_options_transports_or_other_hosts(url, settings):
    with pytest.raises(GitError):
        asyncio.run(validate_url(url, settings))
    with pytest.raises(GitError):
        resolve(RepoAccess(url), "main", settings)
    assert not Path("/tmp/pwned").exists()


@pytest.mark.parametrize(
    "ref",
    [
        "--upload-pack=touch /tmp/pwned",
        "-main",
        "main..other",
        "ma\x00in",
        "ma\x1bin",
        "main~1",
        "main^",
        "a:b",
        "*",
        "/x",
        "x/",
        ".hidden/..",
        "x" * 300,
    ],
)
def test_refs_and_branch_names_never_reach_git(ref, git_remote, settings):
    committed(git_remote, {"a.yaml": "a: 1\n"})
    access = RepoAccess(git_remote.url)
    for call in (
        lambda: resolve(access, ref, settings),
        lambda: push_branch(access, "main", ref, {"b.yaml": b"b"}, "m", AUTHOR, settings),
        lambda: push_branch(access, ref, "jsc/ok", {"b.yaml": b"b"}, "m", AUTHOR, settings),
    ):
        with pytest.raises(GitError) as err:
            call()
        assert err.value.reason == "invalid"
    with pytest.raises(GitError):
        with checkout(access, ref, settings):
            pass
    assert "jsc/ok" not in git_remote.branches()
    assert not Path("/tmp/pwned").exists()


def test_an_annotated_tag_resolves_to_its_commit(git_remote, settings):
    sha = committed(git_remote, {"a.yaml": "a: 1\n"})
    run_git(
        git_remote.work,
        "tag",
        "-a",
        "v1",
        "-m",
        "release",
        env={"GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.com"},
    )
    run_git(git_remote.work, "push", "--quiet", "origin", "v1")
    access = RepoAccess(git_remote.url)
    assert resolve(access, "v1", settings) == sha
    with checkout(access, "v1", settings) as co:
        assert co.commit.sha == sha


# --- hosts ------------------------------------------------------------------------------------


def test_calls_without_a_checked_address_still_apply_the_policy(git_remote, settings):
    """checkout/resolve/push_branch check the host themselves when no address is given, and a
    given address must be allowed too: a caller that forgets checked_address opens no hole."""
    for url in (
        "https://127.0.0.1/repo.git",
        "https://localhost/repo.git",
        "ssh://git@10.1.2.3/repo.git",
        "git@169.254.169.254:repo.git",
        "https://[::ffff:127.0.0.1]/repo.git",
    ):
        access = RepoAccess(url)
        with pytest.raises(GitError) as err:
            resolve(access, "main", settings)
        assert err.value.reason == "refused", (url, err.value)
        with pytest.raises(GitError) as err:
            with checkout(access, "main", settings):
                pass
        assert err.value.reason == "refused"
        with pytest.raises(GitError) as err:
            push_branch(access, "main", "jsc/x", {"a": b"a"}, "m", AUTHOR, settings)
        assert err.value.reason == "refused"
    with pytest.raises(GitError) as err:  # a public name pinned to an internal address
        resolve(
            RepoAccess("https://github.com/nats-io/nack.git"), "main", settings, address="127.0.0.1"
        )
    assert err.value.reason == "refused"
    checkouts = Path(settings.gitops_checkouts)
    assert not checkouts.exists() or list(checkouts.iterdir()) == []  # nothing left behind


def test_redirects_to_another_host_are_not_followed(git_remote, https_server, tmp_path):
    committed(git_remote, {"a.yaml": "a: 1\n"})
    (tmp_path / "inner").mkdir()
    inner = GitHttpsServer(GITOPS_LOCAL_ROOT, TOKEN, tmp_path / "inner")  # "internal" service
    try:
        https_server.redirect_to = f"https://127.0.0.1:{inner.port}"
        settings = loopback_settings(tmp_path, https_server)
        access = RepoAccess(https_server.url(git_remote.bare), "token", token=TOKEN)
        with pytest.raises(GitError, match="redirect") as err:
            resolve(access, "main", settings)
        assert TOKEN not in str(err.value)
        assert https_server.requests and inner.requests == []
    finally:
        inner.close()


# --- secrets ----------------------------------------------------------------------------------


def test_the_token_is_on_no_command_line_and_in_no_error(
    git_remote, https_server, tmp_path, monkeypatch
):
    sha = committed(git_remote, {"a.yaml": "a: 1\n"})
    spawned: list[list[str]] = []
    real = gitops_git.subprocess.Popen

    def recording(args, *a, **kw):
        spawned.append([str(x) for x in args])
        return real(args, *a, **kw)

    monkeypatch.setattr(gitops_git.subprocess, "Popen", recording)
    settings = loopback_settings(tmp_path, https_server)
    access = RepoAccess(https_server.url(git_remote.bare), "token", token=TOKEN)
    assert resolve(access, "main", settings) == sha
    with checkout(access, "main", settings) as co:
        assert co.commit.sha == sha
    push_branch(access, sha, "jsc/secret-test", {"b.yaml": b"b: 1\n"}, "m", AUTHOR, settings)
    assert https_server.expected in https_server.seen
    basic = https_server.expected.split()[1]
    assert spawned and not any(TOKEN in arg or basic in arg for argv in spawned for arg in argv)
    assert https_server.leaked_command_lines == []  # git-remote-https's argv included
    wrong = RepoAccess(https_server.url(git_remote.bare), "token", token="wrong-" + TOKEN)
    with pytest.raises(GitError) as err:
        resolve(wrong, "main", settings)
    assert TOKEN not in str(err.value) and basic not in str(err.value)


def test_the_url_user_name_is_the_basic_auth_user(git_remote, https_server, tmp_path):
    committed(git_remote, {"a.yaml": "a: 1\n"})
    url = https_server.url(git_remote.bare).replace("https://", "https://oauth2@")
    with pytest.raises(GitError):  # this test server takes x-access-token only
        resolve(
            RepoAccess(url, "token", token=TOKEN), "main", loopback_settings(tmp_path, https_server)
        )
    assert "Basic " + base64.b64encode(f"oauth2:{TOKEN}".encode()).decode() in https_server.seen


def test_scrub_removes_every_secret_shape(settings):
    key = (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
        "-----END OPENSSH PRIVATE KEY-----\n"
    )
    access = RepoAccess("git@github.com:a/b.git", "ssh_key", ssh_key=key, known_hosts="x")
    session = gitops_git._Session(access, settings, "140.82.121.4")
    try:
        text = session.scrub(
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ https://u:pw@h.example/x "
            "Authorization: Bearer abc.def"
        )
    finally:
        session.close()
    assert "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" not in text
    assert "pw@" not in text and "abc.def" not in text


# --- the process ------------------------------------------------------------------------------


def test_a_timeout_kills_git_and_its_helpers(tmp_path, monkeypatch):
    """A remote that accepts and never answers: the call gives up and leaves no process behind."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.5)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    monkeypatch.setattr(gitops_git, "GIT_TIMEOUT_S", 3)
    settings = Settings(gitops_work_dir=tmp_path / "work", allowed_git_networks="127.0.0.1/32")
    url = f"https://127.0.0.1:{port}/silent.git"
    try:
        with pytest.raises(GitError, match="took longer than 3 s"):
            resolve(RepoAccess(url), "main", settings)
        assert command_lines_with(f"127.0.0.1:{port}") == []  # git-remote-https is gone too
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def test_the_servers_own_git_configuration_and_environment_are_ignored(
    git_remote, settings, tmp_path, monkeypatch
):
    committed(git_remote, {"a.yaml": "a: 1\n"})
    marker = tmp_path / "hook-ran"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for hook in ("post-checkout", "pre-commit", "pre-push", "reference-transaction"):
        (hooks / hook).write_text(f"#!/bin/sh\ntouch {marker}\n")
        (hooks / hook).chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        f'[core]\n\thooksPath = {hooks}\n[url "file:///nonexistent/"]\n\tinsteadOf = file://\n'
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_DIR", "/nonexistent")
    monkeypatch.setenv("GIT_TEMPLATE_DIR", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'core.hooksPath'='" + str(hooks) + "'")
    access = RepoAccess(git_remote.url)
    with checkout(access, "main", settings) as co:
        assert (co.root / "a.yaml").exists()
    push_branch(access, "main", "jsc/env-test", {"b.yaml": b"b"}, "m", AUTHOR, settings)
    assert not marker.exists()
    assert os.environ["GIT_DIR"] == "/nonexistent"


# --- pushes -----------------------------------------------------------------------------------


def test_an_existing_branch_is_not_even_fast_forwarded(git_remote, settings):
    base = committed(git_remote, {"a.yaml": "a: 1\n"})
    run_git(git_remote.work, "push", "--quiet", "origin", f"{base}:refs/heads/jsc/taken")
    with pytest.raises(GitError):
        push_branch(
            RepoAccess(git_remote.url),
            base,
            "jsc/taken",
            {"a.yaml": b"a: 2\n"},
            "m",
            AUTHOR,
            settings,
        )
    assert git_remote.branches()["jsc/taken"] == base


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        "sub/.git/hooks/post-checkout",
        ".GIT/config",
        "../x",
        "/etc/passwd",
        "a/../../x",
        "a//b",
        "./a",
        "a\nb",
        "",
    ],
)
def test_paths_a_push_may_not_write(path, git_remote, settings):
    base = committed(git_remote, {"a.yaml": "a: 1\n"})
    with pytest.raises(GitError) as err:
        push_branch(
            RepoAccess(git_remote.url), base, "jsc/paths", {path: b"x"}, "m", AUTHOR, settings
        )
    assert err.value.reason == "invalid"
    assert "jsc/paths" not in git_remote.branches()


def test_a_push_never_writes_through_a_symlink(git_remote, settings, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.yaml").write_text("untouched\n")
    (git_remote.work / "linkdir").symlink_to(outside)
    (git_remote.work / "link.yaml").symlink_to(outside / "victim.yaml")
    base = committed(git_remote, {"a.yaml": "a: 1\n"})
    access = RepoAccess(git_remote.url)
    with pytest.raises(GitError, match="outside the repository"):
        push_branch(access, base, "jsc/link1", {"linkdir/x.yaml": b"x"}, "m", AUTHOR, settings)
    pushed = push_branch(
        access, base, "jsc/link2", {"link.yaml": b"replaced: 1\n"}, "m", AUTHOR, settings
    )
    assert (outside / "victim.yaml").read_text() == "untouched\n"
    assert list(outside.iterdir()) == [outside / "victim.yaml"]
    assert git_remote.show(pushed.sha, "link.yaml") == "replaced: 1"
