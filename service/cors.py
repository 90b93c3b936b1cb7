"""CORS for browsers, with refusals in the contract's JSON shape."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from service.error_table import error_body
from service.errors import CorsRefused

__all__ = ["Cors"]

_EXPOSED = ["x-request-id", "x-spacegate-mode", "retry-after", "www-authenticate", "allow"]


class Cors(CORSMiddleware):
    """Starlette's CORS layer; its plain-text 400 for a refused preflight becomes JSON."""

    def __init__(self, app: ASGIApp, *, origins: Sequence[str]) -> None:
        super().__init__(
            app,
            allow_origins=list(origins),
            allow_methods=["POST"],
            allow_headers=["*"],
            expose_headers=_EXPOSED,
            max_age=600,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        said = bytes(response.body).decode(errors="replace")
        refusal = CorsRefused(f"CORS preflight refused: {said}")
        return Response(
            error_body(refusal.detail, refusal.code),
            status_code=refusal.status,
            media_type="application/json",
            # Starlette's own framing and text/plain type would override the JSON ones
            headers={
                k: v
                for k, v in response.headers.items()
                if k.lower() not in ("content-length", "content-type")
            },
        )
