"""JSON text that UTF-8 can always encode, whatever strings a caller sent.

A JSON body may carry a lone surrogate (`"\\ud800"`): Python's `json` decodes it to a `str`
that UTF-8 refuses to encode, so `json.dumps(..., ensure_ascii=False)` of such a value, once
written to a socket or a UTF-8 stream, fails far from where the value came in. Every answer
body and log line spacegate writes goes through `dumps`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

__all__ = ["dumps", "dumps_compact", "dumps_compact_bytes"]

# Dataclasses and datetimes go to `default`, as json.dumps sends them, not orjson's own forms.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def dumps(value: object, **options: Any) -> str:
    """`json.dumps(value, ensure_ascii=False)`, with any lone surrogate written as its escape."""
    text = json.dumps(value, ensure_ascii=False, **options)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A surrogate can only sit inside a JSON string, where `\udXXX` (what backslashreplace
        # writes) is JSON's own escape for it: the text keeps its meaning and is valid UTF-8.
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def dumps_compact_bytes(value: object, default: Callable[[Any], Any] | None = None) -> bytes:
    """`dumps(value, default=default)` without spaces after separators, as UTF-8, written by
    orjson (some 5 times faster: a log line is written per request, a listing's page by page)
    wherever orjson can write the value; a lone surrogate, an integer past 64 bits or a key
    that is not a string are left to `dumps`, which writes them as before (a surrogate as
    JSON's escape)."""
    try:
        return orjson.dumps(value, default=default, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError included
        return dumps(value, default=default, separators=(",", ":")).encode()


def dumps_compact(value: object, default: Callable[[Any], Any]) -> str:
    """`dumps_compact_bytes` as text."""
    return dumps_compact_bytes(value, default).decode()
