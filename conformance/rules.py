"""The contract's own checks: one rule, one function, named for the rule.

Each rule judges one `Exchange` and raises `RuleViolation` (an `AssertionError`, which is what
schemathesis expects from a check) whose message says what the contract expects and what came.
A rule declares which answers it applies to; an answer it does not apply to is not counted,
so a rule that never met its kind of answer is reported "not applicable", not "passed".

The same functions judge the schemathesis run (through `conformance.schemathesis_hooks`) and the
targeted probes (`conformance.probes`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.exchange import NOT_JSON, Exchange
from conformance.vocabulary import (
    ERROR_CODES,
    OPERATION_PATH,
    SECRET_ECHO_MIN_LENGTH,
    SPACE_REQUIRED_FIELDS,
    SPACE_STATUSES,
    VALIDATION_LOCATIONS,
    VALIDATION_MESSAGES,
    same_uuid,
)

__all__ = ["RULES", "Rule", "RuleFunction", "RuleViolation", "rule", "rule_named"]

RuleFunction = Callable[[Exchange], None]


class RuleViolation(AssertionError):
    """An answer breaks a contract rule. The message never quotes a submitted secret."""


@dataclass(frozen=True)
class Rule:
    name: str
    function: RuleFunction
    applies: Callable[[Exchange], bool]
    description: str
    # The answers it judges, as the report names them ("429 answers").
    judges: str = "answers"
    # Judged on probe answers only: for generated requests a built-in schemathesis check does it.
    probes_only: bool = False

    def __call__(self, exchange: Exchange) -> None:
        self.function(exchange)


RULES: list[Rule] = []


def rule(
    *, applies: Callable[[Exchange], bool], judges: str, probes_only: bool = False
) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule function; its docstring's first line is the rule as the report states it.

    `applies` picks the answers it judges, which `judges` names for the report.
    """

    def register(function: RuleFunction) -> RuleFunction:
        description = (function.__doc__ or function.__name__).strip().splitlines()[0]
        RULES.append(Rule(function.__name__, function, applies, description, judges, probes_only))
        return function

    return register


def rule_named(name: str) -> Rule:
    for candidate in RULES:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def _snippet(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


def _body_snippet(exchange: Exchange) -> str:
    body = exchange.response.json
    return _snippet(exchange.response.text if body is NOT_JSON else body) or "(empty body)"


def _json_object(exchange: Exchange) -> dict[str, Any]:
    body = exchange.response.json
    if not isinstance(body, dict):
        raise RuleViolation(
            f"expected a JSON object body; got {exchange.response.status} {_body_snippet(exchange)}"
        )
    return body


def _has_body(exchange: Exchange) -> bool:
    # HEAD answers carry headers only (RFC 9110 §9.3.2).
    return exchange.request.method.upper() != "HEAD"


def _is_error(exchange: Exchange) -> bool:
    return exchange.response.status >= 400 and _has_body(exchange)


def _on_operation_path(exchange: Exchange) -> bool:
    return exchange.request.path.rstrip("/").endswith(OPERATION_PATH)


def _is_preflight(exchange: Exchange) -> bool:
    headers = exchange.request.headers
    return (
        exchange.request.method.upper() == "OPTIONS"
        and "origin" in headers
        and "access-control-request-method" in headers
    )


def _answers_with_json(exchange: Exchange) -> bool:
    # A CORS preflight the CORS layer grants is its own affair; its refusals are JSON too
    # (docs/contract.md#cors).
    granted_preflight = _is_preflight(exchange) and exchange.response.status < 400
    return _has_body(exchange) and not granted_preflight


@rule(applies=_answers_with_json, judges="answers with a body")
def answers_are_json(exchange: Exchange) -> None:
    """Every answer is `application/json` (any `accept`, any status) and its body parses."""
    received = exchange.response
    if received.media_type != "application/json":
        got = received.headers.get("content-type")
        raise RuleViolation(
            f"expected content-type application/json; got {got!r} for a {received.status}"
        )
    if received.json is NOT_JSON:
        raise RuleViolation(
            f"expected a JSON body; got {received.status} {_snippet(received.text) or '(empty)'}"
        )


@rule(applies=_is_error, judges="error answers")
def error_body_has_detail_and_code(exchange: Exchange) -> None:
    """Every error body has `detail`; errors other than 422 carry the status table's `code`."""
    status = exchange.response.status
    body = _json_object(exchange)
    if "detail" not in body:
        raise RuleViolation(f"expected `detail` in the {status} body; got {_snippet(body)}")
    if status == 422:
        return  # its `detail` is a list of items: validation_items_follow_vocabulary
    detail, code = body["detail"], body.get("code")
    if not isinstance(detail, str) or not detail.strip():
        raise RuleViolation(
            f"expected `detail` to be a sentence in the {status}; got {_snippet(detail)}"
        )
    if not isinstance(code, str) or not code:
        raise RuleViolation(f"expected a `code` word in the {status} body; got {_snippet(body)}")
    words = ERROR_CODES.get(status)
    if status == 400 and exchange.request.method.upper() == "OPTIONS":
        words = frozenset({"cors_refused"})  # a refused CORS preflight
    if words is not None and code not in words:
        raise RuleViolation(
            f"expected `code` {' or '.join(sorted(words))} for {status} "
            f"(docs/contract.md#error-table); got {code!r}"
        )
    if status == 500 and detail != "Internal server error":
        raise RuleViolation(
            f"expected a 500 to reveal nothing but 'Internal server error'; got {detail!r}"
        )


@rule(
    applies=lambda exchange: exchange.response.status == 422 and _has_body(exchange),
    judges="422 answers",
)
def validation_items_follow_vocabulary(exchange: Exchange) -> None:
    """A 422's `detail` lists one `{loc, msg, type}` item per problem in the contract's words."""
    detail = _json_object(exchange).get("detail")
    if not isinstance(detail, list) or not detail:
        raise RuleViolation(
            "expected `detail` to be a non-empty list of {loc, msg, type} items; "
            f"got {_snippet(detail)}"
        )
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(detail):
        where = f"item {index}"
        if not isinstance(item, dict) or not {"loc", "msg", "type"} <= item.keys():
            raise RuleViolation(f"expected {where} to have loc, msg and type; got {_snippet(item)}")
        loc, msg, type_ = item["loc"], item["msg"], item["type"]
        if (
            not isinstance(loc, list)
            or len(loc) < 2
            or not all(isinstance(part, str | int) and not isinstance(part, bool) for part in loc)
        ):
            raise RuleViolation(f"expected {where}'s loc like ['body', 'api_token']; got {loc!r}")
        if loc[0] not in ("body", "header"):
            raise RuleViolation(f"expected {where}'s loc to start with body or header; got {loc!r}")
        name = loc[1].lower() if loc[0] == "header" and isinstance(loc[1], str) else loc[1]
        place = (loc[0], name)
        if type_ not in VALIDATION_MESSAGES:
            raise RuleViolation(
                f"expected {where}'s type to be one of {', '.join(VALIDATION_MESSAGES)}; "
                f"got {type_!r}"
            )
        if place not in VALIDATION_LOCATIONS[type_]:
            allowed = ", ".join(repr(list(pair)) for pair in sorted(VALIDATION_LOCATIONS[type_]))
            raise RuleViolation(f"expected a {type_} item at {allowed}; got loc {loc!r}")
        messages = VALIDATION_MESSAGES[type_]
        if not isinstance(msg, str) or not msg.strip():
            raise RuleViolation(f"expected {where}'s msg to be a sentence; got {msg!r}")
        if messages is not None and msg not in messages:
            raise RuleViolation(
                f"expected {where}'s msg for {type_} to be "
                f"{' or '.join(map(repr, sorted(messages)))}; got {msg!r}"
            )
        key = (str(place[0]), str(place[1]))
        if key in seen:
            raise RuleViolation(f"expected one item per problem; loc {loc!r} appears twice")
        seen.add(key)


@rule(applies=lambda exchange: exchange.response.status == 401, judges="401 answers")
def unauthorized_has_bearer_challenge(exchange: Exchange) -> None:
    """A 401 carries `WWW-Authenticate: Bearer …` (RFC 6750)."""
    challenge = exchange.response.headers.get("www-authenticate")
    if challenge is None:
        raise RuleViolation("expected a WWW-Authenticate header starting with 'Bearer'; got none")
    if not challenge.startswith("Bearer"):
        raise RuleViolation(f"expected WWW-Authenticate to start with 'Bearer'; got {challenge!r}")


@rule(applies=lambda exchange: exchange.response.status == 405, judges="405 answers")
def method_not_allowed_has_allow(exchange: Exchange) -> None:
    """A 405 carries `Allow` naming POST, the one method the path serves."""
    allow = exchange.response.headers.get("allow")
    if allow is None:
        raise RuleViolation("expected an Allow header (Allow: POST); got none")
    methods = {part.strip().upper() for part in allow.split(",") if part.strip()}
    if "POST" not in methods:
        raise RuleViolation(f"expected Allow to name POST; got {allow!r}")
    refused = exchange.request.method.upper()
    if refused in methods:
        raise RuleViolation(f"expected Allow not to name the refused {refused}; got {allow!r}")


_DELTA_SECONDS = re.compile(r"^[0-9]+$")


@rule(applies=lambda exchange: exchange.response.status == 429, judges="429 answers")
def rate_limited_has_retry_after(exchange: Exchange) -> None:
    """A 429 carries `Retry-After` in whole seconds, clamped to 1…3600."""
    value = exchange.response.headers.get("retry-after")
    if value is None:
        raise RuleViolation("expected a Retry-After header (seconds, 1…3600); got none")
    if not _DELTA_SECONDS.match(value.strip()) or not 1 <= int(value) <= 3600:
        raise RuleViolation(f"expected Retry-After to be whole seconds in 1…3600; got {value!r}")


@rule(
    applies=lambda exchange: (
        exchange.response.status == 200 and exchange.request.method.upper() == "POST"
    ),
    judges="200 answers",
)
def spaces_have_required_fields(exchange: Exchange) -> None:
    """A 200 is `{"spaces": [...]}`; every space has string key, name, type and status."""
    spaces = _json_object(exchange).get("spaces")
    if not isinstance(spaces, list):
        raise RuleViolation(f"expected `spaces` to be a list; got {_snippet(spaces)}")
    for index, space in enumerate(spaces):
        if not isinstance(space, dict):
            raise RuleViolation(f"expected space {index} to be an object; got {_snippet(space)}")
        missing = [name for name in SPACE_REQUIRED_FIELDS if not isinstance(space.get(name), str)]
        if missing:
            raise RuleViolation(
                f"expected space {index} to carry {', '.join(missing)} as strings; "
                f"got {_snippet(space)}"
            )
        if space["status"] not in SPACE_STATUSES:
            raise RuleViolation(
                f"expected space {index}'s status to be current or archived; "
                f"got {space['status']!r}"
            )
        for optional in ("id", "url"):
            if optional in space and not isinstance(space[optional], str):
                raise RuleViolation(
                    f"expected space {index}'s {optional} to be a string; got {space[optional]!r}"
                )


def _submitted_secret(exchange: Exchange) -> str | None:
    token = exchange.request.api_token
    return token if token is not None and len(token) >= SECRET_ECHO_MIN_LENGTH else None


def _error_after_secret(exchange: Exchange) -> bool:
    return exchange.response.status >= 400 and _submitted_secret(exchange) is not None


@rule(applies=_error_after_secret, judges="error answers to a request with an api_token")
def no_api_token_echoed(exchange: Exchange) -> None:
    """No error answer echoes the submitted api_token (8 characters or more), body or headers."""
    token = _submitted_secret(exchange)
    assert token is not None
    # The body may carry it raw or JSON-escaped; compare bytes so an undecodable body is covered.
    forms = {token.encode("utf-8"), json.dumps(token)[1:-1].encode("utf-8")}
    if any(form in exchange.response.body for form in forms):
        raise RuleViolation(
            f"expected no trace of the submitted api_token; the {exchange.response.status} body "
            "contains it"
        )
    for name, value in exchange.response.headers.items():
        if token in value:
            raise RuleViolation(
                f"expected no trace of the submitted api_token; the {name} header contains it"
            )


def _carries_run_credentials(exchange: Exchange) -> bool:
    facts = exchange.facts
    if facts is None or not facts.token:
        return False
    headers = exchange.request.headers
    return headers.get("authorization") == f"Bearer {facts.token}" and same_uuid(
        headers.get("x-tenantid"), facts.tenant
    )


@rule(applies=_carries_run_credentials, judges="answers to the run's own token and tenant")
def valid_token_not_rejected(exchange: Exchange) -> None:
    """A request with the run's own token and its tenant is never a 401 or a tenant_mismatch."""
    status = exchange.response.status
    body = exchange.response.json
    if status == 401:
        raise RuleViolation(
            "expected the run's token to be accepted; got 401 "
            f"{_body_snippet(exchange)} (check the token, --issuer, --audience, --tenant-claim)"
        )
    if status == 403 and isinstance(body, dict) and body.get("code") == "tenant_mismatch":
        raise RuleViolation(
            "expected the token's tenant to match x-tenantid; got 403 tenant_mismatch "
            "(check --tenant and --tenant-claim)"
        )


def _judged_against_spec(exchange: Exchange) -> bool:
    # openapi.yaml describes POST (and its 405 for other methods); CORS preflights are the
    # CORS layer's, outside it.
    return (
        exchange.facts is not None
        and exchange.facts.judge is not None
        and _on_operation_path(exchange)
        and not _is_preflight(exchange)
    )


@rule(applies=_judged_against_spec, judges="probe answers", probes_only=True)
def documented_response(exchange: Exchange) -> None:
    """A probe's answer has a status openapi.yaml documents, and the documented body."""
    judge = exchange.facts.judge if exchange.facts is not None else None
    if judge is not None:
        judge.check(exchange)
