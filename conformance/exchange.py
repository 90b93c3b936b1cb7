"""One request as sent and the answer as received: what every rule judges.

The same shape comes from three places, each with its builder here: the probes and the checks
inside the schemathesis child (a `requests.Response`: `Exchange.from_requests`), and the
schemathesis run's NDJSON events read back by the harness (`Exchange.from_interaction`). Rules
see only this, so one rule function serves them all.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol
from urllib.parse import urlsplit

from requests.structures import CaseInsensitiveDict

__all__ = [
    "NOT_JSON",
    "Exchange",
    "Received",
    "ResponseJudge",
    "RunFacts",
    "SentRequest",
    "header_lines",
    "header_map",
]


class _NotJson:
    def __repr__(self) -> str:
        return "NOT_JSON"


# A body that does not parse; distinct from a JSON `null`.
NOT_JSON: Any = _NotJson()


def header_lines(
    headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None,
) -> tuple[tuple[str, str], ...]:
    """Header lines as sent, one per value: a list value or a repeated name gives several."""
    items = headers.items() if isinstance(headers, Mapping) else (headers or ())
    lines: list[tuple[str, str]] = []
    for name, value in items:
        values = value if isinstance(value, list | tuple) else [value]
        for one in values:
            text = one.decode("latin-1") if isinstance(one, bytes) else str(one)
            lines.append((str(name), text))
    return tuple(lines)


def header_map(
    headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None,
) -> CaseInsensitiveDict[str]:
    """Headers under case-insensitive names; repeated values joined as HTTP allows (RFC 9110)."""
    result: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for name, value in header_lines(headers):
        result[name] = f"{result[name]}, {value}" if name in result else value
    return result


def _parse_json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return NOT_JSON


def _decode(value: Any) -> bytes | None:
    # schemathesis' NDJSON: a string, {"$base64": ...} for bytes, or JSON it decoded already.
    if value is None:
        return None
    if isinstance(value, dict) and "$base64" in value:
        return base64.b64decode(value["$base64"])
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")


class ResponseJudge(Protocol):
    """Judges an answer against the OpenAPI document; raises AssertionError when it breaks it."""

    def check(self, exchange: Exchange) -> None: ...


@dataclass(frozen=True)
class RunFacts:
    """What the rules know about the run: the tenant and token of valid requests, the spec.

    `success_status` is what a valid request yields (200, or the status of the scenario the run
    names); `body_pinned` says whether valid requests carry the caller's real body fields.
    """

    tenant: str
    token: str | None = None
    judge: ResponseJudge | None = field(default=None, compare=False, repr=False)
    success_status: int = 200
    body_pinned: bool = False


@dataclass(frozen=True)
class SentRequest:
    method: str
    url: str
    headers: CaseInsensitiveDict[str] = field(default_factory=CaseInsensitiveDict)
    body: bytes | None = None
    # The header lines as sent, repeats included (empty: one line per entry of `headers`).
    lines: tuple[tuple[str, str], ...] = ()
    # Whether those are all the lines sent: a prepared request's are; schemathesis' report
    # leaves out what the HTTP client adds by itself (Accept, User-Agent).
    lines_complete: bool = False

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @cached_property
    def json(self) -> Any:
        return NOT_JSON if self.body is None else _parse_json(self.body)

    @property
    def api_token(self) -> str | None:
        """The body's `api_token` when the body is a JSON object carrying a string there."""
        body = self.json
        token = body.get("api_token") if isinstance(body, dict) else None
        return token if isinstance(token, str) else None


@dataclass(frozen=True)
class Received:
    status: int
    headers: CaseInsensitiveDict[str] = field(default_factory=CaseInsensitiveDict)
    body: bytes = b""

    @cached_property
    def json(self) -> Any:
        return _parse_json(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def media_type(self) -> str:
        content_type: str = self.headers.get("content-type", "")
        return content_type.split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class Exchange:
    """A request and its answer, with where it came from (`probe …` or `schemathesis …`)."""

    request: SentRequest
    response: Received
    origin: str = ""
    facts: RunFacts | None = None
    # The transport's own response object, for judges that want it (schemathesis' validators).
    raw: Any = field(default=None, compare=False, repr=False)

    @property
    def answer_has_body(self) -> bool:
        # HEAD answers carry headers only (RFC 9110 §9.3.2).
        return self.request.method.upper() != "HEAD"

    @property
    def is_preflight(self) -> bool:
        """A CORS preflight: OPTIONS with `Origin` and `Access-Control-Request-Method`."""
        headers = self.request.headers
        return (
            self.request.method.upper() == "OPTIONS"
            and "origin" in headers
            and "access-control-request-method" in headers
        )

    @property
    def preflight_granted(self) -> bool:
        """A preflight the browser may act on: a 2xx allowing its origin (or `*`).

        Anything else is a refusal, whatever its status, and the contract words refusals.
        """
        allowed = self.response.headers.get("access-control-allow-origin", "").strip()
        origin = self.request.headers.get("origin")
        return (
            self.is_preflight and 200 <= self.response.status < 300 and allowed in (origin, "*")
        )

    @classmethod
    def from_requests(
        cls,
        response: Any,
        *,
        sent_body: bytes | None = None,
        origin: str = "",
        facts: RunFacts | None = None,
    ) -> Exchange:
        """From a `requests.Response` (its `.request` is what went on the wire).

        `sent_body` stands in for a body that was streamed (sent chunked), which the prepared
        request holds only as an exhausted iterator.
        """
        prepared = response.request
        body = prepared.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif body is not None and not isinstance(body, bytes):
            body = sent_body
        return cls(
            request=SentRequest(
                method=str(prepared.method),
                url=str(prepared.url),
                headers=header_map(prepared.headers.items()),
                body=body,
                lines=header_lines(prepared.headers.items()),
                lines_complete=True,
            ),
            response=Received(
                status=response.status_code,
                headers=header_map(response.headers),
                body=response.content or b"",
            ),
            origin=origin,
            facts=facts,
            raw=response,
        )

    @classmethod
    def from_interaction(cls, interaction: Mapping[str, Any], *, origin: str) -> Exchange | None:
        """From one interaction of schemathesis' NDJSON report; None when it lacks either side."""
        request, response = interaction.get("request"), interaction.get("response")
        if not isinstance(request, dict) or not isinstance(response, dict):
            return None
        return cls(
            request=SentRequest(
                method=str(request.get("method", "")),
                url=str(request.get("uri", "")),
                headers=header_map(request.get("headers")),
                body=_decode(request.get("body")),
                lines=header_lines(request.get("headers")),
            ),
            response=Received(
                status=int(response.get("status_code", 0)),
                headers=header_map(response.get("headers")),
                body=_decode(response.get("content")) or b"",
            ),
            origin=origin,
        )
