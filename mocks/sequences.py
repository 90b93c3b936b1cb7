"""Sequences: a scenario file that plays other scenarios, one step per API request.

    # cassettes/flaky.yaml
    description: Down twice, then fine
    sequence: [confluence-down, confluence-down, default]

Each API request that picks `flaky` (`Prefer: example=flaky`) and reaches Confluence plays the
next step; past the last step, the last one repeats. A request refused before it reaches
Confluence (401, 403, 422…) plays nothing, so it takes no step. `POST /mock/reset` rewinds
every sequence. Where each sequence is belongs to the mock, not to one worker process
(`mocks.state`), so with `serve --workers N` a sequence moves on once per request, whichever
worker answers.

A sequence file is any file of the scenarios folder without `interactions:`; its steps name
scenarios of the folder, never other sequences.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from mocks.scenarios import Scenario, ScenarioError, is_cassette, scenario_files
from mocks.state import MockState

__all__ = ["Sequence", "SequenceScenario", "load_sequences", "read_sequence"]

_KEYS = frozenset({"description", "sequence"})


@dataclass(frozen=True)
class SequenceScenario:
    """`sequence: [a, b, …]` as its file says it, steps by name."""

    name: str
    description: str
    steps: tuple[str, ...]


def read_sequence(file: Path) -> SequenceScenario:
    """The sequence `file` holds; ScenarioError naming the file and the field if it cannot."""
    try:
        data = yaml.safe_load(file.read_bytes())
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{file}: not YAML ({exc})") from None
    if not isinstance(data, dict) or "sequence" not in data:
        raise ScenarioError(
            f"{file}: neither a cassette (interactions:) nor a sequence (description: and "
            "sequence: [scenario, …])"
        )
    unknown = sorted(str(key) for key in data if key not in _KEYS)
    if unknown:
        raise ScenarioError(f"{file}: a sequence has only description and sequence, not {unknown}")
    description = data.get("description")
    if not isinstance(description, str) or not description.strip() or "\n" in description.strip():
        raise ScenarioError(f"{file}: description must be one line of text")
    steps = data["sequence"]
    if not isinstance(steps, list) or not steps or not all(isinstance(s, str) for s in steps):
        raise ScenarioError(f"{file}: sequence must be a list of scenario names")
    return SequenceScenario(file.stem, description.strip(), tuple(steps))


class Sequence:
    """A sequence ready to play: its steps' scenarios, and the shared state of where it is."""

    def __init__(self, written: SequenceScenario, steps: tuple[Scenario, ...], state: MockState):
        self.name = written.name
        self.description = written.description
        self.steps = steps
        self._state = state

    def play(self) -> tuple[int, Scenario]:
        """The next step (1-based) and its scenario; past the last, the last again."""
        step = min(self._state.advance(self.name), len(self.steps))
        return step, self.steps[step - 1]

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "description": self.description,
            "sequence": [scenario.name for scenario in self.steps],
        }


def load_sequences(
    folder: Path, scenarios: Mapping[str, Scenario], state: MockState
) -> dict[str, Sequence]:
    """Every sequence file of `folder`, its steps checked against `scenarios`, by name."""
    sequences: dict[str, Sequence] = {}
    for file in scenario_files(folder):
        if is_cassette(file):
            continue
        written = read_sequence(file)
        missing = [step for step in written.steps if step not in scenarios]
        if missing:
            raise ScenarioError(
                f"{file}: sequence names {', '.join(missing)}, which the folder has no "
                f"scenario for (known: {', '.join(sorted(scenarios))})"
            )
        steps = tuple(scenarios[step] for step in written.steps)
        sequences[written.name] = Sequence(written, steps, state)
    return sequences
