"""GitOps (issue 13): git as the desired state of the clusters.

Pure (no I/O):
- ``manifests``: the two manifest formats (the source design's ``nats.io/v1`` and NACK's
  ``jetstream.nats.io/v1beta2``) translated to JetStream's own field names.
- ``loader``: the safe tree loader (``environments/<env>/...``; no YAML tags or aliases, size and
  count limits, paths confined to the checkout) validating through the console's config models,
  errors as ``path:line: message``.
- ``planner``: the differ (create / update / replace / delete per resource and field, in
  dependency order, deletions only with prune); ``drift``: the same diff read as drift.
- ``plan_doc``: a plan as stored, shown and approved; ``export``: live configs as manifests, and
  field edits of a manifest file; ``signatures``: webhook signatures and the push they name;
  ``jobs``: the workflows' inputs and outputs.

With I/O:
- ``git``: git access (https with a token, ssh with a key, ``file://`` under an allowed root).
- ``live``: what a cluster runs, in the shapes git describes; ``planning``: a repository's plan
  from git and its clusters; ``verdict``: the change gate's word on a whole sync; ``applying``:
  a stored plan applied change by change.
- ``sync_rows``, ``drift_rows``: the sync and drift rows; ``drift_update``: "update git from the
  cluster"; ``schedules``: the drift schedule of a repository; ``ownership``: what a repository
  manages beyond git (its namespaces, what its syncs applied); ``attribution``: who changed a
  drifted resource, and when.
"""
