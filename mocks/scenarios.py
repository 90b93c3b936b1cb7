"""Scenarios: what Confluence answers, as interactions replay can play.

A scenario comes from a recorded cassette (this module, with vcrpy's own loader) or from a
file written by hand (`mocks.scenario_file`, turned into the same interactions by
`mocks.confluence_pages`); `mocks.scenario_folder` loads a folder of both.

A cassette is vcrpy's YAML (`interactions:` and `version: 1`) plus a `metadata:` block, which
vcrpy 9 reads and writes:

    metadata:
      description: The seed's KB, IT and HR spaces     # one line, shown by GET /mock/scenarios
      root: /wiki/rest/api                             # the instance_url path it was recorded at
      status: 200                                      # what spacegate answered when recorded
      fault: timeout                                   # declared scenarios only (see FAULTS)
      latency_ms: 250                                  # optional: Confluence's latency per answer

Recorded hosts are replaced by `RECORDED_ORIGIN`; replay puts the caller's origin back, so
one recording answers any `instance_url`.
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
    "SCENARIO_NAME",
    "Interaction",
    "Scenario",
    "ScenarioError",
    "load_scenario",
]

# Scheme, host, port and credentials are not matched: any host works.
MATCH_ON = (method, path, query)
RECORDED_ORIGIN = "https://confluence.recorded.invalid"
# Transport failures a cassette cannot record; a declared scenario names one.
FAULTS = frozenset({"timeout", "connection-refused", "unexpected-exception"})
SCENARIO_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
# Confluence's latency per answer a cassette may declare (mocks.latency), as a written file may.
MAX_LATENCY_MS = 600_000


class ScenarioError(ValueError):
    """A cassette in the scenarios folder cannot be served; the message names the file."""


# How the recorded body was framed on the wire says nothing about the replayed one.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


@dataclass(frozen=True)
class Interaction:
    """One recorded exchange, its response made ready to replay once, at load.

    A hand-written scenario may put a transport fault (one of FAULTS) in place of a response:
    the adapter raises it when the interaction plays, so "fails once, then lists" can hold a
    refused connection as well as a 503.
    """

    request: Request
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]  # values joined as HTTP allows, framing left out
    body: bytes
    fault: str | None = None

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
    hand_written: bool = False

    @property
    def source(self) -> str:
        if self.hand_written:
            return "hand-written"
        return "recorded" if self.fault is None else "declared"

    def describe(self) -> dict[str, object]:
        described: dict[str, object] = {
            "name": self.name,
            "description": self.description,
            "root": self.root,
            "status": self.status,
            "recorded": self.source == "recorded",
            "source": self.source,
        }
        if self.fault is not None:
            described["fault"] = self.fault
        if self.latency_ms is not None:
            described["latency_ms"] = self.latency_ms
        return described


def load_scenario(file: Path, name: str | None = None) -> Scenario:
    """One cassette as a scenario (named after its file); ScenarioError if it cannot serve."""
    name = name or file.stem
    if not SCENARIO_NAME.fullmatch(name):
        raise ScenarioError(f"{file}: a scenario name is lower-case letters, digits and dashes")
    try:
        cassette = Cassette.load(path=str(file), record_mode=RecordMode.NONE, match_on=MATCH_ON)
    except Exception as exc:  # vcrpy reports a malformed cassette with whatever it trips on
        raise ScenarioError(
            f"{file}: not a cassette vcrpy can read ({type(exc).__name__}: {exc})"
        ) from None
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
        type(latency_ms) is int and 0 <= latency_ms <= MAX_LATENCY_MS
    ):
        raise ScenarioError(
            f"{file}: metadata.latency_ms must be whole milliseconds from 0 to {MAX_LATENCY_MS}"
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
