"""The `Prefer` header (RFC 7240), as Stoplight Prism reads it: `example=<name>`, `code=<status>`,
and the mock's own `delay=<milliseconds>` (Confluence's latency, `mocks.latency`).

    Prefer: example=rate-limited
    Prefer: code=403
    Prefer: respond-async, example="many"; foo=bar
    Prefer: example=many, delay=1500

Preferences are comma-separated `token[=value]`, each possibly followed by `;parameters`;
values may be quoted. Unknown preferences are ignored, as the RFC asks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Preference", "parse_prefer"]


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
