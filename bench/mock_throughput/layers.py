"""Mock mode with its layers taken away one by one, served exactly as `serve` serves it.

    python -m bench.mock_throughput.layers VARIANT --port P

Issue 11 asks, where a target cannot be met, which layer stands in the way. A profile says
where samples fall; this says what each layer costs by removing it, under the same load, in
the same run as Prism (`python -m bench.mock_throughput --layers`). The variants are
cumulative, each the one before with one more layer gone:

- `at-once`: listSpaces answers the `default` scenario's bytes at once: no handler, no
  Confluence client, no cassette adapter (auth, validation, every middleware still run);
- `no-mock-layers`: also without mock mode's scenario picker and journal recorder (and its
  Swagger UI layer, which lets API requests through);
- `connexion-only`: also without spacegate's own middlewares (request id and the access
  line, CORS, the body guard): Connexion routing, securing and validating, nothing else;
- `granian-only`: granian with `serve`'s settings around an ASGI app that answers the same
  bytes to any request.

Each variant is built by replacing, in this benchmark's own process only, the piece it
removes: nothing here is a mode of the service. The answer is the same bytes as mock mode's,
so the client of each variant reads the same.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, NamedTuple

from connexion import AsyncApp
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.mock_throughput.servers import SPACEGATE_BODY
from service.json_text import dumps_compact_bytes


class Variant(NamedTuple):
    label: str  # its row in the tables
    removed: str  # what it takes away from the one before (mock mode, before the first)


VARIANTS = {
    "at-once": Variant(
        "layers: listing at once",
        "listSpaces: the handler, the Confluence client, the cassette adapter",
    ),
    "no-mock-layers": Variant(
        "layers: no mock layers",
        "mock mode's scenario picker, journal recorder and Swagger UI layer",
    ),
    "connexion-only": Variant(
        "layers: Connexion only",
        "spacegate's middlewares: request id and access line, CORS, body guard",
    ),
    "granian-only": Variant(
        "layers: granian only",
        "Connexion: routing, bearer check, validation, its other middlewares",
    ),
}
_VARIANT_ENV = "BENCH_LAYERS_VARIANT"
_MOCK_LAYERS = {"ScenarioPicker", "Recorder", "MockSwaggerUI"}
_OWN_LAYERS = {"RequestContext", "Cors", "BodyGuard"}


def layer_key(variant: str) -> str:
    """The variant's key among the benchmark's servers (and in its JSON)."""
    return "layers_" + variant.replace("-", "_")


def _without_middlewares(names: set[str]) -> None:
    added = AsyncApp.add_middleware

    def add_middleware(app: AsyncApp, middleware_class: Any, **options: Any) -> None:
        if middleware_class.__name__ not in names:
            added(app, middleware_class, **options)

    AsyncApp.add_middleware = add_middleware  # type: ignore[method-assign]


def app() -> ASGIApp:
    """granian's factory: the variant named in the environment."""
    variant = os.environ[_VARIANT_ENV]
    answer = dumps_compact_bytes(SPACEGATE_BODY)
    if variant == "granian-only":

        async def constant(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                return
            while (await receive()).get("more_body"):
                pass
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": answer})

        return constant
    from service.handler import SpaceListing
    from service.server import make_granian_app

    # The names Connexion passes by (the handler's own): `body`, `token_info`.
    async def at_once(_listing: SpaceListing, body: Any, token_info: Any) -> Response:
        return Response(answer, media_type="application/json")

    SpaceListing.list_spaces = at_once  # type: ignore[method-assign,assignment]
    if variant in ("no-mock-layers", "connexion-only"):
        _without_middlewares(_MOCK_LAYERS | (_OWN_LAYERS if variant == "connexion-only" else set()))
    return make_granian_app()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mock_throughput.layers")
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    os.environ[_VARIANT_ENV] = args.variant
    os.environ.setdefault("SPACEGATE_MODE", "mock")
    from service.server import granian_server
    from service.settings import Settings

    settings = Settings.from_env()
    server = granian_server(
        settings,
        host=args.host,
        port=args.port,
        workers=1,
        factory="bench.mock_throughput.layers:app",
    )
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
