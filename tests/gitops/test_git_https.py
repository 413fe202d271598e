"""Git over https against a real git server (``tests/gitops/https_git.py``: git's own smart-HTTP
backend behind TLS): a checkout and a pushed branch with the repository's token, which reaches
the server as a header and never appears in a message; a wrong token and an untrusted
certificate are refused."""

from __future__ import annotations

import pytest

from core.settings import Settings
from gitops.git import GitError, RepoAccess, checkout, push_branch, resolve
from tests.conftest import GITOPS_LOCAL_ROOT
from tests.gitops.https_git import GitHttpsServer

TOKEN = "ghs_a-token-only-the-server-knows"


@pytest.fixture
def https_server(tmp_path):
    server = GitHttpsServer(GITOPS_LOCAL_ROOT, TOKEN, tmp_path)
    yield server
    server.close()


def settings_for(server, tmp_path, ca=True) -> Settings:
    return Settings(
        gitops_local_root=GITOPS_LOCAL_ROOT,
        gitops_work_dir=tmp_path / "work",
        allowed_git_networks="127.0.0.1/32",
        gitops_ca_bundle=server.cert if ca else None,
    )


def test_checkout_and_push_over_https_with_a_token(https_server, git_remote, tmp_path):
    git_remote.write("environments/dev/a.yaml", "over: https\n")
    sha = git_remote.commit("over https")
    settings = settings_for(https_server, tmp_path)
    access = RepoAccess(https_server.url(git_remote.bare), "token", token=TOKEN)
    with checkout(access, "main", settings, address="127.0.0.1") as co:
        assert co.commit.sha == sha
        assert (co.root / "environments/dev/a.yaml").read_text() == "over: https\n"
    assert resolve(access, "main", settings, address="127.0.0.1") == sha
    pushed = push_branch(
        access,
        sha,
        "jsc/https-test",
        {"environments/dev/a.yaml": b"b: 2\n"},
        "from the console",
        ("Bob", "bob@example.com"),
        settings,
        address="127.0.0.1",
    )
    assert git_remote.branches()["jsc/https-test"] == pushed.sha
    assert https_server.expected in https_server.seen  # the token arrived as a header

    wrong = RepoAccess(https_server.url(git_remote.bare), "token", token="not-the-token")
    with pytest.raises(GitError) as refused:
        with checkout(wrong, "main", settings, address="127.0.0.1"):
            pass
    assert "not-the-token" not in str(refused.value)
    untrusted = settings_for(https_server, tmp_path, ca=False)
    with pytest.raises(GitError, match="certificate|SSL"):
        with checkout(access, "main", untrusted, address="127.0.0.1"):
            pass
