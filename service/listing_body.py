"""The 200 answer's body, encoded page by page while the listing is read.

The handler used to return `{"spaces": [...]}` for Connexion to encode: every space was a
Python dict until the end, then `json.dumps` wrote all of it as one string, Connexion added a
newline (a second string) and Starlette encoded it (the bytes), and the server copied what
the socket could not take at once. For 100,000 spaces (some 17 MB of JSON) the process
peaked near 190 MB. Here each page is encoded by orjson as soon as it is read, its dicts are
dropped, and a large answer goes out in chunks cut from those encoded pages as the client
reads them, so the answer exists once, as bytes. Connexion passes a Starlette response
through unchanged (it serialises only what is not a response already).
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Any

from starlette.responses import Response, StreamingResponse

from service.json_text import dumps_compact_bytes

__all__ = ["ListingBody"]

_OPEN = b'{"spaces":['
_CLOSE = b"]}"
# Smaller answers go in one piece: streaming costs more than it saves there.
_ONE_PIECE = 1 << 20
_CHUNK = 256 * 1024
_JSON = "application/json"


class ListingBody:
    """`{"spaces": [...]}` as UTF-8 JSON, built from the pages of a listing."""

    def __init__(self) -> None:
        self._pages: deque[bytes] = deque()  # each page's items, without the brackets
        self.length = len(_OPEN) + len(_CLOSE)

    @classmethod
    def of(cls, pages: Iterable[list[Any]]) -> ListingBody:
        body = cls()
        for page in pages:
            body.add(page)
        return body

    def add(self, spaces: list[Any]) -> None:
        if not spaces:
            return
        item = dumps_compact_bytes(spaces)[1:-1]
        if self._pages:
            item = b"," + item
        self._pages.append(item)
        self.length += len(item)

    def response(self) -> Response:
        if self.length <= _ONE_PIECE:
            return Response(b"".join([_OPEN, *self._pages, _CLOSE]), media_type=_JSON)
        return StreamingResponse(
            self._chunks(), media_type=_JSON, headers={"content-length": str(self.length)}
        )

    async def _chunks(self) -> AsyncIterator[bytes]:
        # Pages are dropped as they are sent: memory falls while a slow client reads.
        chunk = [_OPEN]
        size = len(_OPEN)
        while self._pages:
            page = self._pages.popleft()
            chunk.append(page)
            size += len(page)
            if size >= _CHUNK:
                yield b"".join(chunk)
                chunk, size = [], 0
        chunk.append(_CLOSE)
        yield b"".join(chunk)
