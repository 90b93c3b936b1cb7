"""The stand-in Confluence, checked over real HTTP with `requests`."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from conformance.serving import free_port
from tests.confluence_standin import PERSONAS, THROTTLE_SECONDS, VALID_TOKEN, Flavor, StandIn

REPO = Path(__file__).resolve().parent.parent

# (listing endpoint relative to the stand-in's url, flavor)
ROOTS: dict[str, tuple[str, Flavor]] = {
    "v2": ("/wiki/api/v2/spaces", "v2"),
    "v1": ("/wiki/rest/api/space", "v1"),
    "dc": ("/rest/api/space", "dc"),
    "dc-context": ("/confluence/rest/api/space", "dc"),
}
CLOUD_ROOTS = ["v2", "v1"]
V1_ROOTS = ["v1", "dc", "dc-context"]


@pytest.fixture(scope="module")
def confluence() -> Iterator[StandIn]:
    with StandIn() as standin:
        yield standin


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def listing(confluence: StandIn, root: str) -> str:
    return confluence.url + ROOTS[root][0]


def get(
    session: requests.Session, url: str, user: str | None = "three", **kwargs: Any
) -> requests.Response:
    if user is not None:
        kwargs.setdefault("auth", (user, VALID_TOKEN))
    kwargs.setdefault("timeout", 5)
    return session.get(url, **kwargs)


def summary(item: dict[str, Any]) -> dict[str, str]:
    return {
        "id": str(item["id"]),
        "key": item["key"],
        "name": item["name"],
        "type": item["type"],
        "status": item["status"],
        "webui": item["_links"]["webui"],
    }


def follow(next_link: str, page_url: str, body: dict[str, Any], flavor: Flavor) -> str:
    """Where a `next` leads, joined as docs/design.md#paging says."""
    if urlsplit(next_link).scheme:
        return next_link
    if flavor == "v2":
        return urljoin(page_url, next_link)  # starts with /wiki: scheme and host only
    return body["_links"]["base"].rstrip("/") + "/" + next_link.lstrip("/")


def walk(
    session: requests.Session, url: str, user: str, flavor: Flavor
) -> tuple[list[dict[str, str]], list[str]]:
    """Every page of a listing: (the spaces, the raw `next` links seen)."""
    spaces: list[dict[str, str]] = []
    nexts: list[str] = []
    host = urlsplit(url).netloc
    while True:
        response = get(session, url, user)
        assert response.status_code == 200, response.text[:200]
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        spaces += [summary(item) for item in body["results"]]
        next_link = body["_links"].get("next")
        if next_link is None:
            return spaces, nexts
        nexts.append(next_link)
        assert len(nexts) == len(set(nexts)), "a next link repeated"
        url = follow(next_link, url, body, flavor)
        assert urlsplit(url).netloc == host


# --- listings -----------------------------------------------------------------------------


@pytest.mark.parametrize("root", list(ROOTS))
@pytest.mark.parametrize(
    "user", ["three", "empty", "personal-and-archived", "unicode", "v1-forms", "nobody"]
)
def test_full_listing_yields_expected_spaces(
    confluence: StandIn, session: requests.Session, root: str, user: str
) -> None:
    flavor = ROOTS[root][1]
    spaces, _ = walk(session, listing(confluence, root), user, flavor)
    assert spaces == confluence.expected_spaces(user, flavor)


@pytest.mark.parametrize(
    ("root", "limit", "pages"),
    [("v2", 250, 40), ("v1", 1000, 20), ("dc", 500, 400), ("dc-context", 25, 400)],
)
def test_many_spaces_page_at_each_flavors_cap(
    confluence: StandIn, session: requests.Session, root: str, limit: int, pages: int
) -> None:
    flavor = ROOTS[root][1]
    url = f"{listing(confluence, root)}?limit={limit}"
    spaces, nexts = walk(session, url, "many", flavor)
    assert len(nexts) + 1 == pages
    assert len(spaces) == 10_000
    assert spaces == confluence.expected_spaces("many", flavor)


def test_three_spaces_in_each_flavors_shape(confluence: StandIn, session: requests.Session) -> None:
    port = confluence.port
    v1 = get(session, listing(confluence, "v1")).json()
    assert [s["key"] for s in v1["results"]] == ["HR", "IT", "KB"]
    assert (v1["start"], v1["limit"], v1["size"]) == (0, 25, 3)
    assert v1["_links"] == {
        "base": f"http://127.0.0.1:{port}/wiki",
        "context": "/wiki",
        "self": f"http://127.0.0.1:{port}/wiki/rest/api/space",
    }
    item = v1["results"][0]
    assert item["id"] == 98308
    assert item["_links"]["webui"] == "/spaces/HR"
    assert item["_links"]["self"] == f"http://127.0.0.1:{port}/wiki/rest/api/space/HR"
    assert "_expandable" in item

    v2 = get(session, listing(confluence, "v2"))
    assert "link" not in v2.headers  # no next page
    body = v2.json()
    assert [s["key"] for s in body["results"]] == ["KB", "IT", "HR"]
    assert body["_links"] == {"base": f"http://127.0.0.1:{port}/wiki"}
    item = body["results"][0]
    assert item["id"] == "98306"
    assert {"authorId", "createdAt", "homepageId", "currentActiveAlias"} <= item.keys()

    for root, base, context in [
        ("dc", f"http://127.0.0.1:{port}", ""),
        ("dc-context", f"http://127.0.0.1:{port}/confluence", "/confluence"),
    ]:
        dc = get(session, listing(confluence, root)).json()
        assert dc["_links"]["base"] == base
        assert dc["_links"]["context"] == context
        assert dc["results"][0]["_links"]["webui"] == "/display/HR"
        assert "ari" not in dc["results"][0]


def test_v2_next_link_and_link_header(confluence: StandIn, session: requests.Session) -> None:
    response = get(session, listing(confluence, "v2") + "?limit=2")
    next_link = response.json()["_links"]["next"]
    assert re.fullmatch(r"/wiki/api/v2/spaces\?cursor=[A-Za-z0-9_=-]+&limit=2", next_link)
    base = f"http://127.0.0.1:{confluence.port}/wiki"
    assert response.headers["link"] == f'<{next_link}>; rel="next", <{base}>; rel="base"'


def test_v1_next_link_is_relative_to_base(confluence: StandIn, session: requests.Session) -> None:
    body = get(session, listing(confluence, "v1") + "?limit=2").json()
    assert body["_links"]["next"] == "/rest/api/space?next=true&limit=2&start=2"


@pytest.mark.parametrize(
    ("root", "asked", "served"),
    [("v1", 1000, 500), ("dc", 100, 25), ("dc-context", 26, 25), ("v1", 7, 7), ("v2", 1000, 250)],
)
def test_limits_are_capped_silently(
    confluence: StandIn, session: requests.Session, root: str, asked: int, served: int
) -> None:
    body = get(session, f"{listing(confluence, root)}?limit={asked}", "many").json()
    assert len(body["results"]) == served
    if root != "v2":
        assert body["limit"] == served


@pytest.mark.parametrize("root", list(ROOTS))
def test_default_page_is_25(confluence: StandIn, session: requests.Session, root: str) -> None:
    assert len(get(session, listing(confluence, root), "many").json()["results"]) == 25


@pytest.mark.parametrize("root", V1_ROOTS)
def test_v1_forms_uses_every_documented_next_form(
    confluence: StandIn, session: requests.Session, root: str
) -> None:
    flavor = ROOTS[root][1]
    spaces, nexts = walk(session, listing(confluence, root) + "?limit=500", "v1-forms", flavor)
    assert spaces == confluence.expected_spaces("v1-forms", flavor)
    forms = {
        "absolute" if link.startswith("http://") else "slash" if link[0] == "/" else "bare"
        for link in nexts
    }
    assert forms == {"absolute", "slash", "bare"}
    assert len(nexts) == 6


def test_unicode_travels_as_utf8(confluence: StandIn, session: requests.Session) -> None:
    response = get(session, listing(confluence, "v2"), "unicode")
    assert "開発チーム" in response.content.decode("utf-8")
    names = {space["name"] for space in response.json()["results"]}
    assert "Back\\slash C:\\Temp\\new \\u0041 not an escape" in names
    assert "🚀 Launch Pad 🎉 👩🏽‍💻" in names


def test_personal_and_archived_mix(confluence: StandIn) -> None:
    spaces = confluence.expected_spaces("personal-and-archived", "v1")
    kinds = {(s["type"], s["status"]) for s in spaces}
    assert {("personal", "current"), ("personal", "archived"), ("global", "archived")} <= kinds
    assert {"collaboration", "knowledge_base"} <= {s["type"] for s in spaces}
    assert {"~5b10ac8d82e05b22cc7d4ef5", "~jsmith"} <= {s["key"] for s in spaces}


@pytest.mark.parametrize("user", sorted(PERSONAS - {"runaway"}))
def test_flavors_list_the_same_spaces_in_their_own_order(confluence: StandIn, user: str) -> None:
    v2 = confluence.expected_spaces(user, "v2")
    v1 = confluence.expected_spaces(user, "v1")
    dc = confluence.expected_spaces(user, "dc")
    assert [int(s["id"]) for s in v2] == sorted(int(s["id"]) for s in v2)
    assert [s["key"] for s in v1] == sorted(s["key"] for s in v1)
    assert sorted(v2, key=lambda s: s["key"]) == v1
    assert [{**s, "webui": s["webui"].replace("/spaces/", "/display/")} for s in v1] == dc


def test_many_orders_really_differ(confluence: StandIn) -> None:
    v2 = confluence.expected_spaces("many", "v2")
    v1 = confluence.expected_spaces("many", "v1")
    assert len({s["key"] for s in v1}) == 10_000
    assert [s["key"] for s in v2] != [s["key"] for s in v1]


def test_big_page(confluence: StandIn, session: requests.Session) -> None:
    response = get(session, listing(confluence, "v2"), "big-page")
    assert int(response.headers["content-length"]) == len(response.content) > 20_000_000
    spaces = [summary(item) for item in response.json()["results"]]
    assert spaces == confluence.expected_spaces("big-page", "v2")
    assert "next" not in response.json()["_links"]


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize("root", CLOUD_ROOTS)
@pytest.mark.parametrize("auth", [("three", "wrong-token"), None, ("three", "")])
def test_cloud_refuses_bad_credentials_with_403_json(
    confluence: StandIn, session: requests.Session, root: str, auth: tuple[str, str] | None
) -> None:
    response = get(session, listing(confluence, root), None, auth=auth)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["statusCode"] == 403
    assert "not permitted" in response.json()["message"]


@pytest.mark.parametrize("root", ["dc", "dc-context"])
@pytest.mark.parametrize("auth", [("three", "wrong-token"), None])
def test_data_center_refuses_bad_credentials_with_html_401(
    confluence: StandIn, session: requests.Session, root: str, auth: tuple[str, str] | None
) -> None:
    response = get(session, listing(confluence, root), None, auth=auth)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "AUTHENTICATED_FAILED" in response.text


def test_bearer_token_is_not_basic_auth(confluence: StandIn, session: requests.Session) -> None:
    headers = {"Authorization": f"Bearer {VALID_TOKEN}"}
    response = get(session, listing(confluence, "v1"), None, headers=headers)
    assert response.status_code == 403


@pytest.mark.parametrize("root", list(ROOTS))
@pytest.mark.parametrize("token", [VALID_TOKEN, "wrong-token"])
@pytest.mark.parametrize(
    ("user", "status", "content_type", "needle"),
    [
        ("legacy-401", 401, "text/plain", "Basic authentication with passwords is deprecated."),
        ("dc-html-401", 401, "text/html", "AUTHENTICATED_FAILED"),
        ("basic-disabled", 403, "application/json", "Basic Authentication has been disabled"),
    ],
)
def test_auth_layer_personas(
    confluence: StandIn,
    session: requests.Session,
    root: str,
    token: str,
    user: str,
    status: int,
    content_type: str,
    needle: str,
) -> None:
    response = get(session, listing(confluence, root), None, auth=(user, token))
    assert response.status_code == status
    assert response.headers["content-type"].startswith(content_type)
    assert needle in response.text


# --- APIs gone --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "answers"),
    [
        ("v2-gone", {"v2": 404, "v1": 200, "dc": 200}),
        ("v1-gone", {"v2": 200, "v1": 410, "dc": 410}),
        ("both-gone", {"v2": 404, "v1": 410, "dc-context": 410}),
    ],
)
def test_gone_apis(
    confluence: StandIn, session: requests.Session, user: str, answers: dict[str, int]
) -> None:
    for root, status in answers.items():
        response = get(session, listing(confluence, root), user)
        assert response.status_code == status, root
        if status == 404:
            assert response.json()["errors"][0]["code"] == "NOT_FOUND"
        elif status == 410:
            assert response.headers["content-type"].startswith("text/plain")
            assert response.text == "GoneException: This deprecated endpoint has been removed"
        else:
            spaces = [summary(item) for item in response.json()["results"]]
            assert spaces == confluence.expected_spaces(user, ROOTS[root][1])


# --- throttling and outages -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "status", "retry_after"),
    [
        ("rate-limited", 429, "9223372036854775807"),
        ("rate-limited-short", 429, "1"),
        ("garbage-retry-after", 429, "soon"),
        ("unavailable", 503, None),
    ],
)
@pytest.mark.parametrize("root", list(ROOTS))
def test_always_failing_personas(
    confluence: StandIn,
    session: requests.Session,
    root: str,
    user: str,
    status: int,
    retry_after: str | None,
) -> None:
    for _ in range(2):
        response = get(session, listing(confluence, root), user)
        assert response.status_code == status
        assert response.headers.get("retry-after") == retry_after
    if status == 429:
        for name in ("Limit", "Remaining", "FillRate", "Interval-Seconds"):
            assert f"x-ratelimit-{name.lower()}" in response.headers
    else:
        assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("user", "status"), [("rate-limited-once", 429), ("unavailable-once", 503)]
)
def test_once_personas_alternate_on_first_pages(
    confluence: StandIn, session: requests.Session, user: str, status: int
) -> None:
    confluence.clear()
    v1 = listing(confluence, "v1")
    seen = [get(session, v1, user).status_code for _ in range(4)]
    assert seen == [status, 200, status, 200]
    failed = get(session, v1 + "?start=0&limit=1", user)
    assert failed.status_code == status
    assert failed.headers["retry-after"] == "1"
    # Later pages never fail, and each flavor counts on its own.
    assert get(session, v1 + "?start=1&limit=1", user).status_code == 200
    assert get(session, listing(confluence, "v2"), user).status_code == status
    assert get(session, listing(confluence, "v2"), user).status_code == 200
    confluence.clear()
    assert get(session, v1, user).status_code == status


# --- time -----------------------------------------------------------------------------------


def _slow_get(url: str, user: str) -> requests.Response:
    return requests.get(url, auth=(user, VALID_TOKEN), timeout=(1, 1))


@pytest.mark.parametrize("root", ["v2", "dc"])
def test_slow_times_out_without_blocking_others(confluence: StandIn, root: str) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(_slow_get, listing(confluence, root), "slow")
        time.sleep(0.1)
        started = time.monotonic()
        with requests.Session() as other:
            assert get(other, listing(confluence, root)).status_code == 200
        assert time.monotonic() - started < 0.5
        with pytest.raises(requests.exceptions.ReadTimeout):
            slow.result()


def test_slow_body_beats_read_timeouts_and_hang_up_is_quiet(
    confluence: StandIn, capfd: pytest.CaptureFixture[str]
) -> None:
    received = bytearray()
    with requests.Session() as session:
        response = get(session, listing(confluence, "v1"), "slow-body", stream=True, timeout=(1, 1))
        length = int(response.headers["content-length"])
        deadline = time.monotonic() + 1.6
        for chunk in response.iter_content(chunk_size=1):
            received += chunk
            if time.monotonic() > deadline:
                break
        response.close()
    # Longer than the read timeout, yet no read timed out: bytes kept coming, too slowly.
    assert len(received) < length
    # What was sent at once is the whole page but its closing brace; the rest is padding.
    body = json.loads(bytes(received).rstrip() + b"}")
    assert [summary(item) for item in body["results"]] == confluence.expected_spaces(
        "slow-body", "v1"
    )
    time.sleep(0.6)  # the next drip meets the closed connection
    assert "Traceback" not in capfd.readouterr().err


def test_page_delay_start_stop_and_port() -> None:
    port = free_port()
    standin = StandIn(page_delay=0.3, port=port).start()
    try:
        assert standin.url == f"http://127.0.0.1:{port}"
        with requests.Session() as session:
            started = time.monotonic()
            assert get(session, listing(standin, "v1")).status_code == 200
            assert time.monotonic() - started >= 0.3
            started = time.monotonic()
            assert get(session, standin.url + "/nowhere").status_code == 404
            assert time.monotonic() - started < 0.3
        # Stopping does not wait for a slow answer in progress.
        with ThreadPoolExecutor(max_workers=1) as pool:
            slow = pool.submit(
                requests.get, listing(standin, "v1"), auth=("slow", VALID_TOKEN), timeout=5
            )
            time.sleep(0.2)
            started = time.monotonic()
            standin.stop()
            assert time.monotonic() - started < 1
            with pytest.raises(requests.exceptions.ConnectionError):
                slow.result()
    finally:
        standin.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/rest/api/space", timeout=1)


# --- not the API ----------------------------------------------------------------------------


@pytest.mark.parametrize("root", list(ROOTS))
def test_html_wrong_shape_and_bad_space(
    confluence: StandIn, session: requests.Session, root: str
) -> None:
    html = get(session, listing(confluence, root), "html")
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert "<html" in html.text
    wrong = get(session, listing(confluence, root), "wrong-shape")
    assert (wrong.status_code, wrong.json()) == (200, {"items": []})
    bad = get(session, listing(confluence, root), "bad-space").json()["results"]
    assert len(bad) == 3
    assert sum("key" not in item for item in bad) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api/space",
        "/wiki/api/v2/pages",
        "/wiki/api/v2/spaces/98306",
        "/wiki/rest/api/space/KB",
        "/wiki/rest/api/spaces",
        "/rest/api/space/",
        "/wiki/rest/api/content?type=page&limit=5",
    ],
)
def test_unknown_paths_answer_confluences_xml_404(
    confluence: StandIn, session: requests.Session, path: str
) -> None:
    response = get(session, confluence.url + path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/xml"
    uri = f"http://127.0.0.1:{confluence.port}{path}".replace("&", "&amp;")
    assert (
        f"<status><status-code>404</status-code><message>null for uri: {uri}</message></status>"
        in response.text
    )


@pytest.mark.parametrize("root", list(ROOTS))
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_methods_answer_405(
    confluence: StandIn, session: requests.Session, root: str, method: str
) -> None:
    response = session.request(
        method, listing(confluence, root), auth=("three", VALID_TOKEN), data=b"{}", timeout=5
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.json()["errors"][0]["code"] == "METHOD_NOT_ALLOWED"


def test_bad_paging_parameters_answer_400(confluence: StandIn, session: requests.Session) -> None:
    cursor = get(session, listing(confluence, "v2") + "?cursor=not-a-cursor")
    assert cursor.status_code == 400
    assert cursor.json()["errors"][0]["code"] == "INVALID_REQUEST_PARAMETER"
    start = get(session, listing(confluence, "v1") + "?start=abc")
    assert start.status_code == 400
    assert start.json()["statusCode"] == 400


# --- paging traps ---------------------------------------------------------------------------


@pytest.mark.parametrize("root", list(ROOTS))
def test_cycle_points_page_two_back_to_page_ones_next(
    confluence: StandIn, session: requests.Session, root: str
) -> None:
    flavor = ROOTS[root][1]
    url = listing(confluence, root)
    first = get(session, url, "cycle").json()
    second_url = follow(first["_links"]["next"], url, first, flavor)
    second = get(session, second_url, "cycle").json()
    assert second["_links"]["next"] == first["_links"]["next"]
    assert len(first["results"]) == len(second["results"]) == 1


@pytest.mark.parametrize("root", list(ROOTS))
def test_runaway_never_ends(confluence: StandIn, session: requests.Session, root: str) -> None:
    flavor = ROOTS[root][1]
    url, nexts, keys = listing(confluence, root) + "?limit=250", set(), set()
    for _ in range(30):
        body = get(session, url, "runaway").json()
        assert len(body["results"]) == 1
        keys.add(body["results"][0]["key"])
        nexts.add(body["_links"]["next"])
        url = follow(body["_links"]["next"], url, body, flavor)
    assert len(nexts) == len(keys) == 30
    with pytest.raises(ValueError, match="runaway"):
        confluence.expected_spaces("runaway", flavor)


@pytest.mark.parametrize("root", list(ROOTS))
def test_next_other_host(confluence: StandIn, session: requests.Session, root: str) -> None:
    body = get(session, listing(confluence, root), "next-other-host").json()
    next_link = urlsplit(body["_links"]["next"])
    assert (next_link.hostname, next_link.port) == ("localhost", confluence.port)
    assert next_link.path == ROOTS[root][0]


@pytest.mark.parametrize(
    ("root", "base"),
    [
        ("v2", "http://evil.example/wiki"),
        ("v1", "http://evil.example/wiki"),
        ("dc", "http://evil.example"),
        ("dc-context", "http://evil.example/confluence"),
    ],
)
def test_base_other_host(
    confluence: StandIn, session: requests.Session, root: str, base: str
) -> None:
    response = get(session, listing(confluence, root), "base-other-host")
    body = response.json()
    assert body["_links"]["base"] == base
    assert body["_links"]["next"].startswith("/")
    if root == "v2":
        assert response.headers["link"].endswith(f'<{base}>; rel="base"')


@pytest.mark.parametrize("root", list(ROOTS))
def test_redirect_other_host(confluence: StandIn, session: requests.Session, root: str) -> None:
    url = listing(confluence, root) + "?limit=5"
    response = get(session, url, "redirect-other-host", allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == url.replace("127.0.0.1", "localhost")
    # Reached through "localhost", the other name is the address.
    host = {"Host": f"localhost:{confluence.port}"}
    via_localhost = get(session, url, "redirect-other-host", allow_redirects=False, headers=host)
    assert urlsplit(via_localhost.headers["location"]).hostname == "127.0.0.1"


@pytest.mark.parametrize("root", list(ROOTS))
def test_redirect_same_host(confluence: StandIn, session: requests.Session, root: str) -> None:
    url = listing(confluence, root) + "?limit=5"
    response = get(session, url, "redirect-same-host")
    assert [r.status_code for r in response.history] == [301]
    assert urlsplit(response.url).netloc == urlsplit(url).netloc
    assert parse_qs(urlsplit(response.url).query) == {"limit": ["5"], "redirected": ["1"]}
    spaces = [summary(item) for item in response.json()["results"]]
    assert spaces == confluence.expected_spaces("redirect-same-host", ROOTS[root][1])


# --- the connection and the record ----------------------------------------------------------


def test_keep_alive_reuses_one_connection(confluence: StandIn, session: requests.Session) -> None:
    url = listing(confluence, "v1")
    for user in ["three", "many", "rate-limited", "legacy-401", "wrong-shape", "v1-gone"]:
        get(session, url, user)
    get(session, confluence.url + "/nowhere")
    session.post(url, data=b"x" * 10_000, timeout=5)  # the unread body must be drained
    get(session, url, auth=("three", "wrong"))
    pools = session.get_adapter(url).poolmanager.pools
    keys = pools.keys()  # urllib3's container refuses plain iteration
    assert sum(pools[key].num_connections for key in keys) == 1
    assert get(session, url).status_code == 200


def test_requests_are_recorded_without_showing_the_token(
    confluence: StandIn, session: requests.Session
) -> None:
    confluence.clear()
    get(session, listing(confluence, "v2") + "?limit=5", headers={"X-Probe": "1"})
    get(session, confluence.url + "/nowhere", None)
    first, second = confluence.requests
    assert (first.method, first.path_with_query, first.username) == (
        "GET",
        "/wiki/api/v2/spaces?limit=5",
        "three",
    )
    assert first.headers["X-Probe"] == first.headers["x-probe"] == "1"
    assert first.headers["Authorization"].startswith("Basic ")
    assert VALID_TOKEN not in repr(first)
    assert second.username is None
    assert "authorization" not in second.headers
    confluence.clear()
    assert confluence.requests == []


def test_command_line_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.confluence_standin", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner: list[str] = []
        while (line := process.stdout.readline()) not in ("", "Ctrl-C stops.\n"):
            banner.append(line)
        assert line, process.stderr.read() if process.stderr else "no banner"
        root = banner[0].split()[-1]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/wiki/rest/api", root)
        assert any(VALID_TOKEN in line for line in banner)  # shown on purpose: a public value
        response = requests.get(f"{root}/space", auth=("three", VALID_TOKEN), timeout=5)
        assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=5)
        assert process.returncode == 0, err
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


# --- listings of any size, and what large-site tests need ----------------------------------


@pytest.mark.parametrize(
    ("root", "pages"), [("v2", 21), ("v1", 21), ("dc", 201), ("dc-context", 201)]
)
def test_sized_listing_pages_at_each_flavors_cap(
    confluence: StandIn, session: requests.Session, root: str, pages: int
) -> None:
    flavor = ROOTS[root][1]
    limit = {"v2": 250, "v1": 250}.get(root, 1000)
    spaces, nexts = walk(
        session, f"{listing(confluence, root)}?limit={limit}", "spaces-5001", flavor
    )
    assert len(nexts) + 1 == pages
    assert spaces == confluence.expected_spaces("spaces-5001", flavor)
    assert len({s["key"] for s in spaces}) == 5001


def test_sized_orders_differ_and_modifiers_keep_the_spaces(confluence: StandIn) -> None:
    v1 = confluence.expected_spaces("spaces-20000", "v1")
    assert [s["key"] for s in confluence.expected_spaces("spaces-20000", "v2")] != [
        s["key"] for s in v1
    ]
    assert confluence.expected_spaces("spaces-20000+page-50+undercount+delay-5", "v1") == v1
    assert confluence.expected_spaces("spaces-20000+nonsense", "v1") == confluence.expected_spaces(
        "three", "v1"
    )


@pytest.mark.parametrize("root", V1_ROOTS)
def test_page_modifier_sets_the_v1_cap(
    confluence: StandIn, session: requests.Session, root: str
) -> None:
    body = get(session, f"{listing(confluence, root)}?limit=500", "spaces-200+page-50").json()
    assert len(body["results"]) == 50
    assert parse_qs(urlsplit(body["_links"]["next"]).query)["start"] == ["50"]


@pytest.mark.parametrize("root", V1_ROOTS)
def test_undercount_next_starts_half_way_into_the_page_served(
    confluence: StandIn, session: requests.Session, root: str
) -> None:
    user = "spaces-120+page-50+undercount"
    url = f"{listing(confluence, root)}?limit=50&start=10"
    body = get(session, url, user).json()
    assert body["start"] == 10
    assert len(body["results"]) == 50
    assert parse_qs(urlsplit(body["_links"]["next"]).query)["start"] == ["35"]
    # Following it literally lists spaces twice: what a client must not do.
    spaces, _ = walk(session, f"{listing(confluence, root)}?limit=50", user, ROOTS[root][1])
    keys = [s["key"] for s in spaces]
    assert len(keys) > len(set(keys)) == 120


@pytest.mark.parametrize("root", ["v2", "dc"])
def test_fail_at_answers_503_at_that_position_only(
    confluence: StandIn, session: requests.Session, root: str
) -> None:
    user = "spaces-100+fail-at-25"
    first = get(session, listing(confluence, root) + "?limit=25", user)
    assert first.status_code == 200
    following = follow(first.json()["_links"]["next"], first.url, first.json(), ROOTS[root][1])
    for _ in range(2):
        failing = get(session, following, user)
        assert failing.status_code == 503
        assert "Retry-After" not in failing.headers


def test_throttle_at_answers_429_for_a_while_once(
    confluence: StandIn, session: requests.Session
) -> None:
    user = "spaces-100+throttle-at-50"
    url = listing(confluence, "dc")
    assert get(session, url + "?start=25", user).status_code == 200
    started = time.monotonic()
    throttled = get(session, url + "?start=50", user)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1"
    if time.monotonic() - started < THROTTLE_SECONDS / 2:
        assert get(session, url + "?start=0", user).status_code == 429  # any page, meanwhile
    time.sleep(THROTTLE_SECONDS)
    assert get(session, url + "?start=50", user).status_code == 200  # once only
    confluence.clear()
    assert get(session, url + "?start=50", user).status_code == 429  # until clear()


def test_delay_modifier_paces_one_persona(confluence: StandIn, session: requests.Session) -> None:
    url = listing(confluence, "dc")
    started = time.monotonic()
    get(session, url, "spaces-10")
    undelayed = time.monotonic() - started
    started = time.monotonic()
    get(session, url, "spaces-10+delay-300")
    assert time.monotonic() - started >= 0.3 > undelayed


def test_concurrency_is_counted_per_username(confluence: StandIn) -> None:
    slow, other = "spaces-10+delay-300", "spaces-10"
    url = listing(confluence, "dc")
    confluence.clear()

    def fetch(user: str) -> int:
        with requests.Session() as own:
            return get(own, url, user).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(fetch, [slow, slow, slow, other]))
    assert statuses == [200] * 4
    assert confluence.most_in_flight(slow) == 3
    assert confluence.most_in_flight(other) == 1
    assert sorted(r.in_flight for r in confluence.requests if r.username == slow) == [1, 2, 3]
    confluence.clear()
    assert confluence.most_in_flight(slow) == 0


def test_no_v2_lists_a_cloud_site_through_v1_only(
    confluence: StandIn, session: requests.Session
) -> None:
    user = "spaces-30+no-v2"
    v2 = get(session, listing(confluence, "v2"), user)
    assert v2.status_code == 404
    spaces, _ = walk(session, listing(confluence, "v1"), user, "v1")
    assert spaces == confluence.expected_spaces(user, "v1")


def test_requests_record_their_status_and_arrival(
    confluence: StandIn, session: requests.Session
) -> None:
    confluence.clear()
    before = time.monotonic()
    get(session, listing(confluence, "v2"), "spaces-30+no-v2")
    get(session, listing(confluence, "v1"), "spaces-30+no-v2")
    first, second = confluence.requests
    assert (first.status, second.status) == (404, 200)
    assert before <= first.at <= second.at <= time.monotonic()
