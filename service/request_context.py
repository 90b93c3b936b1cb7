"""The app's outermost middleware: request id, arrival time, one access line per request,
`x-request-id` on every answer, and the count of requests in progress that /healthz reports.

It is also the last line of the error table: an exception that gets past it (an error
handler that fails, a middleware outside it) is answered here with the contract's JSON 500,
request id included, instead of reaching the server's plain-text one.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from contextvars import ContextVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.error_table import INTERNAL_ERROR_BODY
from service.logs import remember_secrets, request_id_var

__all__ = ["InFlight", "RequestContext", "request_arrival"]

access_log = logging.getLogger("spacegate.access")
error_log = logging.getLogger("spacegate.errors")

# An id from the caller is echoed only if it cannot forge log lines or headers.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")

# When the current request reached the application (time.monotonic()): its deadline for
# Confluence counts from here, so time spent waiting for a worker thread is part of it.
request_arrival: ContextVar[float] = ContextVar("request_arrival")


class InFlight:
    """How many requests this worker process is answering right now."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class RequestContext:
    def __init__(
        self,
        app: ASGIApp,
        *,
        in_flight: InFlight | None = None,
    ) -> None:
        self.app = app
        self.in_flight = in_flight if in_flight is not None else InFlight()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        remember_secrets(*(v.partition(" ")[2].strip() for v in headers.getlist("authorization")))
        offered = headers.get("x-request-id", "")
        request_id = offered if _SAFE_REQUEST_ID.fullmatch(offered) else secrets.token_hex(16)
        token = request_id_var.set(request_id)
        started = time.monotonic()
        arrival = request_arrival.set(started)
        self.in_flight.count += 1
        status = 500
        answered = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status = message["status"]
                answered = True
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            error_log.error("unexpected error outside the error table", exc_info=exc)
            if not answered:
                await _internal_error(send_with_headers)
            # Once an answer has started nothing else can be sent; returning lets the server
            # end the connection without a plain-text error of its own.
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    },
                )
            self.in_flight.count -= 1
            request_arrival.reset(arrival)
            request_id_var.reset(token)


async def _internal_error(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(INTERNAL_ERROR_BODY)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": INTERNAL_ERROR_BODY})
