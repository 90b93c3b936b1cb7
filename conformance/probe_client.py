"""The probe client: builds the run's valid request, sends changed copies of it, keeps the answers.

A probe asks for the valid request with one thing changed (a header left out, a field emptied,
another content-type) and gets back an `Exchange`; every exchange also goes to `on_exchange`,
which judges it by all of `conformance.rules`::

    exchange = client.post(client.body(username=""), tenant="not-a-uuid")
    exchange = client.send("OPTIONS", headers={"Origin": "https://x.example"})
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import requests

from conformance.exchange import Exchange, RunFacts
from conformance.spec import Spec
from conformance.tokens import Tokens
from conformance.vocabulary import OPERATION_PATH

__all__ = ["DEFAULT", "MISSING", "ProbeClient"]


# `client.body(field=MISSING)` leaves the field out; `client.headers(token=None)` leaves a
# header out, while DEFAULT (the default) keeps the run's own value.
MISSING: Any = object()
DEFAULT: Any = object()


class ProbeClient:
    """Sends probe requests to the target and hands every exchange to `on_exchange`."""

    def __init__(
        self,
        *,
        base_url: str,
        tokens: Tokens,
        spec: Spec,
        body: dict[str, Any],
        body_pinned: bool,
        session: requests.Session,
        timeout: float,
        on_exchange: Callable[[Exchange], None],
        scenario: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.tenant = tokens.tenant
        self.spec = spec
        self.valid_body = body
        self.session = session
        self.timeout = timeout
        self.on_exchange = on_exchange
        self.scenario = scenario
        # What a valid request yields: 200, or the status of the scenario the run names.
        success_status = next(
            (s.status for s in spec.scenarios() if scenario is not None and s.name == scenario),
            200,
        )
        self.facts = RunFacts(
            tenant=tokens.tenant,
            token=tokens.valid,
            judge=spec,
            success_status=success_status,
            body_pinned=body_pinned,
        )
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
        **extra: str,
    ) -> dict[str, str]:
        """The headers of a valid request, with any of them replaced or (None) left out.

        `extra` adds headers, underscores standing for hyphens: `accept="text/html"`.
        """
        headers: dict[str, str] = {}
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
        headers: dict[str, str] | None = None,
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
        response = self.session.request(
            method,
            self.base_url + path,
            headers=headers if headers is not None else self.headers(),
            data=content,
            timeout=self.timeout,
            allow_redirects=False,
        )
        self.sent += 1
        exchange = Exchange.from_requests(
            response, sent_body=sent_body, origin=f"probe {self.current}", facts=self.facts
        )
        self.last = exchange
        self.on_exchange(exchange)
        return exchange

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
