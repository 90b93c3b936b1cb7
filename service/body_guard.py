"""413 and 415, after the token check and before validation (docs/contract.md#order-of-checks);
408 for a body that does not arrive in time.

Connexion treats a missing content-type as JSON and would read a body of any size; this
middleware reads at most `max_bytes` and refuses the rest without buffering it. A client
dribbling its body gets `timeout_seconds` (SPACEGATE_CLIENT_TIMEOUT_SECONDS) from the moment
this middleware starts reading it, then a 408 and a closed connection (the server bounds the
head itself: service/server.py).
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import BodyTooLarge, ClientGone, RequestTimeout, UnsupportedMediaType

__all__ = ["MAX_BODY_BYTES", "BodyGuard", "read_json_body"]

MAX_BODY_BYTES = 64 * 1024
_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class BodyGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        timeout_seconds: float,
        max_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_operation_with_body(scope):
            await self.app(scope, receive, send)
            return
        messages = await read_json_body(
            scope, receive, max_bytes=self.max_bytes, timeout_seconds=self.timeout_seconds
        )
        if Headers(scope=scope).get("content-type") != "application/json":
            # Connexion matches media types case-sensitively and hands the handler raw bytes
            # for "Application/JSON"; the body is UTF-8 JSON whatever the parameters say
            # (RFC 8259), so the header is made plain.
            scope = dict(scope)
            scope["headers"] = [
                (name, b"application/json") if name == b"content-type" else (name, value)
                for name, value in scope["headers"]
            ]

        replay = iter(messages)

        async def replayed() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)


async def read_json_body(
    scope: Scope, receive: Receive, *, max_bytes: int, timeout_seconds: float
) -> list[Message]:
    """The body's messages, read whole within the limits: 413, then 408, then 415.

    Also for routes outside the operation that take a JSON body (mock mode's /mock/token).
    """
    headers = Headers(scope=scope)
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    messages: list[Message] = []
    try:
        # asyncio's own timeout: the servers spacegate runs under are asyncio's, and anyio's
        # cancel scope cost ~15 us a request where this costs ~2 (issue 11's profile).
        async with asyncio.timeout(timeout_seconds):
            await _read(receive, messages, max_bytes)
    except TimeoutError:
        raise RequestTimeout(
            f"The request body did not arrive within {timeout_seconds:g} seconds"
        ) from None
    _check_media_type(headers.get("content-type"))
    return messages


async def _read(receive: Receive, messages: list[Message], max_bytes: int) -> None:
    size = 0
    more_body = True
    while more_body:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone("the client closed the connection while sending its body")
        messages.append(message)
        size += len(message.get("body", b""))
        if size > max_bytes:
            raise _too_large(max_bytes)
        more_body = message.get("more_body", False)


def _too_large(max_bytes: int) -> BodyTooLarge:
    return BodyTooLarge(f"The request body is larger than {max_bytes} bytes")


def _is_operation_with_body(scope: Scope) -> bool:
    # Unknown paths and other methods go on to routing's 404 and 405 untouched.
    routed = scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id")
    return scope["type"] == "http" and scope["method"] in _METHODS_WITH_BODY and bool(routed)


def _check_media_type(content_type: str | None) -> None:
    if content_type is None:
        raise UnsupportedMediaType("content-type is missing; send application/json")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        shown = media_type[:80] or "empty"
        raise UnsupportedMediaType(f"content-type must be application/json, not {shown}")
