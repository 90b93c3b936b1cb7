"""The smallest honest Connexion 3 app for spacegate's contract: the yardstick of issue 3.

    python -m bench.minimal_connexion [--host 127.0.0.1] [--port 8090]

Same `openapi.yaml`, Connexion's *default* request validation (no custom validator map, no
middlewares of our own, no error table), the same bearer check (PyJWT, HS256, `exp` required,
the `tenant_id` claim compared with `x-tenantid`), and an `async def` handler that answers the
seed's three spaces from memory. One uvicorn worker, uvloop and httptools when installed, no
access log: what spacegate's mock mode costs beyond this is ours.

The HS256 secret is `SPACEGATE_JWT_SECRET`, or spacegate's published development secret, so a
token from `python -m service token` works against both.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import jwt
import uvicorn
import yaml
from connexion import AsyncApp, request
from connexion.exceptions import Forbidden
from connexion.resolver import Resolver

SPEC = Path(__file__).resolve().parents[2] / "openapi.yaml"
DEV_SECRET = "spacegate-development-secret-not-for-production"  # published; mock mode's default
SECRET = os.environ.get("SPACEGATE_JWT_SECRET") or DEV_SECRET
TENANT_CLAIM = "tenant_id"

SEED_SPACES = {
    "spaces": [
        {"key": "KB", "name": "Knowledge Base", "type": "global", "status": "current"},
        {"key": "IT", "name": "IT Documentation", "type": "global", "status": "current"},
        {"key": "HR", "name": "HR Policies", "type": "global", "status": "current"},
    ]
}


def verify_token(token: str) -> dict[str, Any] | None:
    """Connexion's bearer function: the claims, or None for a 401."""
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.PyJWTError:
        return None
    return claims if TENANT_CLAIM in claims else None


async def list_spaces(body: dict[str, Any], token_info: dict[str, Any]) -> dict[str, Any]:
    if token_info.get(TENANT_CLAIM, "").lower() != request.headers["x-tenantid"].lower():
        raise Forbidden(detail="The token's tenant does not match x-tenantid")
    return SEED_SPACES


def create_app() -> AsyncApp:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    # The contract names no bearer function (spacegate binds its own); this one is ours.
    spec["components"]["securitySchemes"]["bearerAuth"]["x-bearerInfoFunc"] = (
        f"{__name__}.verify_token"
    )
    app = AsyncApp(__name__)
    app.add_api(spec, resolver=Resolver(function_resolver=lambda _operation_id: list_spaces))
    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.minimal_connexion")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    uvicorn.run(
        f"{__name__}:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=1,
        log_level="warning",
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
