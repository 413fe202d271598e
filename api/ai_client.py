"""The assistant's view of the console: this same API, called in-process as the caller.

``caller_api(request)`` is an HTTP client bound to the running app (no network hop) that carries
the caller's own credentials (the bearer token or API key of the request). Every tool of the
assistant reads through it, so RBAC, team namespaces, tenancy, rate limits and audit apply to the
assistant exactly as to the person: a viewer's assistant sees what the viewer sees, and another
organization's nothing (DESIGN.md rule 5: the assistant is an API client).
"""

from __future__ import annotations

import httpx
from fastapi import Request

ASSISTANT_AGENT = "jsc-assistant"
BASE_URL = "http://jsc-assistant.internal"


def caller_headers(request: Request) -> dict[str, str]:
    headers = {"User-Agent": ASSISTANT_AGENT}
    for name in ("authorization", "x-api-key"):
        if value := request.headers.get(name):
            headers[name] = value
    return headers


def caller_api(request: Request, *, timeout_s: float = 60.0) -> httpx.AsyncClient:
    client = (request.client.host, 0) if request.client else ("127.0.0.1", 0)
    transport = httpx.ASGITransport(app=request.app, client=client)
    return httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, headers=caller_headers(request), timeout=timeout_s
    )
