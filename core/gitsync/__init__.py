"""GitOps syncs (issue 13): what the sync workflows exchange with their activities, and the
``gitops_syncs`` rows they keep (``core.db.gitops_models``).

- ``models``: the workflow and activity inputs and outputs (``GitSyncInput``...).
- ``rows``: adding a sync with its operation (the API's "Sync now", the webhook, a drift revert),
  recording per-resource results, the final status from them, and closing a sync whose change
  request was rejected.
"""
