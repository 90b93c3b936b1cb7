"""The mock's own API beside the product's: the journal, rewinding sequences, and its document.

- `GET /mock/requests[?request_id=…]`: the journal (`mocks/journal.py`), oldest first;
- `DELETE /mock/requests`: empties it;
- `POST /mock/reset`: every sequence back to its first step; nothing else is touched;
- `GET /mock/openapi.yaml`, `/mock/openapi.json`: `mocks/mock-api.yaml`, the OpenAPI document
  of every `/mock/*` route, which Swagger UI offers beside the contract. `openapi.yaml` stays
  the product's contract alone, so a conformance run never probes the mock's routes.

None of these exists in live mode.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anyio.to_thread
from connexion import AsyncApp
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mocks.journal import Journal
from mocks.state import MockState
from service.served_spec import add_spec_routes

__all__ = ["MOCK_API_JSON_PATH", "MOCK_API_SPEC", "add_mock_api"]

MOCK_API_SPEC = Path(__file__).with_name("mock-api.yaml")
_AT = "/mock/openapi"
MOCK_API_JSON_PATH = _AT + ".json"  # what the mock's Swagger UI offers beside the contract


def add_mock_api(
    app: AsyncApp, journal: Journal, state: MockState, sequences: Callable[[], list[str]]
) -> None:
    """The routes above on `app`, over the state the workers share; `sequences()` names the
    sequences served now."""

    async def list_requests(request: Request) -> Response:
        # Reading waits for every worker to write what it holds: off the event loop.
        entries = await anyio.to_thread.run_sync(
            journal.read, request.query_params.get("request_id")
        )
        # The entries are stored as JSON texts: joined, not decoded and encoded again.
        return Response(
            '{"requests": [' + ", ".join(entries) + "]}", media_type="application/json"
        )

    async def empty_requests(_request: Request) -> Response:
        return JSONResponse({"deleted": await anyio.to_thread.run_sync(journal.empty)})

    async def reset(_request: Request) -> Response:
        played = state.rewind()
        names = sorted({*sequences(), *played})
        return JSONResponse(
            {
                "detail": "Every sequence starts again from its first step; the journal and "
                "everything else are kept.",
                "rewound": [{"name": name, "played": played.get(name, 0)} for name in names],
            }
        )

    app.add_url_rule("/mock/requests", "mock_requests", list_requests, methods=["GET"])
    app.add_url_rule("/mock/requests", "mock_requests_empty", empty_requests, methods=["DELETE"])
    app.add_url_rule("/mock/reset", "mock_reset", reset, methods=["POST"])
    add_spec_routes(app, MOCK_API_SPEC, at=_AT)
