"""Request validation from the spec's schemas, reporting every problem at once.

Connexion's own validators stop at the first error and answer 400 problem+json; the contract
wants one 422 listing every header and body problem in pydantic v1's vocabulary. These
validators plug into Connexion's `validator_map`: the header validator leaves its problems in
the ASGI scope, the body validator adds the body's, then the request rules' (URL policy,
mock scenario), and raises them together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jsonschema_rs
from connexion.datastructures import MediaTypeDict
from connexion.validators import AbstractRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError
from starlette.datastructures import Headers
from starlette.types import Receive, Scope

from service import problems as p
from service.errors import InvalidJson, RequestInvalid
from service.logs import remember_secrets
from service.problems import Loc, Problem

__all__ = [
    "LIST_HEADERS",
    "PARSED_BODY",
    "RequestRule",
    "parse_json_object",
    "schema_problems",
    "validator_map",
]

HEADER_PROBLEMS = "spacegate.header_problems"
# The body as the body validator parsed it, for the operation (service/connexion_app.py).
PARSED_BODY = "spacegate.body"
# Header parameters whose HTTP definition is a comma-separated list (RFC 7240 for Prefer).
LIST_HEADERS = frozenset({"prefer"})

# A rule sees a body that passed the schema where `invalid` does not name a field; it
# returns the problems that need configuration or the mode to find.
RequestRule = Callable[[Mapping[str, Any], Headers, frozenset[Loc]], list[Problem]]

# When a field breaks several keywords, report the most basic one, as pydantic does.
_PRIORITY = ("type", "minLength", "format", "pattern")
_URL_SCHEME = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://")
# json.loads joins a valid pair of escapes into one character: what is left is a lone
# surrogate, which no UTF-8 encoder (requests, a log stream, a socket) will take.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# json.loads builds a decoder on every call that is given an option: this one is built once.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or InvalidJson (400) saying what is wrong with it."""
    if not raw.strip():
        raise InvalidJson("Request body is empty; send a JSON object")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJson(f"Request body is not valid UTF-8 (byte {exc.start})") from None
    try:
        if text.startswith("\ufeff"):  # what json.loads says of it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise InvalidJson(
            f"Request body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise InvalidJson("Request body is nested too deeply") from None
    except ValueError as exc:  # NaN / Infinity
        raise InvalidJson(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(value), "a number"
        )
        raise InvalidJson(f"Request body must be a JSON object, not {kind}")
    return value


def _problem_for(error: ValidationError, loc: Loc) -> Problem:
    if error.validator == "type":
        if error.instance is None:
            return p.none_not_allowed(loc)
        return p.not_a_string(loc)
    if error.validator == "minLength":
        return p.too_short(loc)
    if error.validator == "pattern":
        if loc[0] == "header":
            # The one patterned header is x-tenantid, a UUID. Its schema carries no
            # `format: uuid`, which generated clients turn into a type they cannot send.
            return p.not_a_uuid(loc)
        # The patterned body fields are URLs.
        if not _URL_SCHEME.match(str(error.instance)):
            return p.url_scheme_invalid(loc)
        return p.url_host_invalid(loc)
    return {"loc": list(loc), "msg": error.message, "type": f"value_error.{error.validator}"}


class _Checks(NamedTuple):
    schema: Mapping[str, Any]
    # jsonschema-rs, compiled from the same schema (formats unchecked, as `detailed` leaves
    # them): the verdict on a valid value, the usual case, at a fraction of the cost.
    verdict: jsonschema_rs.Validator | None
    detailed: Draft4Validator  # what is wrong, when the verdict is no


_CHECKS: dict[int, _Checks] = {}


def _checks(schema: Mapping[str, Any]) -> _Checks:
    # The operation's schemas are the same objects on every request: build each validator
    # once. The schema is kept with it, so its id cannot be reused by another object.
    cached = _CHECKS.get(id(schema))
    if cached is None or cached.schema is not schema:
        if len(_CHECKS) > 256:  # schemas copied per request would otherwise pile up
            _CHECKS.clear()
        try:
            verdict = jsonschema_rs.Draft4Validator(dict(schema), validate_formats=False)
        except (ValueError, jsonschema_rs.ReferencingError):  # a schema it cannot compile
            verdict = None
        cached = _CHECKS[id(schema)] = _Checks(schema, verdict, Draft4Validator(schema))
    return cached


def _field_problem(schema: Mapping[str, Any], value: Any, loc: Loc) -> Problem | None:
    if isinstance(value, str) and _SURROGATE.search(value):
        # Refused before the schema's patterns, whose verdict on such a string means nothing.
        return p.lone_surrogate(loc)
    checks = _checks(schema)
    if checks.verdict is not None:
        try:
            if checks.verdict.is_valid(value):
                return None
        except (ValueError, OverflowError):  # a value it cannot take: `detailed` decides
            pass
    errors = list(checks.detailed.iter_errors(value))
    if not errors:
        return None
    errors.sort(key=lambda e: _PRIORITY.index(e.validator) if e.validator in _PRIORITY else 99)
    return _problem_for(errors[0], loc)


def schema_problems(schema: Mapping[str, Any], body: Mapping[str, Any], loc: Loc) -> list[Problem]:
    """One problem per property of `schema` that `body` breaks, in the schema's order."""
    found: list[Problem] = []
    required = set(schema.get("required", ()))
    for name, subschema in schema.get("properties", {}).items():
        field_loc = (*loc, name)
        if name not in body:
            if name in required:
                found.append(p.missing(field_loc))
            continue
        problem = _field_problem(subschema, body[name], field_loc)
        if problem is not None:
            found.append(problem)
    return found


class HeaderValidator(ParameterValidator):
    """Checks header parameters and keeps the problems for the body validator to report.

    A header parameter is one value: sent on two field lines it is a list where a string is
    due (pydantic's `type_error.str`), never "the first one", which a proxy reading the last
    one would disagree with. Only fields that HTTP defines as lists (`LIST_HEADERS`) may
    repeat; their lines are joined as RFC 9110 section 5.3 says a recipient may.
    """

    def validate(self, scope: Scope) -> None:
        headers = Headers(scope=scope)
        found: list[Problem] = []
        for param in self.parameters.get("header", []):
            name = param["name"]
            loc = ("header", name.lower())
            values = headers.getlist(name)
            if not values:
                if param.get("required"):
                    found.append(p.missing(loc))
                continue
            if len(values) > 1 and name.lower() not in LIST_HEADERS:
                found.append(p.not_a_string(loc))
                continue
            value = ", ".join(values)
            problem = _field_problem(param.get("schema", {}), value, loc)
            if problem is not None:
                found.append(problem)
        scope[HEADER_PROBLEMS] = found


def _body_validator(rules: Sequence[RequestRule]) -> type[AbstractRequestBodyValidator]:
    class BodyValidator(AbstractRequestBodyValidator):
        async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
            messages = []
            chunks = []
            more_body = True
            while more_body:
                message = await receive()
                messages.append(message)
                chunks.append(message.get("body", b""))
                more_body = message.get("more_body", False)
            body = parse_json_object(b"".join(chunks))
            # The first place the api_token is known: from here on, no log line may show it.
            remember_secrets(body.get("api_token"))
            found = list(scope.get(HEADER_PROBLEMS, ()))
            found += schema_problems(self._schema, body, ("body",))
            invalid = frozenset(tuple(problem["loc"]) for problem in found)
            headers = Headers(scope=scope)
            for rule in rules:
                found += rule(body, headers, invalid)
            if found:
                raise RequestInvalid(found)
            scope[PARSED_BODY] = body
            return self._insert_messages(receive, messages=messages), scope

    return BodyValidator


def validator_map(rules: Sequence[RequestRule] = ()) -> dict[str, Any]:
    """Connexion's `validator_map` for the contract; `rules` run after the schema checks."""
    # The map is merged shallowly: this "body" entry replaces Connexion's whole body map,
    # which is what we want, since the operation consumes JSON alone.
    return {
        "parameter": HeaderValidator,
        "body": MediaTypeDict({"*/*json": _body_validator(rules)}),
    }
