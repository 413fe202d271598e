"""GitOps: manifest formats, loader, validator, pure planner, git access."""
