"""``jsc api``: serve the API with uvicorn."""

from __future__ import annotations

import uvicorn

from api.app import create_app
from core.settings import get_settings


def serve(host: str | None = None, port: int | None = None) -> None:
    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
    )
