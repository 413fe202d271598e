"""Git over ssh against a real OpenSSH server (Debian's openssh-server, which `.ci/run`
installs) on a loopback port: a checkout with the repository's key and the host's known_hosts
line, and the refusals that matter (a host key that does not match, a key the server does not
know). The server runs as this user with its own host key and authorized key, for this test only."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from core.settings import Settings
from gitops.git import GitError, RepoAccess, checkout
from tests.conftest import GITOPS_LOCAL_ROOT

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


@pytest.fixture
def sshd(tmp_path):
    if not os.path.exists(SSHD):
        pytest.skip(f"{SSHD} is not installed (apt-get install openssh-server; .ci/run does)")
    home = tmp_path / "sshd"
    home.mkdir(mode=0o700)
    host_pub = keygen(home / "host_key")
    client_pub = keygen(home / "client_key")
    (home / "authorized_keys").write_text(client_pub + "\n")
    os.chmod(home / "authorized_keys", 0o600)
    port = free_port()
    config = home / "sshd_config"
    config.write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {home / "host_key"}
PidFile {home / "sshd.pid"}
AuthorizedKeysFile {home / "authorized_keys"}
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
""")
    os.makedirs("/run/sshd", exist_ok=True)
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "sshd did not listen"
            time.sleep(0.1)
    key_type, key = host_pub.split()[:2]
    yield {
        "port": port,
        "known_hosts": f"[127.0.0.1]:{port} {key_type} {key}",
        "key": (home / "client_key").read_text(),
        "home": home,
    }
    process.terminate()
    process.wait(10)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def ssh_settings(tmp_path):
    return Settings(
        gitops_local_root=GITOPS_LOCAL_ROOT,
        gitops_work_dir=tmp_path / "work",
        allowed_git_networks="127.0.0.1/32",
    )


def test_checkout_over_ssh_with_a_key_and_known_hosts(sshd, git_remote, ssh_settings, tmp_path):
    git_remote.write("environments/dev/a.yaml", "over: ssh\n")
    sha = git_remote.commit("over ssh")
    user = os.environ.get("USER") or "root"
    url = f"ssh://{user}@127.0.0.1:{sshd['port']}{git_remote.bare}"
    access = RepoAccess(url, "ssh_key", ssh_key=sshd["key"], known_hosts=sshd["known_hosts"])
    with checkout(access, "main", ssh_settings, address="127.0.0.1") as co:
        assert co.commit.sha == sha
        assert (co.root / "environments/dev/a.yaml").read_text() == "over: ssh\n"

    # a host whose key is not the one given: refused (no trust on first use)
    other = keygen(tmp_path / "impostor").split()
    wrong = RepoAccess(
        url,
        "ssh_key",
        ssh_key=sshd["key"],
        known_hosts=f"[127.0.0.1]:{sshd['port']} {other[0]} {other[1]}",
    )
    with pytest.raises(GitError, match="failed"):
        with checkout(wrong, "main", ssh_settings, address="127.0.0.1"):
            pass
    # a key the server does not know: refused, and the key never shows in the message
    unknown = (tmp_path / "impostor").read_text()
    with pytest.raises(GitError) as refused:
        with checkout(
            RepoAccess(url, "ssh_key", ssh_key=unknown, known_hosts=sshd["known_hosts"]),
            "main",
            ssh_settings,
            address="127.0.0.1",
        ):
            pass
    assert "PRIVATE KEY" not in str(refused.value)
