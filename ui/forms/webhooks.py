"""The webhook form: a name, an http(s) URL with a host, the events (none: every event) and an
optional signing secret of 16 or more printable characters without spaces (empty: the API makes
one). The API checks again, and also whether the URL points where webhooks may go."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from ui.client import WEBHOOK_EVENTS, WebhookSpec

SECRET = re.compile(r"^[!-~]{16,512}$")
URL_HINT = "e.g. https://hooks.slack.com/services/T000/B000/XXXX"


def webhook_url_problem(url: str) -> str | None:
    if not url:
        return f"Give the URL the events are POSTed to, {URL_HINT}."
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not host
        or len(url) > 2048
        or any(ord(c) < 32 or ord(c) == 127 for c in url)
    ):
        return f'"{url}" is not an http:// or https:// URL with a host, {URL_HINT}.'
    return None


def check_webhook_form(
    *, name: str, url: str, events: Iterable[str] = (), secret: str = "", enabled: bool = True
) -> tuple[WebhookSpec | None, list[str]]:
    name, url, secret = (name or "").strip(), (url or "").strip(), (secret or "").strip()
    problems = []
    if not name:
        problems.append("Give the webhook a name, e.g. where its messages go.")
    elif len(name) > 255:
        problems.append("A webhook name has at most 255 characters.")
    problems += [p for p in (webhook_url_problem(url),) if p]
    chosen = list(events or ())
    unknown = [e for e in chosen if e not in WEBHOOK_EVENTS]
    if unknown:
        problems.append(f"Not an event: {', '.join(unknown)}.")
    if secret and not SECRET.match(secret):
        problems.append(
            "A signing secret has 16 to 512 printable characters and no spaces "
            "(leave it empty to have one made)."
        )
    if problems:
        return None, problems
    spec: WebhookSpec = {
        "name": name,
        "url": url,
        "events": [e for e in WEBHOOK_EVENTS if e in chosen],
        "enabled": bool(enabled),
    }
    if secret:
        spec["secret"] = secret
    return spec, []
