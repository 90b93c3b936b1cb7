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

SPEC_JSON_PATH = "/openapi.json"
SPEC_YAML_PATH = "/openapi.yaml"


def add_spec_routes(app: AsyncApp, spec: Path) -> None:
    """Serve `spec` at SPEC_YAML_PATH as written and at SPEC_JSON_PATH as JSON."""
    written = spec.read_bytes()
    as_json = json.dumps(yaml.safe_load(written), ensure_ascii=False, indent=2).encode()

    async def spec_yaml(_request: Request) -> Response:
        return Response(written, media_type="application/yaml")

    async def spec_json(_request: Request) -> Response:
        return Response(as_json, media_type="application/json")

    app.add_url_rule(SPEC_YAML_PATH, "openapi_yaml", spec_yaml, methods=["GET"])
    app.add_url_rule(SPEC_JSON_PATH, "openapi_json", spec_json, methods=["GET"])
