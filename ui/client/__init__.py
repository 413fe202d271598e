"""A small, typed, synchronous client of the JetStream Console HTTP API (``/api/v1``).

:class:`ApiClient` is one person's connection: the HTTP core of ``base.py`` (tokens, a ``401``
refreshed once, errors read into :class:`ApiError`) plus one mixin of calls per area, each next
to the types it answers with:

- ``errors.py``: :class:`ApiError` and its kinds (the API's sentence, the fields it refused).
- ``base.py``: the HTTP core, login / logout / ``me``, tokens.
- ``clusters.py``, ``streams.py``, ``messages.py`` (messages and consumers), ``operations.py``,
  ``stores.py`` (key-value and object stores), ``audit.py``, ``admin.py`` (users, teams, roles,
  API keys), ``approvals.py`` (change requests and votes), ``quotas.py`` (team quotas and quota
  requests), ``policies.py`` (approval policies), ``notifications.py``, ``replication.py``
  (mirrors, DR pairs, the replication map, failover), ``backups.py`` (backups, restore, backup
  schedules), ``ai.py`` (the assistant: the chat's events, conversations, diagnose,
  "describe what you need"), ``organizations.py`` (memberships, the organization's settings),
  ``webhooks.py`` (the organization's outgoing webhooks, their secrets shown once, tests and
  rotation).

Every public name is importable from ``ui.client`` itself.
"""

from __future__ import annotations

from ui.client.admin import (
    AdminApi,
    ApiKey,
    ApiKeySpec,
    Invitation,
    InviteSpec,
    Namespace,
    NamespaceSpec,
    PermissionCatalog,
    Role,
    RoleSpec,
    Team,
    TeamMember,
    TeamRole,
    TeamSpec,
    User,
    UserChanges,
)
from ui.client.ai import AiApi, Answer, ChatEvent, Conversation
from ui.client.alerts import AlertsApi
from ui.client.analytics import AnalyticsApi
from ui.client.approvals import (
    APPROVAL_KINDS,
    APPROVAL_STATUSES,
    Approval,
    ApprovalDecision,
    ApprovalsApi,
    ApprovalStatus,
    ApprovalVote,
    ApproverGroup,
    RequestSubmitted,
    RiskSummary,
    Voter,
    submitted,
)
from ui.client.audit import AuditApi, AuditEvent, AuditPage, AuditStatus
from ui.client.backups import (
    VERIFICATION_STATUSES,
    Backup,
    BackupItem,
    BackupsApi,
    BackupSchedule,
    BackupSpec,
    BackupStarted,
    BackupTargetSpec,
    Cadence,
    CadenceSpec,
    RestoreSpec,
    RestoreToSpec,
    ScheduleSpec,
    Verification,
)
from ui.client.base import API_PREFIX, DEFAULT_API_URL, BaseClient, Me, Organization, Tokens
from ui.client.clusters import (
    Cluster,
    ClusterChanges,
    ClusterHealth,
    ClusterInfo,
    ClustersApi,
    ClusterSpec,
    CredentialsSpec,
    Environment,
    HealthStatus,
    TlsSpec,
)
from ui.client.errors import ApiError, ApiUnavailable, AuthenticationRequired, FieldError
from ui.client.gitops import GitOpsApi
from ui.client.messages import (
    ConsumerInfo,
    ConsumerSpec,
    Direction,
    Message,
    MessagePage,
    MessagesApi,
    PauseState,
    PublishAck,
)
from ui.client.notifications import Notification, Notifications, NotificationsApi
from ui.client.operations import (
    FINISHED_STATUSES,
    OPERATION_STATUSES,
    STEP_STATUSES,
    Operation,
    OperationsApi,
    OperationStarted,
    OperationStatus,
    Progress,
    RedriveSpec,
    ReplayDestinationSpec,
    ReplaySpec,
    Step,
)
from ui.client.organizations import OrganizationChanges, OrganizationsApi, OrganizationSettings
from ui.client.policies import ApprovalPolicy, PoliciesApi
from ui.client.quotas import (
    QUOTA_RESOURCES,
    QuotaChange,
    QuotaItem,
    QuotasApi,
    TeamQuotas,
    TeamResource,
)
from ui.client.replication import (
    EDGE_STATUSES,
    DrillResult,
    DrPair,
    DrPairSpec,
    FailoverSpec,
    MapCluster,
    Mirror,
    MirrorOverridesSpec,
    MirrorSpec,
    MirrorStarted,
    PairHealth,
    PairStream,
    PairStreamHealth,
    PairStreamSpec,
    ReplicationApi,
    ReplicationEdge,
    ReplicationMap,
)
from ui.client.stores import (
    KeyList,
    KvBucket,
    KvBucketSpec,
    KvEntry,
    ObjectInfo,
    ObjectStore,
    ObjectStoreSpec,
    Storage,
    StoresApi,
)
from ui.client.streams import PurgeResult, PurgeSpec, StreamConfig, StreamInfo, StreamsApi
from ui.client.webhooks import (
    WEBHOOK_EVENTS,
    Webhook,
    WebhooksApi,
    WebhookSecret,
    WebhookSpec,
    WebhookTestResult,
)


class ApiClient(ClustersApi, StreamsApi, MessagesApi, OperationsApi, StoresApi, AuditApi,
                AdminApi, ApprovalsApi, QuotasApi, PoliciesApi, NotificationsApi, ReplicationApi,
                BackupsApi, GitOpsApi, AnalyticsApi, AlertsApi, AiApi, OrganizationsApi,
                WebhooksApi):
    """One person's connection to the API. Holds that person's tokens once logged in."""


__all__ = [
    "AiApi", "Answer", "ChatEvent", "Conversation",
    "APPROVAL_KINDS", "APPROVAL_STATUSES", "Approval", "ApprovalDecision", "ApprovalPolicy",
    "ApprovalStatus", "ApprovalVote", "ApprovalsApi", "ApproverGroup", "Notification",
    "Notifications", "NotificationsApi", "PoliciesApi", "QUOTA_RESOURCES", "QuotaChange",
    "QuotaItem", "QuotasApi", "RequestSubmitted", "RiskSummary", "TeamQuotas", "TeamResource",
    "Voter",
    "submitted",
    "API_PREFIX", "DEFAULT_API_URL", "FINISHED_STATUSES", "OPERATION_STATUSES",
    "AdminApi", "ApiClient", "ApiError", "ApiKey", "ApiKeySpec", "ApiUnavailable", "AuditApi",
    "AuditEvent", "AuditPage", "AuditStatus", "AuthenticationRequired", "BaseClient", "Cluster",
    "ClusterHealth", "ClusterInfo", "ClusterSpec", "ClustersApi", "ConsumerInfo", "ConsumerSpec",
    "CredentialsSpec", "Direction", "Environment", "FieldError", "HealthStatus", "Invitation",
    "InviteSpec", "KeyList", "KvBucket", "KvBucketSpec", "KvEntry", "Me", "Message",
    "MessagePage", "MessagesApi", "Namespace", "NamespaceSpec", "ObjectInfo", "ObjectStore",
    "ObjectStoreSpec", "Operation", "OperationStarted", "OperationStatus", "OperationsApi",
    "Organization", "PermissionCatalog", "Progress", "PublishAck", "RedriveSpec",
    "ReplayDestinationSpec", "ReplaySpec", "Role", "RoleSpec", "Storage", "StoresApi",
    "StreamConfig", "StreamInfo", "StreamsApi", "Team", "TeamMember", "TeamRole", "TeamSpec",
    "Tokens", "User", "UserChanges",
    "EDGE_STATUSES", "STEP_STATUSES", "DrillResult", "DrPair", "DrPairSpec", "FailoverSpec",
    "MapCluster", "Mirror", "MirrorOverridesSpec", "MirrorSpec", "MirrorStarted", "PairHealth",
    "PairStream", "PairStreamHealth", "PairStreamSpec", "ReplicationApi", "ReplicationEdge",
    "ReplicationMap", "Step",
    "PauseState", "PurgeResult", "PurgeSpec",
    "AlertsApi", "AnalyticsApi", "VERIFICATION_STATUSES", "Backup", "BackupItem", "BackupSchedule", "BackupsApi", "GitOpsApi",
    "BackupSpec", "BackupStarted", "BackupTargetSpec", "Cadence", "CadenceSpec", "RestoreSpec",
    "RestoreToSpec", "ScheduleSpec", "Verification",
    "ClusterChanges", "TlsSpec", "OrganizationChanges", "OrganizationSettings", "OrganizationsApi",
    "WEBHOOK_EVENTS", "Webhook", "WebhookSecret", "WebhookSpec", "WebhookTestResult",
    "WebhooksApi",
]
