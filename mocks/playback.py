"""What one API request's Confluence did in mock mode: the calls answered, and the time they took.

The mock's middleware (`mocks/web.py`) sets a `Playback` for each request in the `playback`
context variable, with the `Prefer: delay=` it asked for; the cassette adapter
(`mocks/adapter.py`) fills it in as the client talks to Confluence: the scenario played, each
call (method, path, status), and the latency those answers took (`elapse`). The adapter's
clock runs that far ahead of real time, and the journal (`mocks/journal.py`) writes it all down.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import NamedTuple
from urllib.parse import urlsplit

__all__ = ["ConfluenceCall", "Playback", "playback"]


class ConfluenceCall(NamedTuple):
    """One request the client sent to Confluence and what came back: a status, or an error."""

    method: str
    url: str
    status: int | None
    error: str | None = None  # a transport failure (timeout, connection-refused, ...)

    def describe(self) -> dict[str, object]:
        # Path and query: the host is the caller's own, and the mock's business alone.
        parts = urlsplit(self.url)
        described: dict[str, object] = {
            "method": self.method,
            "path": f"{parts.path}?{parts.query}" if parts.query else parts.path,
            "status": self.status,
        }
        if self.error is not None:
            described["error"] = self.error
        return described


class Playback:
    """One API request's record; see the module's docstring.

    - `delay_ms`: the latency `Prefer: delay=` asked for (None: not asked), `delay_refusal`
      the sentence refusing an unusable one (a 422);
    - `scenario`: the name of the scenario played, once a listing started; `step`: the
      sequence and the step (1-based) it came from, when it came from one;
    - `latency_ms`: the latency each answer took; `calls`: Confluence's calls, in order;
    - `elapsed`: seconds of latency played so far.
    """

    __slots__ = ("calls", "delay_ms", "delay_refusal", "elapsed", "latency_ms", "scenario", "step")

    def __init__(self, delay_ms: int | None = None, delay_refusal: str | None = None) -> None:
        self.delay_ms = delay_ms
        self.delay_refusal = delay_refusal
        self.scenario: str | None = None
        self.step: tuple[str, int] | None = None
        self.latency_ms = 0
        self.calls: list[ConfluenceCall] = []
        self.elapsed = 0.0

    def elapse(self, seconds: float) -> None:
        """Confluence took `seconds` more to answer."""
        self.elapsed += seconds


# Set for each request by the mock's middleware; read by the adapter and the journal.
playback: ContextVar[Playback] = ContextVar("spacegate_mock_playback")
