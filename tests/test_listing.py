"""The live service against the Confluence stand-in: every persona gets the contract's answer."""

from __future__ import annotations

import time

import pytest
import requests

from conformance.serving import free_port
from tests.confluence_standin import VALID_TOKEN
from tests.support.contract import assert_conforms
from tests.support.tokens import auth_headers


def list_spaces(service, sent: dict, *, timeout: float = 20) -> requests.Response:
    response = requests.post(service.api, json=sent, headers=auth_headers(), timeout=timeout)
    return assert_conforms(response)


def expected(confluence, username: str, flavor: str, web_url: str) -> list[dict]:
    return confluence.expected_listing(username, web_url, flavor)


def error(response: requests.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text
    return response.json()["detail"]


def single_item(response: requests.Response) -> dict:
    assert response.status_code == 422, response.text
    [item] = response.json()["detail"]
    assert item["loc"] == ["body", "instance_url"]
    return item


# -- listings ------------------------------------------------------------------------------------


def test_the_seed_example(live, body, confluence):
    response = list_spaces(live, body("three"))
    assert response.status_code == 200
    assert response.json() == {"spaces": expected(confluence, "three", "v2", confluence.url + "/wiki")}
    assert [(s["key"], s["name"]) for s in response.json()["spaces"]] == [
        ("KB", "Knowledge Base"),
        ("IT", "IT Documentation"),
        ("HR", "HR Policies"),
    ]


@pytest.mark.parametrize("username", ["empty", "personal-and-archived", "unicode", "many"])
def test_cloud_listings_are_complete_and_in_confluence_order(live, body, confluence, username):
    response = list_spaces(live, body(username))
    assert response.status_code == 200
    assert response.json()["spaces"] == expected(confluence, username, "v2", confluence.url + "/wiki")


def test_personal_and_archived_spaces_are_kept(live, body):
    spaces = list_spaces(live, body("personal-and-archived")).json()["spaces"]
    assert any(s["key"].startswith("~") and s["type"] == "personal" for s in spaces)
    assert any(s["status"] == "archived" for s in spaces)
    assert {"collaboration", "knowledge_base"} <= {s["type"] for s in spaces}


@pytest.mark.parametrize("root", ["dc_root", "dc_context_root"])
@pytest.mark.parametrize("username", ["three", "v1-forms", "unicode"])
def test_data_center_listings_follow_every_next_form(live, body, confluence, root, username):
    web_url = confluence.url + ("/confluence" if root == "dc_context_root" else "")
    response = list_spaces(live, body(username, root=getattr(confluence, root), web_url_instance=web_url))
    assert response.status_code == 200
    spaces = response.json()["spaces"]
    assert spaces == expected(confluence, username, "dc", web_url)
    assert all("/display/" in s["url"] for s in spaces)


def test_ten_thousand_spaces_over_four_hundred_data_center_pages(serve_with, body, confluence):
    with serve_with(deadline_seconds=60) as service:
        response = list_spaces(service, body("many", root=confluence.dc_root), timeout=90)
    assert response.status_code == 200
    assert len(response.json()["spaces"]) == 10_000
    assert response.json()["spaces"] == expected(confluence, "many", "dc", confluence.url + "/wiki")


def test_data_center_roots_never_try_v2(live, body, confluence):
    confluence.clear()
    assert list_spaces(live, body("three", root=confluence.dc_root)).status_code == 200
    assert all("/api/v2/" not in r.path_with_query for r in confluence.requests)


def test_v1_fallback_when_v2_is_gone(live, body, confluence):
    response = list_spaces(live, body("v2-gone"))
    assert response.status_code == 200
    assert response.json()["spaces"] == expected(confluence, "v2-gone", "v1", confluence.url + "/wiki")


def test_cloud_keeps_working_when_only_v1_is_gone(live, body):
    assert list_spaces(live, body("v1-gone")).status_code == 200


def test_both_apis_gone_is_a_502(live, body):
    error(list_spaces(live, body("both-gone")), 502, "confluence_bad_gateway")


def test_basic_auth_reaches_confluence(live, body, confluence):
    confluence.clear()
    list_spaces(live, body("three"))
    [request] = confluence.requests
    assert request.username == "three"
    assert request.headers["Authorization"].startswith("Basic ")


# -- Confluence refusing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "root"),
    [
        ("three", "cloud_root"),  # with a wrong token: Cloud's 403 JSON
        ("three", "dc_root"),  # with a wrong token: Data Center's HTML 401
        ("legacy-401", "cloud_root"),
        ("dc-html-401", "dc_root"),
        ("basic-disabled", "dc_root"),
        ("basic-disabled", "cloud_root"),
    ],
)
def test_rejected_credentials_are_a_403(live, body, confluence, username, root):
    token = "wrong-token" if username == "three" else VALID_TOKEN
    sent = body(username, root=getattr(confluence, root), api_token=token)
    detail = error(list_spaces(live, sent), 403, "confluence_credentials_rejected")
    assert "Tomcat" not in detail
    assert "<html" not in detail.lower()


@pytest.mark.parametrize("path", ["/nope/rest/api", "/wiki/rest", "/wiki/rest/api/v9", "/rest"])
def test_a_wrong_root_is_a_422_on_instance_url(live, body, confluence, path):
    item = single_item(list_spaces(live, body("three", root=confluence.url + path)))
    assert item["type"] == "value_error.confluence_not_found"
    assert "404" in item["msg"]
    assert "<status" not in item["msg"]  # Confluence's XML is not passed on


# -- throttling ---------------------------------------------------------------------------------


def test_one_429_is_retried(live, body, confluence):
    confluence.clear()
    started = time.monotonic()
    response = list_spaces(live, body("rate-limited-once"))
    assert response.status_code == 200
    assert time.monotonic() - started >= 1.0  # Retry-After: 1 was honoured


def test_one_503_is_retried(live, body, confluence):
    confluence.clear()
    assert list_spaces(live, body("unavailable-once")).status_code == 200


def test_a_huge_retry_after_is_answered_at_once_and_clamped(live, body):
    started = time.monotonic()
    response = list_spaces(live, body("rate-limited"))
    error(response, 429, "confluence_rate_limited")
    assert response.headers["retry-after"] == "3600"
    assert time.monotonic() - started < 2


def test_persistent_short_rate_limiting_gives_up_within_the_budget(live, body, live_settings):
    started = time.monotonic()
    response = list_spaces(live, body("rate-limited-short"))
    error(response, 429, "confluence_rate_limited")
    assert response.headers["retry-after"] == "1"
    assert time.monotonic() - started < live_settings.retry_budget_seconds + 2


def test_a_garbage_retry_after_still_gives_a_valid_429(live, body):
    response = list_spaces(live, body("garbage-retry-after"))
    error(response, 429, "confluence_rate_limited")
    assert 1 <= int(response.headers["retry-after"]) <= 3600


def test_persistent_503_is_a_502(live, body):
    error(list_spaces(live, body("unavailable")), 502, "confluence_bad_gateway")


# -- time ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["slow", "slow-body"])
def test_a_slow_confluence_is_a_504_within_the_deadline(live, body, live_settings, username):
    started = time.monotonic()
    error(list_spaces(live, body(username)), 504, "confluence_timeout")
    assert time.monotonic() - started < live_settings.deadline_seconds + 1.5


def test_a_refused_connection_is_a_502(serve_with, body, confluence):
    closed_port = free_port()  # nothing listens there any more
    with serve_with(allowed_hosts=(f"127.0.0.1:{closed_port}",)) as service:
        sent = body("three", root=f"http://127.0.0.1:{closed_port}/wiki/rest/api")
        error(list_spaces(service, sent), 502, "confluence_bad_gateway")


# -- not the API, or not to be trusted ----------------------------------------------------------


@pytest.mark.parametrize(
    "username",
    ["html", "wrong-shape", "bad-space", "cycle", "next-other-host", "base-other-host", "big-page"],
)
def test_answers_that_cannot_be_used_are_a_502(live, body, username):
    detail = error(list_spaces(live, body(username)), 502, "confluence_bad_gateway")
    assert "<html" not in detail.lower()


def test_a_runaway_listing_stops_at_the_page_cap(serve_with, body):
    with serve_with(max_pages=20) as service:
        detail = error(list_spaces(service, body("runaway")), 502, "confluence_bad_gateway")
    assert "20" in detail


def test_a_redirect_to_another_host_is_not_followed(live, body, confluence):
    confluence.clear()
    error(list_spaces(live, body("redirect-other-host")), 502, "confluence_bad_gateway")
    assert len(confluence.requests) == 1  # the redirect was not followed to localhost


def test_credentials_never_go_to_another_host(live, body, confluence):
    for username in ("next-other-host", "base-other-host", "redirect-other-host"):
        confluence.clear()
        list_spaces(live, body(username))
        hosts = {r.headers.get("host", "").split(":")[0] for r in confluence.requests}
        assert hosts == {"127.0.0.1"}, (username, hosts)


def test_a_redirect_on_the_same_host_is_followed(live, body):
    assert list_spaces(live, body("redirect-same-host")).status_code == 200


# -- DNS and TLS --------------------------------------------------------------------------------


def test_a_name_that_does_not_resolve_is_a_502(serve_with, body):
    # .invalid never resolves (RFC 6761)
    with serve_with(allowed_hosts=("*.invalid",)) as service:
        sent = body("three", root="https://confluence.nope.invalid/wiki/rest/api")
        detail = error(list_spaces(service, sent), 502, "confluence_bad_gateway")
    assert "resolve" in detail


def test_a_certificate_that_does_not_verify_is_a_502(serve_with, body, tmp_path):
    from tests.support.tls import TlsServer

    # self-signed, and not in any CA bundle spacegate trusts
    with TlsServer(tmp_path) as server, serve_with(allowed_hosts=(f"localhost:{server.port}",)) as service:
        sent = body("three", root=f"https://localhost:{server.port}/wiki/rest/api")
        detail = error(list_spaces(service, sent), 502, "confluence_bad_gateway")
        assert "localhost" in server.server_names  # the handshake was tried, then refused
    assert "TLS" in detail
