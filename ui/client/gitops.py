"""GitOps: repositories (``/gitops/repos``) with their status per environment, syncs by commit
with their plan and per-resource result, the plan of a ref, and drift with its remediations.

Answers are the API's JSON (documented in ``api/gitops_schemas.py``), kept as dictionaries."""

from __future__ import annotations

from typing import Any, Literal

from ui.client.base import BaseClient, _items, _seg

Remedy = Literal["revert", "update_git", "ignore"]


class GitOpsApi(BaseClient):
    def list_gitops_repos(self) -> list[dict[str, Any]]:
        return _items(self._request("GET", "/gitops/repos"))

    def get_gitops_repo(self, repo_id: str) -> dict[str, Any]:
        return self._request("GET", f"/gitops/repos/{_seg(repo_id)}")

    def create_gitops_repo(self, spec: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "/gitops/repos", json=spec)

    def update_gitops_repo(self, repo_id: str, change: dict[str, Any]) -> dict[str, Any]:
        return self._request("PATCH", f"/gitops/repos/{_seg(repo_id)}", json=change)

    def delete_gitops_repo(self, repo_id: str) -> None:
        self._request("DELETE", f"/gitops/repos/{_seg(repo_id)}")

    def sync_gitops_repo(self, repo_id: str, ref: str | None = None) -> dict[str, Any]:
        return self._request(
            "POST", f"/gitops/repos/{_seg(repo_id)}/sync", json={"ref": ref} if ref else None
        )

    def list_gitops_syncs(self, repo_id: str, limit: int = 20) -> list[dict[str, Any]]:
        return _items(
            self._request("GET", f"/gitops/repos/{_seg(repo_id)}/syncs", params={"limit": limit})
        )

    def gitops_plan(self, repo_id: str, ref: str | None = None) -> dict[str, Any]:
        return self._request("GET", f"/gitops/repos/{_seg(repo_id)}/plan", params={"ref": ref})

    def gitops_drift(self, repo_id: str) -> dict[str, Any]:
        return self._request("GET", f"/gitops/repos/{_seg(repo_id)}/drift")

    def gitops_scan(self, repo_id: str) -> dict[str, Any]:
        return self._request("POST", f"/gitops/repos/{_seg(repo_id)}/drift/scan")

    def gitops_remediate(
        self, repo_id: str, action: Remedy, items: list[str], ignore_for: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"action": action, "items": items}
        if ignore_for:
            body["ignore_for"] = ignore_for
        return self._request("POST", f"/gitops/repos/{_seg(repo_id)}/drift/remediate", json=body)
