"""The application factory: the spec routed to the handler, with the contract's behaviour.

    create_app(settings, mode=...) -> connexion.AsyncApp

Settings come from the environment unless given; the mode (service/mode.py: the adapter below
the client, the URL policy, CORS origins, and what mock mode adds) is chosen by the settings
unless given. Everything else is the same in both modes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from connexion import AsyncApp
from connexion.middleware import ConnexionMiddleware, MiddlewarePosition
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from connexion.security import BearerSecurityHandler
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from service import __version__
from service.auth import TokenVerifier, authorization_header
from service.body_guard import BodyGuard
from service.confluence.client import ClientOptions
from service.confluence.page_threads import PageThreads
from service.connexion_app import SpacegateApp
from service.cors import Cors
from service.error_table import install_error_table
from service.handler import SpaceListing
from service.logs import flush_logs, remember_secrets
from service.mode import Mode, mode_for
from service.request_context import InFlight, RequestContext
from service.resources import spec_path
from service.served_spec import SPEC_JSON_PATH, add_spec_routes
from service.settings import Settings
from service.url_rule import url_rule
from service.validation import validator_map
from service.worker_pool import WorkerPool

__all__ = ["create_app"]

logger = logging.getLogger("spacegate")


def _bearer_handler(verifier: TokenVerifier) -> type[BearerSecurityHandler]:
    # Connexion instantiates security handlers itself, so the verifier is bound by closure.

    class VerifyingBearer(BearerSecurityHandler):
        def _resolve_func(self, security_scheme: Mapping[str, Any]) -> Callable[..., Any]:
            return verifier.verify

        def check_bearer_token(self, token_info_func: Callable[..., Any]) -> Callable[..., Any]:
            # Connexion's check inspects the function's signature twice a request to learn
            # whether it wants `required_scopes` or `request` (ours takes neither), and turns
            # a None into a 401 (ours raises InvalidToken instead): the verifier is called as is.
            async def check(_request: Any, token: str, **_scopes: Any) -> dict[str, Any]:
                claims: dict[str, Any] = await verifier.verify(token)
                return claims

            return check

        @staticmethod
        def get_auth_header_value(request: Any) -> tuple[str | None, str | None]:
            # Connexion reads the first Authorization line; a second one is refused instead.
            authorization = authorization_header(request.headers)
            if not authorization:
                return None, None
            value: tuple[str | None, str | None] = BearerSecurityHandler.get_auth_header_value(
                request
            )
            return value

    return VerifyingBearer


def create_app(settings: Settings | None = None, *, mode: Mode | None = None) -> AsyncApp:
    settings = settings if settings is not None else Settings.from_env()
    mode = mode if mode is not None else mode_for(settings)
    remember_secrets(settings.jwt_secret, process_wide=True)
    pool = WorkerPool(settings.worker_threads)
    # As many again for pages fetched ahead, borrowed only when free (docs/design.md#paging).
    page_threads = PageThreads(settings.worker_threads)
    in_flight = InFlight()
    listing = SpaceListing(
        mode.adapter,
        ClientOptions.from_settings(settings),
        tenant_claim=settings.tenant_claim,
        pool=pool,
        page_threads=page_threads,
    )
    operations = {"listSpaces": listing.list_spaces}

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        async with mode.running():
            yield
        page_threads.close()
        mode.adapter.close()
        flush_logs()  # a worker process ends without logging's exit hook

    middlewares = list(ConnexionMiddleware.default_middlewares)
    if not settings.validate_responses:
        # A layer that would only pass every answer through, at a cost on each request.
        middlewares.remove(ResponseValidationMiddleware)
    app = SpacegateApp(
        __name__,
        middlewares=middlewares,
        lifespan=lifespan,
        security_map={"bearer": _bearer_handler(TokenVerifier(settings))},
        validator_map=validator_map([url_rule(mode.policy), *mode.rules]),
        # Swagger UI on the document as written (add_spec_routes), not on Connexion's rewrite.
        swagger_ui_options=SwaggerUIOptions(
            swagger_ui=True, swagger_ui_path="/ui", serve_spec=False, spec_path=SPEC_JSON_PATH
        ),
    )
    app.add_api(
        spec_path(),
        resolver=Resolver(function_resolver=operations.__getitem__),
        validate_responses=settings.validate_responses,
    )

    async def healthz(_request: Request) -> Response:
        threads = pool.saturation()
        return JSONResponse(
            {
                "status": "ok",
                "mode": settings.mode,
                "version": __version__,
                # this worker process's load, for a load balancer to see
                "worker_threads": threads,
                "page_threads": {"size": page_threads.size, "busy": page_threads.busy},
                "saturated": threads["busy"] >= threads["size"],
                "requests_in_progress": in_flight.count,
            }
        )

    async def home(_request: Request) -> Response:
        return RedirectResponse("/ui/")

    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    app.add_url_rule("/", "home", home, methods=["GET"])
    add_spec_routes(app, spec_path())
    # First, so that a middleware of the mode's is outside the app's own (each one added at a
    # position goes inside those added there before it).
    mode.install(app)
    app.add_middleware(
        RequestContext, position=MiddlewarePosition.BEFORE_EXCEPTION, in_flight=in_flight
    )
    app.add_middleware(
        Cors, position=MiddlewarePosition.BEFORE_EXCEPTION, origins=mode.cors_origins
    )
    app.add_middleware(
        BodyGuard,
        position=MiddlewarePosition.BEFORE_VALIDATION,
        timeout_seconds=settings.client_timeout_seconds,
    )
    install_error_table(app)
    return app
