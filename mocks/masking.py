"""What the journal shows of a request: everything, except secrets, which become `***`.

A secret is found by its name, in a header, a body field (at any depth) or a query parameter:
any name holding `authorization`, `cookie`, `token`, `secret`, `passw`, `api-key`,
`credential` or `session` (so `api_token`, `proxy-authorization`, `x-api-key`…). The
values so found are then looked for wherever else they appear (a bearer token pasted into a
field, an api_token in the path) and masked there too, so the journal never holds one.

    masked = Masked.of(path, query, headers, body)   # .path .query .headers .body .body_text
    text = masked.json(entry)                        # `entry` as JSON, no secret left in it

A body that is not JSON is kept as text, its secret-named `"name": value` and `name=value`
pairs masked. The common case costs little: names are judged once each (cached), and the
values found are looked for in the finished JSON text, at C speed, before anything is
walked again.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from service import json_text

__all__ = ["MASK", "Masked", "is_secret_name"]

MASK = "***"
_SECRET_WORDS = r"authorization|cookie|token|secret|passw|api[-_]?key|credential|session"  # noqa: S105
_SECRET_NAME = re.compile(_SECRET_WORDS, re.IGNORECASE)
# `Bearer <token>`: the scheme is no secret, and tells a client's author what was sent.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9._~+-]*) +\S")
# A secret-named pair in text that is not JSON: "api_token": "…", api_token=…
_SECRET_PAIR = re.compile(
    rf"""(?P<name>"?[\w.-]*(?:{_SECRET_WORDS})[\w.-]*"?\s*[:=]\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"?|[^\s,&;}\]]*)""",
    re.IGNORECASE,
)
# Shorter values would mangle unrelated text (a one-letter password is masked by name alone).
_MIN_SECRET_LENGTH = 4


@functools.lru_cache(maxsize=1024)
def is_secret_name(name: str) -> bool:
    return _SECRET_NAME.search(name) is not None


@dataclass(frozen=True)
class Masked:
    path: str
    query: str
    headers: dict[str, str | list[str]]
    body: object  # the JSON value, or None when there is no body or it is not JSON
    body_text: str | None  # the body as text when it is not JSON
    secrets: tuple[str, ...]  # the values masked by name, longest first

    @classmethod
    def of(cls, path: str, query: str, headers: Iterable[tuple[str, str]], body: bytes) -> Masked:
        found: set[str] = set()
        shown: dict[str, str | list[str]] = {}
        for name, value in headers:
            if is_secret_name(name):
                value = _masked_header(value, found)
            earlier = shown.get(name)
            if earlier is None:
                shown[name] = value
            elif isinstance(earlier, list):
                earlier.append(value)
            else:
                # A header sent twice stays two values: the contract treats that as a mistake.
                shown[name] = [earlier, value]
        parsed: object = None
        text: str | None = None
        if body:
            try:
                parsed = _masked_value(json.loads(body), found)
            except (ValueError, RecursionError):
                text = _SECRET_PAIR.sub(_mask_pair, body.decode("utf-8", "replace"))
        if query:
            pairs = []
            for name, value in parse_qsl(query, keep_blank_values=True):
                if is_secret_name(name):
                    found.add(value)
                    value = MASK
                pairs.append((name, value))
            query = urlencode(pairs, safe="*")
        secrets = sorted((s for s in found if len(s) >= _MIN_SECRET_LENGTH), key=len, reverse=True)
        return cls(path, query, shown, parsed, text, tuple(secrets))

    def json(self, entry: dict[str, object]) -> str:
        """`entry` (built from this request's parts) as JSON, every secret found masked."""
        text = json_text.dumps(entry)
        if any(_json_form(secret) in text for secret in self.secrets):
            # A value masked by name appears elsewhere too: mask it there, string by string.
            text = json_text.dumps(_scrubbed(entry, self.secrets))
        return text


@functools.lru_cache(maxsize=256)
def _json_form(secret: str) -> str:
    # How the secret reads inside a JSON string (quotes, backslashes, controls escaped).
    return json_text.dumps(secret)[1:-1]


def _masked_header(value: str, found: set[str]) -> str:
    found.add(value)
    scheme = _SCHEME.match(value)
    if scheme is None:
        return MASK
    found.add(value[scheme.end() - 1 :].strip())
    return f"{scheme.group(1)} {MASK}"


def _masked_value(value: object, found: set[str]) -> object:
    if isinstance(value, dict):
        masked: dict[str, object] = {}
        for key, item in value.items():
            if is_secret_name(key):
                _collect(item, found)
                masked[key] = MASK
            else:
                masked[key] = _masked_value(item, found)
        return masked
    if isinstance(value, list):
        return [_masked_value(item, found) for item in value]
    return value


def _collect(value: object, found: set[str]) -> None:
    if isinstance(value, str):
        found.add(value)
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, found)


def _mask_pair(match: re.Match[str]) -> str:
    value = match.group("value")
    return match.group("name") + (f'"{MASK}"' if value.startswith('"') else MASK)


def _scrubbed(value: object, secrets: tuple[str, ...]) -> object:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {_scrubbed(k, secrets): _scrubbed(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item, secrets) for item in value]
    return value
