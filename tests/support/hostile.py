"""A hostile Confluence that points the client elsewhere, and the server it points at.

`HostileConfluence` answers a listing whose redirect (`Location`), v1 `next`, `_links.base`
or v2 `Link` header is a URL of one `Shape`: a form that parsers read differently, built to
send whoever follows it to `CapturingServer`. The capturing server records every connection
(a raw socket, so even a request too broken to parse is seen) and answers a listing of its
own, so a client that did follow would list its spaces.

    with CapturingServer() as capture, HostileConfluence(capture) as hostile:
        root = hostile.root("next", "backslash-userinfo")   # instance_url
        ...
        assert capture.connections == []
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["CHANNELS", "PLAIN", "SHAPES", "CapturingServer", "HostileConfluence", "Shape", "cases"]

# Where the hostile URL appears: a 302's Location, v1 `_links.next`, v1 `_links.base` (with a
# relative next), or the v2 Link header's rel="next".
CHANNELS = ("redirect", "next", "base", "link")
_HEADER_CHANNELS = frozenset({"redirect", "link"})


@dataclass(frozen=True)
class Shape:
    """A hostile URL template: {c} the capturing server's host:port, {ch} its host, {cp} its
    port, {o} the hostile server's own host:port (the listing's origin), {p} a path."""

    name: str
    template: str
    # JSON carries any character; a header value only latin-1 without CR, LF or NUL.
    in_headers: bool = True

    def url(self, capture: CapturingServer, origin: str, path: str) -> str:
        return self.template.format(
            c=f"localhost:{capture.port}", ch="localhost", cp=capture.port, o=origin, p=path
        )


# The control: a plain link back to the listing's own origin, which is followed.
PLAIN = Shape("plain", "http://{o}{p}")

SHAPES = (
    # urllib3 connects to {c}; urllib.parse reads the host after the "@", the listing's origin
    Shape("backslash-userinfo", "http://{c}\\@{o}{p}"),
    Shape("backslash-userinfo-twice", "http://{c}\\\\@{o}{p}"),
    Shape("backslash-scheme-relative", "\\\\{c}{p}"),
    Shape("backslash-after-scheme", "http:\\\\{c}{p}"),
    Shape("backslash-in-path", "http://{o}/\\{c}{p}"),
    Shape("userinfo-on-origin", "http://spacegate:secret@{o}{p}"),
    Shape("userinfo-naming-origin", "http://{o}@{c}{p}"),
    Shape("encoded-slash", "http://{ch}%2F@{o}{p}"),
    Shape("encoded-at", "http://{ch}%40{o}{p}"),
    Shape("encoded-backslash", "http://{ch}%5C@{o}{p}"),
    Shape("encoded-colon", "http://{ch}%3A{cp}{p}"),
    Shape("encoded-dot", "http://127.0.0%2e1:{cp}{p}"),
    Shape("ipv6-zone", "http://[::1%25lo]:{cp}{p}"),
    Shape("ipv6-zone-raw", "http://[::1%lo]:{cp}{p}"),
    Shape("tab-in-authority", "http://{o}\t{p}"),
    Shape("tab-in-host", "http://local\thost:{cp}{p}"),
    Shape("space-in-authority", "http://{o} {p}"),
    Shape("nbsp-in-authority", "http://{o}\u00a0{p}"),
    Shape("newline-in-authority", "http://{c}\n.{o}{p}", in_headers=False),
    Shape("cr-in-authority", "http://{o}\r{p}", in_headers=False),
    Shape("nul-in-authority", "http://{ch}\x00.{o}{p}", in_headers=False),
    Shape("leading-space", " http://{c}{p}", in_headers=False),
    Shape("leading-tab", "\thttp://{c}{p}", in_headers=False),
    Shape("ideographic-space", "http://{o}\u3000{p}", in_headers=False),
    Shape("zero-width-space", "http://{ch}\u200b:{cp}{p}", in_headers=False),
    Shape("fullwidth-dots", "http://127\uff0e0\uff0e0\uff0e1:{cp}{p}", in_headers=False),
    Shape("vertical-tab", "http://{o}\x0b{p}"),
    Shape("delete", "http://{o}\x7f{p}"),
)


def _space(key: str) -> dict[str, object]:
    return {
        "id": 1,
        "key": key,
        "name": key,
        "type": "global",
        "status": "current",
        "_links": {"webui": f"/spaces/{key}"},
    }


class _Running:
    """A server started by its constructor; `with` stops it."""

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        raise NotImplementedError


class CapturingServer(_Running):
    """Records every connection made to it (its first bytes) and answers a one-space listing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: list[bytes] = []
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="capturing-server", daemon=True)
        self._thread.start()

    @property
    def connections(self) -> list[bytes]:
        with self._lock:
            return list(self._connections)

    def clear(self) -> None:
        with self._lock:
            self._connections.clear()

    def _serve(self) -> None:
        while True:
            try:
                connection, _peer = self._socket.accept()
            except OSError:
                return  # closed by stop()
            with connection:
                connection.settimeout(1.0)
                try:
                    received = connection.recv(65536)
                except OSError:
                    received = b""
                with self._lock:
                    self._connections.append(received)
                body = json.dumps({"results": [_space("CAPTURED")], "_links": {}}).encode()
                head = (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                )
                with contextlib.suppress(OSError):
                    connection.sendall(head.encode() + body)

    def stop(self) -> None:
        self._socket.close()
        self._thread.join(timeout=5)


class HostileConfluence(_Running):
    """A Confluence whose one page points, through one channel, at a URL of one shape.

    Its paths are `/<channel>/<shape>/…`; `root(channel, shape)` is the instance_url to list.
    """

    def __init__(self, capture: CapturingServer) -> None:
        self.capture = capture
        self._lock = threading.Lock()
        self._paths: list[str] = []
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with hostile._lock:
                    hostile._paths.append(self.path)
                status, headers, body = hostile._answer(self.path)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.origin = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="hostile-confluence", daemon=True
        )
        self._thread.start()

    def root(self, channel: str, shape: str) -> str:
        """The instance_url of a listing: v2 (Cloud) for the Link header, v1 otherwise."""
        wiki = "/wiki" if channel == "link" else ""
        return f"http://{self.origin}/{channel}/{shape}{wiki}/rest/api"

    @property
    def paths(self) -> list[str]:
        with self._lock:
            return list(self._paths)

    def clear(self) -> None:
        with self._lock:
            self._paths.clear()

    def _answer(self, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
        _, channel, name, rest = path.split("/", 3)
        shape = next(s for s in (PLAIN, *SHAPES) if s.name == name)
        prefix = f"/{channel}/{name}"

        def hostile(path: str) -> str:
            return shape.url(self.capture, self.origin, path)

        links: dict[str, str] = {}
        headers: list[tuple[str, str]] = []
        followed = any(mark in rest for mark in ("start=1", "cursor=2", "redirected=1"))
        if followed:
            pass  # only PLAIN's links are followed: this is the last page
        elif channel == "redirect":
            return 302, [("Location", hostile(f"{prefix}/{rest}&redirected=1"))], b""
        elif channel == "next":
            links["next"] = hostile(f"{prefix}/rest/api/space?start=1")
        elif channel == "base":
            links["base"] = hostile(prefix)
            links["next"] = "/rest/api/space?start=1"
        else:
            following = hostile(f"{prefix}/wiki/api/v2/spaces?cursor=2")
            headers.append(("Link", f'<{following}>; rel="next"'))
        body = json.dumps({"results": [_space("HOSTILE")], "_links": links}).encode()
        return 200, headers, body

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def cases() -> list[tuple[str, Shape]]:
    """Every (channel, shape) pair a hostile Confluence can send."""
    return [
        (channel, shape)
        for channel in CHANNELS
        for shape in SHAPES
        if shape.in_headers or channel not in _HEADER_CHANNELS
    ]
