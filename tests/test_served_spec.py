"""The served spec is the spec: openapi.yaml as written, at /openapi.yaml and /openapi.json.

A client generated from the running service is the one generated from the file: the same
named models (`Space`, `Error`, `ValidationProblem`…), never Connexion's inlined rewrite's
anonymous `ListSpacesResponse200`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urljoin

import pytest
import requests
import yaml

from service.resources import spec_path
from service.settings import Settings
from tests.support.generated_clients import generate_python_client, model_names
from tests.support.servers import RunningService, serve

SPEC = spec_path()


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningService]:
    with serve(Settings(mode="mock").validated()) as service:
        yield service


def test_the_yaml_is_the_file_byte_for_byte(mock):
    response = requests.get(mock.url + "/openapi.yaml", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/yaml"
    assert response.content == SPEC.read_bytes()


def test_the_json_is_the_same_document(mock):
    response = requests.get(mock.url + "/openapi.json", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    served = response.json()
    assert served == yaml.safe_load(SPEC.read_text())
    # What Connexion's rewrite lost: the references, and a server a browser can use.
    assert served["servers"][0]["url"] == "/"
    operation = served["paths"]["/v2/confluence/space-listing"]["post"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SpaceListing"
    }


def test_swagger_ui_loads_the_served_document(live):
    page = requests.get(live.url + "/ui/", timeout=5).text
    [url] = re.findall(r'url: "([^"]*)"', page)
    assert url == "/openapi.json"


def test_mock_swagger_ui_loads_a_copy_with_the_references_as_written(mock):
    # Mock mode's page shows a copy that differs in prefer's examples (every scenario) and
    # x-tenantid's (tests/test_mock_swagger_ui.py); the rest is the file, references included.
    page = requests.get(mock.url + "/ui/", timeout=5).text
    [url] = re.findall(r'"documentUrl": "([^"]*)"', page)
    shown = requests.get(urljoin(mock.url + "/ui/", url), timeout=5).json()
    written = yaml.safe_load(SPEC.read_text())
    assert shown["paths"] == written["paths"]
    assert shown["components"]["schemas"] == written["components"]["schemas"]
    assert shown["servers"] == written["servers"]


def test_a_client_generated_from_the_service_is_the_one_generated_from_the_file(mock, tmp_path):
    (tmp_path / "url").mkdir()
    (tmp_path / "file").mkdir()
    from_url = model_names(generate_python_client(mock.url + "/openapi.json", tmp_path / "url"))
    from_file = model_names(generate_python_client(SPEC, tmp_path / "file"))
    assert from_url == from_file
    assert {"Space", "SpaceListing", "SpaceListingRequest", "Error", "ValidationError",
            "ValidationProblem", "ForbiddenError", "RateLimitedError"} <= from_url  # fmt: skip
    assert not [name for name in from_url if name.startswith("ListSpaces")]
