"""Connexion's AsyncApp, its per-request repetitions done once.

Connexion routes a request, checks its security and validates it, then calls the handler.
Several of its layers redo on every request what depends only on the operation:

- the innermost app builds the handler's decorators anew for each request (its signature
  inspected, the body read and parsed a second time, every parameter of the spec looked up
  and converted, the answer inspected). The operation has no path or query parameters,
  spacegate's body validator has already parsed the body (`PARSED_BODY`) and the handler
  returns a Starlette response: `_Operation` calls the handler with what Connexion would pass
  it, the body under the spec's name for it and the security context (`token_info`) it asks
  for, read once;
- request validation builds its parameter validator, a URI parser twice, the media types the
  operation consumes and its body validator for every request: `_Validation` builds them once
  (spacegate's validators keep no state between requests), and runs them as Connexion does;
- Swagger UI's middleware matches every request against its routes with Starlette's router:
  `_UiOnly` lets a request whose path is none of its routes' go straight on (a request with
  a root_path still goes through the router, which reads the path without it).

One correction: a route the app adds beside the spec (`/healthz`, `/mock/…`) asked with a
method it does not serve is the contract's 405 with `Allow` (`_WrongMethod`), not the 404
that Connexion's root mount of the API would answer.

Routing, security, the validators themselves and the order of the layers are Connexion's.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import UnsupportedMediaTypeProblem
from connexion.middleware import ConnexionMiddleware
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.operations import AbstractOperation
from connexion.spec import Specification
from connexion.utils import is_nullable
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from service.validation import PARSED_BODY

__all__ = ["SpacegateApp"]

Handler = Callable[..., Awaitable[Response]]
# Body validators kept per media type; a request can name any media type its validators match.
_MAX_MEDIA_TYPES = 16


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
            kwargs[self._body_name] = scope[PARSED_BODY]  # parsed by spacegate's validator
        response = await self._handler(**kwargs)
        if not isinstance(response, Response):
            raise TypeError(f"{self._handler.__name__} must return a Starlette response")
        await response(scope, receive, send)


class _Api(AsyncApi):
    def make_operation(self, operation: AbstractOperation) -> Any:
        return _Operation(operation)


class _WrongMethod(Route):
    """The 405 of a path the app serves by `add_url_rule`, for every method it does not serve.

    Connexion mounts the API's router at the root after the app's own routes, and Starlette
    prefers a full match to a route that matched the path but not the method, so without
    this route `POST /healthz` would be the mount's 404 "No such path".
    """

    def __init__(self, path: str, allowed: set[str]) -> None:
        async def refuse(_request: Request) -> Response:
            raise HTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})

        super().__init__(path, refuse)
        self.methods = None  # Starlette's Route would otherwise serve GET alone: it takes any


class _ASGIApp(AsyncASGIApp):
    api_cls = _Api

    def __init__(self) -> None:
        super().__init__()
        self._allowed: dict[str, set[str]] = {}

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        methods: list[str] | None = None,
        **options: Any,
    ) -> None:
        # connexion 3.3 annotates `methods` as a list, but passes None on to Starlette as GET.
        super().add_url_rule(rule, endpoint, view_func, methods, **options)  # type: ignore[arg-type]
        routes = self.router.routes
        added = routes.pop()
        # Every route that serves a method stands before every _WrongMethod, so that one only
        # answers the methods no route of its path serves.
        first = next((i for i, r in enumerate(routes) if isinstance(r, _WrongMethod)), len(routes))
        routes.insert(first, added)
        new = rule not in self._allowed
        allowed = self._allowed.setdefault(rule, set())
        allowed.update(getattr(added, "methods", None) or ())
        if new:
            routes.append(_WrongMethod(rule, allowed))


class _Validation(RequestValidationOperation):
    """Connexion's request validation, with what depends only on the operation built once."""

    def __init__(self, next_app: ASGIApp, *, operation: AbstractOperation, **options: Any) -> None:
        super().__init__(next_app, operation=operation, **options)
        # Connexion's URI parsers keep only the definitions they are built from.
        parser_cls: Any = operation.uri_parser_class
        self._uri_parser = parser_cls(operation.parameters, operation.body_definition())
        parameter_validator: Any = self._validator_map["parameter"]
        self._parameters = parameter_validator(
            operation.parameters,
            uri_parser=self._uri_parser,
            strict_validation=self.strict_validation,
            security_query_params=self.security_query_params,
        )
        consumes = operation.consumes
        self._consumes = MediaTypeDict([(c.lower(), None) for c in consumes]) if consumes else None
        self._bodies: dict[str, Any] = {}

    def validate_mime_type(self, mime_type: str) -> None:
        if self._consumes is not None and mime_type.lower() not in self._consumes:
            raise UnsupportedMediaTypeProblem(
                detail=f"Invalid Content-type ({mime_type}), "
                f"expected {self._operation.consumes}"
            )

    def _body_validator(self, mime_type: str) -> Any:
        """The body validator for `mime_type`, or None when the operation has none for it.

        spacegate's body validator reads the body as UTF-8 JSON whatever charset is named
        (RFC 8259), so one validator per media type serves every request of that type.
        """
        if mime_type in self._bodies:
            return self._bodies[mime_type]
        operation = self._operation
        validator = None
        schema = operation.body_schema(mime_type)
        body_validators: Any = self._validator_map["body"]
        validator_cls = body_validators.get(mime_type) if schema else None
        if validator_cls is not None:
            validator = validator_cls(
                schema=schema,
                required=operation.request_body.get("required", False),
                nullable=bool(is_nullable(operation.body_definition(mime_type))),
                encoding="utf-8",
                strict_validation=self.strict_validation,
                uri_parser=self._uri_parser,
            )
        if len(self._bodies) < _MAX_MEDIA_TYPES:
            self._bodies[mime_type] = validator
        return validator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._parameters.validate(scope)
        mime_type, _encoding = self.extract_content_type(scope["headers"])
        self.validate_mime_type(mime_type)
        validator = self._body_validator(mime_type)
        if validator is not None:
            receive, scope = await validator.wrap_receive(receive, scope=scope)
        await self.next_app(scope, receive, send)


class _ValidationApi(RequestValidationAPI):
    def make_operation(self, operation: AbstractOperation) -> Any:
        return _Validation(
            self.next_app,
            operation=operation,
            strict_validation=self.strict_validation,
            validator_map=self.validator_map,
        )


class _ValidationMiddleware(RequestValidationMiddleware):
    api_cls = _ValidationApi


class _UiOnly(SwaggerUIMiddleware):
    """Connexion's Swagger UI middleware; a request for none of its paths goes straight on."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self._prefixes: list[str] = []
        self._every_path = False

    def add_api(
        self,
        specification: Specification,
        base_path: str | None = None,
        arguments: dict[Any, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().add_api(specification, base_path=base_path, arguments=arguments, **kwargs)
        self._prefixes.clear()
        for mount in self.router.routes:  # one Mount of the API's routes per add_api
            paths = []
            if isinstance(mount, Mount):
                paths = [mount.path + getattr(route, "path", "{") for route in mount.routes]
            if not paths or any("{" in path or not path for path in paths):
                self._every_path = True  # routes this gate cannot read: route every request
            self._prefixes += [path.rstrip("/") for path in paths]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Behind a root_path, Starlette's router reads the path without it: leave that to it.
        if scope["type"] == "http" and not self._every_path and not scope.get("root_path"):
            path = scope["path"]
            if not any(path == p or path.startswith(p + "/") for p in self._prefixes):
                await self.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


# Connexion's layers and those standing in for them. The stack is assembled from the list
# only when first called, so the positions of MiddlewarePosition (Connexion's classes) work.
_STAND_INS: dict[Any, Any] = {
    SwaggerUIMiddleware: _UiOnly,
    RequestValidationMiddleware: _ValidationMiddleware,
}


class _Middleware(ConnexionMiddleware):
    def _build_middleware_stack(self) -> tuple[ASGIApp, Iterable[ASGIApp]]:
        self.middlewares = [_STAND_INS.get(m, m) for m in self.middlewares]
        return super()._build_middleware_stack()


class SpacegateApp(AsyncApp):
    """Connexion's AsyncApp, with the stand-ins above for its repeated per-request work."""

    def __init__(self, import_name: str, **options: Any) -> None:
        # AsyncApp's own construction (connexion 3.3), with the classes above.
        self._middleware_app = _ASGIApp()
        self.middleware = _Middleware(self._middleware_app, import_name=import_name, **options)
