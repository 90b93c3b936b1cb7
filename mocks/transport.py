"""Mock mode's transport: every Confluence request answered from a scenario's cassette."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mocks.adapter import CassetteAdapter
from mocks.prefer import Preference, parse_prefer
from mocks.scenario_folder import load_scenarios
from mocks.scenarios import Scenario
from service import problems
from service.confluence.client import ClientOptions
from service.problems import Problem

__all__ = ["CassetteTransport"]

DEFAULT = "default"


class CassetteTransport:
    """Implements `service.confluence.transport.Transport` from a folder of cassettes.

    Scenarios are loaded once; each API request gets a `CassetteAdapter` of its own, picked by
    `Prefer: example=<name>` or `Prefer: code=<status>` (the first scenario by name that
    yields it), `default` without a preference.
    """

    mode = "mock"
    blocking = False  # answers from memory: the client may run on the event loop
    reaches_network = False  # so the host allow-list does not apply

    def __init__(self, scenarios: Mapping[str, Scenario]) -> None:
        self._scenarios = dict(sorted(scenarios.items()))
        self._by_status: dict[str, Scenario] = {}
        for scenario in self._scenarios.values():
            self._by_status.setdefault(str(scenario.status), scenario)

    @classmethod
    def from_folder(cls, folder: Path, options: ClientOptions | None = None) -> CassetteTransport:
        # The client settings decide what a hand-written scenario yields (retries, page cap).
        return cls(load_scenarios(folder, options))

    def _preference(self, headers: Mapping[str, str]) -> Preference:
        getlist = getattr(headers, "getlist", None)
        values = getlist("prefer") if getlist else [headers.get("prefer", "")]
        return parse_prefer(v for v in values if v)

    def _chosen(self, preference: Preference) -> Scenario | None:
        if preference.example is not None:
            return self._scenarios.get(preference.example)
        if preference.code is not None:
            return self._by_status.get(preference.code)
        return self._scenarios[DEFAULT]

    def request_problems(self, headers: Mapping[str, str]) -> list[Problem]:
        preference = self._preference(headers)
        if self._chosen(preference) is not None:
            return []
        if preference.example is not None:
            return [
                problems.unknown_scenario(
                    f"there is no scenario '{preference.example[:80]}'; known scenarios: "
                    f"{', '.join(self._scenarios)}"
                )
            ]
        return [
            problems.unknown_scenario(
                f"no scenario yields status {preference.code[:10]}; scenarios yield: "
                f"{', '.join(sorted(self._by_status))}"
            )
        ]

    def adapter_for(self, headers: Mapping[str, str]) -> CassetteAdapter:
        # request_problems has refused unknown scenarios before the handler asks.
        scenario = self._chosen(self._preference(headers)) or self._scenarios[DEFAULT]
        return CassetteAdapter(scenario)

    def scenarios(self) -> list[dict[str, object]]:
        return [scenario.describe() for scenario in self._scenarios.values()]

    def close(self) -> None:
        pass
