"""422 items: one constructor per row of docs/contract.md#the-422-vocabulary (pydantic v1's).

Every field or header problem of a request is reported as one of these, all of them in one
422 answer, so a client fixes its request in one round trip. The integer rows serve mock
mode's own API (`POST /mock/token`'s `ttl`), in the same vocabulary.
"""

from __future__ import annotations

from typing import TypedDict

__all__ = [
    "Loc",
    "Problem",
    "confluence_not_found",
    "lone_surrogate",
    "missing",
    "none_not_allowed",
    "not_a_string",
    "not_a_uuid",
    "not_an_integer",
    "number_too_large",
    "number_too_small",
    "too_short",
    "unknown_scenario",
    "url_extra",
    "url_host_invalid",
    "url_host_refused",
    "url_scheme_invalid",
    "url_scheme_not_permitted",
]

Loc = tuple[str, ...]


class Problem(TypedDict):
    loc: list[str | int]
    msg: str
    type: str


def _problem(loc: Loc, msg: str, type_: str) -> Problem:
    return {"loc": list(loc), "msg": msg, "type": type_}


def missing(loc: Loc) -> Problem:
    return _problem(loc, "field required", "value_error.missing")


def none_not_allowed(loc: Loc) -> Problem:
    return _problem(loc, "none is not an allowed value", "type_error.none.not_allowed")


def not_a_string(loc: Loc) -> Problem:
    return _problem(loc, "str type expected", "type_error.str")


def too_short(loc: Loc) -> Problem:
    return _problem(
        loc, "ensure this value has at least 1 characters", "value_error.any_str.min_length"
    )


def lone_surrogate(loc: Loc) -> Problem:
    # No pydantic v1 validator refuses it, but one that encoded the str would raise
    # UnicodeEncodeError, which v1 reports as `value_error.unicodeencode` (its rule: the
    # exception's name without "Error", lower-cased). The message is fixed rather than the
    # exception's text, which would give the position of the character in a secret.
    return _problem(
        loc, "string contains a lone surrogate code point", "value_error.unicodeencode"
    )


def not_a_uuid(loc: Loc) -> Problem:
    return _problem(loc, "value is not a valid uuid", "type_error.uuid")


def not_an_integer(loc: Loc) -> Problem:
    return _problem(loc, "value is not a valid integer", "type_error.integer")


def number_too_small(loc: Loc, limit: int) -> Problem:
    return _problem(
        loc, f"ensure this value is greater than or equal to {limit}", "value_error.number.not_ge"
    )


def number_too_large(loc: Loc, limit: int) -> Problem:
    return _problem(
        loc, f"ensure this value is less than or equal to {limit}", "value_error.number.not_le"
    )


def url_scheme_invalid(loc: Loc) -> Problem:
    return _problem(loc, "invalid or missing URL scheme", "value_error.url.scheme")


def url_scheme_not_permitted(loc: Loc) -> Problem:
    return _problem(loc, "URL scheme not permitted", "value_error.url.scheme")


def url_host_invalid(loc: Loc) -> Problem:
    return _problem(loc, "URL host invalid", "value_error.url.host")


def url_host_refused(loc: Loc, sentence: str) -> Problem:
    return _problem(loc, sentence, "value_error.url.host")


def url_extra(loc: Loc, extra: str) -> Problem:
    # pydantic v1's UrlExtraError, word for word
    msg = f"URL invalid, extra characters found after valid URL: {extra!r}"
    return _problem(loc, msg, "value_error.url.extra")


def confluence_not_found(loc: Loc, sentence: str) -> Problem:
    return _problem(loc, sentence, "value_error.confluence_not_found")


def unknown_scenario(sentence: str) -> Problem:
    return _problem(("header", "prefer"), sentence, "value_error.scenario")
