"""What a person typed, checked before anything is sent: pure functions, no Streamlit, no HTTP.

Each ``check_*`` returns ``(payload, problems)``: the JSON body to post when ``problems`` is empty,
else a list of sentences saying what to fix. The API validates again; this only spares a round trip
and gives the message next to the form.

By area: ``common.py`` (names, subjects, sizes, durations, times, headers, JSON), ``clusters.py``
(registering and editing a cluster), ``organization.py`` (the organization's settings),
``streams.py`` (streams, publishing, consumers, an edited config), ``consumers.py`` (a consumer
changed or paused, a purge), ``replay.py``, ``mirror.py``
(the mirror wizard, the DR pair form), ``backup.py`` (a manual backup, a restore, a backup
schedule), ``stores.py``
(key-value and object stores), ``admin.py`` (invitations, teams, roles, API keys),
``webhooks.py`` (an outgoing webhook). Every public
name is importable from ``ui.forms`` itself.
"""

from __future__ import annotations

from ui.forms.admin import (
                             EMAIL,
                             MAX_KEY_DAYS,
                             NAMESPACE_PREFIX,
                             ROLE_NAME,
                             SCOPE,
                             SCOPE_HINT,
                             check_api_key_form,
                             check_invite_form,
                             check_permissions,
                             check_role_form,
                             check_team_form,
                             email_problem,
                             namespaces_of,
                             permission_problem,
)
from ui.forms.backup import (
                             BACKUP_KINDS,
                             CADENCE_MODES,
                             RESTORE_POINTS,
                             TARGET_TYPES,
                             check_backup_form,
                             check_cadence,
                             check_restore_form,
                             check_schedule_form,
                             check_target,
                             schedule_changes,
)
from ui.forms.clusters import TLS_CHOICES, check_cluster_changes, check_cluster_form
from ui.forms.common import (
                             ACK_POLICIES,
                             BUCKET_NAME,
                             CLUSTER_NAME,
                             CREDENTIAL_TYPES,
                             DEFAULT_REDRIVE_HEADER,
                             DELIVER_POLICIES,
                             DISCARD_POLICIES,
                             DOMAIN,
                             ENVIRONMENTS,
                             HEADER_NAME,
                             KV_KEY,
                             MAX_RATE,
                             REPLAY_MAPPINGS,
                             RETENTION_POLICIES,
                             SERVER_SCHEMES,
                             STORAGE_TYPES,
                             STREAM_NAME,
                             concrete_subject_problem,
                             parse_duration,
                             parse_headers,
                             parse_json,
                             parse_size,
                             parse_time,
                             server_url_problem,
                             split_list,
                             subject_matches,
                             subject_problem,
)
from ui.forms.consumers import (
                             EDITABLE,
                             PURGE_LABELS,
                             PURGE_MODES,
                             check_consumer_edit,
                             check_pause,
                             check_purge_form,
                             consumer_form_values,
                             duration_text,
)
from ui.forms.mirror import (
                             MIRROR_TYPES,
                             START_POSITIONS,
                             check_dr_pair_form,
                             check_mirror_form,
                             check_mirror_source,
                             initial_sync,
)
from ui.forms.organization import MAX_RATE_LIMIT, check_organization_form
from ui.forms.replay import check_replay_form
from ui.forms.stores import (
                             bucket_problem,
                             check_kv_bucket_form,
                             check_kv_value,
                             check_object_store_form,
                             kv_key_problem,
                             object_name_problem,
)
from ui.forms.streams import (
                             check_consumer_form,
                             check_publish_form,
                             check_stream_form,
                             config_changes,
)
from ui.forms.webhooks import check_webhook_form, webhook_url_problem

__all__ = [
    "ACK_POLICIES", "BUCKET_NAME", "CLUSTER_NAME", "CREDENTIAL_TYPES", "DEFAULT_REDRIVE_HEADER",
    "DELIVER_POLICIES", "DISCARD_POLICIES", "DOMAIN", "ENVIRONMENTS", "HEADER_NAME", "KV_KEY",
    "MAX_RATE", "REPLAY_MAPPINGS", "RETENTION_POLICIES", "SERVER_SCHEMES", "STORAGE_TYPES",
    "STREAM_NAME", "concrete_subject_problem", "parse_duration", "parse_headers", "parse_json",
    "parse_size", "parse_time", "server_url_problem", "split_list", "subject_matches", "subject_problem",
    "check_cluster_form", "TLS_CHOICES", "check_cluster_changes", "MAX_RATE_LIMIT",
    "check_organization_form", "check_consumer_form", "check_publish_form", "check_stream_form",
    "config_changes", "EDITABLE", "PURGE_LABELS", "PURGE_MODES", "check_consumer_edit",
    "check_pause", "check_purge_form", "consumer_form_values", "duration_text",
    "check_replay_form", "MIRROR_TYPES", "START_POSITIONS",
    "check_dr_pair_form", "check_mirror_form", "check_mirror_source", "initial_sync", "bucket_problem", "check_kv_bucket_form",
    "check_kv_value", "check_object_store_form", "kv_key_problem", "object_name_problem", "EMAIL",
    "MAX_KEY_DAYS", "NAMESPACE_PREFIX", "ROLE_NAME", "SCOPE", "SCOPE_HINT", "check_api_key_form",
    "check_invite_form", "check_permissions", "check_role_form", "check_team_form",
    "email_problem", "namespaces_of", "permission_problem",
    "BACKUP_KINDS", "CADENCE_MODES", "RESTORE_POINTS", "TARGET_TYPES", "check_backup_form",
    "check_cadence", "check_restore_form", "check_schedule_form", "check_target",
    "schedule_changes", "check_webhook_form", "webhook_url_problem",
]
