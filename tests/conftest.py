"""Session fixtures: the whole local stack, started once per test run by the same code as `jsc up`.

`stack` runs every real service (two NATS servers linked by a leafnode, Temporal, PostgreSQL,
Redis, chdb inside the API) plus the API, the worker and the UI, on free loopback ports, in a
temporary data dir, without the demo, with a known admin. Tests isolate themselves by names (unique
streams, organizations, task queues), never by restarting servers. Useful attributes:

- ``stack.api_url``, ``stack.ui_url``, ``stack.admin_email``, ``stack.admin_password``
- ``stack.env``: the JSC_* configuration the children got (JSC_DATABASE_URL, JSC_REDIS_URL,
  JSC_HUB_URL, JSC_DR_URL, JSC_TEMPORAL_ADDRESS, ...), ``stack.settings``: the same as a Settings
- ``stack.info``: what stack.json holds; ``stack.kill(name)``, ``stack.restarts``,
  ``stack.stop_service(name)`` / ``stack.start_service(name)`` for fault tests

`fake_claude` (started before the stack) is the local Anthropic Messages API every process of the
stack and this one talks to (``ANTHROPIC_BASE_URL``, key ``fake_claude.key``): tests script its
answers (tests/ai/fake_anthropic.py); no test ever reaches the real service.

`mailbox` (started before the stack) is a real local mail server (aiosmtpd, tests/mailbox.py):
the stack's mail goes there (``JSC_SMTP_HOST``/``JSC_SMTP_PORT``) and tests read what arrived.

Set JSC_TEST_KEEP=1 to keep the data dir (logs in <data-dir>/logs) after the run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import httpx
import pytest

from stack.errors import StackError
from stack.launcher import Stack
from tests.ai.fake_anthropic import FakeAnthropic
from tests.fixtures import (  # noqa: F401 (fixtures)
    admin_org_id,
    db_sessions,
    dr_cluster,
    dr_nc,
    hub_cluster,
    hub_nc,
    live_nc,
    make_member,
)
from tests.mailbox import Mailbox

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-Pass-1234"
# The outbound URL policy of the test stack, in this process's environment too (before any Settings
# is read), so workers and activities a test runs in-process judge URLs as the stack's do: the
# clusters are on loopback, the test webhook receiver on 127.0.0.1; nothing else internal.
os.environ["JSC_ALLOWED_CLUSTER_NETWORKS"] = "127.0.0.0/8,::1/128"
os.environ["JSC_ALLOWED_WEBHOOK_NETWORKS"] = "127.0.0.1/32"
# GitOps tests keep their bare repositories (file:// remotes) here; nowhere else is allowed.
GITOPS_LOCAL_ROOT = Path(tempfile.mkdtemp(prefix="jsc-git-remotes-"))
os.environ["JSC_GITOPS_LOCAL_ROOT"] = str(GITOPS_LOCAL_ROOT)


def make_data_dir(prefix: str = "jsc-test-") -> Path:
    """A fresh data dir under the system temp folder.

    Not pytest's tmp_path: /tmp/pytest-of-root is 0700 and PostgreSQL runs as an unprivileged
    user (it refuses root), who must be able to enter the data dir."""
    return Path(tempfile.mkdtemp(prefix=prefix))


def remove_data_dir(path: Path) -> None:
    if os.environ.get("JSC_TEST_KEEP"):
        print(f"\nkept the test data dir {path} (JSC_TEST_KEEP)")
    else:
        shutil.rmtree(path, ignore_errors=True)


AI_ENV = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "JSC_AI_MAX_RETRIES",
    "JSC_AI_TIMEOUT_S",
    "JSC_AI_MODEL",
    "JSC_AI_STALLED_AFTER_S",
)
AI_MODEL = "claude-jsc-test-model"


def ai_env(fake: FakeAnthropic) -> dict[str, str]:
    """The model's configuration pointing at ``fake``: no retries and a short timeout, so the
    failure scenarios (errors, dropped connections) answer quickly."""
    return {
        "ANTHROPIC_API_KEY": fake.key,
        "ANTHROPIC_BASE_URL": fake.url,
        "JSC_AI_MAX_RETRIES": "0",
        "JSC_AI_TIMEOUT_S": "20",
        "JSC_AI_MODEL": AI_MODEL,
        # a consumer without an acknowledgement for 20 s is stalled (5 minutes by default),
        # so the evaluation case of a stalled consumer waits seconds, not minutes
        "JSC_AI_STALLED_AFTER_S": "20",
    }


@pytest.fixture(scope="session")
def fake_claude():
    """The local Anthropic server, for the whole session. Its URL and key are in this process's
    environment too (restored afterwards), so a ``Model`` or SDK client a test builds in-process
    reaches it as the stack's processes do: ``Model(Settings())`` just works."""
    fake = FakeAnthropic().start()
    saved = {name: os.environ.get(name) for name in AI_ENV}
    os.environ.update(ai_env(fake))
    try:
        yield fake
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        fake.stop()


@pytest.fixture(scope="session")
def mailbox():
    """The local mail server (tests/mailbox.py) the stack sends its mail to, for the session."""
    box = Mailbox().start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture(scope="session")
def stack(fake_claude, mailbox):
    data_dir = make_data_dir()
    running = Stack(
        data_dir,
        ui=True,
        demo=False,
        auto_ports=True,
        env_overrides={
            **ai_env(
                fake_claude
            ),  # the assistant's model: the local fake (tests/ai/fake_anthropic.py)
            # mail (invitations, password reset links) goes to the local mail server
            "JSC_SMTP_HOST": mailbox.host,
            "JSC_SMTP_PORT": str(mailbox.port),
            "JSC_ADMIN_EMAIL": ADMIN_EMAIL,
            "JSC_ADMIN_PASSWORD": ADMIN_PASSWORD,
            # every registered cluster probed every 15 s (the schedule jsc-cluster-health)
            "JSC_CLUSTER_HEALTH_INTERVAL_S": "15",
            # one login serves the whole session
            "JSC_ACCESS_TOKEN_TTL_S": str(24 * 3600),
            # The stack's collector takes the admin organization's clusters (hub and dr) every 2 s;
            # tests of other organizations run collectors of their own
            # (tests/metrics/collecting.py).
            # A dead collector's clusters move after 6 s.
            "JSC_COLLECT_INTERVAL_S": "2",
            "JSC_COLLECT_ORGS": "default",
            "JSC_COLLECTOR_LEASE_S": "6",
            # Real-time connections: a heartbeat (and a check that their session still holds) every
            # 5 s, so that tests of both wait seconds, not minutes.
            "JSC_REALTIME_HEARTBEAT_S": "5",
            # Exports as operations write chunks of 50 records, and over 300 messages an export is
            # an operation by itself (tests/api/test_exports.py).
            "JSC_EXPORT_CHUNK_RECORDS": "50",
            "JSC_EXPORT_INLINE_MAX_MESSAGES": "300",
        },
    )
    try:
        running.start()  # a StackError says what did not start; every test using it errors with it
    except StackError:
        remove_data_dir(data_dir)
        raise
    try:
        yield running
    finally:
        running.stop()
        remove_data_dir(data_dir)


@pytest.fixture(scope="session")
def settings(stack):
    return stack.settings


@pytest.fixture(scope="session")
def api(stack):
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def admin_token(stack, api) -> str:
    response = api.post(
        "/api/v1/auth/login", json={"email": stack.admin_email, "password": stack.admin_password}
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture(scope="session")
def admin_headers(admin_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token}"}
