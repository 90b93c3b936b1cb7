"""The scenarios folder (`SPACEGATE_CASSETTES`): recorded cassettes and hand-written files.

Every `*.yaml` and `*.yml` file not starting with a dot is a scenario named after its file
(`acme.yaml` is `acme`), so a name is unique across both kinds and both suffixes: two files
with one name are both refused. Which kind a file is, its content says: a recorded cassette
has `interactions:` (vcrpy's format, `mocks.scenarios`); a file without is written by hand
(`mocks.scenario_file`), a listing turned into interactions (`mocks.confluence_pages`) whose
status is what spacegate answers (`mocks.outcome`), or a sequence whose steps must name
scenarios of the folder.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from mocks.confluence_pages import ROOTS, listing_interactions
from mocks.outcome import play
from mocks.scenario_file import (
    ListingFile,
    SequenceScenario,
    parse_scenario_file,
    read_document,
)
from mocks.scenarios import SCENARIO_NAME, Scenario, ScenarioError, load_scenario
from service.confluence.client import ClientOptions
from service.settings import Settings

__all__ = [
    "SUFFIXES",
    "ScenarioFolder",
    "load_file",
    "load_folder",
    "load_scenarios",
    "scenario_files",
    "written_scenario",
]

SUFFIXES = (".yaml", ".yml")
DEFAULT = "default"


@dataclass(frozen=True)
class ScenarioFolder:
    """What a folder holds: the scenarios and sequences that load, and why others do not."""

    scenarios: dict[str, Scenario] = field(default_factory=dict)
    sequences: dict[str, SequenceScenario] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # file name -> the refusal


def scenario_files(folder: Path) -> list[Path]:
    # Dot files are scratch (the recorder writes `.NAME.*.yaml` beside the target).
    return sorted(
        path
        for path in folder.glob("*")
        if path.suffix in SUFFIXES and not path.name.startswith(".") and path.is_file()
    )


def written_scenario(name: str, listing: ListingFile, options: ClientOptions) -> Scenario:
    """A hand-written listing as a scenario; ScenarioError if its spaces could never be seen."""
    provisional = Scenario(
        name=name,
        description=listing.description,
        root=ROOTS[listing.flavour],
        status=200,
        interactions=listing_interactions(listing),
        latency_ms=listing.latency_ms,
        hand_written=True,
    )
    outcome = play(provisional, options)
    if listing.spaces is not None and outcome.status != 200:
        # The file gives a listing nobody would see: say so rather than serve a surprise.
        field_name = "upstream" if listing.upstream is not None else "spaces"
        raise ScenarioError(
            f"{listing.file}, line {listing.lines.get(field_name, 1)}, {field_name}: spacegate "
            f"answers {outcome.status} to this scenario, so its spaces are never listed: "
            f"{outcome.detail}"
        )
    return replace(provisional, status=outcome.status)


def load_file(file: Path, options: ClientOptions) -> Scenario | SequenceScenario:
    """One file of the folder, of either kind; ScenarioError naming file, line and field."""
    name = file.stem
    if not SCENARIO_NAME.fullmatch(name):
        raise ScenarioError(
            f"{file}: the file name is the scenario's name: lower-case letters, digits and dashes"
        )
    document = read_document(file)
    if document.is_cassette:
        return load_scenario(file, name)
    parsed = parse_scenario_file(document, name)
    if isinstance(parsed, SequenceScenario):
        return parsed
    return written_scenario(name, parsed, options)


def _sequence_problems(sequence: SequenceScenario, file: Path, found: ScenarioFolder) -> list[str]:
    problems = []
    for index, (step, line) in enumerate(zip(sequence.steps, sequence.step_lines, strict=True)):
        if step in found.sequences:
            why = "is a sequence; a step names a scenario"
        elif step in {Path(refused).stem for refused in found.errors}:
            why = "is a scenario that was refused (see its own error)"
        elif step not in found.scenarios:
            why = f"is no scenario of the folder (known: {', '.join(sorted(found.scenarios))})"
        else:
            continue
        problems.append(f"{file}, line {line}, sequence[{index}]: {step!r} {why}")
    return problems


def load_folder(folder: Path, options: ClientOptions | None = None) -> ScenarioFolder:
    """Every scenario file of `folder`; the ones that cannot serve are in `errors`."""
    options = options if options is not None else ClientOptions.from_settings(Settings())
    found = ScenarioFolder()
    by_name: defaultdict[str, list[Path]] = defaultdict(list)
    for file in scenario_files(folder):
        by_name[file.stem].append(file)
    loaded: dict[str, tuple[Path, Scenario | SequenceScenario]] = {}
    for name, files in by_name.items():
        if len(files) > 1:
            for file in files:
                others = ", ".join(other.name for other in files if other != file)
                found.errors[file.name] = (
                    f"{file}: the scenario name '{name}' is also taken by {others}; a name is "
                    "one file, whatever its kind or suffix"
                )
            continue
        try:
            loaded[name] = (files[0], load_file(files[0], options))
        except ScenarioError as exc:
            found.errors[files[0].name] = str(exc)
    for name, (_file, item) in loaded.items():
        if isinstance(item, Scenario):
            found.scenarios[name] = item
        else:
            found.sequences[name] = item
    for name, (file, item) in loaded.items():
        if isinstance(item, SequenceScenario):
            problems = _sequence_problems(item, file, found)
            if problems:
                del found.sequences[name]
                found.errors[file.name] = "\n".join(problems)
    return found


def load_scenarios(folder: Path, options: ClientOptions | None = None) -> dict[str, Scenario]:
    """Every scenario of `folder`, by name in name order; ScenarioError if any file is refused."""
    if not scenario_files(folder):
        raise ScenarioError(f"{folder} holds no scenario files (*.yaml, *.yml)")
    found = load_folder(folder, options)
    if found.errors:
        raise ScenarioError("\n".join(found.errors.values()))
    if DEFAULT not in found.scenarios:
        raise ScenarioError(
            f"{folder} has no '{DEFAULT}' scenario (recorded or hand-written), which plays "
            "without Prefer"
        )
    return dict(sorted(found.scenarios.items()))
