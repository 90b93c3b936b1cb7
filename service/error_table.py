"""The one error table: every exception that can end a request, and the answer it becomes.

Our own `ApiError`s carry their status and code; Confluence's failures are mapped here;
Connexion's and Starlette's own problems (routing, a token Connexion refuses before our
verifier sees it) are translated to the contract's shape; anything else is a 500 that
reveals nothing and is logged with its traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from connexion import AsyncApp
from connexion.exceptions import OAuthProblem, ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from service import json_text, problems
from service.confluence import errors as upstream
from service.errors import ApiError, InvalidToken, MethodNotAllowed, NotFound, RequestInvalid

__all__ = ["INTERNAL_ERROR_BODY", "error_body", "install_error_table", "status_of"]

logger = logging.getLogger("spacegate.errors")

# Confluence's failures: (status, code); a code of None means a 422 item on instance_url.
_UPSTREAM: dict[type[upstream.ConfluenceError], tuple[int, str | None]] = {
    upstream.CredentialsRejected: (403, "confluence_credentials_rejected"),
    upstream.RootNotFound: (422, None),
    upstream.AddressRefused: (422, None),
    upstream.RateLimited: (429, "confluence_rate_limited"),
    upstream.BadGateway: (502, "confluence_bad_gateway"),
    upstream.UpstreamTimeout: (504, "confluence_timeout"),
}
_INSTANCE_URL = ("body", "instance_url")


def _upstream_entry(exc: upstream.ConfluenceError) -> tuple[int, str | None]:
    return next(entry for kind, entry in _UPSTREAM.items() if isinstance(exc, kind))


def status_of(exc: upstream.ConfluenceError) -> int:
    """The status a Confluence failure becomes (the record command stores it)."""
    return _upstream_entry(exc)[0]


def error_body(detail: object, code: str | None = None) -> bytes:
    content: dict[str, object] = {"detail": detail}
    if code is not None:
        content["code"] = code
    return json_text.dumps(content).encode()


INTERNAL_ERROR_BODY = error_body("Internal server error", "internal_error")


def _response(
    status: int, detail: object, code: str | None, headers: Mapping[str, str] | None = None
) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        mimetype="application/json",
        content_type="application/json",
        body=error_body(detail, code),
        headers=dict(headers or {}),
    )


def _api_response(exc: ApiError) -> ConnexionResponse:
    detail = exc.problems if isinstance(exc, RequestInvalid) else exc.detail
    return _response(exc.status, detail, exc.code, exc.headers)


# Handlers are coroutines: Connexion runs plain functions in a worker thread.
async def api_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, ApiError)
    return _api_response(exc)


async def confluence_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, upstream.ConfluenceError)
    status, code = _upstream_entry(exc)
    logger.warning("Confluence request failed: %s (%s)", type(exc).__name__, exc.detail)
    if isinstance(exc, upstream.RootNotFound):
        return _response(422, [problems.confluence_not_found(_INSTANCE_URL, exc.detail)], None)
    if isinstance(exc, upstream.AddressRefused):
        return _response(422, [problems.url_host_refused(_INSTANCE_URL, exc.detail)], None)
    headers = {}
    if isinstance(exc, upstream.RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    return _response(status, exc.detail, code, headers)


async def connexion_problem(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, HTTPException)
    if isinstance(exc, OAuthProblem):
        # Connexion refuses a missing or non-bearer Authorization before our verifier runs.
        sent = bool(request.headers.get("authorization"))
        detail = "Bearer token is malformed" if sent else "Bearer token is missing"
        return _api_response(InvalidToken(detail, token_sent=sent))
    if exc.status_code == 404:
        return _api_response(NotFound(f"No such path: {request.url.path[:200]}"))
    if exc.status_code == 405:
        allow = (exc.headers or {}).get("Allow", "POST")
        return _api_response(
            MethodNotAllowed(
                f"Method {request.method} is not allowed on this path; use {allow}", allow=allow
            )
        )
    if exc.status_code >= 500:
        return _internal_error(exc)
    # Other client problems Connexion may raise are reported in the same shape.
    logger.info("request refused by the framework: %s", exc.status_code)
    title = getattr(exc, "title", None) or "Bad request"
    return _response(exc.status_code, str(title), "bad_request", exc.headers)


def _internal_error(exc: BaseException) -> ConnexionResponse:
    logger.error("unexpected error", exc_info=exc)
    return ConnexionResponse(
        status_code=500,
        mimetype="application/json",
        content_type="application/json",
        body=INTERNAL_ERROR_BODY,
    )


async def internal_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    return _internal_error(exc)


def install_error_table(app: AsyncApp) -> None:
    app.add_error_handler(ApiError, api_error)
    app.add_error_handler(upstream.ConfluenceError, confluence_error)
    app.add_error_handler(ProblemException, connexion_problem)
    app.add_error_handler(HTTPException, connexion_problem)
    app.add_error_handler(Exception, internal_error)
