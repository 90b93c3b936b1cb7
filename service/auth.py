"""Bearer JWT verification and the tenant check.

`TokenVerifier.verify` runs on the event loop (Connexion calls the bearer function there), so
it never blocks: an HS/RS/ES key is local, and a JWKS document is fetched in a worker thread,
cached, and refreshed at most once per `JWKS_MIN_REFRESH_SECONDS` for an unknown `kid`.
A token verified once is remembered for up to a minute (`VerifiedTokens`): a signature check
costs more than the rest of a mock answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

import anyio.to_thread
import jwt
from cryptography.hazmat.primitives import serialization

from service.errors import InvalidToken, TenantMismatch
from service.settings import ConfigError, Settings

__all__ = [
    "JwksKeys",
    "TokenVerifier",
    "VerifiedTokens",
    "authorization_header",
    "check_tenant",
    "is_canonical_uuid",
]

logger = logging.getLogger("spacegate.auth")

JWKS_TTL_SECONDS = 300.0
VERIFIED_TTL_SECONDS = 60.0
VERIFIED_CACHE_SIZE = 4096
JWKS_MIN_REFRESH_SECONDS = 30.0

_CANONICAL_UUID = re.compile(
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
)

# PyJWT's own messages are fine, but ours are stable and never quote the token.
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "Token has expired"),
    (jwt.ImmatureSignatureError, "Token is not valid yet"),
    (jwt.InvalidSignatureError, "Token signature is invalid"),
    (jwt.InvalidIssuerError, "Token issuer is not accepted"),
    (jwt.InvalidAudienceError, "Token audience is not accepted"),
    (jwt.InvalidAlgorithmError, "Token algorithm is not accepted"),
    (jwt.DecodeError, "Token is malformed"),
)


class _Headers(Protocol):
    def getlist(self, key: str) -> list[str]: ...


def authorization_header(headers: _Headers) -> str | None:
    """The one Authorization value, None if absent; InvalidToken (401) if sent twice.

    RFC 9110 gives a request one set of credentials: with two, a proxy and spacegate could
    each judge a different token, so neither is used.
    """
    values = headers.getlist("authorization")
    if len(values) > 1:
        raise InvalidToken("Authorization header sent more than once; send one bearer token")
    return values[0] if values else None


def is_canonical_uuid(value: str) -> bool:
    # uuid.UUID also takes braces, urn:uuid: and bare hex; the contract takes only 8-4-4-4-12.
    return _CANONICAL_UUID.fullmatch(value) is not None


class JwksKeys:
    """Signing keys from a JWKS URL, fetched off the event loop and cached."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, cache_keys=False, timeout=timeout)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -float("inf")
        self._attempted_at = -float("inf")
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str | None) -> jwt.PyJWK | None:
        if self._needs_refresh(kid):
            async with self._lock:
                if self._needs_refresh(kid):  # another request may have refreshed meanwhile
                    await anyio.to_thread.run_sync(self._refresh)
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid) if kid is not None else None

    def _needs_refresh(self, kid: str | None) -> bool:
        now = time.monotonic()
        # At most one fetch per interval, whatever the tokens ask: random kids must not turn
        # spacegate into a load generator against the identity provider.
        if now - self._attempted_at < JWKS_MIN_REFRESH_SECONDS:
            return False
        return now - self._fetched_at > JWKS_TTL_SECONDS or kid not in self._keys

    def _refresh(self) -> None:
        self._attempted_at = time.monotonic()
        try:
            jwk_set = self._client.get_jwk_set(refresh=True)
        except jwt.PyJWKClientError as exc:
            # Fail closed: keys fetched earlier stay usable until their TTL; none means 401.
            logger.error("JWKS could not be fetched: %s", type(exc).__name__)
            if time.monotonic() - self._fetched_at > JWKS_TTL_SECONDS:
                self._keys = {}
            return
        self._keys = {key.key_id or "": key for key in jwk_set.keys}
        self._fetched_at = self._attempted_at


class VerifiedTokens:
    """Tokens verified moments ago, so that a client's next requests skip the signature check.

    Keyed by the whole token, signature included: only a token that passed verification can
    hit. An entry lasts until the token's `exp` (plus leeway) or `VERIFIED_TTL_SECONDS`,
    whichever is sooner, so a key withdrawn from a JWKS stops being honoured within that
    time; the cache is bounded, oldest entries leaving first.
    """

    def __init__(self, *, size: int = VERIFIED_CACHE_SIZE) -> None:
        self._size = size
        self._entries: dict[str, tuple[dict[str, Any], float]] = {}

    def get(self, token: str) -> dict[str, Any] | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        if time.time() > entry[1]:
            self._entries.pop(token, None)
            return None
        return entry[0]

    def put(self, token: str, claims: dict[str, Any], *, expires: float) -> None:
        if len(self._entries) >= self._size:
            self._entries.pop(next(iter(self._entries)), None)
        self._entries[token] = (claims, min(expires, time.time() + VERIFIED_TTL_SECONDS))


class TokenVerifier:
    """Verifies a bearer token: signature, allowed algorithm, `exp`, issuer, audience."""

    def __init__(self, settings: Settings) -> None:
        self._algorithms = list(settings.jwt_algorithms)
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._leeway = settings.jwt_leeway_seconds
        self._tenant_claim = settings.tenant_claim
        self._verified = VerifiedTokens()
        self._static_key: Any = None
        self._jwks: JwksKeys | None = None
        if settings.jwks_url:
            self._jwks = JwksKeys(settings.jwks_url)
        elif settings.jwt_public_key:
            # Parsed once here, not by PyJWT on every token.
            try:
                self._static_key = serialization.load_pem_public_key(
                    settings.jwt_public_key.encode()
                )
            except ValueError:
                raise ConfigError(
                    "SPACEGATE_JWT_PUBLIC_KEY", "is not a PEM public key cryptography can load"
                ) from None
        else:
            self._static_key = (settings.jwt_secret or "").encode()

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or InvalidToken with a reason the caller may see."""
        claims = self._verified.get(token)
        if claims is None:
            claims = await self._verify(token)
            self._verified.put(token, claims, expires=float(claims["exp"]) + self._leeway)
        return dict(claims)

    async def _verify(self, token: str) -> dict[str, Any]:
        key = self._static_key
        if self._jwks is not None:
            # Only a JWKS needs the header first, for its kid; jwt.decode checks `alg`
            # against the allow-list whatever the key.
            try:
                header = jwt.get_unverified_header(token)
            except jwt.PyJWTError:
                raise InvalidToken("Token is malformed") from None
            if header.get("alg") not in self._algorithms:
                raise InvalidToken("Token algorithm is not accepted")
            jwk = await self._jwks.key_for(header.get("kid"))
            if jwk is None:
                raise InvalidToken("Token signing key is unknown")
            key = jwk
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": ["exp"], "verify_aud": self._audience is not None},
            )
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"Token lacks the {exc.claim} claim") from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(_reason(exc)) from None
        if self._tenant_claim not in claims:
            raise InvalidToken(f"Token lacks the {self._tenant_claim} claim")
        return claims


def _reason(exc: jwt.PyJWTError) -> str:
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return "Token is invalid"


def check_tenant(claims: Mapping[str, Any], claim: str, tenant_header: str) -> None:
    """403 unless the token's tenant claim is the same UUID as `x-tenantid` (case ignored)."""
    value = claims.get(claim)
    if (
        not isinstance(value, str)
        or not is_canonical_uuid(value)
        or uuid.UUID(value) != uuid.UUID(tenant_header)
    ):
        raise TenantMismatch(f"The token's {claim} does not match x-tenantid")
