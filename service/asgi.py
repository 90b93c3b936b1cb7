"""ASGI entry point: `python -m service serve` runs it under granian (service.server); any ASGI
server can run the factory `service.asgi:make_app`, without serve's client limits.

Each worker process builds its app from the environment, configures JSON logging, and says
loudly which mode it serves, so that nobody serves mock data in production by accident.
"""

from __future__ import annotations

import logging

from connexion import AsyncApp

from service.app import create_app
from service.logs import configure_logging
from service.settings import DEV_JWT_SECRET, Settings

__all__ = ["make_app"]

logger = logging.getLogger("spacegate")


def make_app() -> AsyncApp:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    app = create_app(settings)
    if settings.mode == "mock":
        logger.warning(
            "MOCK MODE: answers are replayed from the cassettes in %s; no request reaches "
            "Confluence. Tokens are checked with %s. Set SPACEGATE_MODE=live for the real service.",
            settings.cassettes,
            "the published development secret"
            if settings.jwt_secret == DEV_JWT_SECRET
            else "the configured key",
            extra={"mode": settings.mode},
        )
    else:
        logger.info(
            "LIVE MODE: listing spaces from the Confluence sites in the requests",
            extra={"mode": settings.mode, "settings": settings.redacted()},
        )
    return app
