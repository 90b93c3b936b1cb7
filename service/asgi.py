"""ASGI entry point: `python -m service serve` runs it under granian (service.server); any ASGI
server can run the factory `service.asgi:make_app`, without serve's client limits.

Each worker process builds its app from the environment, configures JSON logging, says
loudly which mode it serves, so that nobody serves mock data in production by accident, and
tells the garbage collector what it need not look at (`_collect_rarely`).
"""

from __future__ import annotations

import gc
import logging

from connexion import AsyncApp

from service.app import create_app
from service.logs import configure_logging
from service.settings import DEV_JWT_SECRET, Settings

__all__ = ["make_app"]

logger = logging.getLogger("spacegate")

# Allocations of container objects between two collections of the youngest generation
# (Python's default: 700).
_YOUNG_COLLECTION_EVERY = 50_000


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
    _collect_rarely()
    return app


def _collect_rarely() -> None:
    """A request leaves no reference cycle behind once answered (an error's traceback may), yet
    allocates a few hundred container objects: at Python's default the cycle collector ran
    every few requests, scanning every object alive, the app's own included, for some 8 % of
    a mock answer's CPU. The app built so far (modules, spec, scenarios) is moved out of the
    collector's sight, and the youngest generation collected every `_YOUNG_COLLECTION_EVERY`
    allocations: the garbage of cycles still goes, a little later."""
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(_YOUNG_COLLECTION_EVERY, older, oldest)
