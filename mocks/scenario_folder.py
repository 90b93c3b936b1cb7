"""The scenarios folder (`SPACEGATE_CASSETTES`): recorded cassettes and hand-written files.

Every `*.yaml` and `*.yml` file not starting with a dot is a scenario named after its file
(`acme.yaml` is `acme`), so a name is unique across both kinds and both suffixes: two files
with one name are both refused. Which kind a file is, its content says: a recorded cassette
has `interactions:` (vcrpy's format, `mocks.scenarios`); a file without is written by hand
(`mocks.scenario_file`), a listing turned into interactions (`mocks.confluence_pages`) whose
status is what spacegate answers (`mocks.outcome`), or a sequence whose steps must name
scenarios of the folder.

`FolderReader` reads a folder, and reads it again after a change (mocks.library watches):
only new or changed files are loaded, and proved when a `prove` is given (mocks.proving); a
name whose file stops loading keeps its last good version. `load_folder` reads once.
"""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
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
    "DEFAULT",
    "SUFFIXES",
    "FolderReader",
    "Prove",
    "ScenarioFolder",
    "load_file",
    "load_folder",
    "load_scenarios",
    "scenario_files",
    "written_scenario",
]

SUFFIXES = (".yaml", ".yml")
DEFAULT = "default"  # the scenario a request without Prefer plays


# Plays scenarios through the real handler; the reason each one that fails is refused, by name.
Prove = Callable[[Sequence[Scenario]], Mapping[str, str]]


@dataclass(frozen=True)
class ScenarioFolder:
    """What a folder holds: the scenarios and sequences that serve, and why files are refused."""

    scenarios: dict[str, Scenario] = field(default_factory=dict)
    sequences: dict[str, SequenceScenario] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # file name -> why it is refused
    # refused files whose name still serves its last good version
    still_serving: frozenset[str] = frozenset()


def is_scenario_name(name: str) -> bool:
    """A file of that name is a scenario. Dot files are scratch: the recorder and editors
    write one (`.NAME.*.yaml`), then rename it into place."""
    return Path(name).suffix in SUFFIXES and not name.startswith(".")


def scenario_files(folder: Path) -> list[Path]:
    return sorted(
        path for path in folder.glob("*") if is_scenario_name(path.name) and path.is_file()
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


def _clash(name: str, file: Path, files: list[Path]) -> str:
    others = ", ".join(other.name for other in files if other != file)
    return (
        f"{file}: the scenario name '{name}' is also taken by {others}; a name is one file, "
        "whatever its kind or suffix"
    )


def _sequence_problems(
    sequence: SequenceScenario,
    file: Path,
    scenarios: Mapping[str, Scenario],
    sequences: Mapping[str, SequenceScenario],
    refused: set[str],
) -> list[str]:
    problems = []
    for index, (step, line) in enumerate(zip(sequence.steps, sequence.step_lines, strict=True)):
        if step in sequences:
            why = "is a sequence; a step names a scenario"
        elif step in refused:
            why = "is a scenario that was refused (see its own error)"
        elif step not in scenarios:
            why = f"is no scenario of the folder (known: {', '.join(sorted(scenarios))})"
        else:
            continue
        problems.append(f"{file}, line {line}, sequence[{index}]: {step!r} {why}")
    return problems


@dataclass(frozen=True)
class _Read:
    """One file as last read: its content's digest, and what it loaded to or why not."""

    digest: bytes
    item: Scenario | SequenceScenario | None
    error: str | None = None


class FolderReader:
    """Reads a scenarios folder, and again after every change, keeping what still serves.

    - A file whose content is the same as at the last read is not loaded (nor proved) again.
    - A new or changed scenario is proved with `prove`, when given; one that fails is refused.
    - A name whose file no longer loads (or clashes, or fails proving) keeps serving its last
      good version, and `still_serving` says so; a name whose file is gone is gone, except
      `default`, which every request without `Prefer` plays: its last version stays.
    - A sequence serves only while every step names a scenario that serves.

    Reads are serialised; the result of each is a new `ScenarioFolder`, never changed after.
    """

    def __init__(
        self, folder: Path, options: ClientOptions | None = None, prove: Prove | None = None
    ) -> None:
        self.folder = folder
        self._options = options if options is not None else ClientOptions.from_settings(Settings())
        self._prove = prove
        self._reads: dict[Path, _Read] = {}
        self._good: dict[str, Scenario | SequenceScenario] = {}
        self._lock = threading.Lock()

    def read(self) -> ScenarioFolder:
        with self._lock:
            return self._read()

    def _load(self, file: Path) -> _Read:
        try:
            content = file.read_bytes()
        except OSError as exc:
            return _Read(b"", None, f"{file}: cannot be read ({exc.strerror or exc})")
        digest = hashlib.sha256(content).digest()
        previous = self._reads.get(file)
        if previous is not None and previous.digest == digest:
            return previous
        try:
            return _Read(digest, load_file(file, self._options))
        except ScenarioError as exc:
            return _Read(digest, None, str(exc))

    def _proved(self, reads: dict[Path, _Read]) -> dict[Path, _Read]:
        fresh = {
            file: read.item
            for file, read in reads.items()
            if isinstance(read.item, Scenario) and self._reads.get(file) is not read
        }
        if self._prove is None or not fresh:
            return reads
        refused = self._prove(list(fresh.values()))
        proved = dict(reads)
        for file, scenario in fresh.items():
            if scenario.name in refused:
                why = refused[scenario.name]
                proved[file] = _Read(
                    reads[file].digest, None, f"{file}: refused by its trial: {why}"
                )
        return proved

    def _read(self) -> ScenarioFolder:
        by_name: defaultdict[str, list[Path]] = defaultdict(list)
        for file in scenario_files(self.folder):
            by_name[file.stem].append(file)
        errors: dict[str, str] = {}
        reads: dict[Path, _Read] = {}
        for name, files in by_name.items():
            if len(files) > 1:
                errors.update((file.name, _clash(name, file, files)) for file in files)
            else:
                reads[files[0]] = self._load(files[0])
        reads = self._proved(reads)
        good: dict[str, Scenario | SequenceScenario] = {}
        still_serving: set[str] = set()
        for name, files in by_name.items():
            read = reads.get(files[0]) if len(files) == 1 else None
            if read is not None and read.item is not None:
                good[name] = read.item
                continue
            if read is not None and read.error is not None:
                errors[files[0].name] = read.error
            if name in self._good:
                good[name] = self._good[name]
                still_serving.update(file.name for file in files)
        if DEFAULT in self._good and DEFAULT not in by_name:
            gone = f"{DEFAULT}.yaml"
            good[DEFAULT] = self._good[DEFAULT]
            errors[gone] = (
                f"{self.folder / gone}: removed, but a request without Prefer plays "
                f"'{DEFAULT}', so its last version keeps serving"
            )
            still_serving.add(gone)
        self._reads, self._good = reads, good
        scenarios = {n: s for n, s in sorted(good.items()) if isinstance(s, Scenario)}
        sequences = {n: s for n, s in sorted(good.items()) if isinstance(s, SequenceScenario)}
        refused = {Path(file).stem for file in errors} - scenarios.keys()
        for name, sequence in list(sequences.items()):
            file = by_name[name][0]
            problems = _sequence_problems(sequence, file, scenarios, sequences, refused)
            if problems:
                del sequences[name]
                errors[file.name] = "\n".join(filter(None, [errors.get(file.name), *problems]))
                still_serving.discard(file.name)
        return ScenarioFolder(scenarios, sequences, errors, frozenset(still_serving))


def load_folder(
    folder: Path, options: ClientOptions | None = None, prove: Prove | None = None
) -> ScenarioFolder:
    """Every scenario file of `folder`, read once; the ones that cannot serve are in `errors`."""
    return FolderReader(folder, options, prove).read()


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
    return found.scenarios
