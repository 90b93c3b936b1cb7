"""The `requests` adapter of mock mode: every Confluence request answered from a cassette.

One `CassetteAdapter` serves every API request; which scenario a request plays is picked
above the client (`mocks/web.py`) and handed down in the `playing` context variable. When the
client starts a listing (`pinned(origin)`, once per listing) the adapter reads it and returns a
`Replay` with a cursor of its own (docs/design.md#replay-semantics): each Confluence request
takes the first matching interaction after the last one played, so a recorded 429-then-200
plays in order; past the last match, the last match repeats. Nothing is shared between
listings, and nothing is patched: concurrent API requests cannot see each other.

Each call is written down in the request's `Playback` (`mocks/playback.py`), with Confluence's
latency (`mocks/latency.py`): the adapter never sleeps, its `clock()` runs ahead of real time
by the latency the request has played, and the handler waits that out without blocking.
"""

from __future__ import annotations

import io
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3.exceptions import NewConnectionError, ReadTimeoutError
from vcr.matchers import requests_match
from vcr.request import HeadersDict, Request

from mocks.latency import latency_ms
from mocks.playback import ConfluenceCall, Playback, playback
from mocks.scenarios import MATCH_ON, RECORDED_ORIGIN, Interaction, Scenario
from service.confluence.errors import RootNotFound
from service.confluence.origin import Origin

if TYPE_CHECKING:
    from mocks.sequences import Sequence

__all__ = ["CassetteAdapter", "DeclaredFault", "Pick", "Replay", "ReplayError", "playing"]

_PLACEHOLDER = RECORDED_ORIGIN.encode()
# Only method, path and query are matched (MATCH_ON): a request to match carries no headers,
# and this empty HeadersDict, never written to, spares vcrpy building one per request.
_NO_HEADERS = HeadersDict()


@dataclass(frozen=True)
class Pick:
    """What one API request plays: a scenario, a sequence of them, or none and the reason."""

    scenario: Scenario | None
    refusal: str = ""
    sequence: Sequence | None = None

    @property
    def refused(self) -> bool:
        return self.scenario is None and self.sequence is None


# Set for each API request by the mock's middleware (mocks/web.py); read when a listing starts.
playing: ContextVar[Pick] = ContextVar("spacegate_mock_pick")


class ReplayError(RuntimeError):
    """A listing started with no scenario to play: a bug above the adapter, never a default."""


class DeclaredFault(RuntimeError):
    """The unexpected exception a scenario declares, so a client can see our 500."""


class CassetteAdapter(BaseAdapter):
    """Implements `service.confluence.client.PinnableAdapter` from the scenario of the request."""

    blocking = False  # answers from memory: the client may run on the event loop

    def __init__(self, default_latency_ms: int = 0) -> None:
        super().__init__()
        self.default_latency_ms = default_latency_ms

    def clock(self) -> float:
        """Real time, plus the latency this request's Confluence has taken so far."""
        played = playback.get(None)
        now = time.monotonic()
        return now if played is None else now + played.elapsed

    def pinned(self, origin: Origin) -> Replay:
        # Nothing leaves the process: one cassette answers whatever origin the listing has.
        pick = playing.get(None)
        if pick is None:
            raise ReplayError(
                "a listing started with no scenario picked: the mock's middleware "
                "(mocks/web.py) did not run for this request"
            )
        played = playback.get(None) or Playback()
        scenario = pick.scenario
        if scenario is None and pick.sequence is not None:
            step, scenario = pick.sequence.play()
            played.step = (pick.sequence.name, step)
        if scenario is None:
            # Validation refuses such a request with a 422; playing `default` instead would
            # hide the bug behind a plausible answer.
            raise ReplayError(f"a listing started with no scenario to play: {pick.refusal}")
        played.scenario = scenario.name
        played.latency_ms = latency_ms(scenario, played.delay_ms, self.default_latency_ms)
        return Replay(scenario, played)

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        raise ReplayError("the cassette adapter answers only through pinned(origin)")

    def close(self) -> None:
        pass


class Replay(BaseAdapter):
    """One listing's replay of one scenario, with its own cursor."""

    def __init__(self, scenario: Scenario, played: Playback) -> None:
        super().__init__()
        self.scenario = scenario
        self._played = played
        self._cursor = 0

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        url = request.url or ""
        method = request.method or "GET"
        played = self._played
        if self.scenario.fault is not None:
            played.calls.append(ConfluenceCall(method, url, None, self.scenario.fault))
            raise self._fault(request, self.scenario.fault)
        recorded = self._play(Request(method, url, None, _NO_HEADERS))
        if recorded is not None and recorded.fault is not None:
            played.calls.append(ConfluenceCall(method, url, None, recorded.fault))
            raise self._fault(request, recorded.fault)
        if played.latency_ms:
            self._take_latency(request, method, url, timeout)  # each answer's, a 404 included
        if recorded is None:
            played.calls.append(ConfluenceCall(method, url, 404))
            # Confluence would answer 404 here; unlike a real 404, the mock knows what the
            # caller should have sent, and says so.
            raise RootNotFound(
                f"Confluence answered 404 Not Found: the mock scenario '{self.scenario.name}' "
                f"expects an instance_url ending in {self.scenario.root}, like "
                f"{_origin(url).decode()}{self.scenario.root}"
            )
        played.calls.append(ConfluenceCall(method, url, recorded.status))
        return _response(request, recorded, _origin(url))

    def close(self) -> None:
        pass

    def _play(self, wanted: Request) -> Interaction | None:
        interactions = self.scenario.interactions
        for index in range(self._cursor, len(interactions)):
            if requests_match(wanted, interactions[index].request, MATCH_ON):
                self._cursor = index + 1
                return interactions[index]
        for index in reversed(range(self._cursor)):
            if requests_match(wanted, interactions[index].request, MATCH_ON):
                return interactions[index]
        return None

    def _take_latency(
        self, request: requests.PreparedRequest, method: str, url: str, timeout: Any
    ) -> None:
        """Confluence's latency, on the request's clock: past the read timeout, the timeout."""
        latency = self._played.latency_ms / 1000
        read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
        if read_timeout is not None and latency > read_timeout:
            self._played.elapse(read_timeout)
            self._played.calls.append(ConfluenceCall(method, url, None, "timeout"))
            raise _read_timeout(request, f"Read timed out. (read timeout={read_timeout:g})")
        self._played.elapse(latency)

    def _fault(self, request: requests.PreparedRequest, fault: str) -> Exception:
        # Raised as the real transport raises them, so the client maps them as it would live.
        if fault == "timeout":
            return _read_timeout(request, "Read timed out. (declared fault)")
        if fault == "connection-refused":
            # No connection exists to name: the fault is declared, not met.
            refused = "[Errno 111] Connection refused (declared fault)"
            reason = NewConnectionError(None, refused)  # type: ignore[arg-type]
            return requests.exceptions.ConnectionError(reason, request=request)
        return DeclaredFault(f"the scenario '{self.scenario.name}' declares an unexpected error")


def _read_timeout(request: requests.PreparedRequest, message: str) -> requests.ReadTimeout:
    # What requests raises when a server is slower than the read timeout.
    pool = urllib3.HTTPConnectionPool(urlsplit(request.url or "").hostname or "confluence")
    return requests.exceptions.ReadTimeout(
        ReadTimeoutError(pool, request.url, message), request=request
    )


def _origin(url: str) -> bytes:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".encode()


def _response(
    request: requests.PreparedRequest, recorded: Interaction, origin: bytes
) -> requests.Response:
    body = recorded.body.replace(_PLACEHOLDER, origin)
    shown_origin = origin.decode()
    headers = CaseInsensitiveDict(
        {name: value.replace(RECORDED_ORIGIN, shown_origin) for name, value in recorded.headers}
    )
    headers["Content-Length"] = str(len(body))
    response = requests.Response()
    response.status_code = recorded.status
    response.reason = recorded.reason
    response.headers = headers
    # The body is already in memory: given as content (what requests-mock and
    # HTTPAdapter's callers see once a body is read), the client reads it in chunks.
    response._content = body
    response._content_consumed = True
    response.raw = io.BytesIO(body)
    response.url = request.url or ""
    response.encoding = get_encoding_from_headers(headers)
    response.request = request
    return response
