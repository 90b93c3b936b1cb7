"""Minting tokens the way an identity provider would, good and bad."""

from __future__ import annotations

import time
from typing import Any

import jwt

TEST_SECRET = "test-secret-for-spacegate-tests-0123456789-long-enough-for-hs512!"
TENANT = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
OTHER_TENANT = "9b2e6c1a-0d4f-4e8b-a7c3-5f1e2d3c4b5a"


def mint(
    tenant: str | None = TENANT,
    *,
    secret: str = TEST_SECRET,
    algorithm: str = "HS256",
    ttl: int = 600,
    claim: str = "tenant_id",
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {"sub": "tests", "iat": now, "exp": now + ttl, **claims}
    if tenant is not None:
        payload[claim] = tenant
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, secret, algorithm=algorithm, headers=headers)


def auth_headers(
    token: str | None = None, tenant: str = TENANT, *, secret: str = TEST_SECRET
) -> dict[str, str]:
    """The headers of a valid request: `token`, or one minted for `tenant` with `secret`."""
    return {
        "Authorization": f"Bearer {token if token is not None else mint(tenant, secret=secret)}",
        "x-tenantid": tenant,
        "content-type": "application/json",
        "accept": "application/json",
    }
