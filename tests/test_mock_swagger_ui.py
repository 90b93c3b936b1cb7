"""What mock mode serves Swagger UI, over HTTP: the page and its copy of the contract.

The browser side (the page authorizing itself, the drop-down) is tests/test_swagger_ui.py.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
import requests
import yaml

from mocks.swagger_ui import DEMO_TENANT, UI_SPEC_PATH
from service.resources import spec_path
from service.settings import Settings
from tests.support.scenario_folders import serve_mock_of, shipped_scenarios_copy
from tests.support.servers import RunningService, serve

WRITTEN = yaml.safe_load(spec_path().read_bytes())


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningService]:
    with serve(Settings(mode="mock").validated()) as service:
        yield service


def prefer_examples(document: dict) -> dict:
    return document["components"]["parameters"]["Prefer"]["examples"]


def test_the_copy_offers_every_scenario_in_prefer(mock):
    scenarios = requests.get(mock.url + "/mock/scenarios", timeout=5).json()["scenarios"]
    answer = requests.get(mock.url + UI_SPEC_PATH, timeout=5)
    assert answer.status_code == 200
    examples = prefer_examples(answer.json())
    for scenario in scenarios:
        offered = examples[scenario["name"]]
        assert offered["value"] == f"example={scenario['name']}"
        assert scenario["description"] in offered["summary"]
        assert f"answers {scenario['status']}" in offered["summary"]
    assert {s["status"] for s in scenarios} >= {500, 502, 504}
    # the written "no preference" first, and the written examples naming no scenario kept
    assert next(iter(examples)) == "none"
    assert examples["none"]["value"] == ""
    assert examples["code-403"] == prefer_examples(WRITTEN)["code-403"]
    # a scenario recorded elsewhere than default's root says where
    assert "ending in /rest/api" in examples["data-center"]["summary"]


def test_the_copy_is_the_contract_but_for_prefer_tenant_and_a_note(mock):
    shown = requests.get(mock.url + UI_SPEC_PATH, timeout=5).json()
    parameters = shown["components"]["parameters"]
    assert parameters["TenantId"]["example"] == DEMO_TENANT
    assert shown["info"]["description"].startswith("**Mock mode.**")
    assert shown["info"]["description"].endswith(WRITTEN["info"]["description"])
    expected = copy.deepcopy(WRITTEN)
    for changed in (shown, expected):
        del changed["components"]["parameters"]["Prefer"]
        del changed["components"]["parameters"]["TenantId"]["example"]
        del changed["info"]["description"]
    assert shown == expected


def test_the_contract_itself_stays_as_written(mock):
    requests.get(mock.url + UI_SPEC_PATH, timeout=5)
    served = requests.get(mock.url + "/openapi.json", timeout=5).json()
    assert served == WRITTEN
    # the contract's own prefer examples leave the 5xx scenarios out (schemathesis sends them)
    assert "confluence-down" not in prefer_examples(served)
    assert requests.get(mock.url + "/openapi.yaml", timeout=5).content == spec_path().read_bytes()


def test_the_page_loads_the_copy_and_asks_for_a_token(mock):
    for path in ("/ui/", "/ui/index.html"):
        page = requests.get(mock.url + path, timeout=5)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert '"documentUrl": "./mock-openapi.json"' in page.text
        assert '"tokenUrl": "../mock/token"' in page.text
        assert f'"tenant": "{DEMO_TENANT}"' in page.text
        assert '"scheme": "bearerAuth"' in page.text
    # Swagger UI's own assets are still Connexion's
    assert requests.get(mock.url + "/ui/swagger-ui-bundle.js", timeout=5).status_code == 200


def test_live_mode_serves_connexions_swagger_ui_unchanged(live):
    page = requests.get(live.url + "/ui/", timeout=5)
    assert page.status_code == 200
    assert 'url: "/openapi.json"' in page.text
    assert "mock" not in page.text
    assert requests.get(live.url + UI_SPEC_PATH, timeout=5).status_code == 404


def test_the_copy_follows_the_folder(tmp_path):
    folder = shipped_scenarios_copy(tmp_path / "scenarios")
    (folder / "ours.yaml").write_text(
        (folder / "empty.yaml").read_text().replace("A user who can see no space", "Ours")
    )
    (folder / "timeout.yaml").unlink()
    with serve_mock_of(folder) as service:
        examples = prefer_examples(requests.get(service.url + UI_SPEC_PATH, timeout=5).json())
    assert examples["ours"]["value"] == "example=ours"
    assert "timeout" not in examples
