"""Real git servers on loopback for tests/gitops/test_git.py.

- :class:`SmartHttpsServer`: git's smart-HTTP protocol over TLS (a self-signed certificate for
  localhost/127.0.0.1) through ``git http-backend`` as a CGI, serving the bare repositories under one
  directory. It demands ``Authorization: Basic`` with one token (any user name), records every
  Authorization header it receives, and while a request is being served it looks at every
  process's command line for the token (it must never be there). ``redirect_to`` makes it answer
  every request with a redirect instead.
- :class:`SshServer`: OpenSSH's sshd (Debian package openssh-server) on a free loopback port,
  with its own host key and one authorized client key; ``known_hosts(host)`` is the line
  ``ssh-keyscan`` would give.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SSHD = Path("/usr/sbin/sshd")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate (and its key) for localhost and 127.0.0.1; the certificate is its own CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def command_lines_with(secret: str) -> list[str]:
    """The command lines of this machine's processes that contain ``secret``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if secret in cmdline:
            found.append(cmdline)
    return found


@dataclass
class SmartHttpsServer:
    project_root: Path
    token: str
    workdir: Path
    redirect_to: str | None = None
    authorizations: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    leaked_command_lines: list[str] = field(default_factory=list)

    def start(self) -> SmartHttpsServer:
        self.cert, key = self_signed(self.workdir)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                self.serve()

            def do_POST(self):
                self.serve()

            def serve(self):
                server.requests.append(f"{self.command} {self.path}")
                if server.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", server.redirect_to + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                auth = self.headers.get("Authorization")
                if auth:
                    server.authorizations.append(auth)
                    server.leaked_command_lines += command_lines_with(server.token)
                if not auth or not self.authorized(auth):
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.cgi(auth)

            def authorized(self, auth: str) -> bool:
                scheme, _, value = auth.partition(" ")
                if scheme.lower() != "basic":
                    return False
                try:
                    _, _, password = base64.b64decode(value).decode().partition(":")
                except ValueError:
                    return False
                return password == server.token

            def cgi(self, auth: str) -> None:
                path, _, query = self.path.partition("?")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                       "GIT_PROJECT_ROOT": str(server.project_root), "GIT_HTTP_EXPORT_ALL": "1",
                       "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
                       "REQUEST_METHOD": self.command, "PATH_INFO": path, "QUERY_STRING": query,
                       "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                       "CONTENT_LENGTH": str(len(body)), "REMOTE_USER": "tester",
                       "REMOTE_ADDR": "127.0.0.1", "GIT_HTTP_MAX_REQUEST_BUFFER": "100M"}
                for header, var in (("Content-Encoding", "HTTP_CONTENT_ENCODING"),
                                    ("Git-Protocol", "GIT_PROTOCOL")):
                    if self.headers.get(header):
                        env[var] = self.headers[header]
                out = subprocess.run(["git", "http-backend"], input=body, env=env,
                                     capture_output=True, timeout=60).stdout
                head, _, content = out.partition(b"\r\n\r\n")
                status, headers = 200, []
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def url(self, repo: str, host: str = "localhost") -> str:
        return f"https://{host}:{self.port}/{repo}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def keygen(path: Path, comment: str) -> str:
    """An ed25519 key pair at ``path`` (and ``path.pub``); the public key line."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True, capture_output=True, timeout=60)
    return path.with_suffix(".pub").read_text().strip()


@dataclass
class SshServer:
    workdir: Path

    def start(self, deadline_s: float = 60) -> SshServer:
        if not SSHD.exists():
            raise RuntimeError("sshd is missing: apt-get install openssh-server")
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # its privilege separation directory
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host_public = keygen(self.workdir / "host_ed25519", "test-host")
        self.client_public = keygen(self.workdir / "client_ed25519", "test-client")
        self.client_key = (self.workdir / "client_ed25519").read_text()
        (self.workdir / "authorized_keys").write_text(self.client_public + "\n")
        self.port = free_port()
        config = self.workdir / "sshd_config"
        config.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1",
            f"HostKey {self.workdir / 'host_ed25519'}",
            f"AuthorizedKeysFile {self.workdir / 'authorized_keys'}",
            f"PidFile {self.workdir / 'sshd.pid'}", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "PubkeyAuthentication yes", "UsePAM no",
            "PermitRootLogin prohibit-password", "StrictModes no", "LogLevel ERROR",
            f"AllowUsers {self.user}", ""]))
        self.log = open(self.workdir / "sshd.log", "ab")
        self.proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)],
                                     stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + deadline_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.workdir / 'sshd.log').read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(4).startswith(b"SSH-"):
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"sshd did not listen on {self.port} in {deadline_s:g} s")
            time.sleep(0.05)  # polling a port, not synchronising on time

    @property
    def user(self) -> str:
        import pwd
        return pwd.getpwuid(os.getuid()).pw_name

    def known_hosts(self, host: str = "127.0.0.1") -> str:
        key_type, key = self.host_public.split()[:2]
        return f"[{host}]:{self.port} {key_type} {key}"

    def url(self, path: Path, host: str = "127.0.0.1") -> str:
        return f"ssh://{self.user}@{host}:{self.port}{path}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
