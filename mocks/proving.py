"""Proving scenarios before they serve: each played once through the real handler.

    prover = Prover(settings)
    prover.prove(scenarios)     # {name: why it fails} for those that fail; {} when all pass

Each scenario gets one request through an app `create_app` builds (the same routing, auth,
validation, handler, Confluence client, cassette adapter and error table as the mock serves
with), sent in-process through httpx's ASGI transport with a token signed by a secret only the
prover knows, so that a deployment verifying tokens with a public key is proved the same way.
The answer must be one `openapi.yaml` documents (status, headers, body: `AnswerCheck`) and
have the status the scenario declares. The trials run in a thread of their own with an event
loop of their own, so proving at start-up works whether or not a loop is running, and a
reload's proving does not hold up the requests the mock is serving; nothing a trial does is
logged (`mocks.trial`).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import httpx

from mocks.adapter import CassetteAdapter, Pick, playing
from mocks.answer_check import AnswerCheck
from mocks.scenarios import Scenario
from mocks.trial import trial
from service.minting import mint_token
from service.mode import Mode
from service.resources import spec_path
from service.settings import Settings
from service.url_rule import url_policy

__all__ = ["Prover"]

_OPERATION = "listSpaces"
_HOST = "https://confluence.example.com"  # any host: nothing leaves the process
_TENANT = "00000000-0000-4000-8000-000000000000"
_API_SUFFIX = "/rest/api"


class Prover:
    def __init__(self, settings: Settings) -> None:
        # The deployment's client settings (what a scenario yields depends on them), with a
        # key of the prover's own for the token.
        self._settings = replace(
            settings,
            mode="mock",
            jwt_secret=secrets.token_urlsafe(32),
            jwt_public_key=None,
            jwks_url=None,
            jwt_algorithms=("HS256",),
            jwt_issuer=None,
            jwt_audience=None,
            validate_responses=False,
        ).validated()
        self._check = AnswerCheck(spec_path(), _OPERATION)
        self._app: Any = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spacegate-proving")

    def prove(self, scenarios: Sequence[Scenario]) -> Mapping[str, str]:
        if not scenarios:
            return {}
        return self._thread.submit(self._prove_in_thread, list(scenarios)).result()

    def _prove_in_thread(self, scenarios: list[Scenario]) -> dict[str, str]:
        if self._app is None:
            # Imported here: service.app composes the mock, which proves with an app of its own.
            from service.app import create_app

            policy = url_policy(self._settings, enforce_allow_list=False)
            mode = Mode(adapter=CassetteAdapter(), policy=policy, cors_origins=())
            self._app = create_app(self._settings, mode=mode)
        with trial():
            return asyncio.run(self._prove_all(scenarios))

    async def _prove_all(self, scenarios: list[Scenario]) -> dict[str, str]:
        token = mint_token(self._settings, _TENANT, ttl=300, subject="mock-proving")
        headers = {"authorization": f"Bearer {token}", "x-tenantid": _TENANT}
        transport = httpx.ASGITransport(app=self._app, raise_app_exceptions=False)
        failures: dict[str, str] = {}
        async with httpx.AsyncClient(transport=transport, base_url="http://mock.invalid") as client:
            for scenario in scenarios:
                problems = await self._prove_one(client, headers, scenario)
                if problems:
                    failures[scenario.name] = "; ".join(problems)
        return failures

    async def _prove_one(
        self, client: httpx.AsyncClient, headers: dict[str, str], scenario: Scenario
    ) -> list[str]:
        site = _HOST + scenario.root.removesuffix(_API_SUFFIX)
        body = {
            "instance_url": _HOST + scenario.root,
            "web_url_instance": site,
            "username": "mock-proving@example.invalid",
            "api_token": "mock-proving",
        }
        # What mock mode's middleware hands down for `Prefer: example=<name>`.
        picked = playing.set(Pick(scenario))
        try:
            answer = await client.request(
                self._check.method.upper(), self._check.path, json=body, headers=headers
            )
        finally:
            playing.reset(picked)
        problems = [
            f"openapi.yaml does not document this answer: {problem}"
            for problem in self._check.problems(answer.status_code, answer.headers, answer.content)
        ]
        if answer.status_code != scenario.status:
            problems.insert(0, f"spacegate answers {answer.status_code}, not {scenario.status}")
        return problems
