"""Bearer tokens for a run: the valid one, and the bad ones the probes need.

The valid token comes from `SPACEGATE_CONFORMANCE_TOKEN`, or is minted (HS256) from
`SPACEGATE_JWT_SECRET`; never from the command line, where process lists and CI logs would show
it. With the secret the harness can also mint expired, foreign-tenant and claim-less tokens; a
token signed with another key, an unsigned one and garbage need no secret.

Every token derived from the secret or from the valid token is a secret of its own: each has a
placeholder under which reports print it (see `Tokens.placeholders`).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

__all__ = [
    "API_TOKEN_PLACEHOLDER",
    "KINDS",
    "SECRET_VARIABLE",
    "TOKEN_PLACEHOLDER",
    "TOKEN_VARIABLE",
    "CredentialsMissing",
    "Recipe",
    "Tokens",
]

# Names of variables, not secrets (hence the noqa for the password heuristics).
TOKEN_VARIABLE = "SPACEGATE_CONFORMANCE_TOKEN"  # noqa: S105
SECRET_VARIABLE = "SPACEGATE_JWT_SECRET"  # noqa: S105
TOKEN_PLACEHOLDER = TOKEN_VARIABLE
API_TOKEN_PLACEHOLDER = "SPACEGATE_CONFORMANCE_API_TOKEN"  # noqa: S105

# Long enough that a valid token minted at the start outlives any run.
_VALID_TTL_SECONDS = 3600
# Well past the 30 s clock leeway docs/design.md#auth gives verifiers.
_EXPIRED_SECONDS_AGO = 3600
_SUBJECT = "spacegate-conformance"

# The kinds of token a run makes, and `python -m conformance.mint` makes again: from the
# secret, but `tampered` (the valid token with a forged signature).
KINDS: tuple[str, ...] = (
    "valid",
    "expired",
    "no-exp",
    "no-tenant-claim",
    "wrong-issuer",
    "wrong-audience",
    "tampered",
)


class CredentialsMissing(ValueError):
    """Neither a token nor a secret to mint one was given."""


@dataclass(frozen=True)
class Recipe:
    """How a token was made: `python -m conformance.mint KIND --tenant TENANT` makes another."""

    kind: str
    tenant: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class Tokens:
    tenant: str
    valid: str
    secret: str | None = None
    issuer: str | None = None
    audience: str | None = None
    tenant_claim: str = "tenant_id"
    # token -> placeholder name, for every token a report must not print
    placeholders: dict[str, str] = field(default_factory=dict)
    # placeholder name -> how to mint that token again (tokens minted from the secret)
    recipes: dict[str, Recipe] = field(default_factory=dict)

    @classmethod
    def from_environment(
        cls,
        tenant: str,
        *,
        environ: Mapping[str, str] | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        tenant_claim: str = "tenant_id",
    ) -> Tokens:
        environ = os.environ if environ is None else environ
        given = environ.get(TOKEN_VARIABLE) or None
        secret = environ.get(SECRET_VARIABLE) or None
        if given is None and secret is None:
            raise CredentialsMissing(
                f"set {TOKEN_VARIABLE} (a bearer token for --tenant) or {SECRET_VARIABLE} "
                "(the HS256 secret to mint one); secrets are never taken from the command line"
            )
        tokens = cls(
            tenant=tenant,
            valid=given or "",
            secret=secret,
            issuer=issuer,
            audience=audience,
            tenant_claim=tenant_claim,
        )
        if given is None:
            tokens.valid = tokens.mint()
            tokens.recipes[TOKEN_PLACEHOLDER] = Recipe("valid", tenant)
        tokens.placeholders[tokens.valid] = TOKEN_PLACEHOLDER
        return tokens

    @property
    def can_mint(self) -> bool:
        return self.secret is not None

    def _claims(self, *, tenant: str | None, ttl: int, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {"sub": _SUBJECT, "iat": now, "exp": now + ttl}
        if tenant is not None:
            claims[self.tenant_claim] = tenant
        if self.issuer:
            claims["iss"] = self.issuer
        if self.audience:
            claims["aud"] = self.audience
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    @staticmethod
    def _sign(claims: dict[str, Any], key: str) -> str:
        with warnings.catch_warnings():
            # PyJWT warns about HS256 keys under 32 bytes; the target chose its key, not us.
            warnings.simplefilter("ignore")
            return jwt.encode(claims, key, algorithm="HS256")

    def _require_secret(self, what: str = "this token") -> str:
        if self.secret is None:
            raise CredentialsMissing(f"minting {what} needs {SECRET_VARIABLE}")
        return self.secret

    def mint(self, *, tenant: str | None = "", ttl: int = _VALID_TTL_SECONDS, **claims: Any) -> str:
        """A token signed with the secret; `tenant=""`: the run's tenant, None: no tenant claim."""
        claims = self._claims(tenant=self.tenant if tenant == "" else tenant, ttl=ttl, **claims)
        return self._sign(claims, self._require_secret())

    # The bad tokens. Those signed with the secret are as sensitive as the valid one: each is
    # printed under a variable, and `recipes` says how `python -m conformance.mint` makes it
    # again for a person replaying a request.

    def make(self, kind: str, tenant: str | None = None) -> str:
        """A token of `kind` (one of KINDS) whose tenant claim is `tenant` (the run's: None)."""
        claim = self.tenant if tenant is None else tenant
        if kind != "tampered":
            self._require_secret(f"the {kind} token")
        match kind:
            case "valid":
                return self.mint(tenant=claim)
            case "expired":
                return self.mint(tenant=claim, ttl=-_EXPIRED_SECONDS_AGO)
            case "no-exp":
                return self.mint(tenant=claim, exp=None)
            case "no-tenant-claim":
                return self.mint(tenant=None)
            case "wrong-issuer":
                return self.mint(tenant=claim, iss=f"{self.issuer or ''}-not-the-issuer")
            case "wrong-audience":
                return self.mint(tenant=claim, aud=f"{self.audience or ''}-not-the-audience")
            case "tampered":
                return self._tampered()
        raise ValueError(f"unknown kind of token {kind!r}; choose from {', '.join(KINDS)}")

    def _made(self, variable: str, kind: str, tenant: str | None = None) -> str:
        token = self.make(kind, tenant)
        self.placeholders[token] = variable
        self.recipes[variable] = Recipe(kind, self.tenant if tenant is None else tenant)
        return token

    def expired(self) -> str:
        return self._made("SPACEGATE_CONFORMANCE_EXPIRED_TOKEN", "expired")

    def without_expiry(self) -> str:
        return self._made("SPACEGATE_CONFORMANCE_NO_EXP_TOKEN", "no-exp")

    def for_tenant(self, tenant: str) -> str:
        return self._made("SPACEGATE_CONFORMANCE_OTHER_TENANT_TOKEN", "valid", tenant)

    def with_tenant_claim(self, value: str, label: str) -> str:
        """A valid token whose tenant claim is `value`; `label` names its variable."""
        variable = f"SPACEGATE_CONFORMANCE_TENANT_CLAIM_{label.upper().replace('-', '_')}_TOKEN"
        return self._made(variable, "valid", value)

    def without_tenant_claim(self) -> str:
        return self._made("SPACEGATE_CONFORMANCE_NO_TENANT_TOKEN", "no-tenant-claim")

    def wrong_issuer(self) -> str:
        return self._made("SPACEGATE_CONFORMANCE_WRONG_ISSUER_TOKEN", "wrong-issuer")

    def wrong_audience(self) -> str:
        return self._made("SPACEGATE_CONFORMANCE_WRONG_AUDIENCE_TOKEN", "wrong-audience")

    def signed_with_another_key(self) -> str:
        """The run's claims signed with a random key: no secret needed, nothing to hide."""
        claims = self._claims(tenant=self.tenant, ttl=_VALID_TTL_SECONDS)
        return self._sign(claims, secrets.token_urlsafe(48))

    def with_tampered_signature(self) -> str:
        """The valid token with its signature replaced by random bytes of the same length."""
        return self._made("SPACEGATE_CONFORMANCE_TAMPERED_TOKEN", "tampered")

    def _tampered(self) -> str:
        parts = self.valid.split(".")
        if len(parts) != 3:
            raise CredentialsMissing(f"{TOKEN_VARIABLE} is not a JWS compact token")
        padded = parts[2] + "=" * (-len(parts[2]) % 4)
        length = len(base64.urlsafe_b64decode(padded)) if parts[2] else 32
        # Header and payload are the valid token's: printed under a variable too.
        return ".".join([parts[0], parts[1], _b64(secrets.token_bytes(length))])

    def unsigned(self) -> str:
        """`alg: none` with the run's claims: a verifier must never accept it."""
        header = _b64(b'{"alg":"none","typ":"JWT"}')
        claims = self._claims(tenant=self.tenant, ttl=_VALID_TTL_SECONDS)
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
        return f"{header}.{payload}."
