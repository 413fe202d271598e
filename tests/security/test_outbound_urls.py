"""Outbound URL policy (issue 10, B): the API calls cluster servers and webhook receivers for its
users, so those URLs must not reach into the platform's own network, nor turn the API into a port
scanner. The test stack allows loopback for clusters (its NATS servers are there) and only
127.0.0.1 for webhooks (the test receiver); everything else internal is refused as by default,
checked when stored and again when called. Each test acts as the admin of an organization of its
own."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
import threading
import time
import uuid
from datetime import UTC

import pytest
from nats.errors import NoServersError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from core.changes.models import RequestEvent, WebhookDelivery
from core.clusters import seal_connections
from core.db.models import NatsCluster, Webhook
from core.jetstream.checked_transport import AddressRefused, CheckedClient
from core.jetstream.connection import ClusterEndpoint
from core.jetstream.pool import ClusterPool
from core.netpolicy import LOOPBACK, OutboundPolicy, OutboundRefused
from core.notify import delivery
from core.notify.delivery import seal_secret
from core.security import Cipher
from tests.fixtures import unique, wait_for_audit
from tests.webhook_receiver import Receiver

HOOKS = "/api/v1/webhooks"
CLUSTERS = "/api/v1/clusters"
WEBHOOK_SETTING = "JSC_ALLOWED_WEBHOOK_NETWORKS"
CLUSTER_SETTING = "JSC_ALLOWED_CLUSTER_NETWORKS"

INTERNAL_WEBHOOK_URLS = [
    "http://127.0.0.2:8080/hook",  # loopback, beside the one address the test stack allows
    "http://[::1]:8080/hook",
    "http://0.0.0.0:8080/hook",
    "http://[::]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",  # IPv4-mapped IPv6
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",
    "http://10.0.0.5/hook",
    "https://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://[::ffff:127.0.0.2]/hook",
    "http://2130706434/hook",  # 127.0.0.2 written in decimal
    "http://0x7f000002/hook",  # and in hex
    "http://127.2/hook",  # and short
]
INTERNAL_CLUSTER_URLS = [
    "nats://169.254.169.254:4222",
    "nats://10.0.0.1:4222",
    "tls://192.168.0.10:4222",
    "nats://[fe80::1]:4222",
    "nats://0.0.0.0:4222",
    "nats://[::ffff:10.0.0.1]:4222",
    "ws://172.20.0.1:8080",
]


def _field_error(reply, field: str) -> str:
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    messages = [e["message"] for e in reply.json()["errors"] if e["field"] == field]
    assert messages, reply.json()
    return messages[0]


def _webhook(api, headers, url: str) -> dict:
    reply = api.post(HOOKS, headers=headers, json={"name": unique("hook"), "url": url})
    assert reply.status_code == 201, reply.text
    return reply.json()


def _event(org_id) -> RequestEvent:
    return RequestEvent(
        org_id=str(org_id),
        request_id=str(uuid.uuid4()),
        event="approved",
        title="Create stream orders",
        actor_email="jane@example.com",
    )


async def test_webhook_urls_to_internal_addresses_are_refused(api, make_member):
    headers, _, _ = await make_member("admin", org="new")
    kept = _webhook(api, headers, "https://hooks.example.com/kept")
    for url in INTERNAL_WEBHOOK_URLS:
        created = api.post(HOOKS, headers=headers, json={"name": unique("hook"), "url": url})
        assert WEBHOOK_SETTING in _field_error(created, "url"), url
        changed = api.patch(f"{HOOKS}/{kept['id']}", headers=headers, json={"url": url})
        assert WEBHOOK_SETTING in _field_error(changed, "url"), url
    listed = api.get(HOOKS, headers=headers).json()["items"]
    assert [(h["id"], h["url"]) for h in listed] == [(kept["id"], "https://hooks.example.com/kept")]
    # What is allowed still is: a public name (not resolvable offline: checked when called), and
    # the one loopback address the test stack allows.
    _webhook(api, headers, "http://127.0.0.1:9/hook")


@pytest.mark.parametrize(
    ("host", "allowed", "verdict"),
    [
        ("8.8.8.8", "", None),
        ("2606:4700::1111", "", None),
        ("127.0.0.1", "", "loopback"),
        ("::1", "", "loopback"),
        ("::ffff:7f00:1", "", "loopback"),
        ("0.0.0.0", "", "unspecified"),
        ("::", "", "unspecified"),
        ("169.254.169.254", "", "cloud metadata"),
        ("::ffff:a9fe:a9fe", "", "cloud metadata"),
        ("fd00:ec2::254", "", "cloud metadata"),
        ("169.254.1.1", "", "link-local"),
        ("fe80::1%25eth0", "", "link-local"),
        ("10.1.2.3", "", "private"),
        ("fc00::1", "", "private"),
        ("2002:a00:1::", "", "private"),  # 6to4 around 10.0.0.1
        ("64:ff9b::7f00:1", "", "loopback"),
        ("::7f00:1", "", "loopback"),  # NAT64, compatible
        ("100.64.0.1", "", "reserved"),
        ("224.0.0.1", "", "multicast"),
        ("10.1.2.3", "10.0.0.0/8", None),
        ("::ffff:10.1.2.3", "10.0.0.0/8", None),
        ("10.1.2.3", "10.0.0.0/16", "private"),
        ("[::1]", "::1/128", None),
    ],
)
async def test_the_rule_as_a_table(host, allowed, verdict):
    policy = OutboundPolicy.of("webhook", WEBHOOK_SETTING, allowed)
    if verdict is None:
        assert await policy.resolve(host, 443)
    else:
        with pytest.raises(OutboundRefused, match=f"is an? {verdict} address"):
            await policy.resolve(host, 443)


async def test_a_url_without_a_host_is_refused():
    with pytest.raises(OutboundRefused, match="needs a host"):
        await OutboundPolicy.of("cluster", CLUSTER_SETTING, LOOPBACK).resolve("", 4222)


async def test_a_name_is_judged_by_the_addresses_it_resolves_to():
    resolved = {info[4][0] for info in socket.getaddrinfo("localhost", 80)}
    assert resolved & {"127.0.0.1", "::1"}
    default = OutboundPolicy.of("webhook", WEBHOOK_SETTING, "")
    with pytest.raises(OutboundRefused, match=WEBHOOK_SETTING) as refused:
        await default.resolve("localhost", 80)
    assert "127.0.0.1" not in str(refused.value)  # what a name resolves to is not told
    allowed = OutboundPolicy.of("webhook", WEBHOOK_SETTING, "127.0.0.0/8,::1/128")
    assert set(await allowed.resolve("localhost", 80)) == resolved
    with pytest.raises(OutboundRefused):
        await default.resolve("2130706433")  # 127.0.0.1 in decimal resolves like the address


async def test_delivery_connects_to_the_checked_address_keeping_the_host(stack):
    policy = OutboundPolicy.of("webhook", WEBHOOK_SETTING, "127.0.0.1/32")
    with Receiver() as receiver:
        port = receiver.server.server_address[1]
        reply = await delivery.post(
            f"http://localhost:{port}/hooks/jsc", "s" * 20, "test", "d-1", b"{}", policy=policy
        )
        assert reply.status_code == 200
        with pytest.raises(OutboundRefused):
            await delivery.post(
                f"http://localhost:{port}/hooks/jsc",
                "s" * 20,
                "test",
                "d-2",
                b"{}",
                policy=OutboundPolicy.of("webhook", WEBHOOK_SETTING, ""),
            )
    [got] = receiver.received
    assert got.headers["host"] == f"localhost:{port}"


async def test_test_delivery_rechecks_a_webhook_stored_before_the_policy(
    api, stack, make_member, db_sessions
):
    headers, user_id, org_id = await make_member("admin", org="new")
    cipher = Cipher(stack.settings.encryption_key.get_secret_value())
    webhook_id = uuid.uuid4()
    async with db_sessions() as db, db.begin():  # as an older release let it be stored
        db.add(
            Webhook(
                id=webhook_id,
                org_id=org_id,
                name=unique("old"),
                url="http://169.254.169.254/latest/meta-data/iam/",
                secret=seal_secret(cipher, webhook_id, "an-old-secret-of-length"),
                events=[],
                enabled=True,
                created_by=user_id,
            )
        )
    sent = api.post(f"{HOOKS}/{webhook_id}/test", headers=headers)
    assert sent.status_code == 200, sent.text
    result = sent.json()
    assert result["ok"] is False and result["status_code"] is None
    assert "cloud metadata" in result["error"] and WEBHOOK_SETTING in result["error"]
    event = wait_for_audit(api, headers, action="webhook.test", resource_id=str(webhook_id))
    assert event["status"] == "failure" and WEBHOOK_SETTING in event["error_message"]


async def test_a_delivery_under_a_narrower_policy_is_refused_not_retried(
    api, stack, make_member, db_sessions
):
    """A webhook stored while its network was allowed, delivered after the operator narrowed the
    policy: the worker refuses to call it, for good (no retry), and says why."""
    headers, _, org_id = await make_member("admin", org="new")
    cipher = Cipher(stack.settings.encryption_key.get_secret_value())
    narrower = OutboundPolicy.of("webhook", WEBHOOK_SETTING, "")
    with Receiver() as receiver:
        hook = _webhook(api, headers, receiver.url)
        job = WebhookDelivery(webhook_id=hook["id"], event=_event(org_id))
        env = ActivityEnvironment()
        allowed = NotificationActivities(
            db_sessions, None, cipher, webhook_policy=stack.settings.webhook_policy
        )
        assert await env.run(allowed.deliver_webhook, job) is None
        refusing = NotificationActivities(db_sessions, None, cipher, webhook_policy=narrower)
        with pytest.raises(ApplicationError, match=WEBHOOK_SETTING) as refused:
            await env.run(refusing.deliver_webhook, job)
    assert refused.value.non_retryable and refused.value.type == "WebhookAddressRefused"
    assert hook["name"] in str(refused.value)
    assert len(receiver.received) == 1  # the allowed delivery only


async def test_cluster_url_with_credentials_is_refused(api, make_member, hub_cluster, stack):
    headers, _, _ = await make_member("admin", org="new")
    host = stack.env["JSC_HUB_URL"].removeprefix("nats://")
    for url in (f"nats://alice:s3cret-pw@{host}", f"tls://s3cret-token@{host}"):
        created = api.post(
            CLUSTERS,
            headers=headers,
            json={"name": unique("creds"), "environment": "development", "server_urls": [url]},
        )
        message = _field_error(created, "server_urls")
        assert "credentials" in message and "s3cret" not in created.text
    assert api.get(CLUSTERS, headers=headers).json()["items"] == []
    good = api.post(
        CLUSTERS,
        headers=headers,
        json={
            "name": unique("good"),
            "environment": "development",
            "server_urls": [stack.env["JSC_HUB_URL"]],
        },
    )
    assert good.status_code == 201, good.text
    changed = api.patch(
        f"{CLUSTERS}/{good.json()['id']}",
        headers=headers,
        json={"server_urls": [f"nats://alice:s3cret-pw@{host}"]},
    )
    assert "credentials" in _field_error(changed, "server_urls") and "s3cret" not in changed.text
    read = api.get(f"{CLUSTERS}/{good.json()['id']}", headers=headers).json()
    assert read["server_urls"] == [stack.env["JSC_HUB_URL"]]


async def test_cluster_urls_to_disallowed_networks_are_refused(api, make_member, stack):
    headers, _, _ = await make_member("admin", org="new")
    for url in INTERNAL_CLUSTER_URLS:
        created = api.post(
            CLUSTERS,
            headers=headers,
            json={
                "name": unique("inside"),
                "environment": "development",
                "server_urls": [stack.env["JSC_HUB_URL"], url],
            },
        )
        assert CLUSTER_SETTING in _field_error(created, "server_urls"), url
    assert api.get(CLUSTERS, headers=headers).json()["items"] == []
    good = api.post(
        CLUSTERS,
        headers=headers,
        json={
            "name": unique("good"),
            "environment": "development",
            "server_urls": [stack.env["JSC_HUB_URL"]],
        },
    )
    assert good.status_code == 201, good.text
    changed = api.patch(
        f"{CLUSTERS}/{good.json()['id']}",
        headers=headers,
        json={"server_urls": ["nats://169.254.169.254:4222"]},
    )
    assert CLUSTER_SETTING in _field_error(changed, "server_urls")
    assert api.delete(f"{CLUSTERS}/{good.json()['id']}", headers=headers).status_code == 204


async def test_a_cluster_stored_before_the_policy_is_not_connected(
    api, stack, make_member, db_sessions
):
    headers, _, org_id = await make_member("admin", org="new")
    cipher = Cipher(stack.settings.encryption_key.get_secret_value())
    cluster = NatsCluster(
        id=uuid.uuid4(), org_id=org_id, name=unique("old"), environment="development"
    )
    seal_connections(cipher, cluster, ["nats://10.255.255.1:4222"], {"type": "none"}, None)
    async with db_sessions() as db, db.begin():  # as an older release let it be stored
        db.add(cluster)
    try:
        health = api.get(f"{CLUSTERS}/{cluster.id}/health", headers=headers).json()
        assert health["status"] == "unreachable" and not health["connected"]
        assert CLUSTER_SETTING in health["error"]
        streams = api.get(f"{CLUSTERS}/{cluster.id}/streams", headers=headers)
        assert streams.status_code == 503 and CLUSTER_SETTING in streams.json()["detail"]
    finally:
        assert api.delete(f"{CLUSTERS}/{cluster.id}", headers=headers).status_code == 204


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_a_failed_probe_is_generic_to_the_caller_and_detailed_in_the_log(
    api, stack, make_member
):
    headers, _, _ = await make_member("admin", org="new")
    port = _closed_port()
    created = api.post(
        CLUSTERS,
        headers=headers,
        json={
            "name": unique("closed"),
            "environment": "development",
            "server_urls": [f"nats://127.0.0.1:{port}"],
        },
    )
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    try:
        health = api.get(f"{CLUSTERS}/{cid}/health", headers=headers).json()
        assert health["status"] == "unreachable"
        assert health["error"] == "could not connect to the cluster"
        streams = api.get(f"{CLUSTERS}/{cid}/streams", headers=headers)
        assert streams.status_code == 503
        detail = streams.json()["detail"]
        assert created.json()["name"] in detail and "could not connect" in detail
        for leak in (str(port), "refused", "Errno", "Connect call"):
            assert leak not in json.dumps(health) and leak not in streams.text, leak
    finally:
        assert api.delete(f"{CLUSTERS}/{cid}", headers=headers).status_code == 204
    log = stack.data_dir / "logs" / "api.log"
    deadline = time.monotonic() + 15
    while not any(cid in line and str(port) in line for line in log.read_text().splitlines()):
        assert time.monotonic() < deadline, "the API log does not tell why the probe failed"
        await asyncio.sleep(0.2)


class _AnnouncingServer:
    """Enough of a NATS server (INFO, PONG) on 127.0.0.1 to be connected to; its INFO announces
    another server (``connect_urls``), as a cluster's servers do. It drops its first client after
    the handshake and stops listening, so the client must reconnect, to what it was told of."""

    def __init__(self, announced: str):
        self.announced = announced
        self.server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        info = {
            "server_id": "announcer",
            "version": "2.10.0",
            "proto": 1,
            "headers": True,
            "max_payload": 1048576,
            "host": "127.0.0.1",
            "port": self.port,
            "connect_urls": [self.announced],
        }
        writer.write(f"INFO {json.dumps(info)}\r\n".encode())
        await writer.drain()
        while not (line := await reader.readline()).startswith(b"PING") and line:
            pass
        writer.write(b"PONG\r\n")
        await writer.drain()
        self.server.close()  # no second connection here: the client must go elsewhere
        writer.close()


async def test_a_server_a_cluster_announces_is_checked_before_it_is_connected(caplog):
    """A cluster's servers announce others (INFO ``connect_urls``) and nats-py reconnects to them:
    an address the tenant's server names must pass the policy like the URLs the tenant stored,
    or a server of theirs could point the console at any internal port."""
    trapped: list[str] = []

    async def trap(reader, writer):
        trapped.append("connected")
        writer.close()

    inside = await asyncio.start_server(trap, "127.0.0.2", 0)  # loopback the policy refuses
    announced = f"127.0.0.2:{inside.sockets[0].getsockname()[1]:d}"
    server = _AnnouncingServer(announced)
    await server.start()
    policy = OutboundPolicy.of("cluster", CLUSTER_SETTING, "127.0.0.1/32")
    pool = ClusterPool(connect_timeout=2, policy=policy)
    endpoint = ClusterEndpoint(
        cluster_id=str(uuid.uuid4()),
        name=unique("announcer"),
        server_urls=(f"nats://127.0.0.1:{server.port}",),
    )
    caplog.set_level(logging.WARNING, logger="core.jetstream.pool")
    try:
        await pool.connection(endpoint)
        deadline = time.monotonic() + 30
        while not trapped and not any(
            "'127.0.0.2' is a loopback address" in r.getMessage() for r in caplog.records
        ):
            assert time.monotonic() < deadline, "the client neither reconnected nor refused"
            await asyncio.sleep(0.1)
        assert trapped == [], "the console connected to an address the policy refuses"
    finally:
        await pool.close()
        inside.close()


async def test_a_failed_webhook_test_is_generic_to_the_caller_and_detailed_in_the_log(
    api, stack, make_member
):
    """``POST /webhooks/{id}/test`` answers whether the receiver could be reached; how it could not
    (refused, reset, timed out, which port) would make it a port scanner of the networks webhooks
    may reach, so that stays in the server log."""
    headers, _, _ = await make_member("admin", org="new")
    port = _closed_port()
    hook = _webhook(api, headers, f"http://127.0.0.1:{port}/hook")
    sent = api.post(f"{HOOKS}/{hook['id']}/test", headers=headers)
    assert sent.status_code == 200, sent.text
    result = sent.json()
    assert result["ok"] is False and result["status_code"] is None
    assert result["error"] == "could not reach the receiver"
    event = wait_for_audit(api, headers, action="webhook.test", resource_id=hook["id"])
    assert event["status"] == "failure"
    for leak in (str(port), "refused", "Errno", "ConnectError", "Connect call"):
        assert leak not in sent.text and leak not in json.dumps(event), leak
    log = stack.data_dir / "logs" / "api.log"
    deadline = time.monotonic() + 15
    while not any(
        hook["id"] in line and str(port) in line for line in log.read_text().splitlines()
    ):
        assert time.monotonic() < deadline, "the API log does not tell why the test failed"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize(
    ("host", "allowed", "verdict"),
    [
        ("169.254.169.254", "0.0.0.0/0", "cloud metadata"),
        ("169.254.169.254", "169.254.0.0/16", "cloud metadata"),
        ("::ffff:169.254.169.254", "0.0.0.0/0,::/0", "cloud metadata"),
        ("fd00:ec2::254", "fd00::/8", "cloud metadata"),
        ("100.100.100.200", "100.64.0.0/10", "cloud metadata"),
        ("169.254.1.1", "169.254.0.0/16", None),  # the rest of the network an operator allowed
        ("169.254.169.254", "169.254.169.254/32", None),  # named on its own: meant
        ("fd00:ec2::254", "fd00:ec2::254/128", None),
    ],
)
async def test_cloud_metadata_is_allowed_only_when_named_on_its_own(host, allowed, verdict):
    """An operator who allows a wide network (link-local, 0.0.0.0/0, a CGNAT range) means the
    services in it, not the instance's credentials: a metadata endpoint passes only when the
    setting names that address alone."""
    policy = OutboundPolicy.of("webhook", WEBHOOK_SETTING, allowed)
    if verdict is None:
        assert await policy.resolve(host, 80)
    else:
        with pytest.raises(OutboundRefused, match=f"is an? {verdict} address"):
            await policy.resolve(host, 80)


def _certificate_for(name: str, directory) -> tuple[str, str, str]:
    """A CA and a server certificate for ``name`` only (no IP address in it): PEM files."""
    from datetime import datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def make(subject: str, key, issuer_name, issuer_key, ca: bool):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = make("test CA", ca_key, ca_name, ca_key, ca=True)
    cert = make(name, key, ca_name, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    paths = (directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(cert.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return tuple(str(p) for p in paths)


async def test_tls_to_a_checked_address_still_verifies_the_name(tmp_path):
    """The pool connects to the address it checked, not to the name; TLS must still be about the
    name: a certificate for ``localhost`` (no IP in it) is accepted through ``tls://localhost``."""
    import subprocess

    from stack.services import binary

    ca, cert, key = _certificate_for("localhost", tmp_path)
    port = _closed_port()
    conf = tmp_path / "tls.conf"
    conf.write_text(
        f'listen: "127.0.0.1:{port}"\ntls {{ cert_file: "{cert}"\n  key_file: "{key}" }}\n'
    )
    server = subprocess.Popen(
        [binary("nats-server"), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pool = ClusterPool(
        connect_timeout=5, policy=OutboundPolicy.of("cluster", CLUSTER_SETTING, LOOPBACK)
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the TLS server did not start"
                await asyncio.sleep(0.1)
        endpoint = ClusterEndpoint(
            cluster_id=str(uuid.uuid4()),
            name=unique("tls"),
            server_urls=(f"tls://localhost:{port}",),
            tls={"ca_pem": open(ca).read()},
        )
        nc = await pool.connection(endpoint)
        await nc.flush(timeout=5)
        assert nc.is_connected and nc.connected_url.hostname == "localhost"
    finally:
        await pool.close()
        server.terminate()
        server.wait(timeout=30)


async def test_a_websocket_server_is_checked_at_each_connection_attempt():
    """WebSocket URLs are resolved by the WebSocket client itself; the client still checks the
    address before every attempt (as after a name started resolving inside)."""
    errors: list[Exception] = []

    async def collect(exc: Exception) -> None:
        errors.append(exc)

    nc = CheckedClient(OutboundPolicy.of("cluster", CLUSTER_SETTING, "127.0.0.1/32"))
    with pytest.raises(NoServersError):  # nats-py gives up once the server failed twice
        await asyncio.wait_for(
            nc.connect(
                servers=["ws://127.0.0.2:1"],
                allow_reconnect=False,
                connect_timeout=2,
                max_reconnect_attempts=1,
                reconnect_time_wait=0.1,
                error_cb=collect,
            ),
            60,
        )
    assert errors and all(isinstance(e, AddressRefused) for e in errors), errors
    assert "loopback" in str(errors[0]) and CLUSTER_SETTING in str(errors[0])


def _own_internal_address() -> str | None:
    """This machine's address on its network, when that is not public (none: no such address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("10.255.255.254", 9))  # sends nothing: picks the outgoing address
            address = sock.getsockname()[0]
        except OSError:
            return None
    ip = ipaddress.ip_address(address)
    return None if ip.is_loopback or ip.is_global else address


async def test_the_api_does_not_follow_a_cluster_to_an_announced_internal_server(
    api, stack, make_member
):
    """Outside in: a tenant's 'cluster' (on loopback, which the test stack allows) announces a
    server on this machine's internal address, which it does not allow; after the first
    connection drops, the API reconnects to what it may reach only, and logs the refusal."""
    internal = _own_internal_address()
    if internal is None:
        pytest.skip("this machine has no internal (non-loopback, non-public) address to trap")
    trapped: list[str] = []

    async def trap(reader, writer):
        trapped.append("connected")
        writer.close()

    # Their own event loop: the API client of the test blocks this one while a request runs.
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def serve():
        inside = await asyncio.start_server(trap, internal, 0)
        server = _AnnouncingServer(f"{internal}:{inside.sockets[0].getsockname()[1]}")
        await server.start()
        return inside, server

    inside, server = asyncio.run_coroutine_threadsafe(serve(), loop).result(30)
    headers, _, _ = await make_member("admin", org="new")
    created = api.post(
        CLUSTERS,
        headers=headers,
        json={
            "name": unique("announcer"),
            "environment": "development",
            "server_urls": [f"nats://127.0.0.1:{server.port}"],
        },
    )
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    log = stack.data_dir / "logs" / "api.log"
    try:
        assert api.get(f"{CLUSTERS}/{cid}/health", headers=headers).status_code == 200
        deadline = time.monotonic() + 60
        while not trapped and not any(
            cid in line and f"'{internal}'" in line and CLUSTER_SETTING in line
            for line in log.read_text().splitlines()
        ):
            assert time.monotonic() < deadline, "the API neither reconnected nor refused"
            await asyncio.sleep(0.2)
        assert trapped == [], "the API connected to an address the policy refuses"
    finally:
        assert api.delete(f"{CLUSTERS}/{cid}", headers=headers).status_code == 204
        loop.call_soon_threadsafe(inside.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
