"""How to reach one cluster: its server URLs with decrypted credentials and TLS, turned into
nats-py connect options. Built from the database row only inside the server; never serialised."""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import tempfile
from dataclasses import dataclass, field
from typing import Any

from nats.aio.client import RawCredentials


@dataclass(frozen=True)
class ClusterEndpoint:
    cluster_id: str
    name: str
    server_urls: tuple[str, ...]
    jetstream_domain: str | None = None
    credentials: dict[str, Any] = field(default_factory=dict, repr=False)
    tls: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything that affects the connection changes."""
        blob = json.dumps([self.server_urls, self.credentials, self.tls], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def connect_options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"servers": list(self.server_urls)}
        kind = self.credentials.get("type", "none")
        if kind == "user_password":
            opts["user"] = self.credentials["username"]
            opts["password"] = self.credentials["password"]
        elif kind == "token":
            opts["token"] = self.credentials["token"]
        elif kind == "creds":
            opts["user_credentials"] = RawCredentials(self.credentials["creds"])
        if self.tls:
            opts["tls"] = _ssl_context(self.tls)
        return opts


def _ssl_context(tls: dict[str, Any]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cadata=tls.get("ca_pem") or None)
    if tls.get("insecure_skip_verify"):
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if tls.get("cert_pem") and tls.get("key_pem"):
        # load_cert_chain reads files only: write them 0600 for the call and remove them at once.
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
            for path, body in ((cert, tls["cert_pem"]), (key, tls["key_pem"])):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(body)
            ctx.load_cert_chain(cert, key)
    return ctx
