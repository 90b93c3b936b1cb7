"""The request journal and the mock's own API, over HTTP: what `GET /mock/requests` shows, that
it never holds a secret (neither in its answers nor in the file it keeps), emptying it, and
`mocks/mock-api.yaml` describing every `/mock/*` answer."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from mocks.mock_api import MOCK_API_SPEC
from mocks.state import JOURNAL_LENGTH, STATE_FILE, MockState
from service.resources import spec_path
from service.settings import DEV_JWT_SECRET, Settings
from tests.support.bodies import EXAMPLE_BODY as BODY
from tests.support.servers import RunningService, serve
from tests.support.tokens import TENANT, auth_headers, mint

MOCK_API = OpenAPI.from_file_path(str(MOCK_API_SPEC))
BEARER = mint(TENANT, secret=DEV_JWT_SECRET)
API_TOKEN = "ATATT3x-journal-secret-0123456789"


def mock_api(response: requests.Response) -> requests.Response:
    """`response`, once mocks/mock-api.yaml documents it for its request."""
    MOCK_API.validate_response(
        RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response)
    )
    return response


def journal(service: RunningService, **params: str) -> list[dict]:
    response = mock_api(requests.get(service.url + "/mock/requests", params=params, timeout=5))
    return response.json()["requests"]


@pytest.fixture
def state_dir(tmp_path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def mock(state_dir) -> Iterator[RunningService]:
    with serve(replace(Settings(mode="mock").validated(), mock_state_dir=state_dir)) as service:
        yield service


def post(service, body=BODY, prefer=None, **extra_headers) -> requests.Response:
    sent = auth_headers(BEARER, TENANT) | extra_headers
    if prefer is not None:
        sent["prefer"] = prefer
    return requests.post(service.api, json=body, headers=sent, timeout=10)


def test_an_answered_request_as_the_journal_shows_it(mock):
    answer = post(mock, BODY | {"api_token": API_TOKEN}, "example=rate-limited-then-ok")
    assert answer.status_code == 200
    [entry] = journal(mock)
    assert entry["method"] == "POST"
    assert entry["path"] == "/v2/confluence/space-listing"
    assert entry["query"] == ""
    assert entry["status"] == 200
    assert entry["request_id"] == answer.headers["x-request-id"]
    assert entry["scenario"] == "rate-limited-then-ok"
    assert entry["latency_ms"] == 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])
    assert entry["duration_ms"] > 0
    assert entry["headers"]["authorization"] == "Bearer ***"
    assert entry["headers"]["x-tenantid"] == TENANT
    assert entry["headers"]["prefer"] == "example=rate-limited-then-ok"
    assert entry["body"] == BODY | {"api_token": "***"}
    # The recorded 429, then the listing: what the real client sent, and what it got.
    assert entry["confluence"] == [
        {"method": "GET", "path": "/wiki/api/v2/spaces?limit=250", "status": 429},
        {"method": "GET", "path": "/wiki/api/v2/spaces?limit=250", "status": 200},
    ]


def test_newest_last_filtered_by_request_id_and_refusals_too(mock):
    first = post(mock, **{"x-request-id": "first-one"})
    refused = post(mock, BODY | {"username": ""}, **{"x-request-id": "refused-one"})
    unauthorized = requests.post(mock.api, json=BODY, timeout=5)
    assert (first.status_code, refused.status_code, unauthorized.status_code) == (200, 422, 401)
    entries = journal(mock)
    assert [e["request_id"] for e in entries] == [
        "first-one",
        "refused-one",
        unauthorized.headers["x-request-id"],
    ]
    assert [e["status"] for e in entries] == [200, 422, 401]
    # Refused before Confluence: no scenario played, no call made.
    assert [e["scenario"] for e in entries] == ["default", None, None]
    assert [len(e["confluence"]) for e in entries] == [1, 0, 0]
    [only] = journal(mock, request_id="refused-one")
    assert only["body"]["username"] == ""
    assert journal(mock, request_id="nobody") == []


def test_the_operational_endpoints_are_not_journaled(mock):
    for path in ("/healthz", "/openapi.json", "/ui/", "/mock/scenarios", "/mock/openapi.yaml"):
        assert requests.get(mock.url + path, timeout=5).status_code == 200
    assert requests.get(mock.url + "/nope", timeout=5).status_code == 404
    assert [(e["method"], e["path"], e["status"]) for e in journal(mock)] == [("GET", "/nope", 404)]


def test_the_journal_never_holds_a_secret(mock, state_dir):
    basic = base64.b64encode(f"jane:{API_TOKEN}".encode()).decode()
    session = "s3ssion-cookie-value-42"
    proxy = "proxy-secret-value-77"
    api_key = "x-api-key-value-99"
    secrets = [BEARER, API_TOKEN, basic, session, proxy, api_key]
    post(mock, BODY | {"api_token": API_TOKEN, "note": f"pasted {BEARER} here"})
    post(
        mock,
        BODY | {"nested": [{"password": API_TOKEN}]},
        cookie=f"session={session}",
        **{"proxy-authorization": f"Basic {basic}", "x-api-key": api_key},
    )
    requests.post(
        mock.api + f"?api_token={API_TOKEN}&page=2",
        json=BODY | {"api_token": API_TOKEN},
        headers=auth_headers(BEARER, TENANT),
        timeout=5,
    )
    # Not JSON: the body cut short, and a form; the token sits in it as text.
    for text in (f'{{"api_token": "{API_TOKEN}", "username": "ja', f"api_token={API_TOKEN}&a=1"):
        requests.post(mock.api, data=text.encode(), headers=auth_headers(BEARER, TENANT), timeout=5)
    raw = requests.get(mock.url + "/mock/requests", timeout=5).text
    entries = json.loads(raw)["requests"]
    assert len(entries) == 5
    for secret in secrets:
        assert secret not in raw
    assert entries[0]["body"]["note"] == "pasted *** here"
    assert entries[1]["body"]["nested"] == [{"password": "***"}]
    assert entries[1]["headers"]["cookie"] == "***"
    assert entries[1]["headers"]["proxy-authorization"] == "Basic ***"
    assert entries[1]["headers"]["x-api-key"] == "***"
    assert entries[2]["query"] == "api_token=***&page=2"
    assert entries[3]["status"] == 400
    assert entries[3]["body_text"] == '{"api_token": "***", "username": "ja'
    assert entries[4]["body_text"] == "api_token=***&a=1"
    # Nor the files the workers share, write-ahead log included (not the doorbells: pipes).
    for file in (f for f in state_dir.iterdir() if f.is_file()):
        stored = file.read_bytes()
        for secret in secrets:
            assert secret.encode() not in stored, file.name


def test_emptying_the_journal(mock):
    post(mock)
    post(mock)
    emptied = mock_api(requests.delete(mock.url + "/mock/requests", timeout=5))
    assert emptied.json() == {"deleted": 2}
    assert journal(mock) == []
    post(mock)
    assert len(journal(mock)) == 1


def test_the_journal_keeps_the_most_recent_by_arrival(tmp_path):
    state = MockState(tmp_path)

    def rows(numbers: range) -> list[tuple[float, str, str]]:
        return [(1e9 + n, f"r{n}", json.dumps({"n": n})) for n in numbers]

    # Two workers write what they held when the journal is read, not in arrival order.
    state.add_to_journal(rows(range(1, JOURNAL_LENGTH + 100, 2)))
    state.add_to_journal(rows(range(0, JOURNAL_LENGTH + 100, 2)))
    kept = [json.loads(entry)["n"] for entry in state.journal()]
    assert kept == list(range(100, JOURNAL_LENGTH + 100))
    assert [json.loads(e)["n"] for e in state.journal(request_id="r120")] == [120]
    assert (tmp_path / STATE_FILE).exists()


def test_the_mock_api_is_described_and_offered_beside_the_contract(mock):
    served = requests.get(mock.url + "/mock/openapi.json", timeout=5)
    assert served.json() == yaml.safe_load(MOCK_API_SPEC.read_text())
    written = requests.get(mock.url + "/mock/openapi.yaml", timeout=5)
    assert written.content == MOCK_API_SPEC.read_bytes()
    documented = set(served.json()["paths"])
    assert documented >= {"/mock/scenarios", "/mock/requests", "/mock/reset"}
    # The product's contract stays the product's alone.
    assert not [p for p in yaml.safe_load(spec_path().read_text())["paths"] if "mock" in p]
    mock_api(requests.get(mock.url + "/mock/scenarios", timeout=5))
    mock_api(requests.post(mock.url + "/mock/reset", timeout=5))
    # Swagger UI's top bar offers both documents (the browser test picks the mock's).
    page = requests.get(mock.url + "/ui/", timeout=5).text
    [setup] = re.findall(r"const mock = (\{.*?\});", page)
    setup = json.loads(setup)
    offered = [urljoin(mock.url + "/ui/", setup[key]) for key in ("documentUrl", "mockApiUrl")]
    assert offered == [mock.url + "/ui/mock-openapi.json", mock.url + "/mock/openapi.json"]


def test_live_mode_has_none_of_it():
    settings = Settings(mode="live", jwt_secret="x" * 32).validated()
    with serve(settings) as live:
        for method, path in [
            ("GET", "/mock/requests"),
            ("DELETE", "/mock/requests"),
            ("POST", "/mock/reset"),
            ("GET", "/mock/openapi.json"),
        ]:
            response = requests.request(method, live.url + path, timeout=5)
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"
        assert "mock" not in requests.get(live.url + "/ui/", timeout=5).text
