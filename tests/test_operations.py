"""What operators and browsers see beside the operation: health, docs, CORS, mode header."""

from __future__ import annotations

import importlib.metadata

import requests

from service import __version__
from tests.support.tokens import auth_headers

PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, x-tenantid, prefer",
}


def test_healthz_reports_the_mode(live):
    response = requests.get(live.url + "/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["mode"] == "live"
    assert "x-spacegate-mode" not in response.headers


def test_healthz_reports_the_version_written_once(live):
    # The installed package's metadata is read from service.__version__ at build time.
    assert importlib.metadata.version("spacegate") == __version__
    assert requests.get(live.url + "/healthz", timeout=5).json()["version"] == __version__


def test_the_spec_is_served_as_json(live):
    spec = requests.get(live.url + "/openapi.json", timeout=5).json()
    assert spec["openapi"].startswith("3.0")
    assert "post" in spec["paths"]["/v2/confluence/space-listing"]


def test_swagger_ui_is_served(live):
    response = requests.get(live.url + "/ui/", timeout=5)
    assert response.status_code == 200
    assert "swagger-ui" in response.text.lower()


def test_the_root_leads_to_the_ui(live):
    response = requests.get(live.url + "/", timeout=5, allow_redirects=False)
    assert response.status_code in (302, 307)
    assert response.headers["location"] == "/ui/"


def test_live_cors_refuses_origins_it_was_not_given(live):
    response = requests.options(
        live.api, headers=PREFLIGHT | {"Origin": "https://app.example"}, timeout=5
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == "cors_refused"
    assert "origin" in response.json()["detail"].lower()


def test_live_cors_allows_configured_origins(serve_with, body):
    with serve_with(cors_origins=("https://app.example",)) as service:
        preflight = requests.options(
            service.api, headers=PREFLIGHT | {"Origin": "https://app.example"}, timeout=5
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        assert "POST" in preflight.headers["access-control-allow-methods"]
        actual = requests.post(
            service.api,
            json=body(),
            headers=auth_headers() | {"Origin": "https://app.example"},
            timeout=10,
        )
        assert actual.status_code == 200
        assert actual.headers["access-control-allow-origin"] == "https://app.example"
        assert "x-request-id" in actual.headers["access-control-expose-headers"]
        refused = requests.options(
            service.api, headers=PREFLIGHT | {"Origin": "https://evil.example"}, timeout=5
        )
        assert refused.status_code == 400


def test_an_options_that_is_not_a_preflight_is_a_405(live):
    response = requests.options(live.api, timeout=5)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_an_operational_route_asked_with_another_method_is_a_405_not_a_404(live):
    response = requests.post(live.url + "/healthz", timeout=5)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json()["code"] == "method_not_allowed"
    assert requests.post(live.url + "/nowhere", timeout=5).status_code == 404
