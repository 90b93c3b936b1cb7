"""Sequences, played: one step per API request, the last step repeating, rewound on request.

    # cassettes/flaky.yaml (mocks.scenario_file reads it; mocks.scenario_folder checks its steps)
    description: Down twice, then fine
    sequence: [confluence-down, confluence-down, default]

Each API request that picks `flaky` (`Prefer: example=flaky`) and reaches Confluence plays the
next step; past the last step, the last one repeats. A request refused before it reaches
Confluence (401, 403, 422…) plays nothing, so it takes no step. `POST /mock/reset` rewinds
every sequence. Where each sequence is belongs to the mock, not to one worker process
(`mocks.state`), so with `serve --workers N` a sequence moves on once per request, whichever
worker answers, and a reload of the folder leaves it where it was.
"""

from __future__ import annotations

from collections.abc import Mapping

from mocks.scenario_file import SequenceScenario
from mocks.scenarios import Scenario
from mocks.state import MockState

__all__ = ["Sequence", "playable"]


class Sequence:
    """A sequence ready to play: its steps' scenarios, and the shared state of where it is."""

    def __init__(self, name: str, steps: tuple[Scenario, ...], state: MockState) -> None:
        self.name = name
        self.steps = steps
        self._state = state

    def play(self) -> tuple[int, Scenario]:
        """The next step (1-based) and its scenario; past the last, the last again."""
        step = min(self._state.advance(self.name), len(self.steps))
        return step, self.steps[step - 1]


def playable(
    written: SequenceScenario, scenarios: Mapping[str, Scenario], state: MockState
) -> Sequence:
    """`written` over the scenarios its steps name (the folder's reader has checked that each
    is one of them)."""
    return Sequence(written.name, tuple(scenarios[step] for step in written.steps), state)
