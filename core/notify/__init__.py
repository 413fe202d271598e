"""Telling people about change requests: in the app and through the organization's webhooks.

- ``recipients``: who hears about a ``RequestEvent`` (the requester, an approval group's members,
  an escalation target), resolved from PostgreSQL.
- ``inbox``: each user's in-app notifications in Redis (``notifications:{user_id}``, newest
  first), written idempotently so that an activity retry delivers nothing twice, with read markers.
- ``webhooks``: the pure parts of an outgoing webhook: the Slack-compatible body, the
  ``X-JSC-*`` headers and their HMAC-SHA256 signature, and ``verify`` for receivers.
- ``delivery``: the stored webhooks (secrets sealed with AES-256-GCM), which of them an event goes
  to, and one signed POST.

The activities ``notify_request`` and ``deliver_webhook`` (``activities/notifications.py``) are thin
adapters over these; the approval workflow calls them.
"""
