"""The contract's own checks: one rule, one function, named for the rule.

Each rule judges one `Exchange` and raises `RuleViolation` (a `conformance.failures.Violation`:
a fixed title, what the contract expects, what came). A rule declares which answers it applies
to; an answer it does not apply to is not counted, so a rule that never met its kind of answer
is reported "not applicable", not "passed".

The same functions judge the schemathesis run (through `conformance.schemathesis_hooks`) and the
targeted probes (`conformance.probes`), and a probe may call one directly on the answer it
provoked (`api_token_not_echoed` calls `no_api_token_echoed` whatever the status).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.exchange import NOT_JSON, Exchange
from conformance.failures import Violation
from conformance.severity import Severity
from conformance.vocabulary import (
    ERROR_CODES,
    OPERATION_PATH,
    SECRET_ECHO_MIN_LENGTH,
    SPACE_REQUIRED_FIELDS,
    SPACE_WORD,
    SPACE_WORD_FIELDS,
    VALIDATION_LOCATIONS,
    VALIDATION_MESSAGES,
    same_uuid,
)

__all__ = ["RULES", "Rule", "RuleFunction", "RuleViolation", "rule", "rule_named"]

RuleFunction = Callable[[Exchange], None]


class RuleViolation(Violation):
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
    severity: Severity = Severity.MAJOR

    def __call__(self, exchange: Exchange) -> None:
        self.function(exchange)


RULES: list[Rule] = []


def rule(
    *,
    applies: Callable[[Exchange], bool],
    judges: str,
    severity: Severity,
    probes_only: bool = False,
) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule function; its docstring's first line is the rule as the report states it.

    `applies` picks the answers it judges, which `judges` names for the report; `severity`
    says how much breaking it hurts a client (`conformance.severity`).
    """

    def register(function: RuleFunction) -> RuleFunction:
        description = (function.__doc__ or function.__name__).strip().splitlines()[0]
        RULES.append(
            Rule(function.__name__, function, applies, description, judges, probes_only, severity)
        )
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
            "Body is not a JSON object",
            expected="a JSON object body",
            received=f"{exchange.response.status} {_body_snippet(exchange)}",
        )
    return body


def _is_error(exchange: Exchange) -> bool:
    return exchange.response.status >= 400 and exchange.answer_has_body


def _on_operation_path(exchange: Exchange) -> bool:
    return exchange.request.path.rstrip("/").endswith(OPERATION_PATH)


def _answers_with_json(exchange: Exchange) -> bool:
    # A CORS preflight the CORS layer grants is its own affair; its refusals are JSON too
    # (docs/contract.md#cors).
    return exchange.answer_has_body and not exchange.preflight_granted


@rule(applies=_answers_with_json, judges="answers with a body", severity=Severity.MAJOR)
def answers_are_json(exchange: Exchange) -> None:
    """Every answer is `application/json` (any `accept`, any status) and its body parses."""
    received = exchange.response
    if received.media_type != "application/json":
        got = received.headers.get("content-type")
        raise RuleViolation(
            "Not application/json",
            expected="content-type application/json",
            received=f"{got!r} for a {received.status}",
        )
    if received.json is NOT_JSON:
        raise RuleViolation(
            "Malformed JSON",
            expected="a JSON body",
            received=f"{received.status} {_snippet(received.text) or '(empty)'}",
        )


@rule(applies=_is_error, judges="error answers", severity=Severity.MAJOR)
def error_body_has_detail_and_code(exchange: Exchange) -> None:
    """Every error body has `detail`; errors other than 422 carry the status table's `code`."""
    status = exchange.response.status
    body = _json_object(exchange)
    if "detail" not in body:
        raise RuleViolation(
            "Missing `detail`",
            expected=f"`detail` in the {status} body",
            received=_snippet(body),
        )
    if status == 422:
        return  # its `detail` is a list of items: validation_items_follow_vocabulary
    detail, code = body["detail"], body.get("code")
    if not isinstance(detail, str) or not detail.strip():
        raise RuleViolation(
            "`detail` is not a sentence",
            expected=f"`detail` to be a sentence in the {status}",
            received=_snippet(detail),
        )
    if not isinstance(code, str) or not code:
        raise RuleViolation(
            "Missing `code`",
            expected=f"a `code` word in the {status} body",
            received=_snippet(body),
        )
    words = ERROR_CODES.get(status)
    if status == 400 and exchange.request.method.upper() == "OPTIONS":
        words = frozenset({"cors_refused"})  # a refused CORS preflight
    if words is not None and code not in words:
        raise RuleViolation(
            "Wrong `code` for the status",
            expected=(
                f"`code` {' or '.join(sorted(words))} for {status} (docs/contract.md#error-table)"
            ),
            received=repr(code),
        )
    if status == 500 and detail != "Internal server error":
        raise RuleViolation(
            "500 reveals details",
            expected="a 500 to reveal nothing but 'Internal server error'",
            received=repr(detail),
        )


@rule(
    applies=lambda exchange: exchange.response.status == 422 and exchange.answer_has_body,
    judges="422 answers",
    severity=Severity.MAJOR,
)
def validation_items_follow_vocabulary(exchange: Exchange) -> None:
    """A 422's `detail` lists one `{loc, msg, type}` item per problem in the contract's words."""
    detail = _json_object(exchange).get("detail")
    if not isinstance(detail, list) or not detail:
        raise RuleViolation(
            "422 `detail` is not a list of items",
            expected="`detail` to be a non-empty list of {loc, msg, type} items",
            received=_snippet(detail),
        )
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(detail):
        where = f"item {index}"
        if not isinstance(item, dict) or not {"loc", "msg", "type"} <= item.keys():
            raise RuleViolation(
                "Malformed 422 item",
                expected=f"{where} to have loc, msg and type",
                received=_snippet(item),
            )
        loc, msg, type_ = item["loc"], item["msg"], item["type"]
        if (
            not isinstance(loc, list)
            or len(loc) < 2
            or not all(isinstance(part, str | int) and not isinstance(part, bool) for part in loc)
        ):
            raise RuleViolation(
                "Malformed 422 loc",
                expected=f"{where}'s loc like ['body', 'api_token']",
                received=repr(loc),
            )
        if loc[0] not in ("body", "header"):
            raise RuleViolation(
                "422 loc outside the request",
                expected=f"{where}'s loc to start with body or header",
                received=repr(loc),
            )
        name = loc[1].lower() if loc[0] == "header" and isinstance(loc[1], str) else loc[1]
        place = (loc[0], name)
        if type_ not in VALIDATION_MESSAGES:
            raise RuleViolation(
                "Unknown 422 type",
                expected=f"{where}'s type to be one of {', '.join(VALIDATION_MESSAGES)}",
                received=repr(type_),
            )
        if place not in VALIDATION_LOCATIONS[type_]:
            allowed = ", ".join(repr(list(pair)) for pair in sorted(VALIDATION_LOCATIONS[type_]))
            raise RuleViolation(
                "422 item at the wrong place",
                expected=f"a {type_} item at {allowed}",
                received=f"loc {loc!r}",
            )
        messages = VALIDATION_MESSAGES[type_]
        if not isinstance(msg, str) or not msg.strip():
            raise RuleViolation(
                "422 msg is not a sentence",
                expected=f"{where}'s msg to be a sentence",
                received=repr(msg),
            )
        if messages is not None and msg not in messages:
            allowed = " or ".join(map(repr, sorted(messages)))
            raise RuleViolation(
                "Wrong 422 msg",
                expected=f"{where}'s msg for {type_} to be {allowed}",
                received=repr(msg),
            )
        key = (str(place[0]), str(place[1]))
        if key in seen:
            raise RuleViolation(
                "422 item appears twice",
                expected="one item per problem",
                received=f"loc {loc!r} twice",
            )
        seen.add(key)


@rule(
    applies=lambda exchange: exchange.response.status == 401,
    judges="401 answers",
    severity=Severity.MINOR,
)
def unauthorized_has_bearer_challenge(exchange: Exchange) -> None:
    """A 401 carries `WWW-Authenticate: Bearer …` (RFC 6750)."""
    challenge = exchange.response.headers.get("www-authenticate")
    if challenge is None or not challenge.startswith("Bearer"):
        raise RuleViolation(
            "Missing bearer challenge",
            expected="a WWW-Authenticate header to start with 'Bearer'",
            received="none" if challenge is None else repr(challenge),
        )


@rule(
    applies=lambda exchange: exchange.response.status == 405,
    judges="405 answers",
    severity=Severity.MINOR,
)
def method_not_allowed_has_allow(exchange: Exchange) -> None:
    """A 405 carries `Allow` naming POST, the one method the path serves."""
    allow = exchange.response.headers.get("allow")
    if allow is None:
        raise RuleViolation(
            "Missing Allow", expected="an Allow header (Allow: POST)", received="none"
        )
    methods = {part.strip().upper() for part in allow.split(",") if part.strip()}
    if "POST" not in methods:
        raise RuleViolation("Allow lacks POST", expected="Allow to name POST", received=repr(allow))
    refused = exchange.request.method.upper()
    if refused in methods:
        raise RuleViolation(
            "Allow names the refused method",
            expected=f"Allow not to name the refused {refused}",
            received=repr(allow),
        )


_DELTA_SECONDS = re.compile(r"^[0-9]+$")


@rule(
    applies=lambda exchange: exchange.response.status == 429,
    judges="429 answers",
    severity=Severity.MAJOR,
)
def rate_limited_has_retry_after(exchange: Exchange) -> None:
    """A 429 carries `Retry-After` in whole seconds, clamped to 1…3600."""
    value = exchange.response.headers.get("retry-after")
    if value is None or not _DELTA_SECONDS.match(value.strip()) or not 1 <= int(value) <= 3600:
        raise RuleViolation(
            "Missing or wrong Retry-After",
            expected="a Retry-After header of whole seconds in 1…3600",
            received="none" if value is None else repr(value),
        )


def _is_listing(exchange: Exchange) -> bool:
    return exchange.response.status == 200 and exchange.request.method.upper() == "POST"


def _spaces(exchange: Exchange) -> list[Any]:
    spaces = _json_object(exchange).get("spaces")
    if not isinstance(spaces, list):
        raise RuleViolation(
            "Missing `spaces`", expected="`spaces` to be a list", received=_snippet(spaces)
        )
    return spaces


@rule(applies=_is_listing, judges="200 answers", severity=Severity.CRITICAL)
def spaces_have_required_fields(exchange: Exchange) -> None:
    """A 200 is `{"spaces": [...]}`; every space has string key, name, type and status."""
    for index, space in enumerate(_spaces(exchange)):
        if not isinstance(space, dict):
            raise RuleViolation(
                "Space is not an object",
                expected=f"space {index} to be an object",
                received=_snippet(space),
            )
        missing = [name for name in SPACE_REQUIRED_FIELDS if not isinstance(space.get(name), str)]
        if missing:
            raise RuleViolation(
                "Space lacks a required field",
                expected=f"space {index} to carry {', '.join(missing)} as strings",
                received=_snippet(space),
            )
        for optional in ("id", "url"):
            if optional in space and not isinstance(space[optional], str):
                raise RuleViolation(
                    "Space field is not a string",
                    expected=f"space {index}'s {optional} to be a string",
                    received=repr(space[optional]),
                )


@rule(applies=_is_listing, judges="200 answers", severity=Severity.CRITICAL)
def space_type_and_status_are_words(exchange: Exchange) -> None:
    """Every space's `type` and `status` is a lower-case word (`^[a-z][a-z_]*$`), new ones too."""
    for index, space in enumerate(_spaces(exchange)):
        for name in SPACE_WORD_FIELDS:
            value = space.get(name) if isinstance(space, dict) else None
            # A missing or non-string value is spaces_have_required_fields' to report.
            if isinstance(value, str) and not SPACE_WORD.fullmatch(value):
                raise RuleViolation(
                    f"Space {name} is not a word",
                    expected=f"space {index}'s {name} to match ^[a-z][a-z_]*$ "
                    "(docs/contract.md#normalising-type-and-status)",
                    received=repr(value),
                )


def _submitted_secret(exchange: Exchange) -> str | None:
    token = exchange.request.api_token
    return token if token is not None and len(token) >= SECRET_ECHO_MIN_LENGTH else None


def _error_after_secret(exchange: Exchange) -> bool:
    return exchange.response.status >= 400 and _submitted_secret(exchange) is not None


@rule(
    applies=_error_after_secret,
    judges="error answers to a request with an api_token",
    severity=Severity.CRITICAL,
)
def no_api_token_echoed(exchange: Exchange) -> None:
    """No error answer echoes the submitted api_token (8 characters or more), body or headers."""
    token = _submitted_secret(exchange)
    if token is None:
        return  # too short to tell from a word (a probe may call this on any answer)
    received = exchange.response
    # The body may carry it raw or JSON-escaped; compare bytes so an undecodable body is covered.
    # (A lone surrogate has no UTF-8 form; surrogatepass gives the bytes a server might write.)
    forms = {token.encode("utf-8", "surrogatepass"), json.dumps(token)[1:-1].encode("utf-8")}
    places = [f"the {received.status} body"] if any(f in received.body for f in forms) else []
    places += [f"the {name} header" for name, value in received.headers.items() if token in value]
    if places:
        raise RuleViolation(
            "api_token echoed",
            expected="no trace of the submitted api_token",
            received=f"{places[0]} quoting it",
        )


def _carries_run_credentials(exchange: Exchange) -> bool:
    facts = exchange.facts
    if facts is None or not facts.token:
        return False
    headers = exchange.request.headers
    return headers.get("authorization") == f"Bearer {facts.token}" and same_uuid(
        headers.get("x-tenantid"), facts.tenant
    )


@rule(
    applies=_carries_run_credentials,
    judges="answers to the run's own token and tenant",
    severity=Severity.CRITICAL,
)
def valid_token_not_rejected(exchange: Exchange) -> None:
    """A request with the run's own token and its tenant is never a 401 or a tenant_mismatch."""
    status = exchange.response.status
    body = exchange.response.json
    if status == 401:
        raise RuleViolation(
            "Valid token rejected",
            expected="the run's token to be accepted",
            received=f"401 {_body_snippet(exchange)} "
            "(check the token, --issuer, --audience, --tenant-claim)",
        )
    if status == 403 and isinstance(body, dict) and body.get("code") == "tenant_mismatch":
        raise RuleViolation(
            "Valid tenant rejected",
            expected="the token's tenant to match x-tenantid",
            received="403 tenant_mismatch (check --tenant and --tenant-claim)",
        )


def _judged_against_spec(exchange: Exchange) -> bool:
    # openapi.yaml describes POST (and its 405 for other methods); CORS preflights are the
    # CORS layer's, outside it.
    return (
        exchange.facts is not None
        and exchange.facts.judge is not None
        and _on_operation_path(exchange)
        and not exchange.is_preflight
    )


@rule(
    applies=_judged_against_spec,
    judges="probe answers",
    severity=Severity.MAJOR,
    probes_only=True,
)
def documented_response(exchange: Exchange) -> None:
    """A probe's answer has a status openapi.yaml documents, and the documented body."""
    judge = exchange.facts.judge if exchange.facts is not None else None
    if judge is not None:
        judge.check(exchange)
