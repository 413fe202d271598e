"""Parts of the GitOps page: the repository header and environments (``overview``), the drift
table with its three actions (``drift``), the recent syncs by commit (``syncs``) and the
repository form of admins (``repo_form``)."""

AREA = "gitops"
