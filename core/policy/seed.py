"""The three approval policies of the source design (section 7.2) as data, seeded on first start.

Read into concrete rules: "Violates org security policies" becomes the two auto-reject rules the
issue names (a production stream, bucket or store with fewer than 3 replicas; a name outside the
team's namespaces); "Platform Team OR Team Lead" is one approval from role ``admin`` or
``team_lead`` or a member of team ``platform``; "auto-approved under 500GB" (section 7.1) is an
auto-approve rule on the requested storage limit; "Finance (if cost > $500/month)" is a second,
conditional group. Large Quota Requests comes first so a quota request is judged by it.
"""

from __future__ import annotations

from core.policy.models import (
    GB,
    ApprovalGroup,
    ApprovalPolicy,
    AutoApprove,
    AutoReject,
    Escalation,
    Triggers,
)

PRODUCTION_CHANGES = ApprovalPolicy(
    name="Production Changes",
    version=1,
    priority=20,
    description="Any stream/consumer operation in production clusters.",
    triggers=Triggers(
        environments=["production"],
        kinds=[
            "stream",
            "consumer",
            "kv_bucket",
            "object_store",
            "purge",
            "replay",
            "mirror",
            "failover",
            "restore",
        ],
    ),
    groups=[
        ApprovalGroup(
            name="Platform Team or Team Lead",
            count=1,
            roles=["admin", "team_lead"],
            teams=["platform"],
        )
    ],
    auto_approve=[AutoApprove(change_under_pct=10, within_quota=True)],
    auto_reject=[
        AutoReject(kinds=["stream", "kv_bucket", "object_store"], min_replicas=3),
        AutoReject(outside_namespace=True),
    ],
    sla_hours=4,
    escalation=[Escalation(after_hours=8, notify="@platform-oncall")],
)

LARGE_QUOTA_REQUESTS = ApprovalPolicy(
    name="Large Quota Requests",
    version=1,
    priority=10,
    description="Quota increases above 2x, storage increases above 100 GB, cost above $100/month.",
    triggers=Triggers(
        kinds=["quota"],
        operations=["increase"],
        quota_multiplier_gt=2,
        storage_increase_gt_bytes=100 * GB,
        monthly_cost_gt=100,
    ),
    groups=[
        ApprovalGroup(name="Platform Admin", count=1, roles=["admin"]),
        ApprovalGroup(name="Finance", count=1, teams=["finance"], when_monthly_cost_gt=500),
    ],
    auto_approve=[AutoApprove(requested_limit_below_bytes=500 * GB)],
    sla_hours=24,
)

DEVELOPMENT_SELF_SERVICE = ApprovalPolicy(
    name="Development Self-Service",
    version=1,
    priority=30,
    description="Any operation in development/staging clusters; logged for audit.",
    triggers=Triggers(environments=["development", "staging"]),
    groups=[ApprovalGroup(name="Platform Admin", count=1, roles=["admin"])],
    auto_approve=[AutoApprove(environments=["development", "staging"], within_quota=True)],
    auto_reject=[AutoReject(outside_namespace=True)],
    sla_hours=0,
)

SEED_POLICIES: tuple[ApprovalPolicy, ...] = (
    LARGE_QUOTA_REQUESTS,
    PRODUCTION_CHANGES,
    DEVELOPMENT_SELF_SERVICE,
)
