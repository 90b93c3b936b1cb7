"""The contract as written, served at /openapi.yaml and /openapi.json for tools and Swagger UI.

Connexion would serve its own rewrite of the document (every `$ref` inlined, the components
unused, `servers` emptied), from which generated clients get anonymous types. These routes
serve `openapi.yaml` itself: the file's bytes, and the same document as JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from connexion import AsyncApp
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["SPEC_JSON_PATH", "add_spec_routes"]

SPEC_PATH = "/openapi"  # served as .yaml and .json
SPEC_JSON_PATH = SPEC_PATH + ".json"


def add_spec_routes(app: AsyncApp, spec: Path, *, at: str = SPEC_PATH) -> None:
    """Serve `spec` at `{at}.yaml` as written and at `{at}.json` as JSON (mock mode serves its
    own API's document this way too)."""
    written = spec.read_bytes()
    as_json = json.dumps(yaml.safe_load(written), ensure_ascii=False, indent=2).encode()

    async def spec_yaml(_request: Request) -> Response:
        return Response(written, media_type="application/yaml")

    async def spec_json(_request: Request) -> Response:
        return Response(as_json, media_type="application/json")

    app.add_url_rule(f"{at}.yaml", f"{at}_yaml", spec_yaml, methods=["GET"])
    app.add_url_rule(f"{at}.json", f"{at}_json", spec_json, methods=["GET"])
