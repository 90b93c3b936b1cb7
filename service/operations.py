"""Connexion's operations, called without the decoration it redoes on every request.

Connexion routes a request, checks its security and validates it, then its innermost app
looks the operation up by operationId and calls the handler through decorators it builds
anew for each request: the handler's signature inspected, the body read and parsed a second
time, every parameter of the spec looked up and converted, the answer inspected. The
operation has no path or query parameters, spacegate's body validator has already parsed
the body (`PARSED_BODY`), and the handler returns a Starlette response, so `SpacegateApp`
keeps Connexion's dispatch by operationId and calls the resolved handler with what
Connexion would pass it: the body under the spec's name for it, and the security context
(`token_info`) the handler asks for.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncApi
from connexion.operations import AbstractOperation
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from service.validation import PARSED_BODY, parse_json_object

__all__ = ["SpacegateApp"]

Handler = Callable[..., Awaitable[Response]]


class _Operation:
    """One operation: its handler, and the names of what it takes, read once."""

    def __init__(self, operation: AbstractOperation) -> None:
        self._handler: Handler = operation.function
        parameters = inspect.signature(self._handler).parameters
        self._body_name = operation.body_name("application/json")
        self._takes_body = self._body_name in parameters
        self._context_names = frozenset(parameters) - {self._body_name}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        context = scope.get("extensions", {}).get("connexion_context", {})
        kwargs = {name: value for name, value in context.items() if name in self._context_names}
        if self._takes_body:
            kwargs[self._body_name] = await _body(scope, receive)
        response = await self._handler(**kwargs)
        if not isinstance(response, Response):
            raise TypeError(f"{self._handler.__name__} must return a Starlette response")
        await response(scope, receive, send)


async def _body(scope: Scope, receive: Receive) -> Any:
    parsed = scope.get(PARSED_BODY)
    if parsed is not None:
        return parsed
    # Not validated by spacegate's body validator (an app built without it): read it here.
    chunks = []
    more_body = True
    while more_body:
        message = await receive()
        chunks.append(message.get("body", b""))
        more_body = message.get("more_body", False)
    return parse_json_object(b"".join(chunks))


class _Api(AsyncApi):
    def make_operation(self, operation: AbstractOperation) -> Any:
        return _Operation(operation)


class SpacegateApp(AsyncApp):
    """Connexion's AsyncApp; its operations call their handlers as `_Operation` does."""

    def __init__(self, import_name: str, **options: Any) -> None:
        super().__init__(import_name, **options)
        # The wrapped app builds one API per add_api when the stack is first built, from
        # this class: Connexion's routing, security and validation in front stay as they are.
        self._middleware_app.api_cls = _Api
