"""Scenarios: one vcrpy cassette each, loaded once with vcrpy's own loader.

A cassette is vcrpy's YAML (`interactions:` and `version: 1`) plus a `metadata:` block, which
vcrpy 9 reads and writes:

    metadata:
      description: The seed's KB, IT and HR spaces     # one line, shown by GET /mock/scenarios
      root: /wiki/rest/api                             # the instance_url path it was recorded at
      status: 200                                      # what spacegate answered when recorded
      fault: timeout                                   # declared scenarios only (see FAULTS)
      latency_ms: 250                                  # optional: Confluence's latency per answer

Recorded hosts are replaced by `RECORDED_ORIGIN`; replay puts the caller's origin back, so
one recording answers any `instance_url`. A file of the folder without `interactions:` is
not a cassette: `mocks.sequences` reads those.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vcr.cassette import Cassette
from vcr.matchers import method, path, query
from vcr.record_mode import RecordMode
from vcr.request import Request

__all__ = [
    "FAULTS",
    "MATCH_ON",
    "RECORDED_ORIGIN",
    "Interaction",
    "Scenario",
    "ScenarioError",
    "is_cassette",
    "load_scenario",
    "load_scenarios",
    "scenario_files",
]

# Scheme, host, port and credentials are not matched: any host works.
MATCH_ON = (method, path, query)
RECORDED_ORIGIN = "https://confluence.recorded.invalid"
# Transport failures a cassette cannot record; a declared scenario names one.
FAULTS = frozenset({"timeout", "connection-refused", "unexpected-exception"})
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
_INTERACTIONS = re.compile(rb"^interactions:", re.MULTILINE)
# Confluence's latency per answer a cassette may declare (mocks.latency), in milliseconds.
_MAX_LATENCY_MS = 600_000


class ScenarioError(ValueError):
    """A cassette in the scenarios folder cannot be served; the message names the file."""


# How the recorded body was framed on the wire says nothing about the replayed one.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


@dataclass(frozen=True)
class Interaction:
    """One recorded exchange, its response made ready to replay once, at load."""

    request: Request
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]  # values joined as HTTP allows, framing left out
    body: bytes

    @classmethod
    def of(cls, request: Request, response: Mapping[str, Any]) -> Interaction:
        headers = tuple(
            (name, ", ".join(values))
            for name, values in response["headers"].items()
            if name.lower() not in _FRAMING
        )
        return cls(
            request=request,
            status=response["status"]["code"],
            reason=response["status"]["message"],
            headers=headers,
            body=response["body"]["string"] or b"",
        )


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    root: str
    status: int
    interactions: tuple[Interaction, ...]
    fault: str | None = None
    # Confluence's latency per answer; None leaves it to the mock's default.
    latency_ms: int | None = None

    def describe(self) -> dict[str, object]:
        described: dict[str, object] = {
            "name": self.name,
            "description": self.description,
            "root": self.root,
            "status": self.status,
            "recorded": self.fault is None,
        }
        if self.fault is not None:
            described["fault"] = self.fault
        if self.latency_ms is not None:
            described["latency_ms"] = self.latency_ms
        return described


def load_scenario(file: Path, name: str | None = None) -> Scenario:
    """One cassette as a scenario (named after its file); ScenarioError if it cannot serve."""
    name = name or file.stem
    if not _NAME.fullmatch(name):
        raise ScenarioError(f"{file}: a scenario name is lower-case letters, digits and dashes")
    cassette = Cassette.load(path=str(file), record_mode=RecordMode.NONE, match_on=MATCH_ON)
    metadata: Mapping[str, Any] = cassette._metadata  # vcrpy 9 keeps what the file said here
    description = metadata.get("description")
    root = metadata.get("root")
    status = metadata.get("status")
    fault = metadata.get("fault")
    latency_ms = metadata.get("latency_ms")
    if not isinstance(description, str) or "\n" in description.strip():
        raise ScenarioError(f"{file}: metadata.description must be one line of text")
    if not isinstance(root, str) or not root.startswith("/"):
        raise ScenarioError(f"{file}: metadata.root must be the path of instance_url")
    if not isinstance(status, int) or not 200 <= status <= 599:
        raise ScenarioError(f"{file}: metadata.status must be the HTTP status it yields")
    if fault is not None and fault not in FAULTS:
        raise ScenarioError(f"{file}: metadata.fault must be one of {', '.join(sorted(FAULTS))}")
    if latency_ms is not None and not (
        type(latency_ms) is int and 0 <= latency_ms <= _MAX_LATENCY_MS
    ):
        raise ScenarioError(
            f"{file}: metadata.latency_ms must be whole milliseconds from 0 to {_MAX_LATENCY_MS}"
        )
    if fault is None and not cassette.data:
        raise ScenarioError(f"{file}: no interactions (an unreadable cassette loads as empty)")
    return Scenario(
        name=name,
        description=description.strip(),
        root=root.rstrip("/") or "/",
        status=status,
        interactions=tuple(
            Interaction.of(request, response) for request, response in cassette.data
        ),
        fault=fault,
        latency_ms=latency_ms,
    )


def scenario_files(folder: Path) -> list[Path]:
    """Every scenario file of `folder`, cassette or not, in name order (dot files are scratch)."""
    return sorted(f for f in folder.glob("*.yaml") if not f.name.startswith("."))


def is_cassette(file: Path) -> bool:
    """Whether `file` is a recorded or declared cassette (it has `interactions:`)."""
    return _INTERACTIONS.search(file.read_bytes()) is not None


def load_scenarios(folder: Path) -> dict[str, Scenario]:
    """Every `*.yaml` cassette of `folder`, by name, in name order."""
    files = [f for f in scenario_files(folder) if is_cassette(f)]
    if not files:
        raise ScenarioError(f"{folder} holds no scenario cassettes (*.yaml)")
    scenarios = {file.stem: load_scenario(file) for file in files}
    if "default" not in scenarios:
        raise ScenarioError(f"{folder} has no 'default' scenario, which plays without Prefer")
    return scenarios
