"""The one error table: every exception that can end a request, and the answer it becomes.

    exception                          answer
    ApiError (service/errors.py)       its own status, `code` and headers; a 422 its items
    ConfluenceError                    UPSTREAM: one row per failure
    Connexion's and Starlette's own    FRAMEWORK: one row per status the contract answers;
      problems (HTTPException)           any other status is unforeseen, so the 500
    anything else                      500 `internal_error`, logged with its traceback

Every answer's `code` is one of docs/contract.md#error-table; nothing here invents another.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from service import json_text, problems
from service.confluence import errors as upstream
from service.errors import (
    ApiError,
    InvalidToken,
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
)
from service.problems import Loc, Problem

__all__ = [
    "FRAMEWORK",
    "INTERNAL_ERROR_BODY",
    "UPSTREAM",
    "Row",
    "error_body",
    "install_error_table",
    "status_of",
]

logger = logging.getLogger("spacegate.errors")

E = TypeVar("E", bound=upstream.ConfluenceError)

_INSTANCE_URL: Loc = ("body", "instance_url")


def _no_headers(_exc: upstream.ConfluenceError) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Row(Generic[E]):
    """How one Confluence failure is answered.

    `status`; then either `code` (the answer's `detail` is the failure's sentence) or, for a
    422, `item`, which builds the one 422 item on instance_url from that sentence; `headers`.
    """

    status: int
    code: str | None = None
    item: Callable[[Loc, str], Problem] | None = None
    headers: Callable[[E], dict[str, str]] = _no_headers

    def detail(self, exc: E) -> str | list[Problem]:
        return exc.detail if self.item is None else [self.item(_INSTANCE_URL, exc.detail)]


def _retry_after(exc: upstream.RateLimited) -> dict[str, str]:
    return {"Retry-After": str(exc.retry_after)}


UPSTREAM: Mapping[type[upstream.ConfluenceError], Row[Any]] = {
    upstream.CredentialsRejected: Row(403, "confluence_credentials_rejected"),
    upstream.RootNotFound: Row(422, item=problems.confluence_not_found),
    upstream.AddressRefused: Row(422, item=problems.url_host_refused),
    upstream.RateLimited: Row(429, "confluence_rate_limited", headers=_retry_after),
    upstream.BadGateway: Row(502, "confluence_bad_gateway"),
    upstream.UpstreamTimeout: Row(504, "confluence_timeout"),
}


def _token_refused(request: ConnexionRequest, _exc: HTTPException) -> ApiError:
    # Connexion refuses a missing or non-bearer Authorization before our verifier runs.
    sent = bool(request.headers.get("authorization"))
    detail = "Bearer token is malformed" if sent else "Bearer token is missing"
    return InvalidToken(detail, token_sent=sent)


def _no_such_path(request: ConnexionRequest, _exc: HTTPException) -> ApiError:
    return NotFound(f"No such path: {request.url.path[:200]}")


def _method_not_allowed(request: ConnexionRequest, exc: HTTPException) -> ApiError:
    allow = (exc.headers or {}).get("Allow", "POST")
    detail = f"Method {request.method} is not allowed on this path; use {allow}"
    return MethodNotAllowed(detail, allow=allow)


def _media_type_refused(_request: ConnexionRequest, _exc: HTTPException) -> ApiError:
    return UnsupportedMediaType("content-type must be application/json")


# Connexion's and Starlette's problems, by status: routing (404, 405), security (401), and the
# media type (415; BodyGuard refuses first, so Connexion's check agrees or never runs).
# Connexion's 400s come from the validators spacegate replaces, its 403 from OAuth scopes this
# contract does not use, its 5xx from bugs: none is foreseen, so each is the 500.
FRAMEWORK: Mapping[int, Callable[[ConnexionRequest, HTTPException], ApiError]] = {
    401: _token_refused,
    404: _no_such_path,
    405: _method_not_allowed,
    415: _media_type_refused,
}


def _upstream_row(exc: upstream.ConfluenceError) -> Row[Any] | None:
    return next((UPSTREAM[kind] for kind in type(exc).__mro__ if kind in UPSTREAM), None)


def status_of(exc: upstream.ConfluenceError) -> int:
    """The status a Confluence failure becomes (the record command stores it)."""
    row = _upstream_row(exc)
    return 500 if row is None else row.status


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


def _internal_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    logger.error("unexpected error", exc_info=exc)
    return _response(500, "Internal server error", "internal_error")


def _api_error(_request: ConnexionRequest, exc: ApiError) -> ConnexionResponse:
    return _response(exc.status, exc.answer_detail, exc.code, exc.headers)


def _confluence_error(
    request: ConnexionRequest, exc: upstream.ConfluenceError
) -> ConnexionResponse:
    row = _upstream_row(exc)
    if row is None:  # a failure someone added to the client and not to UPSTREAM
        return _internal_error(request, exc)
    logger.warning("Confluence request failed: %s (%s)", type(exc).__name__, exc.detail)
    return _response(row.status, row.detail(exc), row.code, row.headers(exc))


def _framework_problem(request: ConnexionRequest, exc: HTTPException) -> ConnexionResponse:
    translate = FRAMEWORK.get(exc.status_code)
    if translate is None:
        return _internal_error(request, exc)
    return _api_error(request, translate(request, exc))


# By the most specific class in an exception's MRO, as Starlette looks its handlers up.
_ANSWERS: Mapping[type[Exception], Callable[[ConnexionRequest, Any], ConnexionResponse]] = {
    ApiError: _api_error,
    upstream.ConfluenceError: _confluence_error,
    HTTPException: _framework_problem,  # Connexion's ProblemException is one
    Exception: _internal_error,
}


# A coroutine: Connexion runs a plain function in a worker thread.
async def _answer(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    answer = next(_ANSWERS[kind] for kind in type(exc).__mro__ if kind in _ANSWERS)
    return answer(request, exc)


def install_error_table(app: AsyncApp) -> None:
    # ProblemException by name too: Connexion registers a handler of its own for it.
    for kind in (*_ANSWERS, ProblemException):
        app.add_error_handler(kind, _answer)
