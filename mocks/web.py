"""Mock mode above the client: what `mock_mode(settings)` adds to the same app as live.

- `ScenarioPicker`, the outermost middleware: picks each API request's scenario from `Prefer`
  (docs/contract.md#picking-a-scenario) and hands it to the cassette adapter in
  `mocks.adapter.playing`, with a `Playback` to fill in (`mocks.playback`: the delay asked
  for, Confluence's calls); marks every answer `x-spacegate-mode: mock`.
- `Recorder`, inside it: keeps each answered request for the journal (`mocks/journal.py`);
- the 422 for a scenario that does not exist (`unknown_scenario_rule`) or a delay that cannot
  be honoured (`mocks.latency.delay_rule`), reported with the request's other 422 items;
- `GET /mock/scenarios`, the catalogue; the journal, reset and the mock's own OpenAPI
  document (`mocks/mock_api.py`), over the state the workers share (`mocks/state.py`);
- CORS open to any origin, and no host allow-list, since nothing leaves the process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connexion import AsyncApp
from connexion.middleware import MiddlewarePosition
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mocks.adapter import CassetteAdapter, Pick, playing
from mocks.journal import Journal, Recorder
from mocks.latency import delay_rule, playback_for
from mocks.mock_api import MOCK_API_DOCUMENT, add_mock_api
from mocks.playback import playback
from mocks.prefer import Preference, parse_prefer
from mocks.scenarios import Scenario, ScenarioError, load_scenarios
from mocks.sequences import Sequence, load_sequences
from mocks.state import MockState
from service import problems
from service.mode import Mode
from service.problems import Loc, Problem
from service.settings import ConfigError, Settings
from service.url_rule import url_policy

__all__ = ["Catalogue", "ScenarioPicker", "mock_mode", "unknown_scenario_rule"]

DEFAULT = "default"


class Catalogue:
    """The scenarios of the cassettes folder, and which one a preference picks.

    `Prefer: example=<name>` picks by name, `Prefer: code=<status>` the first scenario by name
    that yields that status, and no preference `default`.
    """

    def __init__(
        self, scenarios: Mapping[str, Scenario], sequences: Mapping[str, Sequence] | None = None
    ) -> None:
        self._scenarios = dict(sorted(scenarios.items()))
        self.sequences = dict(sorted((sequences or {}).items()))
        self._by_status: dict[str, Scenario] = {}
        for scenario in self._scenarios.values():
            self._by_status.setdefault(str(scenario.status), scenario)

    def pick(self, preference: Preference) -> Pick:
        if preference.example is not None:
            scenario = self._scenarios.get(preference.example)
            if scenario is not None:
                return Pick(scenario)
            sequence = self.sequences.get(preference.example)
            if sequence is not None:
                return Pick(None, sequence=sequence)
            return Pick(
                None,
                f"there is no scenario '{preference.example[:80]}'; known scenarios: "
                f"{', '.join([*self._scenarios, *self.sequences])}",
            )
        if preference.code is not None:
            scenario = self._by_status.get(preference.code)
            if scenario is not None:
                return Pick(scenario)
            return Pick(
                None,
                f"no scenario yields status {preference.code[:10]}; scenarios yield: "
                f"{', '.join(sorted(self._by_status))}",
            )
        return Pick(self._scenarios[DEFAULT])

    def describe(self) -> dict[str, list[dict[str, object]]]:
        return {
            "scenarios": [scenario.describe() for scenario in self._scenarios.values()],
            "sequences": [sequence.describe() for sequence in self.sequences.values()],
        }


class ScenarioPicker:
    """Outermost layer in mock mode: the scenario of each request, and the mode on each answer."""

    def __init__(self, app: ASGIApp, *, catalogue: Catalogue) -> None:
        self.app = app
        self.catalogue = catalogue

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        preference = parse_prefer(v for v in Headers(scope=scope).getlist("prefer") if v)
        token = playing.set(self.catalogue.pick(preference))
        recording = playback.set(playback_for(preference))

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["x-spacegate-mode"] = "mock"
            await send(message)

        try:
            await self.app(scope, receive, send_marked)
        finally:
            playback.reset(recording)
            playing.reset(token)


def unknown_scenario_rule(
    _body: Mapping[str, Any], _headers: Headers, _invalid: frozenset[Loc]
) -> list[Problem]:
    """The 422 item for a preference no scenario satisfies (`ScenarioPicker` found it)."""
    pick = playing.get(None)
    if pick is None or not pick.refused:
        return []
    return [problems.unknown_scenario(pick.refusal)]


def mock_mode(settings: Settings) -> Mode:
    """Mock mode from the scenarios folder (`SPACEGATE_CASSETTES`), loaded once, with its state
    in `SPACEGATE_MOCK_STATE_DIR` (or a folder of this process's own)."""
    state = MockState(settings.mock_state_dir)
    journal = Journal(state)
    try:
        scenarios = load_scenarios(settings.cassettes)
        catalogue = Catalogue(scenarios, load_sequences(settings.cassettes, scenarios, state))
    except ScenarioError as exc:
        raise ConfigError("SPACEGATE_CASSETTES", str(exc)) from None
    described = catalogue.describe()

    async def list_scenarios(_request: Request) -> Response:
        return JSONResponse(described)

    def install(app: AsyncApp) -> None:
        app.add_middleware(
            ScenarioPicker, position=MiddlewarePosition.BEFORE_EXCEPTION, catalogue=catalogue
        )
        app.add_middleware(
            Recorder, position=MiddlewarePosition.BEFORE_EXCEPTION, journal=journal
        )
        app.add_url_rule("/mock/scenarios", "scenarios", list_scenarios, methods=["GET"])
        add_mock_api(app, journal, state, catalogue.sequences)

    return Mode(
        adapter=CassetteAdapter(settings.mock_latency_ms),
        policy=url_policy(settings, enforce_allow_list=False),
        cors_origins=("*",),
        rules=(unknown_scenario_rule, delay_rule),
        install=install,
        documents=(MOCK_API_DOCUMENT,),
    )
