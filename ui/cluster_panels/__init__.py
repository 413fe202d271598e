"""Parts of the Clusters page (``ui/screens/clusters.py``) about the cluster chosen there:
``info.py`` (what its server says: version, server name, cluster, JetStream domain, the account's
limits and usage) and ``edit.py`` (changing its registration; credentials stay write-only)."""
