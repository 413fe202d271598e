"""gitops.git against real remotes: local bare repositories (file://), a git smart-HTTP server on
loopback that asks for a token, and a real sshd on loopback with its own host key. No stack needed.

Also what an attacker who just signed up would try: other transports (ext::, http://, git://),
internal addresses, file:// outside the local root and symlinks out of it, option injection through
the URL, branch and ref names, and whether a token ever shows in an error or a command line."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from core.settings import Settings
from gitops import git
from gitops.git import GitError, RepoAccess
from tests.gitops.conftest import GitRemote, local_root


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings of a platform whose file:// root is the test session's (no stack)."""
    return Settings(data_dir=tmp_path / "data", gitops_local_root=local_root(),
                    allowed_git_networks="", gitops_timeout_s=60)


def work_dirs(settings: Settings) -> list[Path]:
    return list(Path(settings.gitops_work_dir).iterdir()) if Path(settings.gitops_work_dir).exists() else []


# --- file:// remotes --------------------------------------------------------------------------

def test_checkout_of_a_branch_gives_its_files_and_commit_then_cleans_up(git_remote: GitRemote,
                                                                        settings):
    sha = git_remote.commit_and_push("add orders", {"environments/dev/orders.yaml": "a: 1\n"},
                                     author=("Alice Doe", "alice@example.com"))
    with git.checkout(RepoAccess(git_remote.url), "main", settings) as co:
        assert (co.root / "environments/dev/orders.yaml").read_text() == "a: 1\n"
        assert co.commit.sha == sha
        assert (co.commit.author, co.commit.email) == ("Alice Doe", "alice@example.com")
        assert co.commit.message == "add orders"
        assert co.commit.committed_at.endswith("Z")
        root = co.root
    assert not root.exists()
    assert work_dirs(settings) == []


def test_checkout_of_a_sha_and_of_a_tag(git_remote: GitRemote, settings):
    first = git_remote.commit_and_push("v1", {"f.yaml": "v: 1\n"})
    git_remote.git("tag", "v1")
    git_remote.git("push", "--quiet", "origin", "v1")
    git_remote.commit_and_push("v2", {"f.yaml": "v: 2\n"})
    access = RepoAccess(git_remote.url)
    with git.checkout(access, first, settings) as co:
        assert co.commit.sha == first
        assert (co.root / "f.yaml").read_text() == "v: 1\n"
    with git.checkout(access, "v1", settings) as co:
        assert co.commit.sha == first


def test_the_checkout_is_removed_when_the_block_raises(git_remote: GitRemote, settings):
    with pytest.raises(RuntimeError):
        with git.checkout(RepoAccess(git_remote.url), "main", settings) as co:
            root = co.root
            raise RuntimeError("boom")
    assert not root.exists()
    assert work_dirs(settings) == []


def test_resolve_names_the_sha_of_a_branch_a_tag_and_a_sha(git_remote: GitRemote, settings):
    sha = git_remote.commit_and_push("one", {"a.yaml": "a: 1\n"})
    git_remote.git("tag", "-a", "rel-1", "-m", "release")  # an annotated tag: its commit counts
    git_remote.git("push", "--quiet", "origin", "rel-1")
    access = RepoAccess(git_remote.url)
    assert git.resolve(access, "main", settings) == sha
    assert git.resolve(access, "refs/heads/main", settings) == sha
    assert git.resolve(access, "rel-1", settings) == sha
    assert git.resolve(access, sha, settings) == sha
    with pytest.raises(GitError) as err:
        git.resolve(access, "no-such-branch", settings)
    assert err.value.reason == "not_found" and "no-such-branch" in str(err.value)


def test_a_missing_ref_is_not_found_on_checkout(git_remote: GitRemote, settings):
    with pytest.raises(GitError) as err:
        with git.checkout(RepoAccess(git_remote.url), "nope", settings):
            pass
    assert err.value.reason == "not_found" and "nope" in str(err.value)


def test_push_branch_commits_files_on_a_new_branch(git_remote: GitRemote, settings):
    git_remote.commit_and_push("base", {"environments/dev/a.yaml": "a: 1\n",
                                        "environments/dev/old.yaml": "o: 1\n"})
    access = RepoAccess(git_remote.url)
    commit = git.push_branch(access, "main", "jsc/drift-1234abcd",
                             {"environments/dev/a.yaml": b"a: 2\n",
                              "environments/prod/new.yaml": b"n: 1\n",
                              "environments/dev/old.yaml": None},
                             "Update git from cluster", ("Drift Bot", "drift@example.com"), settings)
    assert git_remote.remote_sha("jsc/drift-1234abcd") == commit.sha
    assert (commit.author, commit.email, commit.message) == (
        "Drift Bot", "drift@example.com", "Update git from cluster")
    assert git_remote.show("jsc/drift-1234abcd", "environments/dev/a.yaml") == "a: 2"
    assert git_remote.show("jsc/drift-1234abcd", "environments/prod/new.yaml") == "n: 1"
    files = git_remote.git("ls-tree", "-r", "--name-only", "origin/main")  # main untouched
    git_remote.git("fetch", "--quiet", "origin")
    listed = git_remote.git("ls-tree", "-r", "--name-only", commit.sha)
    assert "environments/dev/old.yaml" not in listed and "environments/dev/old.yaml" in files
    assert git_remote.remote_sha("main") != commit.sha
    # the branch exists now: pushing it again is refused, not forced
    with pytest.raises(GitError, match="already exists"):
        git.push_branch(access, "main", "jsc/drift-1234abcd", {"x.yaml": b"x: 1\n"}, "again",
                        ("Drift Bot", "drift@example.com"), settings)
    assert git_remote.remote_sha("jsc/drift-1234abcd") == commit.sha
    assert work_dirs(settings) == []


def test_push_branch_refuses_paths_out_of_the_repository(git_remote: GitRemote, settings, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (git_remote.work / "link").symlink_to(outside)
    git_remote.commit_and_push("a symlink to a directory outside")
    access = RepoAccess(git_remote.url)
    for path in ("../x.yaml", "/etc/x.yaml", ".git/config", "a/.git/hooks/pre-commit", "a//b",
                 "a/./b", "", "a\nb"):
        with pytest.raises(GitError) as err:
            git.push_branch(access, "main", "jsc/evil", {path: b"x"}, "m", ("A", "a@example.com"),
                            settings)
        assert err.value.reason == "invalid", path
    with pytest.raises(GitError, match="symbolic link"):
        git.push_branch(access, "main", "jsc/evil", {"link/x.yaml": b"x"}, "m",
                        ("A", "a@example.com"), settings)
    assert list(outside.iterdir()) == []


def test_push_branch_refuses_a_commit_without_changes(git_remote: GitRemote, settings):
    git_remote.commit_and_push("base", {"a.yaml": "a: 1\n"})
    with pytest.raises(GitError, match="nothing to commit"):
        git.push_branch(RepoAccess(git_remote.url), "main", "jsc/same", {"a.yaml": b"a: 1\n"},
                        "m", ("A", "a@example.com"), settings)


# --- refusals ---------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "ext::sh -c touch% /tmp/pwned",
    "ext::sh",
    "fd::17",
    "http://example.com/repo.git",
    "git://example.com/repo.git",
    "ftp://example.com/repo.git",
    "-oProxyCommand=touch /tmp/pwned:repo",
    "--upload-pack=touch /tmp/pwned",
    "ssh://-oProxyCommand=touch%20/tmp/pwned/repo",
    "ssh://example.com/-repo",
    "git@-oProxyCommand=x:repo",
    "example.com::repo",
    "git@example.com:--upload-pack=x",
    "https://user:password@example.com/repo.git",
    "https://example.com/repo.git?x=1",
    "https://exa mple.com/repo.git",
    "https://example.com/repo\n.git",
    "https:///repo.git",
    "https://example.com",
    "/srv/git/repo.git",
    "repo.git",
    "",
])
def test_urls_that_are_not_allowed_remotes(url, settings):
    with pytest.raises(GitError) as err:
        git.validate_url(url, settings)
    assert err.value.reason in ("invalid", "refused")
    assert "password" not in str(err.value) or "must not carry a password" in str(err.value)


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/repo.git", "https://localhost/repo.git", "https://[::1]/repo.git",
    "ssh://git@127.0.0.1:2222/repo.git", "git@10.0.0.8:team/repo.git",
    "https://169.254.169.254/latest.git", "https://2130706433/repo.git",
    "https://0x7f000001/repo.git", "https://127.1/repo.git", "https://[::ffff:127.0.0.1]/r.git",
    "git@[::1]:repo.git", "https://192.168.1.10/r.git",
])
def test_internal_addresses_are_refused_unless_allowed(url, settings, tmp_path):
    with pytest.raises(GitError) as err:
        git.validate_url(url, settings)
    assert err.value.reason == "refused", err.value
    assert "JSC_ALLOWED_GIT_NETWORKS" in str(err.value)
    allowed = Settings(data_dir=tmp_path, allowed_git_networks="127.0.0.0/8,::1/128,10.0.0.0/8,"
                       "192.168.0.0/16")
    if "169.254" not in url:
        assert git.validate_url(url, allowed) == url


def test_an_internal_address_is_refused_again_when_calling(settings):
    with pytest.raises(GitError) as err:
        git.resolve(RepoAccess("https://localhost/repo.git"), "main", settings)
    assert err.value.reason == "refused"
    with pytest.raises(GitError) as err:
        with git.checkout(RepoAccess("git@127.0.0.1:repo.git"), "main", settings):
            pass
    assert err.value.reason == "refused"


def test_public_urls_pass_validation(settings):
    for url in ("https://github.com/nats-io/nack.git", "ssh://git@github.com/nats-io/nack.git",
                "git@github.com:nats-io/nack.git", "https://oauth2@gitlab.com/team/repo.git",
                "https://not-a-real-host.invalid/repo.git"):  # unresolvable (yet): checked per call
        assert git.validate_url(url, settings) == url


def test_file_urls_only_under_the_local_root(git_remote: GitRemote, settings, tmp_path):
    assert git.validate_url(git_remote.url, settings) == git_remote.url
    elsewhere = tmp_path / "elsewhere.git"
    elsewhere.mkdir()
    for url in (elsewhere.as_uri(), "file:///etc", f"{git_remote.url}/../../../etc",
                local_root().as_uri(), "file://example.com/srv/repo.git",
                "file:///nonexistent/repo.git"):
        with pytest.raises(GitError) as err:
            git.validate_url(url, settings)
        assert err.value.reason in ("refused", "invalid"), url
    unset = Settings(data_dir=tmp_path, gitops_local_root=None)
    with pytest.raises(GitError, match="JSC_GITOPS_LOCAL_ROOT") as err:
        git.validate_url(git_remote.url, unset)
    assert err.value.reason == "refused"
    with pytest.raises(GitError):
        git.resolve(RepoAccess(git_remote.url), "main", unset)


def test_a_symlink_in_the_local_root_cannot_escape_it(settings, tmp_path, make_git_remote):
    secret = make_git_remote("secret")  # a real repository, reached through a link from outside
    outside = tmp_path / "outside.git"
    secret.bare.rename(outside)
    link = local_root() / f"escape-{tmp_path.name}.git"
    link.symlink_to(outside)
    try:
        for call in (lambda: git.validate_url(link.as_uri(), settings),
                     lambda: git.resolve(RepoAccess(link.as_uri()), "main", settings)):
            with pytest.raises(GitError) as err:
                call()
            assert err.value.reason == "refused"
    finally:
        link.unlink()


@pytest.mark.parametrize("ref", [
    "--upload-pack=touch /tmp/pwned", "-main", "main..other", "a b", "main\n", "ma\x00in",
    "ma\x1bin", "HEAD@{1}", "main~1", "main^", "refs/heads/../x", "a:b", "*", "", "x" * 300,
    "/main", "main/", "main.lock", ".hidden",
])
def test_refs_and_branches_that_could_be_options_or_tricks_are_refused(ref, git_remote, settings):
    access = RepoAccess(git_remote.url)
    with pytest.raises(GitError) as err:
        git.resolve(access, ref, settings)
    assert err.value.reason == "invalid"
    with pytest.raises(GitError) as err:
        with git.checkout(access, ref, settings):
            pass
    assert err.value.reason == "invalid"
    with pytest.raises(GitError):
        git.push_branch(access, "main", ref, {"a.yaml": b"a"}, "m", ("A", "a@example.com"), settings)
    with pytest.raises(GitError):
        git.push_branch(access, ref, "jsc/ok", {"a.yaml": b"a"}, "m", ("A", "a@example.com"),
                        settings)
    assert not Path("/tmp/pwned").exists()


def test_a_token_is_for_https_and_a_key_for_ssh(git_remote, settings):
    with pytest.raises(GitError, match="https"):
        git.resolve(RepoAccess("git@github.com:a/b.git", auth_type="token", token="t0ken-value"),
                    "main", settings)
    with pytest.raises(GitError, match="ssh"):
        git.resolve(RepoAccess("https://github.com/a/b.git", auth_type="ssh_key", ssh_key="k"),
                    "main", settings)


def test_the_machines_git_configuration_is_not_used(git_remote: GitRemote, settings, tmp_path,
                                                    monkeypatch):
    """A global config with a URL rewrite to an internal address (or a hook path) has no effect."""
    home = tmp_path / "home"
    home.mkdir()
    marker = tmp_path / "hooked"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "post-checkout").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (hooks / "post-checkout").chmod(0o755)
    (home / ".gitconfig").write_text(f"[core]\n\thooksPath = {hooks}\n"
                                     f"[url \"file:///nonexistent/\"]\n\tinsteadOf = {git_remote.url}\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_DIR", "/nonexistent")
    with git.checkout(RepoAccess(git_remote.url), "main", settings) as co:
        assert (co.root / "README.md").exists()
    assert not marker.exists()
    assert os.environ["GIT_DIR"] == "/nonexistent"


# --- https with a token -----------------------------------------------------------------------

TOKEN = "ghp_S3cretTokenValue0123456789abcdefXYZ"


@pytest.fixture
def https_server(tmp_path):
    from tests.gitops.servers import SmartHttpsServer

    server = SmartHttpsServer(project_root=local_root(), token=TOKEN, workdir=tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def https_settings(tmp_path, https_server) -> Settings:
    """A platform whose operator allows loopback git remotes and trusts the test CA."""
    return Settings(data_dir=tmp_path / "data", gitops_local_root=None,
                    allowed_git_networks="127.0.0.0/8", gitops_ca_file=https_server.cert,
                    gitops_timeout_s=60)


def repo_path(remote: GitRemote) -> str:
    return str(remote.bare.relative_to(local_root()))


def spawned_command_lines(monkeypatch) -> list[list[str]]:
    """Every command line gitops.git starts, recorded."""
    seen: list[list[str]] = []
    real = git.subprocess.Popen

    def recording(args, *a, **kw):
        seen.append([str(x) for x in args])
        return real(args, *a, **kw)

    monkeypatch.setattr(git.subprocess, "Popen", recording)
    return seen


def test_https_with_a_token_checks_out_resolves_and_pushes(git_remote, https_server,
                                                           https_settings, monkeypatch):
    sha = git_remote.commit_and_push("over https", {"environments/dev/a.yaml": "a: 1\n"})
    spawned = spawned_command_lines(monkeypatch)
    access = RepoAccess(https_server.url(repo_path(git_remote)), auth_type="token", token=TOKEN)
    assert git.validate_url(access.url, https_settings) == access.url
    assert git.resolve(access, "main", https_settings) == sha
    with git.checkout(access, "main", https_settings) as co:
        assert co.commit.sha == sha
        assert (co.root / "environments/dev/a.yaml").read_text() == "a: 1\n"
    pushed = git.push_branch(access, "main", "jsc/over-https", {"b.yaml": b"b: 1\n"}, "via https",
                             ("A", "a@example.com"), https_settings)
    assert git_remote.remote_sha("jsc/over-https") == pushed.sha
    # the token arrived as a Basic Authorization header, and never on a command line
    expected = "Basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert https_server.authorizations and set(https_server.authorizations) == {expected}
    assert https_server.leaked_command_lines == []
    assert spawned and not any(TOKEN in arg or expected.split()[1] in arg
                               for argv in spawned for arg in argv)
    assert TOKEN not in access.url and TOKEN not in repr(access)


def test_https_user_name_of_the_url_is_the_basic_user(git_remote, https_server, https_settings):
    url = https_server.url(repo_path(git_remote)).replace("https://", "https://oauth2@")
    git.resolve(RepoAccess(url, auth_type="token", token=TOKEN), "main", https_settings)
    assert https_server.authorizations[-1] == "Basic " + base64.b64encode(
        f"oauth2:{TOKEN}".encode()).decode()


def test_a_wrong_or_missing_token_is_an_auth_error_without_the_token(git_remote, https_server,
                                                                     https_settings):
    url = https_server.url(repo_path(git_remote))
    wrong = "glpat-WrongTokenValue-987654321"
    with pytest.raises(GitError) as err:
        git.resolve(RepoAccess(url, auth_type="token", token=wrong), "main", https_settings)
    assert err.value.reason == "auth", err.value
    assert wrong not in str(err.value) and base64.b64encode(wrong.encode()).decode() not in str(err.value)
    with pytest.raises(GitError) as err:
        with git.checkout(RepoAccess(url), "main", https_settings):
            pass
    assert err.value.reason == "auth"
    assert https_server.leaked_command_lines == []


def test_https_to_loopback_is_refused_when_not_allowed(git_remote, https_server, settings):
    url = https_server.url(repo_path(git_remote))
    for call in (lambda: git.validate_url(url, settings),
                 lambda: git.resolve(RepoAccess(url, auth_type="token", token=TOKEN), "main",
                                     settings)):
        with pytest.raises(GitError) as err:
            call()
        assert err.value.reason == "refused" and TOKEN not in str(err.value)
    assert https_server.requests == []


def test_an_untrusted_certificate_is_refused(git_remote, https_server, tmp_path):
    no_ca = Settings(data_dir=tmp_path / "d", allowed_git_networks="127.0.0.0/8", gitops_timeout_s=60)
    with pytest.raises(GitError) as err:
        git.resolve(RepoAccess(https_server.url(repo_path(git_remote)), auth_type="token",
                               token=TOKEN), "main", no_ca)
    assert err.value.reason == "auth" and "JSC_GITOPS_CA_FILE" in str(err.value)
    assert TOKEN not in str(err.value)
    assert https_server.authorizations == []


def test_redirects_are_not_followed(git_remote, https_server, https_settings, tmp_path):
    from tests.gitops.servers import SmartHttpsServer

    target = SmartHttpsServer(project_root=local_root(), token=TOKEN, workdir=tmp_path / "t")
    (tmp_path / "t").mkdir()
    target.start()
    try:
        https_server.redirect_to = f"https://127.0.0.1:{target.port}"
        with pytest.raises(GitError) as err:
            git.resolve(RepoAccess(https_server.url(repo_path(git_remote)), auth_type="token",
                                   token=TOKEN), "main", https_settings)
        assert "redirect" in str(err.value) and TOKEN not in str(err.value)
        assert https_server.requests and target.requests == []
    finally:
        target.stop()


def test_scrub_removes_secrets_from_any_text(tmp_path):
    call = git._Call(git.parse_remote("https://h.example/r.git"), tmp_path, {}, 1, [TOKEN, "QkFTSUM="])
    text = (f"fatal: {TOKEN} at https://user:{TOKEN}@h.example/r.git; Authorization: Basic QkFTSUM=;"
            " authorization: Bearer other-secret")
    scrubbed = call.scrub(text)
    assert TOKEN not in scrubbed and "QkFTSUM=" not in scrubbed and "other-secret" not in scrubbed
    assert "https://h.example/r.git" in scrubbed


# --- ssh with a key ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    from tests.gitops.servers import SshServer

    server = SshServer(tmp_path_factory.mktemp("sshd")).start()
    yield server
    server.stop()


@pytest.fixture
def ssh_settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", gitops_local_root=None,
                    allowed_git_networks="127.0.0.0/8", gitops_timeout_s=60)


def test_ssh_with_a_key_and_known_hosts(git_remote, sshd, ssh_settings, monkeypatch):
    sha = git_remote.commit_and_push("over ssh", {"environments/dev/s.yaml": "s: 1\n"})
    spawned = spawned_command_lines(monkeypatch)
    access = RepoAccess(sshd.url(git_remote.bare), auth_type="ssh_key", ssh_key=sshd.client_key,
                        known_hosts=sshd.known_hosts())
    assert git.validate_url(access.url, ssh_settings) == access.url
    assert git.resolve(access, "main", ssh_settings) == sha
    with git.checkout(access, sha, ssh_settings) as co:
        assert (co.root / "environments/dev/s.yaml").read_text() == "s: 1\n"
        key_files = list(co.root.parent.glob("ssh/id"))
        assert key_files and oct(key_files[0].stat().st_mode & 0o777) == "0o600"
    pushed = git.push_branch(access, "main", "jsc/over-ssh", {"c.yaml": b"c: 1\n"}, "via ssh",
                             ("A", "a@example.com"), ssh_settings)
    assert git_remote.remote_sha("jsc/over-ssh") == pushed.sha
    key_body = sshd.client_key.strip().splitlines()[1]
    assert not any(key_body in arg for argv in spawned for arg in argv)
    assert work_dirs(ssh_settings) == []  # the key file went with the temporary directory


def test_ssh_scp_like_url_and_a_host_name(git_remote, sshd, ssh_settings):
    """A name is resolved, checked and pinned (HostName), its key looked up under the name."""
    sha = git_remote.remote_sha("main")
    url = sshd.url(git_remote.bare, host="localhost")
    access = RepoAccess(url, auth_type="ssh_key", ssh_key=sshd.client_key,
                        known_hosts=sshd.known_hosts("localhost"))
    assert git.resolve(access, "main", ssh_settings) == sha


def test_ssh_with_a_wrong_known_hosts_is_refused(git_remote, sshd, ssh_settings, tmp_path):
    from tests.gitops.servers import keygen

    other = keygen(tmp_path / "other_host", "other").split()
    for known_hosts in (f"[127.0.0.1]:{sshd.port} {other[0]} {other[1]}",
                        f"[127.0.0.2]:{sshd.port} {sshd.host_public}"):
        access = RepoAccess(sshd.url(git_remote.bare), auth_type="ssh_key",
                            ssh_key=sshd.client_key, known_hosts=known_hosts)
        with pytest.raises(GitError) as err:
            git.resolve(access, "main", ssh_settings)
        assert err.value.reason == "auth" and "known_hosts" in str(err.value)
        assert "PRIVATE KEY" not in str(err.value)


def test_ssh_with_a_key_the_server_does_not_know_is_refused(git_remote, sshd, ssh_settings,
                                                            tmp_path):
    from tests.gitops.servers import keygen

    keygen(tmp_path / "stranger", "stranger")
    access = RepoAccess(sshd.url(git_remote.bare), auth_type="ssh_key",
                        ssh_key=(tmp_path / "stranger").read_text(), known_hosts=sshd.known_hosts())
    with pytest.raises(GitError) as err:
        git.resolve(access, "main", ssh_settings)
    assert err.value.reason == "auth"
    # and without a key at all (no agent, no ~/.ssh, no password prompt)
    with pytest.raises(GitError) as err:
        git.resolve(RepoAccess(sshd.url(git_remote.bare), known_hosts=sshd.known_hosts()), "main",
                    ssh_settings)
    assert err.value.reason == "auth"


def test_ssh_key_without_known_hosts_is_refused(git_remote, sshd, ssh_settings):
    with pytest.raises(GitError, match="known_hosts") as err:
        git.resolve(RepoAccess(sshd.url(git_remote.bare), auth_type="ssh_key",
                               ssh_key=sshd.client_key), "main", ssh_settings)
    assert err.value.reason == "invalid"


def test_ssh_to_loopback_is_refused_when_not_allowed(git_remote, sshd, settings):
    access = RepoAccess(sshd.url(git_remote.bare), auth_type="ssh_key", ssh_key=sshd.client_key,
                        known_hosts=sshd.known_hosts())
    with pytest.raises(GitError) as err:
        git.resolve(access, "main", settings)
    assert err.value.reason == "refused"
