"""The request journal: the requests the mock answered, as `GET /mock/requests` shows them.

`Journal` is a middleware of mock mode, inside `ScenarioPicker` (so it sees the request's
`Playback`: the scenario played and Confluence's calls) and outside the app's own layers (so
it sees the answer as sent, `x-request-id` included). Each request to anything but the
operational endpoints (`/mock/…`, `/healthz`, `/ui/`, the served documents) becomes one
entry in the state the workers share (`mocks/state.py`), written just before the answer's
last byte goes out: a client holding an answer finds it in the journal, whichever worker it
asks.

    {"time": "2026-12-02T10:00:00.123Z", "method": "POST",
     "path": "/v2/confluence/space-listing", "query": "", "status": 200,
     "duration_ms": 3.1, "request_id": "…", "scenario": "default", "latency_ms": 0,
     "headers": {"authorization": "Bearer ***", …}, "body": {"api_token": "***", …},
     "confluence": [{"method": "GET", "path": "/wiki/api/v2/spaces?limit=250", "status": 200}]}

Secrets are masked before anything is written (`mocks/masking.py`). An entry costs one JSON
encoding and one SQLite insert, some tens of microseconds, and nothing is read unless asked.
"""

from __future__ import annotations

import datetime
import logging
import sqlite3
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mocks.masking import Masked
from mocks.playback import playback
from mocks.state import MockState
from service import json_text
from service.body_guard import MAX_BODY_BYTES

__all__ = ["Journal", "is_journaled"]

_log = logging.getLogger("spacegate.mock")

# The service's and the mock's own endpoints: what a client under test sends is the API.
_OPERATIONAL = ("/mock/", "/ui", "/openapi.", "/healthz")


def is_journaled(path: str) -> bool:
    return path != "/" and not path.startswith(_OPERATIONAL)


class Journal:
    def __init__(self, app: ASGIApp, *, state: MockState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_journaled(scope["path"]):
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        arrived = datetime.datetime.now(datetime.UTC)
        body = bytearray()
        answer: dict[str, object] = {"status": None, "request_id": None}
        written = False

        async def reading() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(body) < MAX_BODY_BYTES:
                body.extend(message.get("body", b"")[: MAX_BODY_BYTES - len(body)])
            return message

        async def sending(message: Message) -> None:
            nonlocal written
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                for name, value in message.get("headers", ()):
                    if name == b"x-request-id":
                        answer["request_id"] = value.decode("latin-1")
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                written = True
                self._write(scope, bytes(body), answer, arrived, started)
            await send(message)

        try:
            await self.app(scope, reading, sending)
        finally:
            if not written:  # no answer went out (the client left first)
                self._write(scope, bytes(body), answer, arrived, started)

    def _write(
        self,
        scope: Scope,
        body: bytes,
        answer: dict[str, object],
        arrived: datetime.datetime,
        started: float,
    ) -> None:
        masked = Masked.of(
            scope["path"],
            scope.get("query_string", b"").decode("latin-1"),
            ((n.decode("latin-1"), v.decode("latin-1")) for n, v in scope["headers"]),
            body,
        )
        played = playback.get(None)
        entry: dict[str, object] = {
            "time": arrived.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": scope["method"],
            "path": masked.path,
            "query": masked.query,
            "status": answer["status"],
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            "request_id": answer["request_id"],
            "scenario": None if played is None else played.scenario,
        }
        if played is not None and played.step is not None:
            entry["sequence"] = {"name": played.step[0], "step": played.step[1]}
        if played is not None and played.scenario is not None:
            entry["latency_ms"] = played.latency_ms
        entry["headers"] = masked.headers
        if masked.body_text is not None:
            entry["body_text"] = masked.body_text
        else:
            entry["body"] = masked.body
        entry["confluence"] = [] if played is None else [c.describe() for c in played.calls]
        request_id = answer["request_id"]
        try:
            self.state.add_to_journal(
                request_id if isinstance(request_id, str) else None, json_text.dumps(entry)
            )
        except sqlite3.Error as exc:
            # The journal is a window on the mock: it must never cost a client its answer.
            _log.warning("the request journal could not be written: %s", exc)
