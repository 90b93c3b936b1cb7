"""What spacegate answers for a scenario: the real client played over its interactions.

A hand-written scenario declares no status; it has the one this gives, found the honest way:
the Confluence client the handler uses, over mock mode's cassette adapter, with this
process's client settings (retries, page cap, deadline), its failure mapped by the one error
table. Retry waits take no time, as they take none in mock mode.
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass

from mocks.adapter import CassetteAdapter, Pick, playing
from mocks.scenarios import RECORDED_ORIGIN, Scenario
from service.confluence.client import ClientOptions, ConfluenceClient, Credentials
from service.confluence.errors import ConfluenceError
from service.error_table import status_of

__all__ = ["Outcome", "play"]

_CREDENTIALS = Credentials("mock-user@example.invalid", "mock-api-token")


@dataclass(frozen=True)
class Outcome:
    status: int
    detail: str  # the answer's detail when it is an error; else how many spaces


def _no_wait(_seconds: float) -> None:
    return None


_playing = contextvars.ContextVar("mocks.outcome.playing", default=False)


class _QuietWhilePlaying(logging.Filter):
    """A trial play is not Confluence traffic: its retry warnings would only mislead.

    A context variable, not a switch on the logger, so that requests served meanwhile on
    other threads or tasks still log theirs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not _playing.get()


logging.getLogger("spacegate.confluence").addFilter(_QuietWhilePlaying())


def play(scenario: Scenario, options: ClientOptions) -> Outcome:
    client = ConfluenceClient(CassetteAdapter(), options, sleep=_no_wait)
    token = _playing.set(True)
    picked = playing.set(Pick(scenario))  # as mock mode's middleware hands a request's pick down
    try:
        spaces = client.list_spaces(RECORDED_ORIGIN + scenario.root, RECORDED_ORIGIN, _CREDENTIALS)
    except ConfluenceError as exc:
        return Outcome(status_of(exc), exc.detail)
    except Exception as exc:  # what the error table answers with its 500
        return Outcome(500, f"an unexpected error ({type(exc).__name__})")
    finally:
        playing.reset(picked)
        _playing.reset(token)
    return Outcome(200, f"{len(spaces)} space(s)")
