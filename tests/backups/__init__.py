"""Backups and restore: the engine (data path) and the service (API, workflows)."""
