"""What spacegate answers for a scenario: the real client played over its interactions.

A hand-written scenario declares no status; it has the one this gives, found the honest way:
the Confluence client the handler uses, over mock mode's cassette adapter, with this
process's client settings (retries, page cap, deadline), its failure mapped by the one error
table. Retry waits take no time, as they take none in mock mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from mocks.adapter import CassetteAdapter, Pick, playing
from mocks.scenarios import RECORDED_ORIGIN, Scenario
from mocks.trial import trial
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


def play(scenario: Scenario, options: ClientOptions) -> Outcome:
    client = ConfluenceClient(CassetteAdapter(), options, sleep=_no_wait)
    picked = playing.set(Pick(scenario))  # as mock mode's middleware hands a request's pick down
    try:
        with trial():
            spaces = client.list_spaces(
                RECORDED_ORIGIN + scenario.root, RECORDED_ORIGIN, _CREDENTIALS
            )
    except ConfluenceError as exc:
        return Outcome(status_of(exc), exc.detail)
    except Exception as exc:  # what the error table answers with its 500
        return Outcome(500, f"an unexpected error ({type(exc).__name__})")
    finally:
        playing.reset(picked)
    return Outcome(200, f"{len(spaces)} space(s)")
