"""All configuration of JetStream Console, read from the environment (prefix ``JSC_``).

Every process (API, worker, UI, CLI, launcher) builds one :class:`Settings`. The local stack
(``jsc up``) starts whatever backing service is not given here and passes the URLs of what it
started to its children through these same variables.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.netpolicy import OutboundPolicy, parse_networks


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JSC_", extra="ignore")

    data_dir: Path = Path(".jsc")

    # HTTP endpoints of our own processes
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    ui_port: int = 8501
    api_url: str = "http://127.0.0.1:8000"

    # Backing services. None means "not configured": `jsc up` starts a local one.
    database_url: str | None = None  # postgresql+asyncpg://user:pass@host:port/db
    redis_url: str | None = None  # redis://host:port/0
    temporal_address: str | None = None  # host:port
    temporal_namespace: str = "default"
    task_queue: str = "jsc-operations"
    clickhouse_url: str | None = None  # http(s)://user:pass@host:port/db ; None: chdb in data_dir

    # The two local clusters (hub and dr domains) and the NATS that carries internal events.
    hub_url: str | None = None
    dr_url: str | None = None
    # The console's own streams (JSC_EVENTS): a NATS account (or server) no tenant's cluster can
    # reach, with credentials in the URL (nats://jsc:<password>@host:port). Never the clusters'
    # anonymous account: there tenants would read and purge every organization's audit events.
    internal_nats_url: SecretStr | None = None

    # Outbound URL policy (core.netpolicy): the networks, besides public addresses, that cluster
    # URLs and webhook URLs may point to (CIDRs separated by commas). Unset: public addresses only
    # (loopback, private, link-local and cloud metadata refused). `jsc up` adds loopback to the
    # cluster networks for the local clusters it starts.
    allowed_cluster_networks: str = ""
    allowed_webhook_networks: str = ""
    allowed_git_networks: str = ""  # git remotes (https, ssh) of GitOps repositories

    # GitOps: ``file://`` remotes are allowed only under this directory (unset: refused), and
    # checkouts are made in temporary directories under the work dir (unset: <data_dir>/gitops).
    gitops_local_root: Path | None = None
    gitops_work_dir: Path | None = None
    # CA certificates (PEM) git trusts for https remotes, besides the system's: a private git host.
    gitops_ca_bundle: Path | None = None

    # Secrets. `jsc up` generates and keeps them in <data_dir>/secrets.json when not given.
    secret_key: SecretStr | None = None  # signs JWT access tokens
    encryption_key: SecretStr | None = None  # base64 of 32 bytes, AES-256-GCM for credentials

    # First start: the organization and its admin.
    admin_email: str = "admin@example.com"
    admin_password: SecretStr | None = None  # random and printed once when unset
    admin_organization: str = "Default"

    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 7 * 24 * 3600
    allow_signup: bool = True  # POST /auth/register with organization_name; off: 403
    invitation_ttl_s: int = Field(default=7 * 24 * 3600, gt=0)
    # Password reset by e-mail (core.password_reset): how long a link works, and how many links
    # one client address and one e-mail address may ask for in the window.
    password_reset_ttl_s: int = Field(default=30 * 60, gt=0)
    password_reset_per_ip: int = Field(default=20, gt=0)
    password_reset_per_email: int = Field(default=5, gt=0)
    password_reset_window_s: int = Field(default=3600, gt=0)

    # Abuse limits (Redis). Requests per minute of one user (all its sessions) and of one API key
    # (a key or an organization can set its own); sign-in lockout after repeated failures.
    rate_limit_per_minute: int = Field(default=3000, gt=0)
    api_key_rate_limit_per_minute: int = Field(default=1200, gt=0)
    login_max_failures: int = Field(default=5, gt=0)
    login_failure_window_s: int = Field(default=15 * 60, gt=0)
    login_lockout_s: int = Field(default=15 * 60, gt=0)
    # Per client address, checked before any argon2 work (sign-in, sign-up, an API key not in
    # the cache): at most this many such checks a minute, and after this many failed ones in the
    # window every credential check from the address is refused until the window ends.
    auth_attempts_per_ip_per_minute: int = Field(default=300, gt=0)
    auth_failures_per_ip: int = Field(default=100, gt=0)
    auth_failure_window_s: int = Field(default=5 * 60, gt=0)
    permissions_cache_ttl_s: int = Field(default=5 * 60, gt=0)

    # Invitations and password reset links are mailed when a mail server is configured (else
    # invitations are only answered by the API, and no reset link can be sent).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "jetstream-console@localhost"
    public_url: str | None = None  # the UI's address, for links in mails

    # Webhooks: after ``POST /webhooks/{id}/rotate-secret`` deliveries carry a signature made with
    # the replaced secret too, this long (0: the replaced secret stops signing at once), so that
    # receivers can switch to the new secret without missing a delivery.
    webhook_secret_grace_s: int = Field(default=24 * 3600, ge=0, le=30 * 24 * 3600)

    # Approvals: the price of storage in risk notes and cost thresholds ($ per GB-month).
    storage_price_per_gb: float = Field(default=0.25, ge=0, le=1e6)

    # Directory backup targets live under <backup_dir>/<organization id>/
    # (unset: <data_dir>/backups).
    backup_dir: Path | None = None
    # Exports (messages of a stream, the audit log): a range larger than this is not streamed
    # inline but written by an operation, in chunks of ``export_chunk_records`` records, to
    # ``<backup root>/<organization id>/exports/`` and downloaded from
    # ``/api/v1/operations/{id}/download``.
    export_inline_max_messages: int = Field(default=10_000, ge=0)
    export_inline_max_rows: int = Field(default=50_000, ge=0)
    export_chunk_records: int = Field(default=10_000, ge=1, le=1_000_000)

    # Real-time push (SSE /api/v1/stream/metrics, WebSocket /ws/v1/realtime): the lifetime of a
    # realtime token (read-only, real-time endpoints only), the heartbeat of an idle connection,
    # and how many events one client may have waiting before it is dropped as too slow (it
    # resumes with Last-Event-ID).
    realtime_token_ttl_s: int = Field(default=5 * 60, gt=0, le=3600)
    realtime_heartbeat_s: float = Field(default=15.0, gt=0)
    realtime_queue_size: int = Field(default=1000, gt=0)
    realtime_slow_client_s: float = Field(default=5.0, gt=0)  # queue full this long: dropped

    # Metrics collection (``jsc collector``): the pass interval; how long a dead collector's
    # clusters wait before another takes them (its leases' TTL); which organizations' clusters to
    # collect (ids or slugs, comma-separated; empty: all), e.g. a collector dedicated to a tenant.
    collect_interval_s: float = Field(default=10.0, gt=0)
    collector_lease_s: float = Field(default=30.0, gt=0)
    collect_orgs: str = ""
    # A platform Prometheus scraping /metrics with this bearer token gets every organization's
    # stream and consumer gauges (an API key gets its own organization's).
    metrics_token: SecretStr | None = None

    # Alerts: how often the rules are evaluated (a Temporal schedule), and how old the newest
    # sample (or how wide a gap between samples) may be before a rule's data is "unknown".
    alert_interval_s: float = Field(default=30.0, ge=1)
    # Every registered cluster is probed this often (the schedule jsc-cluster-health), so its
    # status in lists and in the CLI is current.
    cluster_health_interval_s: float = Field(default=60.0, ge=1)
    alert_sample_grace_s: float = Field(default=30.0, gt=0)

    # The assistant (package ``ai``). The key is the Anthropic SDK's own variable
    # (``ANTHROPIC_API_KEY``, no prefix) and its base URL is the SDK's ``ANTHROPIC_BASE_URL``; no
    # key: the chat answers with the deterministic findings and says the model is absent.
    anthropic_api_key: SecretStr | None = Field(default=None, validation_alias="ANTHROPIC_API_KEY")
    ai_model: str = "claude-sonnet-5-5"
    ai_max_tokens: int = Field(default=2048, ge=64, le=64_000)  # per model reply
    ai_max_tool_rounds: int = Field(default=8, ge=1, le=50)  # model <-> tools rounds per answer
    ai_daily_tokens_per_user: int = Field(default=300_000, ge=0)  # input + output, UTC day
    ai_timeout_s: float = Field(default=60.0, gt=0)
    ai_max_retries: int = Field(default=2, ge=0, le=10)
    # The deterministic checks: a consumer with work outstanding and no acknowledgement for this
    # long is stalled (ai.analyzers.Thresholds.stalled_after_s).
    ai_stalled_after_s: float = Field(default=300.0, gt=0)

    log_level: str = "INFO"

    # Time the API waits on one backing service during /readyz before calling it down.
    ready_timeout_s: float = Field(default=2.0, gt=0)

    @property
    def clickhouse_dsn(self) -> str:
        """The DSN clickhouse-connect opens: a real server when configured, else embedded chdb."""
        if self.clickhouse_url:
            return self.clickhouse_url
        return f"chdb://{(self.data_dir / 'clickhouse').resolve()}"

    @property
    def backups_root(self) -> Path:
        """Where directory backup targets are kept (``JSC_BACKUP_DIR``), absolute."""
        return (self.backup_dir or self.data_dir / "backups").absolute()

    @property
    def clickhouse_mode(self) -> str:
        return "server" if self.clickhouse_url else "chdb"

    @property
    def gitops_checkouts(self) -> Path:
        """Where temporary checkouts of GitOps repositories are made, absolute."""
        return (self.gitops_work_dir or self.data_dir / "gitops").absolute()

    @field_validator("allowed_cluster_networks", "allowed_webhook_networks", "allowed_git_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # a ValueError names the entry that is not a network
        return value

    @property
    def cluster_policy(self) -> OutboundPolicy:
        return OutboundPolicy.of(
            "cluster", "JSC_ALLOWED_CLUSTER_NETWORKS", self.allowed_cluster_networks
        )

    @property
    def webhook_policy(self) -> OutboundPolicy:
        return OutboundPolicy.of(
            "webhook", "JSC_ALLOWED_WEBHOOK_NETWORKS", self.allowed_webhook_networks
        )

    @property
    def git_policy(self) -> OutboundPolicy:
        return OutboundPolicy.of(
            "git remote", "JSC_ALLOWED_GIT_NETWORKS", self.allowed_git_networks
        )

    @property
    def events_nats_url(self) -> str | None:
        """The URL (with its credentials) the console's internal clients connect to."""
        return self.internal_nats_url.get_secret_value() if self.internal_nats_url else None


@lru_cache
def get_settings() -> Settings:
    return Settings()
