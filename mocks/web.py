"""Mock mode above the client: what `mock_mode(settings)` adds to the same app as live.

- `ScenarioPicker`, the outermost middleware: picks each API request's scenario from `Prefer`
  (docs/contract.md#picking-a-scenario) and hands it to the cassette adapter in
  `mocks.adapter.playing`; marks every answer `x-spacegate-mode: mock`.
- the 422 for a scenario that does not exist (`unknown_scenario_rule`), reported with the
  request's other 422 items;
- `GET /mock/scenarios`, the catalogue, and the files refused with why (`errors`);
- the scenarios folder proved and watched (`mocks.library`): a change serves within a moment;
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
from mocks.library import ScenarioLibrary
from mocks.prefer import Preference, parse_prefer
from mocks.proving import Prover
from mocks.scenario_folder import DEFAULT
from mocks.scenarios import Scenario
from service import problems
from service.confluence.client import ClientOptions
from service.mode import Mode
from service.problems import Loc, Problem
from service.settings import ConfigError, Settings
from service.url_rule import url_policy

__all__ = ["Catalogue", "ScenarioPicker", "mock_mode", "unknown_scenario_rule"]


class Catalogue:
    """The scenarios of the cassettes folder, and which one a preference picks.

    `Prefer: example=<name>` picks by name, `Prefer: code=<status>` the first scenario by name
    that yields that status, and no preference `default`.
    """

    def __init__(self, scenarios: Mapping[str, Scenario]) -> None:
        self.replace(scenarios)

    def replace(self, scenarios: Mapping[str, Scenario]) -> None:
        """Serve `scenarios` from now on (a reload of the folder)."""
        ordered = dict(sorted(scenarios.items()))
        by_status: dict[str, Scenario] = {}
        for scenario in ordered.values():
            by_status.setdefault(str(scenario.status), scenario)
        described = [scenario.describe() for scenario in ordered.values()]
        # One assignment: a request sees the old set or the new one, never a mix of both.
        self._current = (ordered, by_status, described)

    def pick(self, preference: Preference) -> Pick:
        scenarios, by_status, _described = self._current
        if preference.example is not None:
            found = scenarios.get(preference.example)
            if found is None:
                known = ", ".join(scenarios)
                return Pick(
                    None,
                    f"there is no scenario '{preference.example[:80]}'; known scenarios: {known}",
                )
        elif preference.code is not None:
            found = by_status.get(preference.code)
            if found is None:
                yielded = ", ".join(sorted(by_status))
                return Pick(
                    None,
                    f"no scenario yields status {preference.code[:10]}; scenarios yield: {yielded}",
                )
        else:
            found = scenarios[DEFAULT]
        return Pick(found)

    def describe(self) -> list[dict[str, object]]:
        return self._current[2]


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

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["x-spacegate-mode"] = "mock"
            await send(message)

        try:
            await self.app(scope, receive, send_marked)
        finally:
            playing.reset(token)


def unknown_scenario_rule(
    _body: Mapping[str, Any], _headers: Headers, _invalid: frozenset[Loc]
) -> list[Problem]:
    """The 422 item for a preference no scenario satisfies (`ScenarioPicker` found it)."""
    pick = playing.get(None)
    if pick is None or pick.scenario is not None:
        return []
    return [problems.unknown_scenario(pick.refusal)]


def mock_mode(settings: Settings) -> Mode:
    """Mock mode from the scenarios folder (`SPACEGATE_CASSETTES`), proved, then watched."""
    catalogue = Catalogue({})
    library = ScenarioLibrary(
        settings.cassettes,
        # The client settings decide what a hand-written scenario yields (retries, page cap).
        options=ClientOptions.from_settings(settings),
        prove=Prover(settings).prove,
        on_change=lambda found: catalogue.replace(found.scenarios),
    )
    found = library.current
    if DEFAULT not in found.scenarios:
        why = "\n".join(found.errors.values())
        problem = (
            f"{settings.cassettes} holds no '{DEFAULT}' scenario that serves, and a request "
            "without Prefer plays it"
        )
        raise ConfigError("SPACEGATE_CASSETTES", f"{problem}\n{why}" if why else problem)

    async def list_scenarios(_request: Request) -> Response:
        now = library.current
        errors = [
            {"file": file, "problem": problem, "still_serving": file in now.still_serving}
            for file, problem in now.errors.items()
        ]
        return JSONResponse({"scenarios": catalogue.describe(), "errors": errors})

    def install(app: AsyncApp) -> None:
        app.add_middleware(
            ScenarioPicker, position=MiddlewarePosition.BEFORE_EXCEPTION, catalogue=catalogue
        )
        app.add_url_rule("/mock/scenarios", "scenarios", list_scenarios, methods=["GET"])

    return Mode(
        adapter=CassetteAdapter(),
        policy=url_policy(settings, enforce_allow_list=False),
        cors_origins=("*",),
        rules=(unknown_scenario_rule,),
        install=install,
        running=library.watching,
    )
