"""Mock mode: each scenario openapi.yaml documents as a `prefer` example answers as documented."""

from __future__ import annotations

from conformance.expectations import expect_status
from conformance.failures import NotApplicable
from conformance.probe_client import ProbeClient
from conformance.probing import probe
from conformance.spec import Scenario


def _documented_scenarios(client: ProbeClient) -> dict[str, Scenario]:
    if not client.is_mock:
        raise NotApplicable("the target does not answer in mock mode (no x-spacegate-mode: mock)")
    return {scenario.name: scenario for scenario in client.spec.scenarios()}


@probe(variants=_documented_scenarios)
def documented_scenario_answers(client: ProbeClient, scenario: Scenario) -> None:
    """In mock mode, each `prefer` example of openapi.yaml yields the status it documents.

    A scenario that shares its name with a request-body example (`data-center`) is sent with
    that body: the mock answers only for the Confluence root the scenario was recorded with.
    """
    body = client.spec.example_body_for(scenario.name) or {
        **client.spec.example_body(),
        **client.pinned,
    }
    expect_status(client.post(body, prefer=scenario.prefer), scenario.status)
