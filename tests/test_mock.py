"""Mock mode over HTTP: every scenario gives the contract's answer, and the live answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import requests

from mocks.adapter import CassetteAdapter, ReplayError
from mocks.scenario_folder import load_scenarios
from mocks.web import mock_mode
from service.confluence.client import ClientOptions, ConfluenceClient, Credentials
from service.resources import default_cassettes_dir
from service.settings import DEV_JWT_SECRET, Settings
from tests.confluence_standin.record_shipped import SHIPPED, Shipped
from tests.support.bodies import EXAMPLE_BODY as BODY
from tests.support.contract import assert_conforms
from tests.support.servers import RunningService, serve
from tests.support.tokens import OTHER_TENANT, TENANT, auth_headers, mint

SCENARIOS = load_scenarios(default_cassettes_dir())


def headers(prefer: str | None = None, *, tenant: str = TENANT, token_tenant: str = TENANT) -> dict:
    sent = auth_headers(mint(token_tenant, secret=DEV_JWT_SECRET), tenant)
    return sent if prefer is None else sent | {"prefer": prefer}


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningService]:
    with serve(Settings(mode="mock").validated()) as service:
        yield service


def call(service, body=BODY, prefer: str | None = None, **kwargs) -> requests.Response:
    response = requests.post(service.api, json=body, headers=headers(prefer, **kwargs), timeout=10)
    return assert_conforms(response)


def test_the_shipped_scenarios():
    recorded = {s.scenario for s in SHIPPED}
    assert set(SCENARIOS) == recorded | {"timeout", "server-error"}
    assert {s.status for s in SCENARIOS.values()} >= {200, 403, 422, 429, 500, 502, 504}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_gives_its_status(mock, name):
    scenario = SCENARIOS[name]
    body = BODY | {"instance_url": "https://acme.atlassian.net" + scenario.root}
    response = call(mock, body, f"example={name}")
    assert response.status_code == scenario.status, response.text
    assert response.headers["x-spacegate-mode"] == "mock"
    if scenario.status == 200:
        assert all(s["url"].startswith("https://acme.atlassian.net/wiki/") for s in response.json()["spaces"])
    elif scenario.status == 429:
        assert 1 <= int(response.headers["retry-after"]) <= 3600
    elif scenario.status == 500:
        assert response.json() == {"detail": "Internal server error", "code": "internal_error"}


def test_no_preference_plays_default(mock):
    response = call(mock)
    assert [(s["key"], s["name"]) for s in response.json()["spaces"]] == [
        ("KB", "Knowledge Base"),
        ("IT", "IT Documentation"),
        ("HR", "HR Policies"),
    ]


def test_many_spans_several_cursor_pages(mock):
    assert SCENARIOS["many"].interactions[0].request.path == "/wiki/api/v2/spaces"
    assert len(SCENARIOS["many"].interactions) >= 4
    assert len(call(mock, prefer="example=many").json()["spaces"]) >= 1000


def test_data_center_links(mock):
    body = BODY | {
        "instance_url": "https://confluence.acme.example/rest/api",
        "web_url_instance": "https://confluence.acme.example",
    }
    spaces = call(mock, body, "example=data-center").json()["spaces"]
    assert spaces[0]["url"] == "https://confluence.acme.example/display/" + spaces[0]["key"]


@pytest.mark.parametrize(
    ("prefer", "status"),
    [
        ("code=403", 403),
        ("code=429", 429),
        ("code=504", 504),
        ('example="empty"', 200),
        ("respond-async, example=rate-limited; foo=bar", 429),
        ("dynamic=true", 200),  # unknown preferences are ignored
        ("Example=legacy-401", 403),
    ],
)
def test_prefer_forms(mock, prefer, status):
    assert call(mock, prefer=prefer).status_code == status


def test_code_picks_the_first_scenario_by_name(mock):
    first_403 = next(s for s in sorted(SCENARIOS) if SCENARIOS[s].status == 403)
    detail = call(mock, prefer="code=403").json()["detail"]
    assert detail == call(mock, prefer=f"example={first_403}").json()["detail"]


DATA_CENTER_BODY = BODY | {
    "instance_url": "https://confluence.acme.example/rest/api",
    "web_url_instance": "https://confluence.acme.example",
}


@pytest.mark.parametrize("prefer", ["code=200", None])
def test_a_code_plays_the_scenario_recorded_at_the_bodys_root(mock, prefer):
    """`code=200` with a Cloud root plays `default`, with a Data Center root `data-center`,
    although `data-center` comes first by name (and the query form alike)."""
    query = "" if prefer else "?__code=200"
    sent = headers(prefer)
    cloud = requests.post(mock.api + query, json=BODY, headers=sent, timeout=10)
    assert assert_conforms(cloud).status_code == 200, cloud.text
    assert [s["key"] for s in cloud.json()["spaces"]] == ["KB", "IT", "HR"]
    dc = requests.post(mock.api + query, json=DATA_CENTER_BODY, headers=sent, timeout=10)
    assert assert_conforms(dc).status_code == 200, dc.text
    spaces = dc.json()["spaces"]
    assert len(spaces) == len(call(mock, DATA_CENTER_BODY, "example=data-center").json()["spaces"])
    assert spaces[0]["url"].startswith("https://confluence.acme.example/display/")


def test_a_code_at_a_root_no_scenario_has_names_the_root_of_the_first(mock):
    body = BODY | {"instance_url": "https://acme.atlassian.net/confluence/api"}
    [item] = call(mock, body, "code=200").json()["detail"]
    assert item["type"] == "value_error.confluence_not_found"
    assert "data-center" in item["msg"]
    assert "/rest/api" in item["msg"]


@pytest.mark.parametrize(
    ("query", "prefer", "status"),
    [
        ("?__example=rate-limited", None, 429),
        ("?__code=403", None, 403),
        ("?__example=credentials-rejected&__code=200", None, 403),  # example wins, as in Prefer
        ("?__code=429&__code=403", None, 429),  # the first one counts
        ("?__example=empty&unrelated=1", None, 200),
        ("?__example=rate-limited", "example=legacy-401", 403),  # the header wins
        ("?__code=429", "respond-async", 429),  # a header without example or code does not
    ],
)
def test_prisms_query_form(mock, query, prefer, status):
    response = requests.post(mock.api + query, json=BODY, headers=headers(prefer), timeout=10)
    assert assert_conforms(response).status_code == status, response.text


@pytest.mark.parametrize("query", ["?__example=nope", "?__example=", "?__code=418"])
def test_the_query_form_refuses_what_the_header_refuses(mock, query):
    response = requests.post(mock.api + query, json=BODY, headers=headers(), timeout=10)
    [item] = assert_conforms(response).json()["detail"]
    assert (item["loc"], item["type"]) == (["header", "prefer"], "value_error.scenario")


def test_live_mode_ignores_the_query_form(live, body):
    response = requests.post(
        live.api + "?__example=rate-limited&__code=502",
        json=body(),
        headers=auth_headers(),
        timeout=10,
    )
    assert assert_conforms(response).status_code == 200, response.text


def test_an_unknown_scenario_lists_the_known_ones(mock):
    [item] = call(mock, prefer="example=nope").json()["detail"]
    assert item["loc"] == ["header", "prefer"]
    assert item["type"] == "value_error.scenario"
    assert all(name in item["msg"] for name in SCENARIOS)


def test_a_code_no_scenario_yields_lists_the_codes(mock):
    [item] = call(mock, prefer="code=418").json()["detail"]
    assert item["type"] == "value_error.scenario"
    assert "200" in item["msg"]
    assert "429" in item["msg"]


def test_an_unknown_scenario_comes_with_the_other_problems(mock):
    response = call(mock, BODY | {"username": ""}, "example=nope", tenant="nope")
    assert [i["loc"] for i in response.json()["detail"]] == [
        ["header", "x-tenantid"],
        ["body", "username"],
        ["header", "prefer"],
    ]


@pytest.mark.parametrize("prefer", ["example=nope", "code=418"])
def test_a_preference_that_slips_past_validation_fails_loudly(prefer, caplog):
    # Without the 422 rule, nothing may fall back to `default`: the listing refuses to start.
    settings = Settings(mode="mock").validated()
    unguarded = replace(mock_mode(settings), rules=())
    with serve(settings, mode=unguarded) as service:
        response = call(service, prefer=prefer)
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error", "code": "internal_error"}
    [logged] = [r for r in caplog.records if r.exc_info and r.exc_info[0] is ReplayError]
    assert logged.levelname == "ERROR"
    assert "no scenario to play" in str(logged.exc_info[1])


def test_a_listing_outside_a_picked_request_fails_loudly():
    client = ConfluenceClient(CassetteAdapter(), ClientOptions.from_settings(Settings()))
    with pytest.raises(ReplayError, match="no scenario picked"):
        client.list_spaces(BODY["instance_url"], BODY["web_url_instance"], Credentials("u", "t"))


def test_another_root_path_names_the_expected_one(mock):
    body = BODY | {"instance_url": "https://acme.atlassian.net/rest/api"}
    [item] = call(mock, body).json()["detail"]
    assert item["type"] == "value_error.confluence_not_found"
    assert "/wiki/rest/api" in item["msg"]


def test_any_host_works_but_network_rules_still_apply(mock):
    any_host = BODY | {"instance_url": "https://wiki.internal.example:8443/wiki/rest/api"}
    assert call(mock, any_host).status_code == 200
    for url, kind in [
        ("https://127.0.0.1/wiki/rest/api", "value_error.url.host"),
        ("https://169.254.169.254/wiki/rest/api", "value_error.url.host"),
        ("http://acme.atlassian.net/wiki/rest/api", "value_error.url.scheme"),
    ]:
        [item] = call(mock, BODY | {"instance_url": url}).json()["detail"]
        assert item["type"] == kind


def test_the_scenario_catalogue(mock):
    listed = requests.get(mock.url + "/mock/scenarios", timeout=5).json()["scenarios"]
    assert [s["name"] for s in listed] == sorted(SCENARIOS)
    by_name = {s["name"]: s for s in listed}
    assert by_name["default"] == {
        "name": "default",
        "description": SCENARIOS["default"].description,
        "root": "/wiki/rest/api",
        "status": 200,
        "recorded": True,
        "source": "recorded",
    }
    assert by_name["timeout"]["recorded"] is False
    assert by_name["timeout"]["source"] == "declared"
    assert by_name["data-center"]["root"] == "/rest/api"


def test_health_and_every_answer_say_mock(mock):
    health = requests.get(mock.url + "/healthz", timeout=5)
    assert health.json()["mode"] == "mock"
    assert health.headers["x-spacegate-mode"] == "mock"
    assert requests.get(mock.url + "/nope", timeout=5).headers["x-spacegate-mode"] == "mock"


def test_cors_is_permissive_in_mock_mode(mock):
    preflight = requests.options(
        mock.api,
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-tenantid, prefer",
        },
        timeout=5,
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", "http://localhost:3000")


def test_concurrent_requests_each_get_their_own_scenario(mock):
    chosen = ["default", "many", "rate-limited-then-ok", "confluence-down", "credentials-rejected",
              "empty", "v1-fallback", "rate-limited", "timeout", "personal-and-archived"]
    solo = {name: call(mock, prefer=f"example={name}") for name in chosen}

    def one(index: int) -> tuple[str, requests.Response]:
        name = chosen[index % len(chosen)]
        return name, requests.post(
            mock.api, json=BODY, headers=headers(f"example={name}"), timeout=30
        )

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    for name, response in results:
        assert response.status_code == solo[name].status_code, name
        assert response.json() == solo[name].json(), name


# -- the same bad input gets the same answer in both modes --------------------------------------

BAD_INPUTS = {
    "no token": dict(headers={"content-type": "application/json", "x-tenantid": TENANT}),
    "malformed json": dict(data=b"{"),
    "an array": dict(data=b"[]"),
    "too large": dict(data=json.dumps(BODY | {"pad": "x" * 70_000}).encode()),
    "not json": dict(data=b"a=b", content_type="application/x-www-form-urlencoded"),
    "no content type": dict(data=json.dumps(BODY).encode(), content_type=None),
    "fields": dict(data=json.dumps({"username": None, "api_token": ""}).encode()),
    "tenant header": dict(data=json.dumps(BODY).encode(), tenant="nope"),
    "other tenant": dict(data=json.dumps(BODY).encode(), token_tenant=OTHER_TENANT),
}


@pytest.fixture(scope="module")
def live_with_dev_secret(live_settings) -> Iterator[RunningService]:
    # the bodies name acme.atlassian.net, which the default allow-list lets through
    settings = replace(live_settings, jwt_secret=DEV_JWT_SECRET, allowed_hosts=("*.atlassian.net",))
    with serve(settings.validated()) as service:
        yield service


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_answered_alike_in_both_modes(mock, live_with_dev_secret, case):
    spec = dict(BAD_INPUTS[case])
    sent = spec.pop("headers", None)
    content_type = spec.pop("content_type", "application/json")
    if sent is None:
        sent = headers(**{k: spec.pop(k) for k in ("tenant", "token_tenant") if k in spec})
        sent.pop("content-type")
        if content_type is not None:
            sent["content-type"] = content_type
    answers = [
        assert_conforms(requests.post(s.api, data=spec.get("data"), headers=sent, timeout=10))
        for s in (mock, live_with_dev_secret)
    ]
    assert answers[0].status_code == answers[1].status_code
    assert answers[0].status_code in (400, 401, 403, 413, 415, 422)
    assert answers[0].json() == answers[1].json()


# -- mock/live parity: a recorded scenario answers as the live service did -----------------------


@pytest.fixture(scope="module")
def live_as_recorded(confluence, live_settings) -> Iterator[RunningService]:
    """Live mode with the client settings the cassettes were recorded with (the defaults)."""
    defaults = Settings()
    settings = replace(
        defaults,
        mode="live",
        jwt_secret=DEV_JWT_SECRET,
        allowed_hosts=live_settings.allowed_hosts,
        allow_http=True,
        allow_private_addresses=True,
    ).validated()
    with serve(settings) as service:
        yield service


@pytest.fixture(scope="module")
def mock_for_standin() -> Iterator[RunningService]:
    """Mock mode that, like the live service beside it, takes the stand-in's http://127.0.0.1."""
    settings = Settings(mode="mock", allow_http=True, allow_private_addresses=True)
    with serve(settings.validated()) as service:
        yield service


@pytest.mark.parametrize("shipped", SHIPPED, ids=lambda s: s.scenario)
def test_mock_and_live_give_the_identical_answer(
    mock_for_standin, live_as_recorded, confluence, shipped: Shipped
):
    body = {
        "instance_url": shipped.instance_url(confluence),
        "web_url_instance": shipped.web_url(confluence),
        "username": f"{shipped.persona}@confluence-standin.example",
        "api_token": shipped.token,
    }
    confluence.clear()
    live = requests.post(live_as_recorded.api, json=body, headers=headers(), timeout=60)
    mocked = call(mock_for_standin, body, f"example={shipped.scenario}")
    assert mocked.status_code == live.status_code == SCENARIOS[shipped.scenario].status
    assert mocked.json() == live.json()
    assert mocked.headers.get("retry-after") == live.headers.get("retry-after")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/mock/scenarios", {"GET", "HEAD"}),
        ("GET", "/mock/reset", {"POST"}),
        ("GET", "/mock/token", {"POST"}),
        ("PATCH", "/mock/requests", {"GET", "HEAD", "DELETE"}),
        ("PUT", "/mock/openapi.json", {"GET", "HEAD"}),
    ],
)
def test_a_mock_route_asked_with_another_method_is_a_405_naming_its_methods(
    mock, method, path, allowed
):
    response = requests.request(method, mock.url + path, timeout=5)
    assert response.status_code == 405, response.text
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed
    assert response.json()["code"] == "method_not_allowed"
    # and a method it serves still answers
    served = sorted(allowed - {"HEAD"})[0]
    sent = {"json": {"tenant": TENANT}} if served == "POST" else {}
    assert requests.request(served, mock.url + path, timeout=5, **sent).status_code == 200
