"""`POST /mock/token`: a token for a browser app or a test, without the command line.

    POST /mock/token  {"tenant": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "ttl": 3600}
    200 {"access_token": "eyJ...", "token_type": "Bearer", "expires_in": 3600,
         "tenant": "3fa85f64-..."}

The token is minted as `python -m service token` mints it (`service.minting`), so the mock
accepts it on the operation. Mock mode only: the live service has no such route. The body is
read within the operation's limits (413, 408, 415, 400) and its problems are 422 items in the
contract's vocabulary; a deployment that verifies with a public key or JWKS cannot mint, and
answers 403 `token_minting_unavailable`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from service import problems
from service.auth import is_canonical_uuid
from service.body_guard import MAX_BODY_BYTES, read_json_body
from service.errors import ApiError, RequestInvalid
from service.minting import DEFAULT_TTL_SECONDS, CannotMint, mint_token
from service.problems import Loc, Problem
from service.settings import Settings
from service.validation import parse_json_object

__all__ = [
    "MAX_TTL_SECONDS",
    "MIN_TTL_SECONDS",
    "TOKEN_PATH",
    "MintingUnavailable",
    "token_endpoint",
]

TOKEN_PATH = "/mock/token"  # noqa: S105 - a path, not a secret
MIN_TTL_SECONDS = 1
# A working day and then some: long enough for a browser tab, short enough to expire.
MAX_TTL_SECONDS = 86_400
_TENANT: Loc = ("body", "tenant")
_TTL: Loc = ("body", "ttl")


class MintingUnavailable(ApiError):
    status = 403
    code = "token_minting_unavailable"


def _tenant_problem(body: dict[str, Any]) -> Problem | None:
    if "tenant" not in body:
        return problems.missing(_TENANT)
    tenant = body["tenant"]
    if tenant is None:
        return problems.none_not_allowed(_TENANT)
    if not isinstance(tenant, str):
        return problems.not_a_string(_TENANT)
    if not is_canonical_uuid(tenant):
        return problems.not_a_uuid(_TENANT)
    return None


def _ttl_problem(body: dict[str, Any]) -> Problem | None:
    if "ttl" not in body:
        return None
    ttl = body["ttl"]
    if ttl is None:
        return problems.none_not_allowed(_TTL)
    # JSON's true is not a number of seconds, nor is 1.5 (pydantic v1 would truncate it).
    if isinstance(ttl, bool) or not isinstance(ttl, int):
        return problems.not_an_integer(_TTL)
    if ttl < MIN_TTL_SECONDS:
        return problems.number_too_small(_TTL, MIN_TTL_SECONDS)
    if ttl > MAX_TTL_SECONDS:
        return problems.number_too_large(_TTL, MAX_TTL_SECONDS)
    return None


def token_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """The route's function, minting with `settings`' key, claim name, issuer and audience."""

    async def mint(request: Request) -> Response:
        messages = await read_json_body(
            request.scope,
            request.receive,
            max_bytes=MAX_BODY_BYTES,
            timeout_seconds=settings.client_timeout_seconds,
        )
        body = parse_json_object(b"".join(m.get("body", b"") for m in messages))
        found = [p for p in (_tenant_problem(body), _ttl_problem(body)) if p is not None]
        if found:
            raise RequestInvalid(found)
        tenant: str = body["tenant"]
        ttl: int = body.get("ttl", DEFAULT_TTL_SECONDS)
        try:
            token = mint_token(settings, tenant, ttl=ttl, subject="spacegate-mock")
        except CannotMint as exc:
            raise MintingUnavailable(str(exc)) from None
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "tenant": tenant},
            # RFC 6749 5.1: a token answer is not to be cached
            headers={"Cache-Control": "no-store"},
        )

    return mint
