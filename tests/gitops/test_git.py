"""Git access against a real git remote (a local bare repository): checkouts of a branch and of a
commit, resolving refs, pushing a new branch; and the refusals an attacker would probe: other
transports, internal hosts, paths out of the allowed root, refs that look like options."""

from __future__ import annotations

import asyncio
import os

import pytest

from core.settings import Settings
from gitops import git as gitops_git
from gitops.git import GitError, RepoAccess, checkout, push_branch, resolve, validate_url
from tests.conftest import GITOPS_LOCAL_ROOT


@pytest.fixture
def settings(tmp_path):
    return Settings(gitops_local_root=GITOPS_LOCAL_ROOT, gitops_work_dir=tmp_path / "work")


def test_checkout_of_a_branch_and_of_a_commit(git_remote, settings):
    git_remote.write("environments/dev/orders.yaml", "first\n")
    first = git_remote.commit("first", author="Ann", email="ann@example.com")
    git_remote.write("environments/dev/orders.yaml", "second\n")
    second = git_remote.commit("second change\n\nwith a body")
    access = RepoAccess(git_remote.url)
    with checkout(access, "main", settings) as co:
        assert co.commit.sha == second
        assert co.commit.message.startswith("second change")
        assert (co.root / "environments/dev/orders.yaml").read_text() == "second\n"
        root = co.root
    assert not root.exists()  # removed afterwards
    with checkout(access, first, settings) as co:
        assert (co.commit.sha, co.commit.author, co.commit.email) == (
            first,
            "Ann",
            "ann@example.com",
        )
        assert (co.root / "environments/dev/orders.yaml").read_text() == "first\n"
    assert resolve(access, "main", settings) == second
    with pytest.raises(GitError, match="names no branch or tag"):
        resolve(access, "nope", settings)
    with pytest.raises(GitError, match="failed"):
        with checkout(access, "nope", settings):
            pass


def test_push_branch_leaves_the_base_alone(git_remote, settings):
    git_remote.write("environments/dev/a.yaml", "a: 1\n")
    base = git_remote.commit("base")
    access = RepoAccess(git_remote.url)
    pushed = push_branch(
        access,
        base,
        "jsc/drift-1",
        {"environments/dev/a.yaml": b"a: 2\n", "environments/dev/b.yaml": b"b: 1\n"},
        "Update from the cluster",
        ("Bob", "bob@example.com"),
        settings,
    )
    branches = git_remote.branches()
    assert branches["main"] == base and branches["jsc/drift-1"] == pushed.sha
    assert git_remote.show("jsc/drift-1", "environments/dev/a.yaml") == "a: 2"
    assert git_remote.show("main", "environments/dev/a.yaml") == "a: 1"
    assert pushed.author == "Bob"
    with pytest.raises(GitError):  # an existing branch is never overwritten
        push_branch(access, base, "jsc/drift-1", {"x": b"y"}, "again", ("Bob", "b@x"), settings)
    with pytest.raises(GitError, match="outside the repository"):
        push_branch(
            access, base, "jsc/drift-2", {"../../escape": b"x"}, "m", ("B", "b@x"), settings
        )


@pytest.mark.parametrize(
    "url,message",
    [
        ("ext::sh -c touch% /tmp/pwned", "spaces"),
        ("ext::sh%-c%touch", "not supported"),
        ("fd::17/foo", "not supported"),
        ("http://example.com/repo.git", "not supported"),
        ("git://example.com/repo.git", "not supported"),
        ("-uhttps://example.com/x", "control characters|not supported"),
        ("https://127.0.0.1/repo.git", "loopback"),
        ("https://10.1.2.3/repo.git", "private"),
        ("ssh://git@169.254.169.254/repo.git", "metadata|link-local"),
        ("git@127.0.0.1:org/repo.git", "loopback"),
        ("https://user:secret@example.com/repo.git", "token"),
        ("file:///etc", "must be under"),
        ("file://otherhost/srv/repo.git", "absolute local path"),
    ],
)
def test_refused_urls(url, message, settings):
    with pytest.raises(GitError, match=message):
        asyncio.run(validate_url(url, settings))


def test_file_remotes_need_the_setting_and_stay_under_it(git_remote, tmp_path):
    nowhere = Settings(gitops_local_root=None, gitops_work_dir=tmp_path)
    with pytest.raises(GitError, match="not allowed on this platform"):
        asyncio.run(validate_url(git_remote.url, nowhere))
    link = GITOPS_LOCAL_ROOT / f"escape-{os.getpid()}"
    link.symlink_to("/etc")
    try:
        with pytest.raises(GitError, match="must be under"):
            asyncio.run(
                validate_url(f"file://{link}", Settings(gitops_local_root=GITOPS_LOCAL_ROOT))
            )
    finally:
        link.unlink()
    escape = f"file://{GITOPS_LOCAL_ROOT}/../x.git"
    with pytest.raises(GitError, match="must be under"):
        asyncio.run(validate_url(escape, Settings(gitops_local_root=GITOPS_LOCAL_ROOT)))


@pytest.mark.parametrize(
    "ref", ["--upload-pack=touch /tmp/x", "-b", "a..b", "main@{1}", "x.lock", "a b", "a\nb", ""]
)
def test_refs_that_git_could_misread_are_refused(ref, git_remote, settings):
    with pytest.raises(GitError, match="not a usable"):
        resolve(RepoAccess(git_remote.url), ref, settings)


def test_a_token_travels_in_the_environment_and_never_in_messages(settings):
    settings = settings.model_copy(update={"allowed_git_networks": "203.0.113.0/24"})
    access = RepoAccess("https://git.example.com/acme/config.git", "token", token="s3cr3t-t0ken")
    session = gitops_git._Session(access, settings, "203.0.113.7")
    try:
        values = [v for k, v in session.env.items() if k.startswith("GIT_CONFIG_VALUE_")]
        assert any(v.startswith("Authorization: Basic ") for v in values)
        assert "git.example.com:443:203.0.113.7" in values  # pinned to the checked address
        assert session.env["GIT_ALLOW_PROTOCOL"] == "https"
        basic = next(v for v in values if v.startswith("Authorization"))[
            len("Authorization: Basic ") :
        ]
        assert session.scrub(f"fatal: s3cr3t-t0ken {basic}") == "fatal: *** ***"
    finally:
        session.close()


def test_an_ssh_key_is_a_private_file_and_the_host_is_checked(settings):
    settings = settings.model_copy(update={"allowed_git_networks": "203.0.113.0/24"})
    access = RepoAccess(
        "git@git.example.com:acme/config.git",
        "ssh_key",
        ssh_key="-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----",
        known_hosts="git.example.com ssh-ed25519 AAAAC3Nza",
    )
    session = gitops_git._Session(access, settings, "203.0.113.8")
    try:
        command = session.env["GIT_SSH_COMMAND"]
        assert "StrictHostKeyChecking=yes" in command and "BatchMode=yes" in command
        assert "HostName=203.0.113.8" in command and "HostKeyAlias=git.example.com" in command
        assert (session.dir / "id_key").stat().st_mode & 0o777 == 0o600
        assert "ssh-ed25519" in (session.dir / "known_hosts").read_text()
    finally:
        session.close()
    assert not session.dir.exists()
