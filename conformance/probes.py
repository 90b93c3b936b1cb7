"""Targeted probes: one request (or a few) per contract rule, each a function named for it.

Generated requests find what nobody thought of; probes make sure the rules somebody did think
of are tested on every run, whatever the generator draws. Each probe raises `ProbeFailure`
(what was expected, what came) or `NotApplicable` (what the run would need to judge it); every
answer a probe receives is also judged by all of `conformance.rules`.

Parametrised probes report one result per parameter: `missing_field_is_422[api_token]`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from conformance.exchange import Exchange, RunFacts
from conformance.spec import Spec
from conformance.tokens import CredentialsMissing, Tokens
from conformance.vocabulary import (
    BODY_FIELDS,
    MAX_BODY_BYTES,
    OPERATION_PATH,
    is_business_422_type,
)

__all__ = [
    "PROBES",
    "NotApplicable",
    "Probe",
    "ProbeClient",
    "ProbeFailure",
    "probe",
]

# A tenant no token of the run names (random, fixed so runs are reproducible).
OTHER_TENANT = "0f8e5b2a-7c1d-4e3f-9a6b-5d4c3b2a1f0e"
# A distinctive api_token whose echo is easy to spot, 8+ characters
# (docs/contract.md#secrets-in-answers).
CANARY_API_TOKEN = "conformance-canary-api-token-7f3a"  # noqa: S105 - bait, not a credential

_MISSING: Any = object()  # `client.body(field=_MISSING)` leaves the field out
_DEFAULT: Any = object()  # "the run's own value" for headers


class ProbeFailure(AssertionError):
    """The target answered a probe other than the contract says."""


class NotApplicable(Exception):
    """The probe cannot judge this target with what the run was given; says what it needs."""


@dataclass(frozen=True)
class Probe:
    name: str
    function: Callable[..., None]
    description: str
    params: Iterable[str] | Callable[[ProbeClient], Iterable[str]] | None = None

    def instances(self, client: ProbeClient) -> Iterator[tuple[str, str | None]]:
        """(name, parameter) pairs; params computed from the target may raise NotApplicable."""
        if self.params is None:
            yield self.name, None
            return
        params = self.params(client) if callable(self.params) else self.params
        for param in params:
            yield f"{self.name}[{param}]", param

    def run(self, client: ProbeClient, param: str | None) -> None:
        if param is None:
            self.function(client)
        else:
            self.function(client, param)


PROBES: list[Probe] = []


def probe(
    params: Iterable[str] | Callable[[ProbeClient], Iterable[str]] | None = None,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register a probe; its docstring's first line is what it checks."""

    def register(function: Callable[..., None]) -> Callable[..., None]:
        description = (function.__doc__ or function.__name__).strip().splitlines()[0]
        PROBES.append(Probe(function.__name__, function, description, params))
        return function

    return register


class ProbeClient:
    """Sends probe requests to the target and hands every exchange to `on_exchange`."""

    def __init__(
        self,
        *,
        base_url: str,
        tokens: Tokens,
        spec: Spec,
        body: dict[str, Any],
        body_pinned: bool,
        session: requests.Session,
        timeout: float,
        on_exchange: Callable[[Exchange], None],
        scenario: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.tenant = tokens.tenant
        self.spec = spec
        self.valid_body = body
        self.body_pinned = body_pinned
        self.session = session
        self.timeout = timeout
        self.on_exchange = on_exchange
        self.scenario = scenario
        self.facts = RunFacts(tenant=tokens.tenant, token=tokens.valid, judge=spec)
        # What a valid request yields: 200, or the status of the scenario the run names.
        self.success_status = next(
            (s.status for s in spec.scenarios() if scenario is not None and s.name == scenario),
            200,
        )
        self.current = ""
        self.last: Exchange | None = None
        self.sent = 0
        self._mock: bool | None = None

    # Building requests

    def headers(
        self,
        *,
        token: str | None = _DEFAULT,
        tenant: str | None = _DEFAULT,
        content_type: str | None = "application/json",
        **extra: str,
    ) -> dict[str, str]:
        """The headers of a valid request, with any of them replaced or (None) left out."""
        headers: dict[str, str] = {}
        token = self.tokens.valid if token is _DEFAULT else token
        tenant = self.tenant if tenant is _DEFAULT else tenant
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if tenant is not None:
            headers["x-tenantid"] = tenant
        if content_type is not None:
            headers["Content-Type"] = content_type
        if self.scenario is not None:
            headers["prefer"] = f"example={self.scenario}"
        headers.update({name.replace("_", "-"): value for name, value in extra.items()})
        return headers

    def body(self, **changes: Any) -> dict[str, Any]:
        """The valid body with fields replaced; `_MISSING` leaves one out."""
        body = dict(self.valid_body)
        for name, value in changes.items():
            if value is _MISSING:
                body.pop(name, None)
            else:
                body[name] = value
        return body

    # Sending

    def send(
        self,
        method: str = "POST",
        *,
        headers: dict[str, str] | None = None,
        content: bytes | Iterable[bytes] | None = None,
        body: Any = _MISSING,
        path: str = OPERATION_PATH,
    ) -> Exchange:
        """Send one request: `body` JSON-encoded, or `content` as given (an iterable: chunked)."""
        if body is not _MISSING:
            content = json.dumps(body).encode("utf-8")
        sent_body = content if isinstance(content, bytes) else None
        if content is not None and not isinstance(content, bytes):
            chunks = list(content)
            sent_body = b"".join(chunks)
            content = iter(chunks)
        response = self.session.request(
            method,
            self.base_url + path,
            headers=headers if headers is not None else self.headers(),
            data=content,
            timeout=self.timeout,
            allow_redirects=False,
        )
        self.sent += 1
        exchange = Exchange.from_requests(
            response, sent_body=sent_body, origin=f"probe {self.current}", facts=self.facts
        )
        self.last = exchange
        self.on_exchange(exchange)
        return exchange

    def post(self, body: Any = _DEFAULT, **header_changes: Any) -> Exchange:
        """POST a JSON body (the valid one by default) with the valid headers, some changed."""
        return self.send(
            headers=self.headers(**header_changes),
            body=self.valid_body if body is _DEFAULT else body,
        )

    @property
    def is_mock(self) -> bool:
        """Whether the target says it answers in mock mode (docs/contract.md#mock-mode)."""
        if self._mock is None:
            exchange = self.post()
            self._mock = exchange.response.headers.get("x-spacegate-mode", "").lower() == "mock"
        return self._mock

    # Expectations

    def expect_status(self, exchange: Exchange, status: int, code: str | None = None) -> None:
        received = exchange.response
        body = received.json
        got_code = body.get("code") if isinstance(body, dict) else None
        if received.status != status or (code is not None and got_code != code):
            wanted = f"{status} {code}" if code else str(status)
            got = f"{received.status} {got_code}" if isinstance(got_code, str) else received.status
            raise ProbeFailure(f"expected {wanted}; got {got}")

    def expect_items(self, exchange: Exchange, *items: tuple[tuple[str, str], str]) -> None:
        """A 422 listing at least these (loc, type) items, nothing else missing."""
        self.expect_status(exchange, 422)
        detail = exchange.response.json.get("detail")
        found = set()
        if isinstance(detail, list):
            for item in detail:
                if isinstance(item, dict) and isinstance(item.get("loc"), list):
                    loc = tuple(str(part) for part in item["loc"])
                    if loc and loc[0] == "header":
                        loc = tuple(part.lower() for part in loc)
                    found.add((loc, item.get("type")))
        missing = [f"{list(loc)} {type_}" for loc, type_ in items if (loc, type_) not in found]
        if missing:
            raise ProbeFailure(f"expected the 422 to list {'; '.join(missing)}")

    def expect_success(self, exchange: Exchange) -> None:
        """A 200; with the example body a business 422 means "give a body file", not a failure.

        Under `--scenario`, the status openapi.yaml documents for that scenario instead.
        """
        received = exchange.response
        if self.success_status != 200:
            self.expect_status(exchange, self.success_status)
            return
        if received.status == 200:
            return
        detail = received.json.get("detail") if isinstance(received.json, dict) else None
        if (
            received.status == 422
            and not self.body_pinned
            and isinstance(detail, list)
            and detail
            and all(isinstance(i, dict) and is_business_422_type(i.get("type")) for i in detail)
        ):
            types = ", ".join(sorted({str(item.get("type")) for item in detail}))
            raise NotApplicable(
                f"the target refused the spec's example body ({types}); give --body-file with "
                "real Confluence values to judge the 200 path"
            )
        raise ProbeFailure(f"expected 200 with the spaces; got {received.status}")

    def require_secret(self, what: str) -> None:
        if not self.tokens.can_mint:
            raise NotApplicable(f"minting {what} needs SPACEGATE_JWT_SECRET")


# The 200 path


@probe()
def valid_request_succeeds(client: ProbeClient) -> None:
    """A valid request is a 200 listing the spaces."""
    client.expect_success(client.post())


@probe()
def unknown_fields_are_ignored(client: ProbeClient) -> None:
    """Unknown body fields are ignored, not refused."""
    body = client.body(conformance_extra="ignored", conformance_nested={"a": [1, None]})
    client.expect_success(client.post(body))


@probe()
def json_with_charset_is_accepted(client: ProbeClient) -> None:
    """`content-type: application/json; charset=utf-8` is JSON."""
    client.expect_success(client.post(content_type="application/json; charset=utf-8"))


@probe()
def tenant_is_compared_ignoring_case(client: ProbeClient) -> None:
    """x-tenantid in upper case names the same tenant as the token's claim."""
    client.expect_success(client.post(tenant=client.tenant.upper()))


@probe()
def any_accept_gets_json(client: ProbeClient) -> None:
    """`accept` is not a parameter: `accept: text/html` still gets the JSON 200."""
    client.expect_success(client.post(accept="text/html"))


@probe()
def body_at_size_limit_is_read(client: ProbeClient) -> None:
    """A body of exactly 64 KiB is read, not refused as too large."""
    body = client.body(conformance_padding="")
    padding = MAX_BODY_BYTES - len(json.dumps(body).encode("utf-8"))
    body["conformance_padding"] = "x" * padding
    content = json.dumps(body).encode("utf-8")
    assert len(content) == MAX_BODY_BYTES
    client.expect_success(client.send(headers=client.headers(), content=content))


# 401: the token


@probe()
def no_token_is_401(client: ProbeClient) -> None:
    """No Authorization header is a 401 invalid_token."""
    client.expect_status(client.post(token=None), 401, "invalid_token")


@probe(params=("not-a-jwt", "three-garbage-segments", "empty"))
def garbage_token_is_401(client: ProbeClient, kind: str) -> None:
    """A bearer token that is not a JWT is a 401 invalid_token."""
    token = {"not-a-jwt": "not-a-jwt", "three-garbage-segments": "abc.def.ghi", "empty": ""}[kind]
    client.expect_status(client.post(token=token), 401, "invalid_token")


@probe(params=("basic", "token-scheme", "no-scheme"))
def non_bearer_authorization_is_401(client: ProbeClient, kind: str) -> None:
    """An Authorization header that is not `Bearer <token>` is a 401 invalid_token."""
    headers = client.headers(token=None)
    headers["Authorization"] = {
        "basic": "Basic Y29uZm9ybWFuY2U6Y29uZm9ybWFuY2U=",
        "token-scheme": f"Token {client.tokens.valid}",
        "no-scheme": client.tokens.valid,
    }[kind]
    exchange = client.send(headers=headers, body=client.valid_body)
    client.expect_status(exchange, 401, "invalid_token")


@probe()
def unsigned_token_is_401(client: ProbeClient) -> None:
    """A token with `alg: none` is a 401 invalid_token, whatever it claims."""
    client.expect_status(client.post(token=client.tokens.unsigned()), 401, "invalid_token")


@probe()
def wrong_signature_is_401(client: ProbeClient) -> None:
    """The run's claims signed with another key are a 401 invalid_token."""
    token = client.tokens.signed_with_another_key()
    client.expect_status(client.post(token=token), 401, "invalid_token")


@probe()
def tampered_signature_is_401(client: ProbeClient) -> None:
    """The run's own token with a forged signature is a 401 invalid_token."""
    try:
        token = client.tokens.with_tampered_signature()
    except CredentialsMissing as exc:
        raise NotApplicable(str(exc)) from None
    client.expect_status(client.post(token=token), 401, "invalid_token")


@probe()
def expired_token_is_401(client: ProbeClient) -> None:
    """A token expired an hour ago is a 401 invalid_token."""
    client.require_secret("an expired token")
    client.expect_status(client.post(token=client.tokens.expired()), 401, "invalid_token")


@probe()
def token_without_tenant_claim_is_401(client: ProbeClient) -> None:
    """A token without the tenant claim is a 401 invalid_token."""
    client.require_secret("a token without the tenant claim")
    token = client.tokens.without_tenant_claim()
    client.expect_status(client.post(token=token), 401, "invalid_token")


@probe()
def wrong_issuer_is_401(client: ProbeClient) -> None:
    """A token from another issuer is a 401 invalid_token (when the target checks --issuer)."""
    if not client.tokens.issuer:
        raise NotApplicable("give --issuer to check that the target verifies the issuer")
    client.require_secret("a token from another issuer")
    client.expect_status(client.post(token=client.tokens.wrong_issuer()), 401, "invalid_token")


@probe()
def wrong_audience_is_401(client: ProbeClient) -> None:
    """A token for another audience is a 401 invalid_token (when the target checks --audience)."""
    if not client.tokens.audience:
        raise NotApplicable("give --audience to check that the target verifies the audience")
    client.require_secret("a token for another audience")
    token = client.tokens.wrong_audience()
    client.expect_status(client.post(token=token), 401, "invalid_token")


# 403: the tenant


@probe()
def tenant_mismatch_is_403(client: ProbeClient) -> None:
    """x-tenantid other than the token's tenant is a 403 tenant_mismatch."""
    client.expect_status(client.post(tenant=OTHER_TENANT), 403, "tenant_mismatch")


@probe()
def other_tenant_token_is_403(client: ProbeClient) -> None:
    """A token for another tenant, sent with this tenant's x-tenantid, is a 403 tenant_mismatch."""
    client.require_secret("a token for another tenant")
    token = client.tokens.for_tenant(OTHER_TENANT)
    client.expect_status(client.post(token=token), 403, "tenant_mismatch")


# 422: fields and headers


@probe(params=BODY_FIELDS)
def missing_field_is_422(client: ProbeClient, field: str) -> None:
    """A missing body field is a 422 item at ["body", field], value_error.missing."""
    exchange = client.post(client.body(**{field: _MISSING}))
    client.expect_items(exchange, (("body", field), "value_error.missing"))


@probe(params=BODY_FIELDS)
def empty_string_is_422(client: ProbeClient, field: str) -> None:
    """An empty string is a 422 item at ["body", field], value_error.any_str.min_length."""
    exchange = client.post(client.body(**{field: ""}))
    client.expect_items(exchange, (("body", field), "value_error.any_str.min_length"))


@probe(params=BODY_FIELDS)
def null_field_is_422(client: ProbeClient, field: str) -> None:
    """A null field is a 422 item at ["body", field], type_error.none.not_allowed."""
    exchange = client.post(client.body(**{field: None}))
    client.expect_items(exchange, (("body", field), "type_error.none.not_allowed"))


@probe(params=BODY_FIELDS)
def non_string_field_is_422(client: ProbeClient, field: str) -> None:
    """A number where a string belongs is a 422 item at ["body", field], type_error.str."""
    exchange = client.post(client.body(**{field: 42}))
    client.expect_items(exchange, (("body", field), "type_error.str"))


@probe()
def every_missing_field_is_listed(client: ProbeClient) -> None:
    """`{}` is one 422 listing all four missing fields."""
    exchange = client.post({})
    client.expect_items(exchange, *((("body", f), "value_error.missing") for f in BODY_FIELDS))


_NOT_UUIDS = {
    "not-a-uuid": "not-a-uuid",
    "empty": "",
    "no-hyphens": "3fa85f6457174562b3fc2c963f66afa6",
    "braces": "{3fa85f64-5717-4562-b3fc-2c963f66afa6}",
    "urn": "urn:uuid:3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "too-long": "3fa85f64-5717-4562-b3fc-2c963f66afa60",
}


@probe(params=tuple(_NOT_UUIDS))
def non_uuid_tenant_is_422(client: ProbeClient, kind: str) -> None:
    """x-tenantid that is not a canonical UUID is a 422 item at ["header", "x-tenantid"]."""
    exchange = client.post(tenant=_NOT_UUIDS[kind])
    client.expect_items(exchange, (("header", "x-tenantid"), "type_error.uuid"))


@probe()
def missing_tenant_is_422(client: ProbeClient) -> None:
    """No x-tenantid header is a 422 item at ["header", "x-tenantid"], value_error.missing."""
    exchange = client.post(tenant=None)
    client.expect_items(exchange, (("header", "x-tenantid"), "value_error.missing"))


@probe()
def header_and_body_problems_come_together(client: ProbeClient) -> None:
    """A bad x-tenantid, a missing field and an empty one make one 422 listing all three."""
    exchange = client.post(client.body(api_token=_MISSING, username=""), tenant="not-a-uuid")
    client.expect_items(
        exchange,
        (("header", "x-tenantid"), "type_error.uuid"),
        (("body", "api_token"), "value_error.missing"),
        (("body", "username"), "value_error.any_str.min_length"),
    )


# 400: not a JSON object

_MALFORMED = {
    "truncated": b'{"instance_url": ',
    "empty": b"",
    "invalid-utf8": b'{"username": "\xff\xfe"}',
    # Deep enough to exhaust a recursive parser, small enough to stay under 64 KiB.
    "deep-nesting": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "trailing-garbage": b'{"username": "x"} trailing',
    "single-quotes": b"{'username': 'x'}",
}


@probe(params=tuple(_MALFORMED))
def malformed_json_is_400(client: ProbeClient, kind: str) -> None:
    """A body that is not parseable JSON is a 400 invalid_json."""
    exchange = client.send(headers=client.headers(), content=_MALFORMED[kind])
    client.expect_status(exchange, 400, "invalid_json")


_NOT_OBJECTS = {"array": [], "null": None, "number": 42, "string": "x", "boolean": True}


@probe(params=tuple(_NOT_OBJECTS))
def non_object_json_is_400(client: ProbeClient, kind: str) -> None:
    """JSON that is not an object (array, null, number…) is a 400 invalid_json."""
    value = _NOT_OBJECTS[kind]
    if kind == "array":
        value = [client.valid_body]  # the valid body, wrapped: only the shape is wrong
    client.expect_status(client.post(value), 400, "invalid_json")


# 413 and 415


def _oversized(client: ProbeClient) -> bytes:
    body = client.body(conformance_padding="x" * (MAX_BODY_BYTES + 1))
    return json.dumps(body).encode("utf-8")


@probe(params=("content-length", "chunked"))
def oversized_body_is_413(client: ProbeClient, framing: str) -> None:
    """A body over 64 KiB is a 413 body_too_large, announced or streamed."""
    content = _oversized(client)
    if framing == "chunked":
        chunks = [content[i : i + 8192] for i in range(0, len(content), 8192)]
        exchange = client.send(headers=client.headers(), content=iter(chunks))
    else:
        exchange = client.send(headers=client.headers(), content=content)
    client.expect_status(exchange, 413, "body_too_large")


@probe()
def missing_content_type_is_415(client: ProbeClient) -> None:
    """A JSON body without content-type is a 415 unsupported_media_type."""
    exchange = client.send(
        headers=client.headers(content_type=None), content=json.dumps(client.valid_body).encode()
    )
    client.expect_status(exchange, 415, "unsupported_media_type")


_WRONG_TYPES = {
    "text-plain": "text/plain",
    "form": "application/x-www-form-urlencoded",
    "xml": "application/xml",
    "multipart": "multipart/form-data; boundary=conformance",
}


@probe(params=tuple(_WRONG_TYPES))
def wrong_content_type_is_415(client: ProbeClient, kind: str) -> None:
    """A valid JSON body under another content-type is a 415 unsupported_media_type."""
    headers = client.headers(content_type=_WRONG_TYPES[kind])
    exchange = client.send(headers=headers, content=json.dumps(client.valid_body).encode())
    client.expect_status(exchange, 415, "unsupported_media_type")


# Routing: 404 and 405, before any token


@probe(params=("GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"))
def other_methods_are_405(client: ProbeClient, method: str) -> None:
    """Any method but POST is a 405 method_not_allowed with Allow, even without a token."""
    exchange = client.send(method, headers={})
    if method == "HEAD":  # no body to carry a code
        if exchange.response.status != 405:
            raise ProbeFailure(f"expected 405; got {exchange.response.status}")
        return
    client.expect_status(exchange, 405, "method_not_allowed")


@probe()
def unknown_path_is_404(client: ProbeClient) -> None:
    """A path the service does not serve is a 404 not_found, even without a token."""
    exchange = client.send(
        headers={"Content-Type": "application/json"},
        body=client.valid_body,
        path="/v2/confluence/conformance-no-such-operation",
    )
    client.expect_status(exchange, 404, "not_found")


# Browsers: a refused CORS preflight


@probe()
def refused_preflight_is_json(client: ProbeClient) -> None:
    """A CORS preflight from an origin the target refuses is a JSON 400 cors_refused."""
    exchange = client.send(
        "OPTIONS",
        headers={
            "Origin": "https://conformance.invalid",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-tenantid",
        },
    )
    if exchange.response.status < 300:
        raise NotApplicable(
            "the target grants a preflight from any origin (as mock mode does), so none is refused"
        )
    client.expect_status(exchange, 400, "cors_refused")


# The order of checks: 401 → 413 → 415 → 400 → 422 → 403


@probe(
    params=(
        "401-before-413",
        "413-before-415",
        "415-before-400",
        "400-before-422",
        "422-before-403",
    )
)
def checks_run_in_contract_order(client: ProbeClient, step: str) -> None:
    """When a request has two problems, the first in docs/contract.md#order-of-checks answers."""
    if step == "401-before-413":
        exchange = client.send(headers=client.headers(token=None), content=_oversized(client))
        client.expect_status(exchange, 401, "invalid_token")
    elif step == "413-before-415":
        headers = client.headers(content_type="text/plain")
        client.expect_status(client.send(headers=headers, content=_oversized(client)), 413)
    elif step == "415-before-400":
        headers = client.headers(content_type="text/plain")
        client.expect_status(client.send(headers=headers, content=b"{"), 415)
    elif step == "400-before-422":
        headers = client.headers(tenant="not-a-uuid")
        client.expect_status(client.send(headers=headers, content=b"{"), 400, "invalid_json")
    else:
        exchange = client.post(client.body(username=""), tenant=OTHER_TENANT)
        client.expect_items(exchange, (("body", "username"), "value_error.any_str.min_length"))


# Secrets


@probe(params=("validation-error", "confluence-refusal"))
def api_token_not_echoed(client: ProbeClient, kind: str) -> None:
    """An error answer never quotes the api_token it was sent."""
    if kind == "validation-error":
        exchange = client.post(client.body(api_token=CANARY_API_TOKEN, username=""))
        client.expect_status(exchange, 422)
    else:
        # The valid body with a wrong api_token: Confluence refuses it (or a mock ignores it).
        exchange = client.post(client.body(api_token=CANARY_API_TOKEN))
    forms = (CANARY_API_TOKEN.encode(), json.dumps(CANARY_API_TOKEN).encode())
    if any(form in exchange.response.body for form in forms) or any(
        CANARY_API_TOKEN in value for value in exchange.response.headers.values()
    ):
        raise ProbeFailure("expected no trace of the api_token sent; the answer quotes it")


# Mock mode: the documented scenarios


def _scenario_names(client: ProbeClient) -> list[str]:
    if not client.is_mock:
        raise NotApplicable("the target does not answer in mock mode (no x-spacegate-mode: mock)")
    return [scenario.name for scenario in client.spec.scenarios()]


@probe(params=_scenario_names)
def documented_scenario_answers(client: ProbeClient, name: str) -> None:
    """In mock mode, each `prefer` example of openapi.yaml yields the status it documents.

    A scenario that shares its name with a request-body example (`data-center`) is sent with
    that body: the mock answers only for the Confluence root the scenario was recorded with.
    """
    scenario = next(s for s in client.spec.scenarios() if s.name == name)
    body = client.spec.example_bodies().get(name, client.valid_body)
    client.expect_status(client.post(body, prefer=scenario.prefer), scenario.status)
