"""GitOps (issue 13, in progress): what lives here so far.

- ``manifests``: the two manifest formats (the source design's ``nats.io/v1`` and NACK's
  ``jetstream.nats.io/v1beta2``) translated to JetStream's own field names.
- ``loader``: the safe tree loader (``environments/<env>/...``; no YAML tags or aliases, size and
  count limits, paths confined to the checkout) validating through the console's config models,
  errors as ``path:line: message``.
- ``planner``: the pure differ (create / update / replace / delete per resource and field, in
  dependency order, deletions only with prune).

Not yet: git access, the sync workflow, drift, the API, UI and CLI.
"""
