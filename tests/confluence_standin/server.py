"""The stand-in's HTTP side: routing, authentication, personas and the threaded server.

`_Site.answer()` decides what to say (a `Reply`, no I/O); `_Handler` says it on the wire,
including the two timed behaviours (a delay before the status line, a body that trickles).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import contextlib
import hmac
import json
import select
import socket
import socketserver
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from xml.sax.saxutils import escape

from .datasets import (
    Flavor,
    Sized,
    expected_space,
    ordered_spaces,
    persona_of,
    v1_space,
    v2_space,
)

__all__ = ["VALID_TOKEN", "RecordedRequest", "StandIn"]

# A public test value: printing it is fine, but the server never logs what clients send.
VALID_TOKEN = "standin-api-token-0123456789"

_JSON = "application/json;charset=UTF-8"
_TEXT = "text/plain;charset=UTF-8"
_HTML = "text/html;charset=UTF-8"
_XML = "application/xml"

# Path -> (flavor, context path). Exact paths only: anything else is Confluence's XML 404.
_ROUTES: dict[str, tuple[Flavor, str]] = {
    "/wiki/api/v2/spaces": ("v2", "/wiki"),
    "/wiki/rest/api/space": ("v1", "/wiki"),
    "/rest/api/space": ("dc", ""),
    "/confluence/rest/api/space": ("dc", "/confluence"),
}

_DEFAULT_LIMIT = 25
_MAX_LIMIT: dict[Flavor, int] = {"v2": 250, "v1": 500, "dc": 25}
_FORCED_PAGE_SIZE = {"cycle": 1, "runaway": 1, "next-other-host": 1, "base-other-host": 1}
_V1_FORMS_PAGE_SIZE = 10
_EVIL_HOST = "evil.example"
_SLOW_SECONDS = 30.0
_TRICKLE_BYTES = 120
_TRICKLE_INTERVAL = 0.5
_MAX_DRAINED_BODY = 1 << 20
_MAX_RECORDED = 10_000
# Rendered pages kept, by their bytes: enough for every page of a 100,000-space benchmark.
_CACHED_PAGE_BYTES = 256 * 1024 * 1024
# How long a `throttle-at-<S>` persona answers 429 once it has started.
THROTTLE_SECONDS = 0.5

_RATE_LIMIT_HEADERS = [
    ("X-RateLimit-Limit", "100"),
    ("X-RateLimit-Remaining", "0"),
    ("X-RateLimit-FillRate", "10"),
    ("X-RateLimit-Interval-Seconds", "1"),
]
_LEGACY_401 = (
    "Basic authentication with passwords is deprecated.  For more information, see: "
    "https://developer.atlassian.com/cloud/confluence/deprecation-notice-basic-auth/"
)
_TOMCAT_401 = """<!doctype html><html lang="en"><head><title>HTTP Status 401 \u2013 Unauthorized\
</title><style type="text/css">body {font-family:Tahoma,Arial,sans-serif;}</style></head><body>\
<h1>HTTP Status 401 \u2013 Unauthorized</h1><hr class="line" /><p><b>Type</b> Status Report</p>\
<p><b>Message</b> AUTHENTICATED_FAILED</p><p><b>Description</b> The request has not been \
applied to the target resource because it lacks valid authentication credentials for that \
resource.</p><hr class="line" /><h3>Apache Tomcat/9.0.82</h3></body></html>"""
_LOGIN_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">\
<title>Log in with Atlassian account</title></head><body><div id="root">\
<form id="form-login" method="post" action="/login"><label for="username">Email</label>\
<input id="username" name="username" type="email"><button type="submit">Continue</button>\
</form></div></body></html>"""
_UNAVAILABLE_PAGE = """<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>\
<body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request.\
</p></body></html>"""


class _Headers(dict[str, str]):
    """Request headers under lower-case names, looked up case-insensitively.

    Its repr hides the Authorization value so a failing assertion never prints credentials.
    """

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(name.lower(), default)

    def __repr__(self) -> str:
        shown = {k: ("<redacted>" if k == "authorization" else v) for k, v in self.items()}
        return repr(shown)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stand-in received it; `username` comes from Basic auth, if any.

    `in_flight` counts the requests of the same username being answered when it arrived,
    itself included: the concurrency one listing puts on Confluence. `status` is what it was
    answered, `at` when it arrived (time.monotonic()).
    """

    method: str
    path_with_query: str
    headers: dict[str, str]
    username: str | None
    in_flight: int = 1
    status: int | None = None
    at: float = 0.0


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0  # seconds to wait before the status line
    trickle: bytes = b""  # sent after `body`, one byte per _TRICKLE_INTERVAL


@dataclass(frozen=True)
class _Call:
    persona: str
    flavor: Flavor
    context: str  # "/wiki" on Cloud, "" or "/confluence" on Data Center
    host: str  # the Host header as sent: links point back where the client came from
    target: str  # path and query exactly as requested
    path: str
    query: dict[str, str]
    port: int

    @property
    def origin(self) -> str:
        return f"http://{self.host}"

    @property
    def other_origin(self) -> str:
        # The same server under another name, so "another host" is reachable but distinct.
        hostname = self.host.rsplit(":", 1)[0] if not self.host.endswith("]") else self.host
        other = "127.0.0.1" if hostname == "localhost" else "localhost"
        return f"http://{other}:{self.port}"

    @property
    def base(self) -> str:
        if self.persona == "base-other-host":
            return f"http://{_EVIL_HOST}{self.context}"
        return self.origin + self.context

    @property
    def first_page(self) -> bool:
        if self.flavor == "v2":
            return "cursor" not in self.query
        return self.query.get("start", "0") in ("", "0")

    @property
    def sized(self) -> Sized | None:
        return Sized.of(self.persona)

    def position(self) -> int:
        """Where the requested page starts in the listing (v1 `start`, or v2's cursor)."""
        if self.flavor != "v2":
            return max(0, _int_param(self.query, "start", 0))
        if "cursor" not in self.query:
            return 0
        wanted = _decode_cursor(self.query["cursor"])
        spaces = ordered_spaces(self.persona, "v2")
        return bisect.bisect_left(spaces, wanted, key=lambda space: space.id)


class _BadParameter(ValueError):
    pass


def _json(status: int, payload: object, headers: list[tuple[str, str]] | None = None) -> Reply:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Reply(status, body, _JSON, headers or [])


def _text(status: int, text: str, content_type: str = _TEXT, **kwargs: Any) -> Reply:
    return Reply(status, text.encode(), content_type, **kwargs)


def _v2_error(status: int, code: str, title: str, detail: str | None = None) -> Reply:
    return _json(
        status, {"errors": [{"status": status, "code": code, "title": title, "detail": detail}]}
    )


def _v1_error(status: int, message: str) -> Reply:
    data = {"authorized": True, "valid": True, "errors": [], "successful": False}
    return _json(status, {"statusCode": status, "data": data, "message": message})


def _basic_credentials(header: str | None) -> tuple[str | None, str | None]:
    if not header:
        return None, None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    username, sep, token = decoded.partition(":")
    return (username, token) if sep else (username, None)


def _encode_cursor(space_id: int) -> str:
    raw = json.dumps({"id": str(space_id), "contentOrder": "id"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return int(json.loads(base64.urlsafe_b64decode(padded.encode()))["id"])
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise _BadParameter("cursor") from exc


def _int_param(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise _BadParameter(name) from exc


def _page_size(call: _Call, limit: int) -> int:
    if call.persona in _FORCED_PAGE_SIZE:
        return _FORCED_PAGE_SIZE[call.persona]
    cap = _MAX_LIMIT[call.flavor]
    sized = call.sized
    if sized is not None and sized.page is not None and call.flavor != "v2":
        cap = sized.page
    size = max(1, min(limit, cap))
    if call.persona == "v1-forms" and call.flavor != "v2":
        size = min(size, _V1_FORMS_PAGE_SIZE)
    return size


def _next_position(call: _Call, position: int, size: int, total: int) -> int | None:
    following = position + size
    if call.persona == "cycle" and position >= size:
        return size  # page 2 onwards link back to page 1's `next`
    return following if following < total else None


def _spoil(results: list[dict[str, object]]) -> None:
    # One object without `key`, as a buggy proxy or a schema change might send.
    if results:
        del results[len(results) // 2]["key"]


def _v1_page(call: _Call) -> Reply:
    spaces = ordered_spaces(call.persona, call.flavor)
    start = max(0, _int_param(call.query, "start", 0))
    size = _page_size(call, _int_param(call.query, "limit", _DEFAULT_LIMIT))
    base = call.base
    results = [v1_space(space, base, call.flavor) for space in spaces[start : start + size]]
    if call.persona == "bad-space":
        _spoil(results)
    links = {"base": base, "context": call.context}
    following = _next_position(call, start, size, len(spaces))
    sized = call.sized
    if following is not None and sized is not None and sized.undercount:
        following = start + (len(results) + 1) // 2
    if following is not None:
        relative = f"rest/api/space?next=true&limit={size}&start={following}"
        form = "slash"
        if call.persona == "v1-forms":
            form = ("slash", "bare", "absolute")[(start // size) % 3]
        if call.persona == "next-other-host" and start == 0:
            links["next"] = f"{call.other_origin}{call.context}/{relative}"
        elif form == "bare":
            links["next"] = relative
        elif form == "absolute":
            links["next"] = f"{base}/{relative}"
        else:
            links["next"] = f"/{relative}"
    links["self"] = f"{base}/rest/api/space"
    envelope = {
        "results": results,
        "start": start,
        "limit": size,
        "size": len(results),
        "_links": links,
    }
    return _json(200, envelope)


def _v2_page(call: _Call) -> Reply:
    spaces = ordered_spaces(call.persona, "v2")
    limit = _int_param(call.query, "limit", _DEFAULT_LIMIT)
    size = _page_size(call, limit)
    position = call.position()
    results = [v2_space(space) for space in spaces[position : position + size]]
    if call.persona == "bad-space":
        _spoil(results)
    base = call.base
    links: dict[str, str] = {}
    headers: list[tuple[str, str]] = []
    following = _next_position(call, position, size, len(spaces))
    if following is not None:
        cursor = _encode_cursor(spaces[following].id)
        links["next"] = f"/wiki/api/v2/spaces?cursor={cursor}&limit={size}"
        if call.persona == "next-other-host" and position == 0:
            links["next"] = call.other_origin + links["next"]
        headers.append(("Link", f'<{links["next"]}>; rel="next", <{base}>; rel="base"'))
    links["base"] = base
    return _json(200, {"results": results, "_links": links}, headers)


def _rate_limited(retry_after: str) -> Reply:
    headers = [("Retry-After", retry_after), *_RATE_LIMIT_HEADERS]
    return _text(429, "Rate limit exceeded.", headers=headers)


def _unavailable(retry_after: str | None = None) -> Reply:
    headers = [("Retry-After", retry_after)] if retry_after else []
    return _text(503, _UNAVAILABLE_PAGE, _HTML, headers=headers)


def _gone() -> Reply:
    return _text(410, "GoneException: This deprecated endpoint has been removed")


def _v2_not_found() -> Reply:
    return _v2_error(404, "NOT_FOUND", "Not Found")


def _auth_persona(persona: str) -> Reply | None:
    match persona:
        case "legacy-401":
            return _text(401, _LEGACY_401)
        case "dc-html-401":
            return _text(
                401, _TOMCAT_401, _HTML, headers=[("X-Seraph-LoginReason", "AUTHENTICATED_FAILED")]
            )
        case "basic-disabled":
            return _json(
                403, {"message": "Basic Authentication has been disabled on this instance."}
            )
    return None


def _credentials_rejected(flavor: Flavor) -> Reply:
    if flavor == "dc":
        return _text(
            401, _TOMCAT_401, _HTML, headers=[("X-Seraph-LoginReason", "AUTHENTICATED_FAILED")]
        )
    return _json(
        403, {"statusCode": 403, "message": "Current user not permitted to use Confluence"}
    )


def _not_found(host: str, target: str) -> Reply:
    uri = escape(f"http://{host}{target}")
    body = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><status>'
        f"<status-code>404</status-code><message>null for uri: {uri}</message></status>"
    )
    return _text(404, body, _XML)


def _method_not_allowed() -> Reply:
    reply = _v2_error(405, "METHOD_NOT_ALLOWED", "Method Not Allowed")
    reply.headers.append(("Allow", "GET"))
    return reply


def _trickling(reply: Reply) -> Reply:
    # Pad with JSON whitespace before the closing brace, so the whole body stays valid JSON and
    # only whitespace and that brace arrive slowly.
    tail = b" " * (_TRICKLE_BYTES - 1) + reply.body[-1:]
    return Reply(reply.status, reply.body[:-1], reply.content_type, reply.headers, trickle=tail)


class _Site:
    """What Confluence says to each request, plus the little state personas keep."""

    def __init__(self, page_delay: float) -> None:
        self.page_delay = page_delay
        self.port = 0
        self._lock = threading.Lock()
        # Bounded, so a long benchmark against an in-process stand-in keeps a flat memory.
        self._requests: deque[RecordedRequest] = deque(maxlen=_MAX_RECORDED)
        self._first_pages: dict[tuple[str, Flavor], int] = {}
        self._throttled: dict[str, float] = {}  # persona -> when its throttle started
        self._in_flight: dict[str | None, int] = {}
        self._most_in_flight: dict[str | None, int] = {}
        self._pages: OrderedDict[tuple[str, ...], tuple[bytes, tuple[tuple[str, str], ...]]] = (
            OrderedDict()
        )
        self._page_bytes = 0

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._first_pages.clear()
            self._throttled.clear()
            self._most_in_flight = {k: v for k, v in self._in_flight.items() if v}

    def arrived(self, username: str | None) -> int:
        """One more request of `username` being answered; how many are, this one included."""
        with self._lock:
            count = self._in_flight.get(username, 0) + 1
            self._in_flight[username] = count
            self._most_in_flight[username] = max(count, self._most_in_flight.get(username, 0))
            return count

    def answered(self, username: str | None) -> None:
        with self._lock:
            self._in_flight[username] -= 1

    def most_in_flight(self, username: str | None) -> int:
        with self._lock:
            return self._most_in_flight.get(username, 0)

    def _alternate_fails(self, call: _Call) -> bool:
        # Counted per persona and flavor, so a v2 probe never shifts what v1 answers next.
        if not call.first_page:
            return False
        with self._lock:
            seen = self._first_pages.get((call.persona, call.flavor), 0)
            self._first_pages[(call.persona, call.flavor)] = seen + 1
        return seen % 2 == 0

    def answer(self, method: str, target: str, raw_headers: Message, in_flight: int = 1) -> Reply:
        headers = _Headers({name.lower(): value for name, value in raw_headers.items()})
        username, token = _basic_credentials(headers.get("authorization"))
        at = time.monotonic()
        reply = self._reply(method, target, headers, username, token)
        recorded = RecordedRequest(
            method, target, headers, username, in_flight, status=reply.status, at=at
        )
        with self._lock:
            self._requests.append(recorded)
        return reply

    def _reply(
        self,
        method: str,
        target: str,
        headers: _Headers,
        username: str | None,
        token: str | None,
    ) -> Reply:
        host = headers.get("host") or f"127.0.0.1:{self.port}"
        split = urlsplit(target)
        route = _ROUTES.get(split.path)
        if route is None:
            return _not_found(host, target)
        if method != "GET":
            return _method_not_allowed()
        persona = persona_of(username)
        # These personas model the site's auth layer, which answers before any token check.
        refusal = _auth_persona(persona)
        if refusal is not None:
            return refusal
        flavor, context = route
        if token is None or not hmac.compare_digest(token.encode(), VALID_TOKEN.encode()):
            return _credentials_rejected(flavor)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        call = _Call(persona, flavor, context, host, target, split.path, query, self.port)
        try:
            return self._persona_answer(call)
        except _BadParameter as exc:
            if flavor == "v2":
                return _v2_error(
                    400,
                    "INVALID_REQUEST_PARAMETER",
                    f"Provided value for '{exc}' is not the correct type.",
                    "The provided cursor was not valid. You can get a new valid cursor by "
                    "making the original pagination request again."
                    if str(exc) == "cursor"
                    else None,
                )
            return _v1_error(400, f"Invalid value for parameter '{exc}'")

    def _persona_answer(self, call: _Call) -> Reply:
        persona, flavor = call.persona, call.flavor
        match persona:
            case "v2-gone" if flavor == "v2":
                return _v2_not_found()
            case "v1-gone" if flavor != "v2":
                return _gone()
            case "both-gone":
                return _v2_not_found() if flavor == "v2" else _gone()
            case "rate-limited":
                return _rate_limited("9223372036854775807")
            case "rate-limited-short":
                return _rate_limited("1")
            case "garbage-retry-after":
                return _rate_limited("soon")
            case "rate-limited-once" if self._alternate_fails(call):
                return _rate_limited("1")
            case "unavailable":
                return _unavailable()
            case "unavailable-once" if self._alternate_fails(call):
                return _unavailable("1")
            case "redirect-other-host":
                return Reply(302, headers=[("Location", call.other_origin + call.target)])
            case "redirect-same-host" if "redirected" not in call.query:
                query = urlencode({**call.query, "redirected": "1"})
                return Reply(301, headers=[("Location", f"{call.origin}{call.path}?{query}")])
            case "html":
                return self._paced(_text(200, _LOGIN_PAGE, _HTML))
            case "wrong-shape":
                return self._paced(_json(200, {"items": []}))
        sized = call.sized
        if sized is not None and sized.no_v2 and flavor == "v2":
            return _v2_not_found()
        if sized is not None:
            refusal = self._sized_refusal(call, sized)
            if refusal is not None:
                return refusal
        page = self._paced(self._page(call), sized)
        if persona == "slow":
            page.delay += _SLOW_SECONDS
        elif persona == "slow-body":
            page = _trickling(page)
        return page

    def _sized_refusal(self, call: _Call, sized: Sized) -> Reply | None:
        if sized.fail_at is None and sized.throttle_at is None:
            return None
        position = call.position()
        if position == sized.fail_at:
            return _unavailable()
        if sized.throttle_at is None:
            return None
        now = time.monotonic()
        with self._lock:
            started = self._throttled.get(call.persona)
            if started is None and position == sized.throttle_at:
                self._throttled[call.persona] = started = now
        if started is not None and now - started < THROTTLE_SECONDS:
            return _rate_limited("1")
        return None

    def _page(self, call: _Call) -> Reply:
        # Rendering a page of 500 costs ~10 ms; benchmarks fetch the same pages over and over.
        key = (call.persona, call.flavor, call.host, call.target)
        with self._lock:
            cached = self._pages.get(key)
            if cached is not None:
                self._pages.move_to_end(key)
        if cached is None:
            page = _v2_page(call) if call.flavor == "v2" else _v1_page(call)
            cached = (page.body, tuple(page.headers))
            if call.persona != "big-page":  # 20 MB a copy: not worth keeping
                with self._lock:
                    if key not in self._pages:
                        self._pages[key] = cached
                        self._page_bytes += len(page.body)
                    while self._page_bytes > _CACHED_PAGE_BYTES:
                        _, (evicted, _) = self._pages.popitem(last=False)
                        self._page_bytes -= len(evicted)
        body, headers = cached
        return Reply(200, body, _JSON, list(headers))

    def _paced(self, reply: Reply, sized: Sized | None = None) -> Reply:
        reply.delay = self.page_delay if sized is None or sized.delay is None else sized.delay
        return reply

    def expected_spaces(self, username: str | None, flavor: Flavor) -> list[dict[str, str]]:
        persona = persona_of(username)
        if persona == "runaway":
            raise ValueError("the runaway persona never finishes a listing")
        return [expected_space(space, flavor) for space in ordered_spaces(persona, flavor)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Confluence-StandIn"
    # Headers and body go out in separate writes; with Nagle on, the body would wait for the
    # client's delayed ACK (~40 ms a page).
    disable_nagle_algorithm = True
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._drain_body()
        site = self.server.site
        username, _ = _basic_credentials(self.headers.get("authorization"))
        in_flight = site.arrived(username)
        try:
            reply = site.answer(self.command, self.path, self.headers, in_flight)
            self._send(reply)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        finally:
            site.answered(username)

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_TRACE = do_CONNECT = do_GET

    def _drain_body(self) -> None:
        # Unread body bytes would be parsed as the next request on a kept-alive connection.
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
            self.close_connection = True
        if length > _MAX_DRAINED_BODY:
            self.close_connection = True
        elif length > 0:
            self.rfile.read(length)

    def _send(self, reply: Reply) -> None:
        if not self._pause(reply.delay):
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body) + len(reply.trickle)))
        self.end_headers()
        if self.command == "HEAD":
            return
        self.wfile.write(reply.body)
        for index in range(len(reply.trickle)):
            if not self._pause(_TRICKLE_INTERVAL):
                self.close_connection = True  # the body is incomplete: the connection is spent
                return
            self.wfile.write(reply.trickle[index : index + 1])

    def _pause(self, seconds: float) -> bool:
        """Wait, but give up early (False) when the stand-in stops or the client goes away."""
        if seconds <= 0:
            return True
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if self.server.stopping.wait(min(remaining, 0.1)):
                return False
            if self._client_gone():
                return False
        return True

    def _client_gone(self) -> bool:
        # poll(), not select(): select() fails on descriptors above 1024, which benchmarks reach.
        poller = select.poll()
        poller.register(self.connection, select.POLLIN)
        try:
            if not poller.poll(0):
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"standin: {format % args}\n")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Only the request line: never headers, which hold credentials.
        if self.server.verbose:
            self.log_message('"%s" %s', self.requestline, str(code))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], site: _Site, verbose: bool) -> None:
        self.site = site
        self.verbose = verbose
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), which can stall for seconds on a bad resolver.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]  # type: ignore[assignment]

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        # Idle keep-alive threads block in readline(); shutting their sockets down frees them.
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-answer is an expected event here, not a bug worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class StandIn:
    """A local stand-in Confluence speaking real HTTP; see the package docstring."""

    def __init__(
        self,
        *,
        page_delay: float = 0.0,
        port: int = 0,
        host: str = "127.0.0.1",
        verbose: bool = False,
    ) -> None:
        self._site = _Site(page_delay)
        self._address = (host, port)
        self._verbose = verbose
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def page_delay(self) -> float:
        return self._site.page_delay

    @page_delay.setter
    def page_delay(self, seconds: float) -> None:
        self._site.page_delay = seconds

    def start(self) -> StandIn:
        if self._server is not None:
            raise RuntimeError("the stand-in is already running")
        self._server = _Server(self._address, self._site, self._verbose)
        self._site.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"confluence-standin-{self._site.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.stopping.set()
        server.shutdown()
        server.server_close()
        server.close_connections()
        thread.join()
        self._server = self._thread = None

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the stand-in is not running")
        return self._site.port

    @property
    def url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    @property
    def cloud_root(self) -> str:
        return f"{self.url}/wiki/rest/api"

    @property
    def dc_root(self) -> str:
        return f"{self.url}/rest/api"

    @property
    def dc_context_root(self) -> str:
        return f"{self.url}/confluence/rest/api"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received so far (the latest 10,000), oldest first."""
        return self._site.requests

    def clear(self) -> None:
        """Forget recorded requests and reset the personas' counters and concurrency figures."""
        self._site.clear()

    def most_in_flight(self, username: str | None) -> int:
        """The most requests of `username` the stand-in was answering at once since `clear()`."""
        return self._site.most_in_flight(username)

    def expected_spaces(self, username: str | None, flavor: Flavor = "v2") -> list[dict[str, str]]:
        """What a complete listing for this username must yield, in `flavor`'s order.

        Each item is `{"id": str, "key", "name", "type", "status", "webui"}`. Personas that
        fail or misbehave return the spaces behind the failure; `runaway` raises ValueError.
        """
        return self._site.expected_spaces(username, flavor)

    def expected_listing(
        self, username: str | None, web_url: str, flavor: Flavor = "v2"
    ) -> list[dict[str, str]]:
        """The spaces spacegate must answer for this username: `url` is `web_url` + webui."""
        return [
            {k: v for k, v in space.items() if k != "webui"}
            | {"url": web_url.rstrip("/") + space["webui"]}
            for space in self.expected_spaces(username, flavor)
        ]
