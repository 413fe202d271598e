"""The organization's settings: its name and the request limit per user and minute."""

from __future__ import annotations

import re

from ui.client import OrganizationChanges, OrganizationSettings

MAX_RATE_LIMIT = 1_000_000
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def check_organization_form(
    org: OrganizationSettings, *, name: str, rate_limit_per_minute: int
) -> tuple[OrganizationChanges | None, list[str]]:
    """The ``PATCH`` body for what differs from ``org`` (empty when nothing does); a limit of 0
    goes back to the console's default."""
    problems: list[str] = []
    name = (name or "").strip()
    if not name:
        problems.append("Give the organization a name.")
    elif len(name) > 255:
        problems.append("An organization name has at most 255 characters.")
    elif CONTROL.search(name):
        problems.append("An organization name may not contain control characters.")
    limit = int(rate_limit_per_minute or 0)
    if not 0 <= limit <= MAX_RATE_LIMIT:
        problems.append(
            f"The request limit is between 1 and {MAX_RATE_LIMIT:,} per minute "
            "(0: the console's default)."
        )
    if problems:
        return None, problems
    changes: OrganizationChanges = {}
    if name != org.name:
        changes["name"] = name
    if limit != (org.rate_limit_per_minute or 0):
        changes["rate_limit_per_minute"] = limit
    return changes, []
