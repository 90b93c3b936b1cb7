"""The probe client: builds the run's valid request, sends changed copies of it, keeps the answers.

A probe asks for the valid request with one thing changed (a header left out, a field emptied,
another content-type) and gets back an `Exchange`; every exchange also goes to `on_exchange`,
which judges it by all of `conformance.rules`::

    exchange = client.post(client.body(username=""), tenant="not-a-uuid")
    exchange = client.send("OPTIONS", headers={"Origin": "https://x.example"})
    exchange = client.send(headers=[("x-tenantid", t), ("x-tenantid", t)], body=...)  # repeats

A header given as None is left out, even one the HTTP client would add by itself (`Accept`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import requests
from urllib3 import HTTPHeaderDict

from conformance.deployment import Deployment
from conformance.exchange import Exchange, RunFacts
from conformance.spec import Spec
from conformance.tokens import Tokens
from conformance.vocabulary import OPERATION_PATH

__all__ = ["DEFAULT", "MISSING", "ProbeClient"]


# `client.body(field=MISSING)` leaves the field out; `client.headers(token=None)` leaves a
# header out, while DEFAULT (the default) keeps the run's own value.
MISSING: Any = object()
DEFAULT: Any = object()

# Headers as a mapping (None leaves one out), or as lines whose names may repeat.
Headers = Mapping[str, str | None] | Sequence[tuple[str, str]]


class ProbeClient:
    """Sends probe requests to the target and hands every exchange to `on_exchange`."""

    def __init__(
        self,
        *,
        base_url: str,
        tokens: Tokens,
        spec: Spec,
        body: dict[str, Any],
        facts: RunFacts,
        pinned: dict[str, Any] | None = None,
        session: requests.Session,
        timeout: float,
        on_exchange: Callable[[Exchange], None],
        scenario: str | None = None,
        deployment: Deployment | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.tenant = tokens.tenant
        self.spec = spec
        self.valid_body = body
        # The fields the run pins (--body-file) over any example body.
        self.pinned = dict(pinned or {})
        # What the rules know of the run: its tenant and token, what a valid request yields.
        self.facts = facts
        self.session = session
        self.timeout = timeout
        self.on_exchange = on_exchange
        self.scenario = scenario
        self.deployment = deployment or Deployment()
        # The probe being run: the origin of its exchanges, and its last one for the report.
        self.current = ""
        self.last: Exchange | None = None
        self.sent = 0
        self._mock: bool | None = None

    # Building requests

    def headers(
        self,
        *,
        token: str | None = DEFAULT,
        tenant: str | None = DEFAULT,
        content_type: str | None = "application/json",
        **extra: str | None,
    ) -> dict[str, str | None]:
        """The headers of a valid request, with any of them replaced or (None) left out.

        `extra` adds headers, underscores standing for hyphens: `accept="text/html"`; None
        leaves out one the HTTP client would send by itself (`accept=None`).
        """
        headers: dict[str, str | None] = {}
        token = self.tokens.valid if token is DEFAULT else token
        tenant = self.tenant if tenant is DEFAULT else tenant
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if tenant is not None:
            headers["x-tenantid"] = tenant
        if content_type is not None:
            headers["Content-Type"] = content_type
        if self.scenario is not None:
            headers["prefer"] = f"example={self.scenario}"
        headers.update({name.replace("_", "-"): value for name, value in extra.items()})
        return headers

    def body(self, **changes: Any) -> dict[str, Any]:
        """The valid body with fields replaced; `MISSING` leaves one out."""
        body = dict(self.valid_body)
        for name, value in changes.items():
            if value is MISSING:
                body.pop(name, None)
            else:
                body[name] = value
        return body

    # Sending

    def send(
        self,
        method: str = "POST",
        *,
        headers: Headers | None = None,
        content: bytes | Iterable[bytes] | None = None,
        body: Any = MISSING,
        path: str = OPERATION_PATH,
    ) -> Exchange:
        """Send one request: `body` JSON-encoded, or `content` as given (an iterable: chunked)."""
        if body is not MISSING:
            content = json.dumps(body).encode("utf-8")
        sent_body = content if isinstance(content, bytes) else None
        if content is not None and not isinstance(content, bytes):
            chunks = list(content)
            sent_body = b"".join(chunks)
            content = iter(chunks)
        headers = self.headers() if headers is None else headers
        url = self.base_url + path
        if isinstance(headers, Mapping):
            response = self.session.request(
                method,
                url,
                # None leaves a session header out, as requests documents; its types omit it
                headers=dict(headers),  # type: ignore[arg-type]
                data=content,
                timeout=self.timeout,
                allow_redirects=False,
            )
        else:
            response = self._send_lines(method, url, headers, sent_body)
        self.sent += 1
        exchange = Exchange.from_requests(
            response, sent_body=sent_body, origin=f"probe {self.current}", facts=self.facts
        )
        self.last = exchange
        self.on_exchange(exchange)
        return exchange

    def _send_lines(
        self, method: str, url: str, lines: Sequence[tuple[str, str]], content: bytes | None
    ) -> requests.Response:
        # requests keeps headers in a dict, one value per name; urllib3 writes one line per
        # value of an HTTPHeaderDict, and the prepared request keeps it for the report.
        prepared = requests.Request(method, url, data=content).prepare()
        headers = HTTPHeaderDict()
        given = {name.lower() for name, _ in lines}
        # The session's own headers (Accept, User-Agent…), as every other probe sends them:
        # the request differs from those only by its repeated lines.
        for name, value in self.session.headers.items():
            if name.lower() not in given and value is not None:
                headers.add(name, value)
        for name, value in lines:
            headers.add(name, value)
        if content is not None:
            headers["Content-Length"] = str(len(content))
        # urllib3's HTTPHeaderDict keeps the repeated lines; requests types only its own dict
        prepared.headers = headers  # type: ignore[assignment]
        return self.session.send(prepared, timeout=self.timeout, allow_redirects=False)

    def post(self, body: Any = DEFAULT, **header_changes: Any) -> Exchange:
        """POST a JSON body (the valid one by default) with the valid headers, some changed."""
        return self.send(
            headers=self.headers(**header_changes),
            body=self.valid_body if body is DEFAULT else body,
        )

    @property
    def is_mock(self) -> bool:
        """Whether the target says it answers in mock mode (docs/contract.md#mock-mode)."""
        if self._mock is None:
            exchange = self.post()
            self._mock = exchange.response.headers.get("x-spacegate-mode", "").lower() == "mock"
        return self._mock
