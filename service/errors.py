"""The answers of the contract other than 200, as exceptions.

    ApiError                    status, code, detail, headers
     ├─ InvalidToken            401 invalid_token          (WWW-Authenticate: Bearer …)
     ├─ TenantMismatch          403 tenant_mismatch
     ├─ RequestTimeout          408 request_timeout        (Connection: close)
     ├─ BodyTooLarge            413 body_too_large
     ├─ UnsupportedMediaType    415 unsupported_media_type
     ├─ InvalidJson             400 invalid_json
     ├─ CorsRefused             400 cors_refused
     ├─ NotFound                404 not_found
     ├─ MethodNotAllowed        405 method_not_allowed     (Allow: POST)
     ├─ RequestInvalid          422, detail = every Problem of the request
     └─ ClientGone              499 client_closed_request  (nobody reads it: for the access line)

Failures of Confluence itself are `service.confluence.errors.ConfluenceError`; the one error
table (`service.error_table`) turns both trees into responses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from service.problems import Problem

__all__ = [
    "ApiError",
    "BodyTooLarge",
    "ClientGone",
    "CorsRefused",
    "InvalidJson",
    "InvalidToken",
    "MethodNotAllowed",
    "NotFound",
    "RequestInvalid",
    "RequestTimeout",
    "TenantMismatch",
    "UnsupportedMediaType",
]


class ApiError(Exception):
    status: int = 500
    code: str | None = "internal_error"  # None: the answer carries no code (422)

    def __init__(self, detail: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})

    @property
    def answer_detail(self) -> str | list[Problem]:
        """The answer body's `detail`: a sentence, or a 422's items."""
        return self.detail


class InvalidToken(ApiError):
    status = 401
    code = "invalid_token"

    def __init__(self, detail: str, *, token_sent: bool = True) -> None:
        # RFC 6750 3.1: a request without credentials gets the challenge alone, no error code
        challenge = 'Bearer realm="spacegate"'
        if token_sent:
            challenge += f', error="invalid_token", error_description="{detail}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class TenantMismatch(ApiError):
    status = 403
    code = "tenant_mismatch"


class RequestTimeout(ApiError):
    status = 408
    code = "request_timeout"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Connection": "close"})


class BodyTooLarge(ApiError):
    status = 413
    code = "body_too_large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


class InvalidJson(ApiError):
    status = 400
    code = "invalid_json"


class CorsRefused(ApiError):
    status = 400
    code = "cors_refused"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"

    def __init__(self, detail: str, *, allow: str = "POST") -> None:
        super().__init__(detail, headers={"Allow": allow})


class RequestInvalid(ApiError):
    status = 422
    code = None

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the request")
        self.problems = list(problems)

    @property
    def answer_detail(self) -> list[Problem]:
        return self.problems


class ClientGone(ApiError):
    """The client closed its connection before its answer was ready (nginx's 499)."""

    status = 499
    code = "client_closed_request"
