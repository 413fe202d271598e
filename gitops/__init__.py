"""GitOps: manifest formats (``manifests``) and the safe tree loader with validation (``loader``)."""
