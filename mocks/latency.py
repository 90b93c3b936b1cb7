"""Confluence's latency in mock mode: how long each of Confluence's answers takes.

The first of these that says something wins:

- `Prefer: delay=<milliseconds>` on the request (`delay=0` makes a slow scenario fast);
- the scenario's own `latency_ms`;
- `SPACEGATE_MOCK_LATENCY_MS`, 0 unless set.

The latency is Confluence's: every answer the client gets takes that long, so a listing of
five pages takes five times as long, and the client's read timeout and deadline apply as they
do live. An answer slower than the read timeout is the read timeout a slow server causes (a
504), raised once the timeout has passed, not the whole delay.

Nothing sleeps: the cassette adapter answers at once and moves the request's clock on by the
latency (`Playback.elapse`), the client reads its deadline on that clock, and the handler waits
out the difference on the event loop (docs/design.md#latency), so fifty delayed requests at
once take one delay, and a request without latency pays nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers

from mocks.playback import Playback, playback
from mocks.prefer import Preference
from mocks.scenarios import Scenario
from service import problems
from service.problems import Loc, Problem
from service.settings import MAX_MOCK_LATENCY_MS as MAX_DELAY_MS

__all__ = ["MAX_DELAY_MS", "delay_rule", "latency_ms", "playback_for", "read_delay"]


def read_delay(text: str) -> int | str:
    """The milliseconds `Prefer: delay=<text>` asks for, or the sentence refusing them."""
    value = text.strip()
    # int() of thousands of digits raises (Python's int-string limit): longer numbers than the
    # bound's are refused before they reach it.
    number = value.lstrip("0") or "0"
    short = len(number) <= len(str(MAX_DELAY_MS))
    if value.isascii() and value.isdigit() and short and int(number) <= MAX_DELAY_MS:
        return int(number)
    return (
        f"delay must be a whole number of milliseconds from 0 to {MAX_DELAY_MS}, not {value[:20]!r}"
    )


def playback_for(preference: Preference) -> Playback:
    """A request's record, with the delay its `Prefer` header asks for."""
    if preference.delay is None:
        return Playback()
    read = read_delay(preference.delay)
    if isinstance(read, str):
        return Playback(delay_refusal=read)
    return Playback(delay_ms=read)


def latency_ms(scenario: Scenario, requested_ms: int | None, default_ms: int) -> int:
    """The latency of each answer when `scenario` plays: the request's, the scenario's, or the
    mock's default."""
    if requested_ms is not None:
        return requested_ms
    if scenario.latency_ms is not None:
        return scenario.latency_ms
    return default_ms


def delay_rule(
    _body: Mapping[str, Any], _headers: Headers, _invalid: frozenset[Loc]
) -> list[Problem]:
    """The 422 item for a `Prefer: delay=` that cannot be honoured, on `["header", "prefer"]`."""
    played = playback.get(None)
    if played is None or played.delay_refusal is None:
        return []
    return [problems.unknown_scenario(played.delay_refusal)]
