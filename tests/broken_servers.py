"""Deliberately broken servers: our real app behind an ASGI middleware that breaks ONE rule.

Each `Breakage` rewrites the request on its way in or the answer on its way out, so the
service's own behaviour is kept everywhere else. `expected` names the rules (checks or probes)
the conformance harness must report as failed for it; `mode` says whether it wraps the live
service (against the Confluence stand-in, the run pinning the stand-in's body) or the mock
(the spec's example body, as a run without --body-file sends it).

    with serve_broken(live_settings, ChallengeDropped) as server:
        run_conformance(Options(url=server.url, ...))
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import jwt

from service.settings import Settings
from tests.support.servers import serve
from tests.support.tokens import TENANT, mint

__all__ = ["BREAKAGES", "Breakage", "EveryHostRefused", "serve_broken"]

Scope = dict[str, Any]


@dataclass
class Request:
    """`headers` holds one value per name (the last); `lines` every header line, repeats kept.

    A breakage changes one or the other: when `headers` changed, the app gets it, else `lines`.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    lines: list[tuple[str, str]] = field(default_factory=list)

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
    # What it wraps: "live" (the stand-in's body pinned) or "mock" (the spec's example body).
    mode: ClassVar[str] = "live"

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
        lines = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        headers = dict(lines)
        request = Request(scope["method"], scope["path"], dict(headers), b"".join(chunks), lines)
        self.request(request)
        sent = list(request.headers.items()) if request.headers != headers else request.lines
        if request.body != b"".join(chunks) and "transfer-encoding" not in request.headers:
            sent = [(k, v) for k, v in sent if k != "content-length"]
            sent.append(("content-length", str(len(request.body))))
        encoded = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in sent]
        scope = {**scope, "headers": encoded}
        delivered = False

        async def replay() -> dict[str, Any]:
            nonlocal delivered
            if delivered:
                # Only the server knows when the client goes: the next message is its to give.
                return await receive()
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


def _refuse_listing(request: Request, answer: Answer, field: str, msg: str, type_: str) -> None:
    """Turn a listing into a 422 with one item on `field`."""
    if answer.status == 200 and request.method == "POST":
        answer.status = 422
        answer.json = {"detail": [{"loc": ["body", field], "msg": msg, "type": type_}]}


class ValidRequestsRefused(Breakage):
    """Valid requests refused with a 422 that is not a business one (`value_error.missing`)."""

    expected = ("contract_positive_data_acceptance", "valid_request_succeeds")
    phases = ("examples",)

    def answer(self, request: Request, answer: Answer) -> None:
        _refuse_listing(request, answer, "username", "field required", "value_error.missing")


class EveryHostRefused(Breakage):
    """Not a broken server for generated requests: a deployment whose allow-list refuses every
    host answers valid requests with the business 422 `value_error.url.host`, which the contract
    allows (docs/contract.md#business-422s). Only the probes that insist on a 200 for the pinned
    body may fail, and the run's verdict that no valid request succeeded."""

    expected = ("valid_requests_succeed", "valid_request_succeeds")
    # The spec has one example body: fuzzing adds valid requests for the exemption to judge.
    phases = ("examples", "fuzzing")

    def answer(self, request: Request, answer: Answer) -> None:
        _refuse_listing(
            request, answer, "instance_url", "no host is allowed here", "value_error.url.host"
        )


# The 200 path, whatever the body


class EveryValidRequestRefused(Breakage):
    """Every listing answered with the business 422 the contract allows for a wrong root: each
    answer is allowed, each success probe does not apply to the example body, and yet nothing
    valid ever succeeds (docs/contract.md#what-conformance-checks)."""

    expected = ("valid_requests_succeed",)
    phases = ("examples",)
    mode = "mock"

    def answer(self, request: Request, answer: Answer) -> None:
        _refuse_listing(
            request,
            answer,
            "instance_url",
            "Confluence answered 404 Not Found at this root",
            "value_error.confluence_not_found",
        )


class SpaceStatusPassedThrough(Breakage):
    """A space status Confluence wrote in capitals (`CURRENT`) forwarded as is, not as a word."""

    expected = ("space_type_and_status_are_words", "documented_response")

    def answer(self, request: Request, answer: Answer) -> None:
        body = answer.json
        if answer.status == 200 and isinstance(body, dict) and body.get("spaces"):
            body["spaces"][0]["status"] = body["spaces"][0]["status"].upper()
            answer.json = body


class NoAcceptRefused(Breakage):
    """A request without `Accept` refused with a 406, as content negotiation would."""

    expected = ("no_accept_gets_json",)

    def answer(self, request: Request, answer: Answer) -> None:
        if request.method == "POST" and "accept" not in request.headers:
            answer.status = 406
            answer.json = {"detail": "Say what you accept", "code": "not_acceptable"}


# Auth and the tenant


class TokenWithoutExpAccepted(Breakage):
    """A token without `exp` accepted, as if it never expired."""

    expected = ("token_without_exp_is_401",)

    def request(self, request: Request) -> None:
        claims = _claims(request)
        if claims and "exp" not in claims:
            request.headers["authorization"] = f"Bearer {mint(claims.get('tenant_id'))}"


class NonUuidTenantClaimIs401(Breakage):
    """A token whose tenant claim is not a UUID refused as an invalid token (401), not 403."""

    expected = ("non_uuid_tenant_claim_is_403[not-a-uuid]",)

    def answer(self, request: Request, answer: Answer) -> None:
        claimed = _claims(request).get("tenant_id")
        if answer.status == 403 and isinstance(claimed, str) and not _UUID.match(claimed):
            answer.status = 401
            answer.set_header("www-authenticate", 'Bearer error="invalid_token"')
            answer.json = {"detail": "The tenant claim is not a UUID", "code": "invalid_token"}


def _first_of_each(lines: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    """`lines` with only the first `name` line kept: a server reading the first copy."""
    first = next((line for line in lines if line[0] == name), None)
    return [line for line in lines if line[0] != name or line is first]


class DuplicateAuthorizationFirstWins(Breakage):
    """Authorization sent twice read as its first copy."""

    expected = ("duplicate_authorization_is_401",)

    def request(self, request: Request) -> None:
        request.lines = _first_of_each(request.lines, "authorization")


class DuplicateTenantFirstWins(Breakage):
    """x-tenantid sent twice read as its first copy."""

    expected = ("duplicate_tenant_is_422",)

    def request(self, request: Request) -> None:
        request.lines = _first_of_each(request.lines, "x-tenantid")


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(item) for item in value.values())
    return isinstance(value, list) and any(_has_lone_surrogate(item) for item in value)


class LoneSurrogateCrashes(Breakage):
    """A lone surrogate in a field ends in a 500, as a naive UTF-8 encode would."""

    expected = ("lone_surrogate_is_422[username]",)

    def answer(self, request: Request, answer: Answer) -> None:
        if request.method == "POST" and _has_lone_surrogate(request.json):
            answer.status = 500
            answer.json = {"detail": "Internal server error", "code": "internal_error"}


# The URL rules (mock mode: any host is served, so a rule not enforced shows as a 200)

_SERVED_HOST = "acme.atlassian.net"


def _rewrite_body(request: Request, **fields: str) -> None:
    body = request.json
    if isinstance(body, dict):
        body.update(fields)
        request.body = json.dumps(body).encode("utf-8")


def _url_field(request: Request, name: str) -> str | None:
    body = request.json
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


class PlainHttpAccepted(Breakage):
    """An `http://` instance_url served although plain http is not allowed (the default)."""

    expected = ("plain_http_instance_url_is_422",)
    mode = "mock"

    def request(self, request: Request) -> None:
        url = _url_field(request, "instance_url")
        if url is not None and url.lower().startswith("http://"):
            _rewrite_body(request, instance_url="https://" + url[len("http://") :])


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _is_literal_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        # Forms a resolver reads as an address: 127.1, 0x7f000001.
        return bool(re.fullmatch(r"(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}", host))
    return True


class LiteralAddressesServed(Breakage):
    """Loopback, private and metadata addresses in instance_url served like any host."""

    expected = (
        "literal_address_instance_url_is_422[loopback]",
        "literal_address_instance_url_is_422[metadata]",
        "literal_address_instance_url_is_422[loopback-hex]",
        "url_problems_come_with_the_others",
        "checks_run_in_contract_order[422-url-before-403]",
    )
    mode = "mock"

    def request(self, request: Request) -> None:
        url = _url_field(request, "instance_url")
        host = _host(url) if url is not None else None
        if url is not None and host and _is_literal_address(host):
            _rewrite_body(request, instance_url=f"https://{_SERVED_HOST}{urlsplit(url).path}")


class UnreadableHostsGuessed(Breakage):
    """A URL whose host is missing or unparseable (`https://[`) guessed into the served host."""

    expected = (
        "unreadable_host_is_422[instance_url-open-bracket]",
        "unreadable_host_is_422[web_url_instance-port-only]",
    )
    mode = "mock"

    def request(self, request: Request) -> None:
        for name, path in (("instance_url", "/wiki/rest/api"), ("web_url_instance", "/wiki")):
            url = _url_field(request, name)
            if url is not None and url.lower().startswith("https://") and not _host(url):
                _rewrite_body(request, **{name: f"https://{_SERVED_HOST}{path}"})


class WebUrlSchemeNotChecked(Breakage):
    """A web_url_instance that is not http(s) (`javascript:`) taken as the served site's."""

    expected = ("non_http_scheme_is_422[web_url_instance-javascript]",)
    mode = "mock"

    def request(self, request: Request) -> None:
        url = _url_field(request, "web_url_instance")
        if url is not None and not url.lower().startswith(("http://", "https://")):
            _rewrite_body(request, web_url_instance=f"https://{_SERVED_HOST}/wiki")


class WebUrlQueryKept(Breakage):
    """A query or fragment in web_url_instance accepted (the server glues it into the links)."""

    expected = ("web_url_instance_extra_parts_are_422[query]",)
    mode = "mock"

    def request(self, request: Request) -> None:
        url = _url_field(request, "web_url_instance")
        if url is not None and ("?" in url or "#" in url):
            _rewrite_body(request, web_url_instance=re.split(r"[?#]", url, maxsplit=1)[0])


def _is_url_item(item: object) -> bool:
    return isinstance(item, dict) and str(item.get("type", "")).startswith("value_error.url.")


class UrlProblemsAnsweredAlone(Breakage):
    """URL problems answered in a 422 of their own, the request's other problems left out."""

    expected = ("url_problems_come_with_the_others",)
    mode = "mock"

    def answer(self, request: Request, answer: Answer) -> None:
        body = answer.json
        detail = body.get("detail") if isinstance(body, dict) else None
        if answer.status == 422 and isinstance(detail, list) and any(map(_is_url_item, detail)):
            answer.json = {"detail": [item for item in detail if _is_url_item(item)]}


class TenantBeforeUrlRules(Breakage):
    """The tenant compared before the URL rules: a foreign tenant with a refused URL gets 403."""

    expected = ("checks_run_in_contract_order[422-url-before-403]",)
    mode = "mock"

    def answer(self, request: Request, answer: Answer) -> None:
        body = answer.json
        detail = body.get("detail") if isinstance(body, dict) else None
        claimed = _claims(request).get("tenant_id")
        tenant = request.headers.get("x-tenantid", "")
        if (
            answer.status == 422
            and isinstance(detail, list)
            and all(map(_is_url_item, detail))
            and isinstance(claimed, str)
            and _UUID.match(tenant)
            and tenant.lower() != claimed.lower()
        ):
            answer.status = 403
            answer.json = {"detail": "Not your tenant", "code": "tenant_mismatch"}


# Browsers (live mode, the run told the origin the deployment allows)


def _is_preflight(request: Request) -> bool:
    return (
        request.method == "OPTIONS"
        and "origin" in request.headers
        and "access-control-request-method" in request.headers
    )


class PreflightWithoutCorsHeaders(Breakage):
    """A granted preflight answered 200 without any Access-Control-* header."""

    expected = ("preflight_is_granted",)

    def answer(self, request: Request, answer: Answer) -> None:
        if _is_preflight(request):
            answer.headers = [
                (k, v) for k, v in answer.headers if not k.lower().startswith("access-control-")
            ]


class PreflightHeadersWildcard(Breakage):
    """A granted preflight allowing headers as `*`, which does not cover Authorization."""

    expected = ("preflight_allows_contract_headers",)

    def answer(self, request: Request, answer: Answer) -> None:
        if _is_preflight(request) and answer.status == 200:
            answer.set_header("access-control-allow-headers", "*")


class CorsHeadersNotExposed(Breakage):
    """Answers to an allowed origin without Access-Control-Expose-Headers."""

    expected = ("cors_answers_expose_headers[success]", "cors_answers_expose_headers[401]")

    def answer(self, request: Request, answer: Answer) -> None:
        if not _is_preflight(request):
            answer.drop_header("access-control-expose-headers")


class RefusedPreflightAsPlainOk(Breakage):
    """A refused preflight answered 200 text/plain without CORS headers, not a JSON 400."""

    expected = ("refused_preflight_is_json",)

    def answer(self, request: Request, answer: Answer) -> None:
        if _is_preflight(request) and answer.status == 400:
            answer.status = 200
            answer.set_header("content-type", "text/plain")
            answer.body = b"OK"


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
    EveryValidRequestRefused,
    SpaceStatusPassedThrough,
    NoAcceptRefused,
    TokenWithoutExpAccepted,
    NonUuidTenantClaimIs401,
    DuplicateAuthorizationFirstWins,
    DuplicateTenantFirstWins,
    LoneSurrogateCrashes,
    PlainHttpAccepted,
    LiteralAddressesServed,
    UnreadableHostsGuessed,
    WebUrlSchemeNotChecked,
    WebUrlQueryKept,
    UrlProblemsAnsweredAlone,
    TenantBeforeUrlRules,
    PreflightWithoutCorsHeaders,
    PreflightHeadersWildcard,
    CorsHeadersNotExposed,
    RefusedPreflightAsPlainOk,
)


def serve_broken(settings: Settings, breakage: type[Breakage]) -> Any:
    """Serve our app behind `breakage` on an ephemeral 127.0.0.1 port until the block ends."""
    return serve(settings, wrap=breakage)
