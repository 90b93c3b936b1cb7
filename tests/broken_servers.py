"""Deliberately broken servers: our real app behind an ASGI middleware that breaks ONE rule.

Each `Breakage` rewrites the request on its way in or the answer on its way out, so the
service's own behaviour is kept everywhere else. `expected` names the rules (checks or probes)
the conformance harness must report as failed for it.

    with serve_broken(live_settings, ChallengeDropped) as server:
        run_conformance(Options(url=server.url, ...))
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import jwt

from service.settings import Settings
from tests.support.servers import serve
from tests.support.tokens import TENANT, mint

__all__ = ["BREAKAGES", "Breakage", "EveryHostRefused", "serve_broken"]

Scope = dict[str, Any]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            return None


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            return None

    @json.setter
    def json(self, value: Any) -> None:
        self.body = json.dumps(value).encode("utf-8")

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def drop_header(self, name: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]

    def set_header(self, name: str, value: str) -> None:
        self.drop_header(name)
        self.headers.append((name, value))


class Breakage:
    """Wraps the real ASGI app; subclasses override `request` and/or `answer`."""

    # The rules the harness must report failed.
    expected: ClassVar[tuple[str, ...]] = ()
    # The schemathesis phases a test run needs to see it; none: the probes alone catch it.
    phases: ClassVar[tuple[str, ...]] = ()

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, request: Request) -> None:
        """Change the request before the app sees it."""

    def answer(self, request: Request, answer: Answer) -> None:
        """Change the answer before the client sees it."""

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request = Request(scope["method"], scope["path"], headers, b"".join(chunks))
        self.request(request)
        if request.body != b"".join(chunks) and "transfer-encoding" not in request.headers:
            request.headers["content-length"] = str(len(request.body))
        encoded = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()]
        scope = {**scope, "headers": encoded}
        delivered = False

        async def replay() -> dict[str, Any]:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": request.body, "more_body": False}

        answer = Answer(0)

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                raw = message.get("headers", [])
                answer.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
            elif message["type"] == "http.response.body":
                answer.body += message.get("body", b"")

        await self.app(scope, replay, capture)
        self.answer(request, answer)
        if request.method != "HEAD":
            answer.set_header("content-length", str(len(answer.body)))
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers],
            }
        )
        await send({"type": "http.response.body", "body": answer.body})


def _claims(request: Request) -> dict[str, Any]:
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    try:
        return jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    except jwt.PyJWTError:
        return {}


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _valid_authorization() -> str:
    return f"Bearer {mint(TENANT)}"


# The breakages. Each docstring says which rule of docs/contract.md it breaks.


class ValidationAs400(Breakage):
    """Field and header problems answered 400 instead of 422."""

    expected = ("missing_field_is_422[api_token]", "non_uuid_tenant_is_422[not-a-uuid]")

    def answer(self, request: Request, answer: Answer) -> None:
        if answer.status == 422:
            answer.status = 400


class NoTokenAccepted(Breakage):
    """A request without a token is served as if it had one (a 200 without a token)."""

    expected = ("no_token_is_401", "ignored_auth")
    phases = ("examples",)

    def request(self, request: Request) -> None:
        if "authorization" not in request.headers:
            request.headers["authorization"] = _valid_authorization()


class ChallengeDropped(Breakage):
    """401 without `WWW-Authenticate`."""

    expected = ("unauthorized_has_bearer_challenge",)

    def answer(self, request: Request, answer: Answer) -> None:
        answer.drop_header("www-authenticate")


class DetailAsString(Breakage):
    """A 422 whose `detail` is a sentence instead of a list of items."""

    expected = ("validation_items_follow_vocabulary",)

    def answer(self, request: Request, answer: Answer) -> None:
        if answer.status == 422:
            answer.json = {"detail": "The request is invalid"}


class CamelCaseLoc(Breakage):
    """422 items whose `loc` names the field in camelCase (`apiToken`): a wrong loc."""

    expected = ("validation_items_follow_vocabulary", "missing_field_is_422[api_token]")

    def answer(self, request: Request, answer: Answer) -> None:
        body = answer.json
        if answer.status == 422 and isinstance(body, dict) and isinstance(body["detail"], list):
            for item in body["detail"]:
                head, *tail = item["loc"][1].split("_")
                item["loc"][1] = head + "".join(part.title() for part in tail)
            answer.json = body


class NonUuidTenantAccepted(Breakage):
    """A non-UUID x-tenantid accepted as the tenant."""

    expected = ("non_uuid_tenant_is_422[not-a-uuid]", "negative_data_rejection")
    phases = ("coverage",)

    def request(self, request: Request) -> None:
        tenant = request.headers.get("x-tenantid")
        if tenant is not None and not _UUID.match(tenant):
            request.headers["x-tenantid"] = TENANT


class SpaceStatusDropped(Breakage):
    """200 items without `status`."""

    expected = ("spaces_have_required_fields", "documented_response")

    def answer(self, request: Request, answer: Answer) -> None:
        body = answer.json
        if answer.status == 200 and isinstance(body, dict):
            for space in body.get("spaces", []):
                space.pop("status", None)
            answer.json = body


class UndocumentedStatus(Breakage):
    """406 Not Acceptable for a wrong content-type: a status openapi.yaml does not document."""

    expected = ("documented_response", "status_code_conformance")
    phases = ("coverage",)

    def answer(self, request: Request, answer: Answer) -> None:
        if answer.status == 415:
            answer.status = 406


class ApiTokenEchoed(Breakage):
    """Error answers that quote the request body back, api_token included."""

    expected = ("no_api_token_echoed", "api_token_not_echoed[validation-error]")

    def answer(self, request: Request, answer: Answer) -> None:
        body, sent = answer.json, request.json
        if answer.status >= 400 and isinstance(body, dict) and isinstance(sent, dict):
            body["body"] = sent
            answer.json = body


class AllowDropped(Breakage):
    """405 without `Allow`."""

    expected = ("method_not_allowed_has_allow",)

    def answer(self, request: Request, answer: Answer) -> None:
        answer.drop_header("allow")


class ThrottledWithoutRetryAfter(Breakage):
    """Every other 200 turned into a 429 without `Retry-After`."""

    expected = ("rate_limited_has_retry_after",)

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self._turn = itertools.count()
        self._lock = threading.Lock()

    def answer(self, request: Request, answer: Answer) -> None:
        with self._lock:
            throttle = answer.status == 200 and next(self._turn) % 2 == 1
        if throttle:
            answer.status = 429
            answer.json = {"detail": "Slow down", "code": "confluence_rate_limited"}


class MalformedJsonAs422(Breakage):
    """Malformed JSON answered with FastAPI's own 422 `value_error.jsondecode` (not a 400)."""

    expected = ("malformed_json_is_400[truncated]",)

    def answer(self, request: Request, answer: Answer) -> None:
        body = answer.json
        if answer.status == 400 and isinstance(body, dict) and body.get("code") == "invalid_json":
            answer.status = 422
            answer.json = {
                "detail": [
                    {"loc": ["body", 0], "msg": "Expecting value", "type": "value_error.jsondecode"}
                ]
            }


class WrongContentTypeAccepted(Breakage):
    """Any content-type (or none) read as JSON."""

    expected = ("wrong_content_type_is_415[text-plain]", "missing_content_type_is_415")

    def request(self, request: Request) -> None:
        if request.method == "POST":
            request.headers["content-type"] = "application/json"


class ErrorCodeDropped(Breakage):
    """Error bodies without `code`."""

    expected = ("error_body_has_detail_and_code",)

    def answer(self, request: Request, answer: Answer) -> None:
        body = answer.json
        if answer.status >= 400 and isinstance(body, dict) and "code" in body:
            del body["code"]
            answer.json = body


class ProblemJson(Breakage):
    """Errors as `application/problem+json` (Connexion's default), not `application/json`."""

    expected = ("answers_are_json",)

    def answer(self, request: Request, answer: Answer) -> None:
        if answer.status >= 400:
            answer.set_header("content-type", "application/problem+json")


class ExpiredTokenAccepted(Breakage):
    """A verifier that ignores `exp`."""

    expected = ("expired_token_is_401",)

    def request(self, request: Request) -> None:
        claims = _claims(request)
        if claims.get("exp", time.time()) < time.time():
            request.headers["authorization"] = f"Bearer {mint(claims.get('tenant_id'))}"


class TenantNotCompared(Breakage):
    """x-tenantid never compared with the token's tenant."""

    expected = ("tenant_mismatch_is_403", "other_tenant_token_is_403")

    def request(self, request: Request) -> None:
        claimed = _claims(request).get("tenant_id")
        if _UUID.match(request.headers.get("x-tenantid", "")) and isinstance(claimed, str):
            request.headers["x-tenantid"] = claimed


class UnknownFieldsRefused(Breakage):
    """Unknown body fields refused with a 422 (pydantic's `extra = forbid`)."""

    expected = ("unknown_fields_are_ignored", "validation_items_follow_vocabulary")

    _KNOWN = frozenset({"instance_url", "web_url_instance", "username", "api_token"})

    def answer(self, request: Request, answer: Answer) -> None:
        sent = request.json
        if request.method != "POST" or answer.status != 200 or not isinstance(sent, dict):
            return
        extra = sorted(set(sent) - self._KNOWN)
        if extra:
            extra_type = "value_error.extra"
            answer.status = 422
            answer.drop_header("x-spacegate-mode")
            answer.json = {
                "detail": [
                    {"loc": ["body", name], "msg": "extra fields not permitted", "type": extra_type}
                    for name in extra
                ]
            }


class ValidRequestsRefused(Breakage):
    """Valid requests refused with a 422 that is not a business one (`value_error.missing`)."""

    expected = ("contract_positive_data_acceptance", "valid_request_succeeds")
    phases = ("examples",)

    def answer(self, request: Request, answer: Answer) -> None:
        if answer.status == 200 and request.method == "POST":
            answer.status = 422
            answer.json = {
                "detail": [
                    {
                        "loc": ["body", "username"],
                        "msg": "field required",
                        "type": "value_error.missing",
                    }
                ]
            }


class EveryHostRefused(Breakage):
    """Not a broken server for generated requests: a deployment whose allow-list refuses every
    host answers valid requests with the business 422 `value_error.url.host`, which the contract
    allows (docs/contract.md#business-422s). Only the probes that insist on a 200 for the pinned
    body may fail."""

    expected = ("valid_request_succeeds",)
    # The spec has one example body: fuzzing adds valid requests for the exemption to judge.
    phases = ("examples", "fuzzing")

    def answer(self, request: Request, answer: Answer) -> None:
        if answer.status == 200 and request.method == "POST":
            answer.status = 422
            answer.json = {
                "detail": [
                    {
                        "loc": ["body", "instance_url"],
                        "msg": "no host is allowed here",
                        "type": "value_error.url.host",
                    }
                ]
            }


BREAKAGES: tuple[type[Breakage], ...] = (
    ValidationAs400,
    NoTokenAccepted,
    ChallengeDropped,
    DetailAsString,
    CamelCaseLoc,
    NonUuidTenantAccepted,
    SpaceStatusDropped,
    UndocumentedStatus,
    ApiTokenEchoed,
    AllowDropped,
    ThrottledWithoutRetryAfter,
    MalformedJsonAs422,
    WrongContentTypeAccepted,
    ErrorCodeDropped,
    ProblemJson,
    ExpiredTokenAccepted,
    TenantNotCompared,
    UnknownFieldsRefused,
    ValidRequestsRefused,
)


def serve_broken(settings: Settings, breakage: type[Breakage]) -> Any:
    """Serve our app behind `breakage` on an ephemeral 127.0.0.1 port until the block ends."""
    return serve(settings, wrap=breakage)
