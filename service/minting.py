"""Minting a token the service itself accepts: `python -m service token` and `POST /mock/token`.

    mint_token(settings, tenant, ttl=3600) -> "eyJ..."

Only a deployment that verifies with an HS secret can mint (the development secret in mock
mode, unless SPACEGATE_JWT_SECRET says otherwise); one that verifies with a public key or a
JWKS has no private key here, and `CannotMint` says so.
"""

from __future__ import annotations

import time

import jwt

from service.settings import Settings

__all__ = ["DEFAULT_TTL_SECONDS", "CannotMint", "mint_token"]

DEFAULT_TTL_SECONDS = 3600


class CannotMint(ValueError):
    """This deployment verifies tokens with a key it cannot sign with."""


def mint_token(
    settings: Settings,
    tenant: str,
    *,
    ttl: int = DEFAULT_TTL_SECONDS,
    subject: str = "spacegate-cli",
) -> str:
    """A JWT for `tenant` (a canonical UUID, checked by the caller) valid for `ttl` seconds,
    with the issuer and audience the settings check."""
    if settings.jwt_key_source != "secret" or settings.jwt_secret is None:
        raise CannotMint(
            "tokens are minted with an HS256 secret (SPACEGATE_JWT_SECRET, or the development "
            "secret in mock mode); this deployment verifies with a public key or JWKS, so ask "
            "its identity provider for a token"
        )
    now = int(time.time())
    claims: dict[str, object] = {
        settings.tenant_claim: tenant,
        "sub": subject,
        "iat": now,
        "exp": now + ttl,
    }
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithms[0])
