"""The HTTP server behind `python -m service serve`, and the limits it holds for every client.

spacegate is served by granian (HTTP/1.1 in Rust, hyper underneath) because it holds, before
the application sees anything, every limit that keeps one slow or greedy client from hurting
the others (README, "Operating it", says why not uvicorn):

- a request head (request line and headers) over `SPACEGATE_MAX_HEADER_BYTES` is answered 431
  and the connection closed, having buffered no more than that; more than 100 headers: 431;
- a head not complete within `SPACEGATE_CLIENT_TIMEOUT_SECONDS` of the connection opening (or
  of the previous answer on a kept-alive connection) closes the connection, however slowly
  its bytes arrive; a body gets the same time from `service.body_guard` (408);
- each worker process holds at most `SPACEGATE_MAX_CONNECTIONS` connections: further ones wait
  in the kernel's accept queue, so they cost no file descriptor of ours.

HTTP/2 is off: TLS and h2 belong to the reverse proxy in front, and h2's own header limits
are looser than the ones above.

Two habits of granian 2.8 that `make_granian_app` makes up for (tests/test_server_limits.py
holds both):

- it hands every request the same `scope["extensions"]` dict, where Connexion keeps each
  request's routing and security context: two requests at once would read each other's
  (another tenant's token claims included). Each request gets a copy of its own.
- it closes a connection whose request body the application did not read (a 401 or 413
  answered before the body), often without saying so: a client reusing the connection then
  loses its next request. Such answers get `Connection: close`.
"""

from __future__ import annotations

from typing import Any

from granian import Granian
from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels
from granian.server import MPServer, MTServer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.asgi import make_app
from service.settings import Settings

__all__ = ["MAX_HEADERS", "granian_server", "make_granian_app"]

# hyper's fixed bound on the number of request headers (431 beyond it); granian has no setting.
MAX_HEADERS = 100

# granian's own log lines go through the root logger, where service.logs puts its JSON formatter.
_LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": True},
    },
}


def make_granian_app() -> ASGIApp:
    """`service.asgi.make_app()` with the two corrections above."""
    app = make_app()

    async def corrected(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        scope["extensions"] = dict(scope.get("extensions") or {})
        unread = _has_body(scope["headers"])
        if not unread:
            await app(scope, receive, send)
            return

        async def reading() -> Message:
            nonlocal unread
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                unread = False
            return message

        async def sending(message: Message) -> None:
            if unread and message["type"] == "http.response.start":
                headers = [(n, v) for n, v in message.get("headers", ()) if n != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await app(scope, reading, sending)

    return corrected


def _has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


def granian_server(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    factory: str = "service.server:make_granian_app",
) -> MPServer | MTServer:
    """The server for `make_granian_app` (or another app `factory`, "module:function"; the
    benchmarks serve variants of the app this way), with the client limits of `settings`."""
    return Granian(
        factory,
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        http=HTTPModes.http1,
        websockets=False,
        backpressure=settings.max_connections,
        http1_settings=HTTP1Settings(
            header_read_timeout=round(settings.client_timeout_seconds * 1000),
            max_buffer_size=settings.max_header_bytes,
        ),
        log_level=LogLevels(settings.log_level.lower()),
        log_dictconfig=_LOG_CONFIG,
        log_access=False,  # spacegate writes its own access line, with the request id
    )
