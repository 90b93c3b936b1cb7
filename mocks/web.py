"""Mock mode above the client: what `mock_mode(settings)` adds to the same app as live.

- `ScenarioPicker`, the outermost middleware: picks each API request's scenario from `Prefer`
  or Prism's query form (docs/contract.md#picking-a-scenario) and hands it to the cassette
  adapter in `mocks.adapter.playing`, with a `Playback` to fill in (`mocks.playback`: the
  delay asked for, Confluence's calls); marks every answer `x-spacegate-mode: mock`.
- `Recorder`, inside it: keeps each answered request for the journal (`mocks/journal.py`);
- `scenario_rule`, run with validation, where the body is known: the 422 for a scenario that
  does not exist, reported with the request's other 422 items; for `code=N`, the scenario
  recorded at the body's root; and a `Prefer: delay=` that cannot be honoured
  (`mocks.latency.delay_rule`);
- `GET /mock/scenarios`, the catalogue, and the files refused with why (`errors`);
  `POST /mock/token` (mocks/token_endpoint.py); the journal, `POST /mock/reset` and the
  mock's own OpenAPI document (mocks/mock_api.py), over the state its workers share
  (mocks/state.py);
- Swagger UI already authorized, with every scenario in its `prefer` drop-down
  (mocks/swagger_ui.py);
- the scenarios folder proved and watched (`mocks.library`): a change serves within a moment;
- CORS open to any origin, and no host allow-list, since nothing leaves the process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml
from connexion import AsyncApp
from connexion.middleware import MiddlewarePosition
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mocks.adapter import CassetteAdapter, Pick, playing
from mocks.journal import Journal, Recorder
from mocks.latency import delay_rule, playback_for
from mocks.library import ScenarioLibrary
from mocks.mock_api import add_mock_api
from mocks.playback import playback
from mocks.prefer import Preference, request_preference
from mocks.proving import Prover
from mocks.scenario_file import SequenceScenario
from mocks.scenario_folder import DEFAULT
from mocks.scenarios import Scenario
from mocks.sequences import playable
from mocks.state import MockState
from mocks.swagger_ui import MockSwaggerUI
from mocks.token_endpoint import TOKEN_PATH, token_endpoint
from service import problems
from service.confluence.client import ClientOptions
from service.mode import Mode
from service.problems import Loc, Problem
from service.resources import spec_path
from service.settings import ConfigError, Settings
from service.url_rule import url_policy

__all__ = ["Catalogue", "ScenarioPicker", "StatusPick", "mock_mode", "scenario_rule"]

_INSTANCE_URL: Loc = ("body", "instance_url")


@dataclass(frozen=True)
class StatusPick(Pick):
    """`code=N`: every scenario yielding N, by name; `scenario` is the first until the body's
    root narrows the choice (`at_root`)."""

    candidates: tuple[Scenario, ...] = ()

    def at_root(self, root: str) -> Pick:
        """The first candidate recorded at `root`; this pick itself if none is."""
        return next((Pick(s) for s in self.candidates if s.root == root), self)


class Catalogue:
    """The scenarios of the cassettes folder, and which one a preference picks.

    `Prefer: example=<name>` picks a scenario or a sequence by name, `Prefer: code=<status>`
    the scenarios that yield that status (narrowed by the body's root in `scenario_rule`), and
    no preference `default`. Sequences step through `state`, shared by the worker processes.
    """

    def __init__(self, state: MockState) -> None:
        self._state = state
        self.replace({}, {})

    def replace(
        self, scenarios: Mapping[str, Scenario], sequences: Mapping[str, SequenceScenario]
    ) -> None:
        """Serve `scenarios` and `sequences` from now on (a reload of the folder, which keeps
        only the sequences whose every step is one of its scenarios)."""
        ordered = dict(sorted(scenarios.items()))
        written = dict(sorted(sequences.items()))
        steps = {name: playable(s, ordered, self._state) for name, s in written.items()}
        by_status: dict[str, tuple[Scenario, ...]] = {}
        for scenario in ordered.values():
            status = str(scenario.status)
            by_status[status] = (*by_status.get(status, ()), scenario)
        described = [scenario.describe() for scenario in ordered.values()]
        described_sequences: list[dict[str, object]] = [
            {"name": s.name, "description": s.description, "sequence": list(s.steps)}
            for s in written.values()
        ]
        # One assignment: a request sees the old set or the new one, never a mix of both.
        self._current = (ordered, by_status, described, steps, described_sequences)

    def pick(self, preference: Preference) -> Pick:
        scenarios, by_status, _described, sequences, _ = self._current
        if preference.example is not None:
            found = scenarios.get(preference.example)
            if found is not None:
                return Pick(found)
            sequence = sequences.get(preference.example)
            if sequence is not None:
                return Pick(None, sequence=sequence)
            known = ", ".join([*scenarios, *sequences])
            return Pick(
                None, f"there is no scenario '{preference.example[:80]}'; known scenarios: {known}"
            )
        if preference.code is not None:
            candidates = by_status.get(preference.code)
            if candidates:
                return StatusPick(candidates[0], candidates=candidates)
            yielded = ", ".join(sorted(by_status))
            refusal = (
                f"no scenario yields status {preference.code[:10]}; scenarios yield: {yielded}"
            )
            return Pick(None, refusal)
        return Pick(scenarios[DEFAULT])

    def describe(self) -> list[dict[str, object]]:
        return self._current[2]

    def describe_sequences(self) -> list[dict[str, object]]:
        return self._current[4]

    def sequence_names(self) -> list[str]:
        return list(self._current[3])


class ScenarioPicker:
    """Outermost layer in mock mode: the scenario of each request, and the mode on each answer."""

    def __init__(self, app: ASGIApp, *, catalogue: Catalogue) -> None:
        self.app = app
        self.catalogue = catalogue

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        preference = request_preference(
            (v for v in Headers(scope=scope).getlist("prefer") if v), scope["query_string"]
        )
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


def scenario_rule(
    body: Mapping[str, Any], _headers: Headers, invalid: frozenset[Loc]
) -> list[Problem]:
    """Settles the scenario `ScenarioPicker` picked, now that the body is known.

    A preference no scenario satisfies is the 422 item on `prefer`. `code=N` plays the first
    scenario yielding N that was recorded at the root `instance_url` names, when there is one
    (so `code=200` with a Data Center root plays `data-center`, with a Cloud root `default`).
    """
    pick = playing.get(None)
    if pick is None:
        return []
    if pick.refused:
        return [problems.unknown_scenario(pick.refusal)]
    if isinstance(pick, StatusPick) and _INSTANCE_URL not in invalid:
        root = _root_of(body["instance_url"])
        if root is not None:
            # The rest of the request (the handler, the adapter) runs in this context.
            playing.set(pick.at_root(root))
    return []


def _root_of(instance_url: str) -> str | None:
    try:
        path = urlsplit(instance_url).path
    except ValueError:  # the URL rule reports it
        return None
    return path.rstrip("/") or "/"


def mock_mode(settings: Settings) -> Mode:
    """Mock mode from the scenarios folder (`SPACEGATE_CASSETTES`), proved, then watched, with
    its state in `SPACEGATE_MOCK_STATE_DIR` (or a folder of this process's own)."""
    state = MockState(settings.mock_state_dir)
    journal = Journal(state)
    catalogue = Catalogue(state)
    library = ScenarioLibrary(
        settings.cassettes,
        # The client settings decide what a hand-written scenario yields (retries, page cap).
        options=ClientOptions.from_settings(settings),
        prove=Prover(settings).prove,
        on_change=lambda found: catalogue.replace(found.scenarios, found.sequences),
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
        return JSONResponse(
            {
                "scenarios": catalogue.describe(),
                "sequences": catalogue.describe_sequences(),
                "errors": errors,
            }
        )

    def install(app: AsyncApp) -> None:
        app.add_middleware(
            ScenarioPicker, position=MiddlewarePosition.BEFORE_EXCEPTION, catalogue=catalogue
        )
        app.add_middleware(
            Recorder, position=MiddlewarePosition.BEFORE_EXCEPTION, journal=journal
        )
        app.add_url_rule("/mock/scenarios", "scenarios", list_scenarios, methods=["GET"])
        app.add_url_rule(TOKEN_PATH, "mock_token", token_endpoint(settings), methods=["POST"])
        add_mock_api(app, journal, state, catalogue.sequence_names)
        app.add_middleware(
            MockSwaggerUI,
            position=MiddlewarePosition.BEFORE_SWAGGER,
            written=yaml.safe_load(spec_path().read_bytes()),
            # The catalogue's current description: a reloaded folder shows after a page reload.
            scenarios=catalogue.describe,
        )

    return Mode(
        adapter=CassetteAdapter(settings.mock_latency_ms),
        policy=url_policy(settings, enforce_allow_list=False),
        cors_origins=("*",),
        rules=(scenario_rule, delay_rule),
        install=install,
        running=library.watching,
    )
