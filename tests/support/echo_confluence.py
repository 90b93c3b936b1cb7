"""A Confluence Cloud v2 stand-in that echoes the caller's Basic credentials back.

It answers `/wiki/api/v2/spaces` with a valid one-space listing, and puts the username, the
API token or the whole `user:token` pair, written in a chosen form, in a chosen place of its
answer: the body, a header value, a header name, the status line's reason phrase, or the
`next` link (so that the client's next request carries it too). It exists to prove that a
recording never keeps a credential, whatever a hostile or careless server does with it.

    with EchoConfluence() as confluence:
        confluence.echo = Echo(place="header", secret="api_token", form=str.upper)
        ...  # python -m mocks record --instance-url {confluence.cloud_root} ...
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal
from urllib.parse import parse_qs, urlsplit

__all__ = ["Echo", "EchoConfluence"]

Place = Literal["body", "header", "header-name", "reason", "next"]
Secret = Literal["api_token", "username", "credentials"]


@dataclass(frozen=True)
class Echo:
    place: Place
    secret: Secret
    form: Callable[[str], str]  # the secret's text -> what the server writes


def _credentials(header: str | None) -> dict[str, str]:
    scheme, _, encoded = (header or "").partition(" ")
    try:
        pair = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return {}
    username, _, token = pair.partition(":")
    if scheme.lower() != "basic" or not token:
        return {}
    return {"username": username, "api_token": token, "credentials": pair}


def _page(name: str, next_link: str | None) -> bytes:
    # Built as text, so that an echo already written as JSON escapes arrives as written.
    links = f'{{"next":"{next_link}"}}' if next_link else "{}"
    space = (
        '{"id":"98306","key":"KB","name":"Echo ' + name + '","type":"global",'
        '"status":"current","_links":{"webui":"/spaces/KB"}}'
    )
    return f'{{"results":[{space}],"_links":{links}}}'.encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        if split.path != "/wiki/api/v2/spaces":
            self._send(404, b'{"errors":[{"status":404,"code":"NOT_FOUND"}]}')
            return
        echo = self.server.echo
        found = _credentials(self.headers.get("Authorization"))
        if echo is None or echo.secret not in found:
            self._send(401, b'{"message":"no credentials to echo"}')
            return
        text = echo.form(found[echo.secret])
        first = "cursor" not in parse_qs(split.query)
        next_link = f"/wiki/api/v2/spaces?cursor={text}" if echo.place == "next" and first else None
        body = _page(text if echo.place == "body" else "space", next_link)
        headers = []
        if echo.place == "header":
            headers.append(("X-Echo", text))
        if echo.place == "header-name":
            headers.append((f"X-Echo-{text}", "1"))
        self._send(200, body, headers, reason=text if echo.place == "reason" else None)

    def _send(
        self,
        status: int,
        body: bytes,
        headers: list[tuple[str, str]] | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        # send_header writes Latin-1: a value made of UTF-8 bytes read as Latin-1 goes out as
        # those UTF-8 bytes, which the client reads back as Latin-1 (mojibake).
        self.send_response(status, reason)
        for name, value in headers or []:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # request lines would show the echoed credential


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    echo: Echo | None = None


class EchoConfluence:
    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def echo(self) -> Echo | None:
        return self._server.echo

    @echo.setter
    def echo(self, echo: Echo | None) -> None:
        self._server.echo = echo

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def cloud_root(self) -> str:
        return f"{self.url}/wiki/rest/api"

    def __enter__(self) -> EchoConfluence:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
