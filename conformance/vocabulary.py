"""The words of docs/contract.md that the rules check against, in one place.

Nothing here imports the service: the harness judges any implementation, so it carries its own
copy of the contract's tables (status -> `code`, the 422 vocabulary) rather than reading ours.
"""

from __future__ import annotations

import re

__all__ = [
    "BODY_FIELDS",
    "BUSINESS_422_TYPES",
    "CANONICAL_UUID",
    "CORS_EXPOSED_HEADERS",
    "CORS_REQUEST_HEADERS",
    "DOCUMENTED_HEADERS",
    "ERROR_CODES",
    "MAX_BODY_BYTES",
    "MOCK_DEVELOPMENT_SECRET",
    "OPERATION_METHOD",
    "OPERATION_PATH",
    "SECRET_ECHO_MIN_LENGTH",
    "SPACE_REQUIRED_FIELDS",
    "SPACE_WORD",
    "SPACE_WORD_FIELDS",
    "VALIDATION_LOCATIONS",
    "VALIDATION_MESSAGES",
    "business_422_types",
    "is_business_422_type",
    "same_uuid",
]

OPERATION_PATH = "/v2/confluence/space-listing"
OPERATION_METHOD = "POST"

# The request body's required fields, in the order docs/contract.md#request-body lists them.
BODY_FIELDS: tuple[str, ...] = ("instance_url", "web_url_instance", "username", "api_token")
# Header parameters a 422 item may point at (names compared case-insensitively, as HTTP does).
DOCUMENTED_HEADERS: tuple[str, ...] = ("x-tenantid", "prefer")

MAX_BODY_BYTES = 64 * 1024

# docs/contract.md#error-table: the `code` word(s) each status carries. 400 `cors_refused` answers
# only a CORS preflight, which is an OPTIONS request: see `error_body_has_detail_and_code`.
ERROR_CODES: dict[int, frozenset[str]] = {
    400: frozenset({"invalid_json"}),
    401: frozenset({"invalid_token"}),
    403: frozenset({"tenant_mismatch", "confluence_credentials_rejected"}),
    404: frozenset({"not_found"}),
    405: frozenset({"method_not_allowed"}),
    408: frozenset({"request_timeout"}),
    413: frozenset({"body_too_large"}),
    415: frozenset({"unsupported_media_type"}),
    429: frozenset({"confluence_rate_limited"}),
    500: frozenset({"internal_error"}),
    502: frozenset({"confluence_bad_gateway"}),
    504: frozenset({"confluence_timeout"}),
}

# The 422 vocabulary (pydantic v1's words). A type maps to the messages it may carry; None means
# "a sentence" (the contract lets the implementation word it).
VALIDATION_MESSAGES: dict[str, frozenset[str] | None] = {
    "value_error.missing": frozenset({"field required"}),
    "type_error.none.not_allowed": frozenset({"none is not an allowed value"}),
    "type_error.str": frozenset({"str type expected"}),
    "value_error.any_str.min_length": frozenset({"ensure this value has at least 1 characters"}),
    "type_error.uuid": frozenset({"value is not a valid uuid"}),
    "value_error.url.scheme": frozenset(
        {"invalid or missing URL scheme", "URL scheme not permitted"}
    ),
    "value_error.url.host": None,
    "value_error.url.extra": None,  # pydantic's sentence quotes the query or fragment
    "value_error.confluence_not_found": None,
    "value_error.scenario": None,
    "value_error.unicodeencode": frozenset({"string contains a lone surrogate code point"}),
}

# Where each type may point: (location, name) pairs; header names lower-case.
_ANY_BODY_FIELD = frozenset(("body", name) for name in BODY_FIELDS)
_URL_FIELDS = frozenset({("body", "instance_url"), ("body", "web_url_instance")})
VALIDATION_LOCATIONS: dict[str, frozenset[tuple[str, str]]] = {
    "value_error.missing": _ANY_BODY_FIELD | {("header", "x-tenantid")},
    "type_error.none.not_allowed": _ANY_BODY_FIELD,
    "type_error.str": _ANY_BODY_FIELD | {("header", "x-tenantid")},  # the header sent twice
    "value_error.any_str.min_length": _ANY_BODY_FIELD,
    "type_error.uuid": frozenset({("header", "x-tenantid")}),
    "value_error.url.scheme": _URL_FIELDS,
    "value_error.url.host": _URL_FIELDS,
    "value_error.url.extra": frozenset({("body", "web_url_instance")}),
    "value_error.confluence_not_found": frozenset({("body", "instance_url")}),
    "value_error.scenario": frozenset({("header", "prefer")}),
    "value_error.unicodeencode": _ANY_BODY_FIELD,
}

# "Business 422s": refusals of a schema-valid request that the contract allows
# (docs/contract.md#business-422s).
BUSINESS_422_TYPES: tuple[str, ...] = (
    "value_error.url.",  # a prefix: every URL rule that needs configuration or the network
    "value_error.confluence_not_found",
    "value_error.scenario",
)

SPACE_REQUIRED_FIELDS: tuple[str, ...] = ("key", "name", "type", "status")
# docs/contract.md#type-and-status: open sets of lower-case words, whole values (fullmatch: a
# pattern's `$` would let a trailing newline through in Python).
SPACE_WORD_FIELDS: tuple[str, ...] = ("type", "status")
SPACE_WORD = re.compile(r"[a-z][a-z_]*")

# docs/contract.md#cors: what a granted preflight allows, and what answers expose to the page.
CORS_REQUEST_HEADERS: tuple[str, ...] = ("authorization", "content-type", "x-tenantid", "prefer")
CORS_EXPOSED_HEADERS: tuple[str, ...] = ("retry-after", "www-authenticate", "x-request-id")

# The development secret spacegate's mock verifies tokens with unless started with its own key
# (docs/contract.md#mock-mode): published, so a run against a mock can name it.
MOCK_DEVELOPMENT_SECRET = "spacegate-development-secret-not-for-production"  # noqa: S105

# No error answer echoes a submitted api_token; checked for tokens of 8 characters or more,
# since shorter ones collide with ordinary words of a message
# (docs/contract.md#secrets-in-answers).
SECRET_ECHO_MIN_LENGTH = 8

CANONICAL_UUID = re.compile(
    r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
)


def is_business_422_type(type_: object) -> bool:
    """Whether a 422 item's `type` is one the contract allows for a schema-valid request.

    docs/contract.md#business-422s
    """
    if not isinstance(type_, str):
        return False
    return any(
        type_.startswith(word) if word.endswith(".") else type_ == word
        for word in BUSINESS_422_TYPES
    )


def business_422_types(body: object) -> list[str] | None:
    """The item types of a 422 body whose every item is a business 422, sorted; else None.

    That is the one refusal docs/contract.md#business-422s allows for a schema-valid request: a
    body listing any other problem (or none) is not a business refusal.
    """
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(detail, list) or not detail:
        return None
    types = [item.get("type") if isinstance(item, dict) else None for item in detail]
    if not all(is_business_422_type(type_) for type_ in types):
        return None
    return sorted({str(type_) for type_ in types})


def same_uuid(left: object, right: object) -> bool:
    """Canonical UUIDs compared as values (case ignored), as the contract compares tenants."""
    return (
        isinstance(left, str)
        and isinstance(right, str)
        and bool(CANONICAL_UUID.match(left))
        and left.lower() == right.lower()
    )
