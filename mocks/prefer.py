"""The `Prefer` header (RFC 7240), as Stoplight Prism reads it: `example=<name>`, `code=<status>`,
and the mock's own `delay=<milliseconds>` (Confluence's latency, `mocks.latency`).

    Prefer: example=rate-limited
    Prefer: code=403
    Prefer: respond-async, example="many"; foo=bar
    Prefer: example=many, delay=1500

Preferences are comma-separated `token[=value]`, each possibly followed by `;parameters`;
values may be quoted. Unknown preferences are ignored, as the RFC asks.

Prism's query form is read too, for clients that cannot set a header (a link, an <img>):

    POST /v2/confluence/space-listing?__example=rate-limited
    POST /v2/confluence/space-listing?__code=403

The header wins: the query counts only when `Prefer` names neither an example nor a code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl

__all__ = ["Preference", "parse_prefer", "parse_query", "request_preference"]

_QUERY_NAMES = {"__example": "example", "__code": "code"}


@dataclass(frozen=True)
class Preference:
    example: str | None = None
    code: str | None = None
    delay: str | None = None  # as written; mocks.latency reads and bounds it


_HONOURED = frozenset({"example", "code", "delay"})


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def parse_prefer(values: Iterable[str]) -> Preference:
    """The first `example`, `code` and `delay` among all `Prefer` header values."""
    found: dict[str, str] = {}
    for value in values:
        for preference in value.split(","):
            token, _, argument = preference.split(";", 1)[0].partition("=")
            name = token.strip().lower()
            if name in _HONOURED and name not in found:
                found[name] = _unquote(argument)
    return Preference(
        example=found.get("example"), code=found.get("code"), delay=found.get("delay")
    )


def parse_query(query_string: bytes) -> Preference:
    """The first `__example` and the first `__code` of a query string (Prism's names).

    An empty value counts, as `example=` does in the header: it names no scenario.
    """
    found: dict[str, str] = {}
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        key = _QUERY_NAMES.get(name)
        if key is not None and key not in found:
            found[key] = value
    return Preference(example=found.get("example"), code=found.get("code"))


def request_preference(prefer_values: Iterable[str], query_string: bytes) -> Preference:
    """What a request prefers: its `Prefer` header's example or code, else its query's (with
    the header's delay either way)."""
    preference = parse_prefer(prefer_values)
    if preference.example is None and preference.code is None and query_string:
        return replace(parse_query(query_string), delay=preference.delay)
    return preference
