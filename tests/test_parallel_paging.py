"""Offset paging with pages fetched ahead (issue 12), over real HTTP: the service under uvicorn
against the Confluence stand-in, with SPACEGATE_PAGE_CONCURRENCY=4 beside a sequential one
(SPACEGATE_PAGE_CONCURRENCY=1). Whatever the window, the answer is sequential paging's, byte for
byte; what the stand-in observed tells how the service behaved towards Confluence."""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
import requests

from service.settings import Settings
from tests.confluence_standin import StandIn
from tests.support.bodies import standin_body
from tests.support.contract import assert_conforms
from tests.support.servers import RunningService, serve
from tests.support.tokens import TENANT, auth_headers, mint

PARALLEL = 4
DC_PAGE = 25  # the stand-in's Data Center cap
V1_PAGE = 50  # v1 listings below ask the stand-in for pages of 50 (`+page-50`)
SIZES = [1, 49, 50, 51, 5_000, 20_000]


@dataclass(frozen=True)
class Root:
    name: str
    flavor: str
    page: int
    path: str  # of the listing requests

    def user(self, count: int, *modifiers: str) -> str:
        extra = ("no-v2", "page-50") if self.flavor == "v1" else ()
        return "+".join([f"spaces-{count}", *extra, *modifiers])

    def body(self, confluence: StandIn, user: str) -> dict[str, Any]:
        root, web = {
            "dc": (confluence.dc_root, confluence.url),
            "dc-context": (confluence.dc_context_root, confluence.url + "/confluence"),
            "v1": (confluence.cloud_root, confluence.url + "/wiki"),
        }[self.name]
        return standin_body(confluence, user, root=root, web_url_instance=web)

    def web_url(self, confluence: StandIn) -> str:
        return self.body(confluence, "x")["web_url_instance"]


ROOTS = [
    Root("dc", "dc", DC_PAGE, "/rest/api/space"),
    Root("dc-context", "dc", DC_PAGE, "/confluence/rest/api/space"),
    Root("v1", "v1", V1_PAGE, "/wiki/rest/api/space"),
]


def roomy(settings: Settings, **changes: Any) -> Settings:
    """The tests' live settings with the defaults a large site needs: caps and a deadline."""
    defaults = Settings()
    large = {
        "deadline_seconds": 30.0,
        "read_timeout_seconds": 10.0,
        "max_pages": defaults.max_pages,
        "max_spaces": defaults.max_spaces,
    }
    return replace(settings, **(large | changes)).validated()


@pytest.fixture(scope="module")
def parallel(live_settings: Settings) -> Iterator[RunningService]:
    with serve(roomy(live_settings, page_concurrency=PARALLEL)) as service:
        yield service


@pytest.fixture(scope="module")
def sequential(live_settings: Settings) -> Iterator[RunningService]:
    with serve(roomy(live_settings, page_concurrency=1)) as service:
        yield service


def post(service: RunningService, body: dict[str, Any]) -> requests.Response:
    return requests.post(service.api, json=body, headers=auth_headers(), timeout=120)


def listing_requests(confluence: StandIn, user: str, path: str) -> list[Any]:
    return [
        r
        for r in confluence.requests
        if r.username == user and r.path_with_query.split("?")[0] == path
    ]


@pytest.mark.parametrize("count", SIZES)
@pytest.mark.parametrize("root", ROOTS, ids=lambda r: r.name)
def test_parallel_listing_is_the_sequential_answer_byte_for_byte(
    confluence, parallel, sequential, root: Root, count: int
):
    user = root.user(count)
    body = root.body(confluence, user)
    confluence.clear()
    fetched_ahead = post(parallel, body)
    most = confluence.most_in_flight(user)
    asked = listing_requests(confluence, user, root.path)
    one_by_one = post(sequential, body)

    assert fetched_ahead.status_code == one_by_one.status_code == 200, fetched_ahead.text[:300]
    assert fetched_ahead.content == one_by_one.content
    spaces = fetched_ahead.json()["spaces"]
    assert spaces == confluence.expected_listing(user, root.web_url(confluence), root.flavor)
    assert len(spaces) == count
    if count <= 5_000:
        assert_conforms(fetched_ahead)
    # Confluence never saw more than the window from this listing, and no page far past the end.
    assert most <= PARALLEL
    pages = math.ceil(count / root.page)
    assert pages <= len(asked) <= pages + PARALLEL - 1
    if pages <= 2:  # a listing fetches no further ahead than it has come
        assert len(asked) == pages
    assert len({r.path_with_query for r in asked}) == len(asked)  # no page asked twice


@pytest.mark.parametrize("service", ["parallel", "sequential"])
def test_a_next_that_under_counts_start_lists_every_space_once(confluence, request, service: str):
    """The stand-in's `next` advances by half of each page of 50: following it as written
    listed 39,950 spaces for 20,000 (each twice but the last)."""
    user = "spaces-20000+page-50+undercount"
    confluence.clear()
    response = post(request.getfixturevalue(service), ROOTS[0].body(confluence, user))
    assert response.status_code == 200, response.text[:300]
    spaces = response.json()["spaces"]
    assert spaces == confluence.expected_listing(user, confluence.url, "dc")
    assert len({s["key"] for s in spaces}) == len(spaces) == 20_000
    asked = listing_requests(confluence, user, ROOTS[0].path)
    assert 400 <= len(asked) <= 400 + PARALLEL - 1  # pages of 50, not of 25


def test_the_window_is_used_and_never_exceeded(confluence, parallel, sequential):
    user = "spaces-2000+delay-20"  # 80 pages of 25, each answered after 20 ms
    body = ROOTS[0].body(confluence, user)
    confluence.clear()
    assert post(sequential, body).status_code == 200
    assert confluence.most_in_flight(user) == 1
    confluence.clear()
    assert post(parallel, body).status_code == 200
    assert confluence.most_in_flight(user) == PARALLEL


def test_a_429_in_the_middle_shrinks_the_window_and_is_waited_out(confluence, parallel):
    """At page 100 of 200 the stand-in answers 429 (Retry-After: 1) to every request for half a
    second. The listing waits, with no request in between, comes back with a smaller window,
    grows it again, and answers every space."""
    user = "spaces-5000+throttle-at-2500+delay-20"
    confluence.clear()
    response = post(parallel, ROOTS[0].body(confluence, user))
    assert response.status_code == 200, response.text[:300]
    assert response.json()["spaces"] == confluence.expected_listing(user, confluence.url, "dc")

    asked = sorted(listing_requests(confluence, user, ROOTS[0].path), key=lambda r: r.at)
    throttled = [r for r in asked if r.status == 429]
    assert throttled
    first_429 = throttled[0].at
    after = [r for r in asked if r.at > throttled[-1].at]
    assert all(r.status == 200 for r in after)
    # Nothing went to Confluence until Retry-After had passed, bar requests already sent.
    assert after[0].at - first_429 >= 1.0
    # The window came back halved at least, then grew back to what it was.
    assert after[0].in_flight <= PARALLEL // 2
    assert max(r.in_flight for r in after) == PARALLEL
    assert confluence.most_in_flight(user) <= PARALLEL
    assert len({r.path_with_query for r in asked if r.status == 200}) == len(
        [r for r in asked if r.status == 200]
    )


def test_a_page_that_fails_after_retries_fails_the_whole_listing(
    confluence, live_settings: Settings
):
    user = "spaces-5000+fail-at-2500+delay-5"
    settings = roomy(live_settings, page_concurrency=PARALLEL, retry_attempts=2)
    with serve(settings) as service:
        confluence.clear()
        response = post(service, ROOTS[0].body(confluence, user))
        answered_at = time.monotonic()  # the stand-in's clock: it records arrivals by it
        assert response.status_code == 502
        assert response.json()["code"] == "confluence_bad_gateway"
        assert "spaces" not in response.json()
        assert "503" in response.json()["detail"]
        failing = [r for r in confluence.requests if r.path_with_query.endswith("start=2500")]
        assert len(failing) == 2  # both attempts, then the answer
        # The listing is over: pages fetched ahead send nothing more. A request already on
        # its way when the page failed may still arrive (the stand-in records it once
        # answered, and its arrival can trail the 502 by a moment), but no more than the rest
        # of the window; a read-ahead that went on would fetch the ten pages left of the site.
        time.sleep(0.5)
        late = [r for r in confluence.requests if r.at > answered_at]
        assert len(late) < PARALLEL, late
        wait_until_idle(service)
    assert confluence.most_in_flight(user) <= PARALLEL


def test_sixty_thousand_data_center_spaces_fit_the_default_caps(confluence, parallel):
    """2,400 pages of 25: the old default page cap (1,000) refused this site."""
    user = "spaces-60000"
    response = post(parallel, ROOTS[0].body(confluence, user))
    assert response.status_code == 200, response.text[:300]
    assert response.json()["spaces"] == confluence.expected_listing(user, confluence.url, "dc")
    assert parallel.settings.max_pages == Settings().max_pages


def test_the_spaces_cap_stops_a_runaway_listing(confluence, live_settings: Settings):
    with serve(roomy(live_settings, max_spaces=1000)) as service:
        response = post(service, ROOTS[0].body(confluence, "spaces-5000"))
    assert response.status_code == 502
    assert "SPACEGATE_MAX_SPACES" in response.json()["detail"]


def test_healthz_counts_the_page_threads_a_listing_borrows(confluence, parallel):
    user = "spaces-1000+delay-100"  # 40 pages of 25, 100 ms each
    seen: list[dict[str, Any]] = []
    outcome: list[requests.Response] = []
    thread = threading.Thread(
        target=lambda: outcome.append(post(parallel, ROOTS[0].body(confluence, user)))
    )
    thread.start()
    while thread.is_alive():
        seen.append(requests.get(parallel.url + "/healthz", timeout=5).json())
        time.sleep(0.05)
    thread.join()
    assert outcome[0].status_code == 200
    size = parallel.settings.worker_threads
    assert all(h["page_threads"]["size"] == size for h in seen)
    assert max(h["page_threads"]["busy"] for h in seen) >= 2
    assert all(h["page_threads"]["busy"] <= PARALLEL for h in seen)
    # Pages fetched past the end (at most the window) finish on their own, then nothing.
    wait_until_idle(parallel)


def wait_until_idle(service: RunningService) -> None:
    give_up = time.monotonic() + 5
    while requests.get(service.url + "/healthz", timeout=5).json()["page_threads"]["busy"]:
        assert time.monotonic() < give_up, "page threads still busy"
        time.sleep(0.02)


def test_a_client_that_goes_away_stops_the_pages_fetched_ahead(confluence, parallel):
    user = "spaces-20000+delay-50"  # 800 pages: 10 s in a window of 4
    body = ROOTS[0].body(confluence, user)
    confluence.clear()
    raw = requests.Request(
        "POST",
        parallel.api,
        json=body,
        headers={"Authorization": f"Bearer {mint(TENANT)}", "x-tenantid": TENANT},
    ).prepare()
    head = f"POST {raw.path_url} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in raw.headers.items()
    )
    with socket.create_connection(("127.0.0.1", parallel.port)) as sock:
        sock.sendall(head.encode() + b"\r\n" + raw.body)
        give_up = time.monotonic() + 10
        while len(listing_requests(confluence, user, ROOTS[0].path)) < 20:
            assert time.monotonic() < give_up
            time.sleep(0.02)
    # Gone: the requests on the wire finish (each 50 ms); then nothing more is asked for.
    time.sleep(0.5)
    settled = len(confluence.requests)
    time.sleep(0.5)
    assert len(confluence.requests) == settled < 200
    wait_until_idle(parallel)
