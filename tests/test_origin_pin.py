"""Credentials and connections never leave the checked origin, over real HTTP.

A hostile Confluence points the client elsewhere through each channel it has (a redirect's
`Location`, v1 `next`, `_links.base`, the v2 `Link` header), with URLs that parsers read
differently; a second server records every connection that reaches it. The allow-list names
both servers, so only the origin pin stands between them: the listing answers 502 and the
second server sees nothing. Then the guarded adapter alone: a request that slipped past the
client is refused at send time, before any connection.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import requests

from service.confluence import errors
from service.confluence.client import ClientOptions, ConfluenceClient, Credentials
from service.confluence.guarded_adapter import GuardedHTTPAdapter
from service.confluence.origin import Origin
from service.confluence.urlpolicy import UrlPolicy
from tests.support.hostile import (
    CHANNELS,
    PLAIN,
    CapturingServer,
    HostileConfluence,
    Shape,
    cases,
)
from tests.support.servers import RunningService, serve
from tests.support.tokens import auth_headers

API_TOKEN = "hostile-test-api-token-0123456789"


@pytest.fixture(scope="module")
def capture() -> Iterator[CapturingServer]:
    with CapturingServer() as server:
        yield server


@pytest.fixture(scope="module")
def hostile(capture: CapturingServer) -> Iterator[HostileConfluence]:
    with HostileConfluence(capture) as server:
        yield server


@pytest.fixture(scope="module")
def service(live_settings, hostile: HostileConfluence, capture: CapturingServer):
    allowed = (hostile.origin, f"localhost:{capture.port}", f"127.0.0.1:{capture.port}")
    with serve(replace(live_settings, allowed_hosts=allowed).validated()) as running:
        yield running


@pytest.fixture
def clean(hostile: HostileConfluence, capture: CapturingServer) -> None:
    hostile.clear()
    capture.clear()


def list_spaces(service: RunningService, instance_url: str) -> requests.Response:
    body = {
        "instance_url": instance_url,
        "web_url_instance": "https://acme.example/wiki",
        "username": "someone@acme.example",
        "api_token": API_TOKEN,
    }
    return requests.post(service.api, json=body, headers=auth_headers(), timeout=20)


@pytest.mark.usefixtures("clean")
@pytest.mark.parametrize(
    ("channel", "shape"), cases(), ids=[f"{c}-{s.name}" for c, s in cases()]
)
def test_a_hostile_url_is_never_followed(
    service, hostile: HostileConfluence, capture: CapturingServer, channel: str, shape: Shape
):
    response = list_spaces(service, hostile.root(channel, shape.name))
    assert response.status_code == 502, response.text
    answer = response.json()
    assert answer["code"] == "confluence_bad_gateway"
    assert "instance_url's origin" in answer["detail"]
    assert capture.connections == []
    assert len(hostile.paths) == 1, hostile.paths  # the first page (or redirect), no second
    assert API_TOKEN not in response.text


@pytest.mark.usefixtures("clean")
@pytest.mark.parametrize("channel", CHANNELS)
def test_a_plain_link_to_the_same_origin_is_followed(
    service, hostile: HostileConfluence, capture: CapturingServer, channel: str
):
    # The control: the same hostile server, pointing back at itself in plain form.
    response = list_spaces(service, hostile.root(channel, PLAIN.name))
    assert response.status_code == 200, response.text
    pages = 1 if channel == "redirect" else 2
    assert [s["key"] for s in response.json()["spaces"]] == ["HOSTILE"] * pages
    assert len(hostile.paths) == 2
    assert capture.connections == []


# --- the guarded adapter at send time --------------------------------------------------------


def prepared(url: str) -> requests.PreparedRequest:
    request = requests.PreparedRequest()
    request.prepare(method="GET", url=url)
    secret = base64.b64encode(f"someone:{API_TOKEN}".encode()).decode()
    request.headers["Authorization"] = f"Basic {secret}"
    return request


def origin(url: str) -> Origin:
    read = Origin.of(url)
    assert isinstance(read, Origin)
    return read


@pytest.fixture
def adapter(hostile: HostileConfluence, clean: None) -> Iterator[GuardedHTTPAdapter]:
    # Allows the hostile server under both its names, and nothing else.
    policy = UrlPolicy(
        allowed_hosts=(hostile.origin, f"localhost:{hostile.port}"),
        allow_http=True,
        allow_private_addresses=True,
    )
    guarded = GuardedHTTPAdapter(policy)
    yield guarded
    guarded.close()


def test_a_pinned_adapter_sends_to_its_origin(adapter: GuardedHTTPAdapter, hostile):
    pinned = adapter.pinned(origin(f"http://{hostile.origin}"))
    response = pinned.send(prepared(f"http://{hostile.origin}/next/plain/rest/api/space"))
    assert response.status_code == 200
    assert hostile.paths == ["/next/plain/rest/api/space"]


@pytest.mark.parametrize(
    "elsewhere",
    ["http://localhost:{cp}/x", "http://127.0.0.1:{cp}/x", "http://localhost:{hp}/x"],
)
def test_another_origin_is_refused_at_send_time(adapter, hostile, capture, elsewhere: str):
    pinned = adapter.pinned(origin(f"http://{hostile.origin}"))
    url = elsewhere.format(cp=capture.port, hp=hostile.port)
    with pytest.raises(errors.BadGateway, match="instance_url's origin"):
        pinned.send(prepared(url))
    assert capture.connections == []
    assert hostile.paths == []  # localhost:<port> is the same server under another origin


def test_a_url_set_by_hand_is_read_before_it_is_sent(adapter, hostile, capture):
    # prepare_url would have rewritten this URL; one set by hand reaches the adapter as it is,
    # and the adapter reads it as the connection would, or not at all.
    request = prepared(f"http://{hostile.origin}/x")
    for url in (
        f"http://localhost:{capture.port}\\@{hostile.origin}/x",
        f"http://{hostile.origin}\t/x",
        f"http://user@{hostile.origin}/x",
    ):
        request.url = url
        with pytest.raises(errors.BadGateway, match="unusable URL"):
            adapter.pinned(origin(f"http://{hostile.origin}")).send(request)
    assert capture.connections == []
    assert hostile.paths == []


def test_an_origin_off_the_allow_list_is_refused_at_send_time(adapter, capture):
    # As if a caller had skipped the static check: pinned to a host the policy does not allow.
    elsewhere = f"http://127.0.0.1:{capture.port}"
    with pytest.raises(errors.AddressRefused, match="not an allowed Confluence host"):
        adapter.pinned(origin(elsewhere)).send(prepared(f"{elsewhere}/x"))
    assert capture.connections == []


def test_nothing_is_sent_without_a_pin(adapter, hostile):
    with pytest.raises(errors.BadGateway, match="pinned origin"):
        adapter.send(prepared(f"http://{hostile.origin}/next/plain/rest/api/space"))
    assert hostile.paths == []


def test_each_listing_has_its_own_pin_on_one_shared_adapter(adapter, hostile):
    # Two origins on one server (127.0.0.1 and localhost), both allowed; each pinned view may
    # reach its own and never the other's, however the sends interleave across threads.
    by_address = adapter.pinned(origin(f"http://127.0.0.1:{hostile.port}"))
    by_name = adapter.pinned(origin(f"http://localhost:{hostile.port}"))

    def attempt(n: int) -> tuple[bool, bool]:
        pinned = (by_address, by_name)[n % 2]
        own, other = (("127.0.0.1", "localhost"), ("localhost", "127.0.0.1"))[n % 2]
        sent = pinned.send(prepared(f"http://{own}:{hostile.port}/next/plain/rest/api/space?n={n}"))
        try:
            pinned.send(prepared(f"http://{other}:{hostile.port}/next/plain/rest/api/space?x={n}"))
        except errors.BadGateway:
            return sent.status_code == 200, True
        return sent.status_code == 200, False

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(64)))
    assert results == [(True, True)] * 64
    assert sorted(hostile.paths) == sorted(
        f"/next/plain/rest/api/space?n={n}" for n in range(64)
    )


def test_the_client_reads_instance_url_before_anything_reshapes_it(adapter, hostile):
    # urlsplit drops the tab, which would make a URL nobody wrote; the client refuses instead.
    options = ClientOptions(3.0, 1.0, 2.0, 10, 1 << 20, 1, 0.5, 1.0)
    client = ConfluenceClient(adapter, options)
    with pytest.raises(ValueError, match="instance_url cannot be called"):
        client.list_spaces(
            f"http://127.0.0.1:{hostile.port}/next/pl\tain/rest/api",
            "https://acme.example/wiki",
            Credentials("someone", API_TOKEN),
        )
    assert hostile.paths == []
