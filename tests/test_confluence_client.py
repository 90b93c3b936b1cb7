"""ConfluenceClient over real HTTP against the stand-in Confluence: every persona, the refusals
of the guarded adapter, TLS, proxies, and what never leaks (the token)."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import logging
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from requests.adapters import BaseAdapter

from service.confluence import errors
from service.confluence.client import ClientOptions, ConfluenceClient, Credentials
from service.confluence.guarded_adapter import GuardedHTTPAdapter
from service.confluence.origin import Origin
from service.confluence.page_threads import PageThreads
from service.confluence.paging import v1_next, v2_next
from service.confluence.retry import clamp_retry_after, parse_retry_after
from service.confluence.urlpolicy import UrlPolicy
from service.mode import live_mode, mode_for
from service.settings import Settings
from tests.confluence_standin import VALID_TOKEN, StandIn
from tests.support.tls import TlsServer

WEB = "https://acme.example/wiki"
DEADLINE = 2.0
OPTIONS = ClientOptions(
    deadline_seconds=DEADLINE,
    connect_timeout_seconds=1.0,
    read_timeout_seconds=DEADLINE,
    max_pages=50,
    max_page_bytes=2 * 1024 * 1024,
    retry_attempts=4,
    retry_max_wait_seconds=1.5,
    retry_budget_seconds=3.0,
)
# "many" lists 10,000 spaces: 40 pages of v2, 400 pages of Data Center's 25.
ROOMY = replace(OPTIONS, deadline_seconds=20.0, read_timeout_seconds=5.0, max_pages=1000)
# The slack a timing bound allows on a busy CI machine.
SLACK = 1.5

_PROXY_VARIABLES = [
    *("http_proxy", "https_proxy", "all_proxy", "no_proxy"),
    *("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"),
]


@pytest.fixture(autouse=True)
def _no_ambient_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # trust_env is on: a proxy in the developer's environment must not reroute 127.0.0.1.
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    with StandIn(page_delay=0.0) as server:
        yield server


@pytest.fixture
def confluence(standin: StandIn) -> StandIn:
    standin.clear()
    return standin


def lab_policy(*allowed: str, private: bool = True) -> UrlPolicy:
    return UrlPolicy(allowed_hosts=allowed, allow_http=True, allow_private_addresses=private)


@pytest.fixture(scope="module")
def adapter(standin: StandIn) -> Iterator[GuardedHTTPAdapter]:
    guarded = GuardedHTTPAdapter(lab_policy(f"127.0.0.1:{standin.port}"))
    yield guarded
    guarded.close()


@pytest.fixture
def client(adapter: GuardedHTTPAdapter) -> ConfluenceClient:
    return ConfluenceClient(adapter, OPTIONS)


def roots(confluence: StandIn) -> dict[str, str]:
    return {
        "cloud": confluence.cloud_root,
        "dc": confluence.dc_root,
        "dc-context": confluence.dc_context_root,
    }


def expected(confluence: StandIn, persona: str, flavor: str, web: str = WEB) -> list[dict]:
    return confluence.expected_listing(persona, web, flavor)


def list_spaces(client: ConfluenceClient, root: str, username: str, token: str = VALID_TOKEN):
    return client.list_spaces(root, WEB, Credentials(username, token))


def paths(confluence: StandIn) -> list[str]:
    return [r.path_with_query.split("?")[0] for r in confluence.requests]


# --- listings -------------------------------------------------------------------------------

LISTINGS = [
    # (persona, root, flavor the answer comes in)
    ("three", "cloud", "v2"),
    ("three", "dc", "dc"),
    ("three", "dc-context", "dc"),
    ("empty", "cloud", "v2"),
    ("empty", "dc", "dc"),
    ("personal-and-archived", "cloud", "v2"),
    ("personal-and-archived", "dc", "dc"),
    ("unicode", "cloud", "v2"),
    ("unicode", "dc-context", "dc"),
    ("v1-forms", "cloud", "v2"),
    ("v1-forms", "dc", "dc"),
    ("v1-forms", "dc-context", "dc"),
    ("v2-gone", "cloud", "v1"),
    ("v2-gone", "dc", "dc"),
    ("v1-gone", "cloud", "v2"),
    ("redirect-same-host", "cloud", "v2"),
    ("redirect-same-host", "dc", "dc"),
    ("unknown-user-acts-as-three", "cloud", "v2"),
]


@pytest.mark.parametrize(("persona", "root", "flavor"), LISTINGS)
def test_listing(confluence: StandIn, client: ConfluenceClient, persona: str, root: str, flavor):
    spaces = list_spaces(client, roots(confluence)[root], persona)
    assert spaces == expected(confluence, persona, flavor)


@pytest.mark.parametrize("root", ["cloud", "dc"])
def test_many_spaces_every_page_followed(confluence: StandIn, adapter, root: str):
    started = time.monotonic()
    spaces = list_spaces(ConfluenceClient(adapter, ROOMY), roots(confluence)[root], "many")
    flavor = "v2" if root == "cloud" else "dc"
    assert spaces == expected(confluence, "many", flavor)
    assert len(spaces) == 10_000
    assert len(confluence.requests) == (40 if root == "cloud" else 400)
    assert time.monotonic() - started < 15


def test_v1_forms_of_next_are_all_followed(confluence: StandIn, client: ConfluenceClient):
    list_spaces(client, confluence.dc_root, "v1-forms")
    starts = [r.path_with_query for r in confluence.requests]
    assert len(starts) == 7
    assert all(p.startswith("/rest/api/space?") for p in starts)


def test_cloud_prefers_v2_and_data_center_uses_v1(confluence: StandIn, client: ConfluenceClient):
    list_spaces(client, confluence.cloud_root, "three")
    assert paths(confluence) == ["/wiki/api/v2/spaces"]
    confluence.clear()
    list_spaces(client, confluence.dc_root, "three")
    assert paths(confluence) == ["/rest/api/space"]
    confluence.clear()
    list_spaces(client, confluence.cloud_root + "/", "v2-gone")  # trailing slash tolerated
    assert paths(confluence) == ["/wiki/api/v2/spaces", "/wiki/rest/api/space"]


def test_web_url_trailing_slash_and_order(confluence: StandIn, client: ConfluenceClient):
    spaces = client.list_spaces(confluence.cloud_root, WEB + "/", Credentials("three", VALID_TOKEN))
    assert [s["key"] for s in spaces] == ["KB", "IT", "HR"]  # v2's order (by id), kept
    assert spaces[0]["url"] == "https://acme.example/wiki/spaces/KB"
    assert spaces[0]["id"] == "98306"


def test_basic_auth_and_headers_reach_confluence(confluence: StandIn, client: ConfluenceClient):
    list_spaces(client, confluence.cloud_root, "zoë@example.com")  # not latin-1 safe either: ë
    (request,) = confluence.requests
    assert request.method == "GET"
    assert request.username == "zoë@example.com"
    scheme, _, encoded = request.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"zoë@example.com:{VALID_TOKEN}"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("spacegate/")
    assert request.path_with_query == "/wiki/api/v2/spaces?limit=250"


def test_concurrent_listings_share_one_adapter(confluence: StandIn, client: ConfluenceClient):
    personas = ["three", "unicode", "personal-and-archived", "v1-forms"] * 4
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda p: list_spaces(client, confluence.cloud_root, p), personas))
    for persona, spaces in zip(personas, results, strict=True):
        assert spaces == expected(confluence, persona, "v2")


# --- failures --------------------------------------------------------------------------------

FAILURES = [
    # (persona, root, error class, fragment of the detail)
    ("both-gone", "cloud", errors.BadGateway, "both its space listing APIs are gone"),
    ("both-gone", "dc", errors.BadGateway, "gone"),
    ("v1-gone", "dc", errors.BadGateway, "HTTP 410"),
    ("legacy-401", "cloud", errors.CredentialsRejected, "HTTP 401"),
    ("dc-html-401", "dc", errors.CredentialsRejected, "HTTP 401"),
    ("basic-disabled", "dc", errors.CredentialsRejected, "HTTP 403"),
    ("unavailable", "cloud", errors.BadGateway, "HTTP 503"),
    ("unavailable", "dc", errors.BadGateway, "HTTP 503"),
    ("html", "cloud", errors.BadGateway, "not its space listing"),
    ("html", "dc", errors.BadGateway, "not its space listing"),
    ("wrong-shape", "cloud", errors.BadGateway, "not its space listing"),
    ("wrong-shape", "dc", errors.BadGateway, "not its space listing"),
    ("bad-space", "cloud", errors.BadGateway, "not its space listing"),
    ("bad-space", "dc", errors.BadGateway, "not its space listing"),
    ("cycle", "cloud", errors.BadGateway, "cycle"),
    ("cycle", "dc", errors.BadGateway, "cycle"),
    ("runaway", "cloud", errors.BadGateway, "SPACEGATE_MAX_PAGES"),
    ("runaway", "dc", errors.BadGateway, "50 pages"),
    ("big-page", "cloud", errors.BadGateway, "SPACEGATE_MAX_PAGE_BYTES"),
    ("big-page", "dc", errors.BadGateway, "SPACEGATE_MAX_PAGE_BYTES"),
    ("redirect-other-host", "cloud", errors.BadGateway, "localhost"),
    ("redirect-other-host", "dc", errors.BadGateway, "redirects to"),
    ("next-other-host", "cloud", errors.BadGateway, "localhost"),
    ("next-other-host", "dc", errors.BadGateway, "next page"),
    ("base-other-host", "cloud", errors.BadGateway, "evil.example"),
    ("base-other-host", "dc", errors.BadGateway, "evil.example"),
    ("slow", "cloud", errors.UpstreamTimeout, "in time"),
    ("slow", "dc", errors.UpstreamTimeout, "in time"),
    ("slow-body", "cloud", errors.UpstreamTimeout, "in time"),
    ("slow-body", "dc", errors.UpstreamTimeout, "in time"),
]


@pytest.mark.parametrize(("persona", "root", "error", "fragment"), FAILURES)
def test_failure(confluence: StandIn, client: ConfluenceClient, persona, root, error, fragment):
    started = time.monotonic()
    with pytest.raises(error) as caught:
        list_spaces(client, roots(confluence)[root], persona)
    elapsed = time.monotonic() - started
    assert type(caught.value) is error
    assert fragment in caught.value.detail
    assert str(caught.value) == caught.value.detail
    # Nothing outlives the deadline, retries and slow bodies included.
    assert elapsed < DEADLINE + SLACK


def sequential_and_parallel(adapter, options: ClientOptions):
    """The same client options paging one page at a time, and four at a time on borrowed
    threads: their answers and failures must not differ."""
    one = ConfluenceClient(adapter, replace(options, page_concurrency=1))
    four = ConfluenceClient(
        adapter, replace(options, page_concurrency=4), page_threads=PageThreads(8)
    )
    return one, four


def outcome(client: ConfluenceClient, root: str, persona: str):
    try:
        return list_spaces(client, root, persona)
    except errors.ConfluenceError as failure:
        return type(failure), failure.detail


@pytest.mark.parametrize(
    ("persona", "root"),
    [(persona, root) for persona, root, _ in LISTINGS if root != "cloud"]
    # (slow, slow-body and unavailable fail on the first page, before anything runs ahead)
    + [
        (persona, root)
        for persona, root, _, _ in FAILURES
        if root != "cloud" and persona not in ("slow", "slow-body", "unavailable")
    ]
    + [("many", "dc-context")],
)
def test_pages_fetched_ahead_change_nothing(confluence: StandIn, adapter, persona, root):
    one, four = sequential_and_parallel(adapter, ROOMY if persona == "many" else OPTIONS)
    url = roots(confluence)[root]
    assert outcome(four, url, persona) == outcome(one, url, persona)


@pytest.mark.parametrize("persona", ["redirect-other-host", "next-other-host", "base-other-host"])
def test_credentials_never_go_to_another_host(confluence: StandIn, client, persona: str):
    with pytest.raises(errors.BadGateway):
        list_spaces(client, confluence.cloud_root, persona)
    hosts = {r.headers.get("host") for r in confluence.requests}
    assert hosts == {f"127.0.0.1:{confluence.port}"}


@pytest.mark.parametrize("root", ["cloud", "dc"])
def test_wrong_token_is_credentials_rejected(confluence: StandIn, client, root: str):
    with pytest.raises(errors.CredentialsRejected):
        list_spaces(client, roots(confluence)[root], "three", token="not-the-token")


@pytest.mark.parametrize(
    ("path", "tried"),
    [
        ("/nope/rest/api", ["/nope/rest/api/space"]),
        ("/nope/wiki/rest/api", ["/nope/wiki/api/v2/spaces", "/nope/wiki/rest/api/space"]),
    ],
)
def test_wrong_root_is_root_not_found(confluence: StandIn, client, path: str, tried: list[str]):
    root = confluence.url + path
    with pytest.raises(errors.RootNotFound) as caught:
        list_spaces(client, root, "three")
    assert root in caught.value.detail
    assert "https://acme.atlassian.net/wiki/rest/api" in caught.value.detail
    assert paths(confluence) == tried


def test_rate_limited_with_a_huge_retry_after_answers_at_once(confluence: StandIn, client):
    started = time.monotonic()
    with pytest.raises(errors.RateLimited) as caught:
        list_spaces(client, confluence.cloud_root, "rate-limited")
    assert caught.value.retry_after == 3600
    assert time.monotonic() - started < 0.5
    assert len(confluence.requests) == 1


def test_rate_limited_short_retries_within_budget(confluence: StandIn, client):
    started = time.monotonic()
    with pytest.raises(errors.RateLimited) as caught:
        list_spaces(client, confluence.cloud_root, "rate-limited-short")
    assert caught.value.retry_after == 1
    assert 2 <= len(confluence.requests) <= OPTIONS.retry_attempts
    assert time.monotonic() - started < DEADLINE + SLACK


def test_garbage_retry_after_backs_off_then_gives_a_clamped_value(confluence: StandIn, client):
    with pytest.raises(errors.RateLimited) as caught:
        list_spaces(client, confluence.dc_root, "garbage-retry-after")
    assert 1 <= caught.value.retry_after <= 3600
    assert len(confluence.requests) >= 2  # "soon" is not a reason to give up at once


@pytest.mark.parametrize("persona", ["rate-limited-once", "unavailable-once"])
@pytest.mark.parametrize("root", ["cloud", "dc"])
def test_retry_once_then_succeed(confluence: StandIn, client, caplog, persona: str, root: str):
    caplog.set_level(logging.WARNING, logger="spacegate.confluence")
    started = time.monotonic()
    spaces = list_spaces(client, roots(confluence)[root], persona)
    elapsed = time.monotonic() - started
    assert spaces == expected(confluence, persona, "v2" if root == "cloud" else "dc")
    assert 0.9 <= elapsed < 1.0 + SLACK  # Retry-After: 1 honoured
    assert len(confluence.requests) == 2
    (warning,) = [r for r in caplog.records if r.name == "spacegate.confluence"]
    assert warning.levelno == logging.WARNING
    assert "attempt 2 of 4" in warning.getMessage()


def test_retry_budget_caps_total_waiting(confluence: StandIn, adapter):
    slept: list[float] = []
    tight = replace(OPTIONS, retry_budget_seconds=0.5)
    client = ConfluenceClient(adapter, tight, sleep=slept.append)
    with pytest.raises(errors.BadGateway):
        list_spaces(client, confluence.cloud_root, "unavailable")
    assert sum(slept) <= 0.5


def test_retry_after_longer_than_the_per_wait_cap_answers_at_once(confluence: StandIn, adapter):
    client = ConfluenceClient(adapter, replace(OPTIONS, retry_max_wait_seconds=0.5))
    with pytest.raises(errors.RateLimited) as caught:
        list_spaces(client, confluence.cloud_root, "rate-limited-short")  # Retry-After: 1
    assert caught.value.retry_after == 1
    assert len(confluence.requests) == 1


def test_one_attempt_means_no_retry(confluence: StandIn, adapter):
    client = ConfluenceClient(adapter, replace(OPTIONS, retry_attempts=1))
    with pytest.raises(errors.RateLimited):
        list_spaces(client, confluence.cloud_root, "rate-limited-once")
    assert len(confluence.requests) == 1


# --- the guarded adapter ---------------------------------------------------------------------


def test_loopback_name_refused_at_connect_time(confluence: StandIn):
    # The allow-list passes `localhost`, the static checks pass (a name, not an address): only
    # the address it resolves to tells, when the adapter connects.
    policy = lab_policy(f"localhost:{confluence.port}", private=False)
    root = f"http://localhost:{confluence.port}/wiki/rest/api"
    assert policy.refusal(root) is None
    client = ConfluenceClient(GuardedHTTPAdapter(policy), OPTIONS)
    with pytest.raises(errors.AddressRefused) as caught:
        list_spaces(client, root, "three")
    assert "localhost resolves to" in caught.value.detail
    assert "loopback" in caught.value.detail
    assert confluence.requests == []


def test_loopback_name_allowed_with_private_addresses(confluence: StandIn):
    policy = lab_policy(f"localhost:{confluence.port}", private=True)
    client = ConfluenceClient(GuardedHTTPAdapter(policy), OPTIONS)
    root = f"http://localhost:{confluence.port}/wiki/rest/api"
    assert list_spaces(client, root, "three") == expected(confluence, "three", "v2")


def test_metadata_address_refused_even_with_private_addresses(confluence: StandIn):
    client = ConfluenceClient(GuardedHTTPAdapter(lab_policy("169.254.169.254")), OPTIONS)
    started = time.monotonic()
    with pytest.raises(errors.AddressRefused) as caught:
        list_spaces(client, "http://169.254.169.254/wiki/rest/api", "three")
    assert "metadata" in caught.value.detail
    assert time.monotonic() - started < 0.5  # refused before any connection attempt


def test_refused_connection_is_retried_then_bad_gateway(adapter):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # nothing listens on `port` any more
    slept: list[float] = []
    policy = lab_policy(f"127.0.0.1:{port}")
    client = ConfluenceClient(GuardedHTTPAdapter(policy), OPTIONS, sleep=slept.append)
    with pytest.raises(errors.BadGateway) as caught:
        list_spaces(client, f"http://127.0.0.1:{port}/rest/api", "three")
    assert "could not connect" in caught.value.detail
    assert len(slept) == OPTIONS.retry_attempts - 1


def test_unresolvable_name_is_bad_gateway():
    client = ConfluenceClient(GuardedHTTPAdapter(lab_policy("nowhere.invalid")), OPTIONS)
    with pytest.raises(errors.BadGateway) as caught:
        list_spaces(client, "http://nowhere.invalid/rest/api", "three")
    assert "does not resolve" in caught.value.detail


def test_behind_a_proxy_the_target_name_is_checked_first(confluence: StandIn, monkeypatch):
    # The stand-in doubles as an HTTP proxy: it routes absolute-form request targets by path.
    monkeypatch.setenv("HTTP_PROXY", confluence.url)
    root = f"http://localhost:{confluence.port}/rest/api"
    strict = lab_policy(f"localhost:{confluence.port}", private=False)
    with pytest.raises(errors.AddressRefused):
        list_spaces(ConfluenceClient(GuardedHTTPAdapter(strict), OPTIONS), root, "three")
    assert confluence.requests == []

    lenient = lab_policy(f"localhost:{confluence.port}", private=True)
    spaces = list_spaces(ConfluenceClient(GuardedHTTPAdapter(lenient), OPTIONS), root, "three")
    assert spaces == expected(confluence, "three", "dc")
    (request,) = confluence.requests
    assert request.path_with_query.startswith(f"http://localhost:{confluence.port}/rest/api/")


# --- TLS -------------------------------------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[TlsServer]:
    with TlsServer(tmp_path) as server:
        yield server


def _tls_client(server: TlsServer) -> ConfluenceClient:
    policy = UrlPolicy(
        allowed_hosts=(f"localhost:{server.port}", f"127.0.0.1:{server.port}"),
        allow_http=False,
        allow_private_addresses=True,
    )
    return ConfluenceClient(GuardedHTTPAdapter(policy), OPTIONS)


def test_tls_verified_with_the_operators_ca_bundle(tls_server: TlsServer, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_server.cert_file))
    root = f"https://localhost:{tls_server.port}/rest/api"
    spaces = list_spaces(_tls_client(tls_server), root, "three")
    assert spaces == [
        {"key": "TLS", "name": "Secure", "type": "global", "status": "current", "id": "1",
         "url": WEB + "/display/TLS"}
    ]  # fmt: skip
    assert "localhost" in tls_server.server_names  # SNI carries the URL's host name


def test_tls_hostname_is_still_checked(tls_server: TlsServer, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_server.cert_file))
    root = f"https://127.0.0.1:{tls_server.port}/rest/api"  # the certificate names localhost
    with pytest.raises(errors.BadGateway) as caught:
        list_spaces(_tls_client(tls_server), root, "three")
    assert "TLS" in caught.value.detail


def test_tls_unknown_issuer_is_bad_gateway(tls_server: TlsServer, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    root = f"https://localhost:{tls_server.port}/rest/api"
    with pytest.raises(errors.BadGateway) as caught:
        list_spaces(_tls_client(tls_server), root, "three")
    assert "TLS" in caught.value.detail


# --- secrets and logs ------------------------------------------------------------------------

SECRET_PERSONAS = [
    ("three", "cloud"),
    ("legacy-401", "cloud"),
    ("rate-limited", "cloud"),
    ("unavailable", "dc"),
    ("html", "dc"),
    ("bad-space", "cloud"),
    ("redirect-other-host", "cloud"),
    ("slow", "dc"),
]


def test_token_never_in_errors_or_logs(confluence: StandIn, adapter, caplog):
    caplog.set_level(logging.DEBUG)
    client = ConfluenceClient(adapter, replace(OPTIONS, deadline_seconds=1.0))
    encoded = base64.b64encode(f"x:{VALID_TOKEN}".encode()).decode()
    failures: list[errors.ConfluenceError] = []
    for persona, root in SECRET_PERSONAS:
        try:
            list_spaces(client, roots(confluence)[root], persona)
        except errors.ConfluenceError as exc:
            failures.append(exc)
    policy = lab_policy(f"localhost:{confluence.port}", private=False)
    refusing = ConfluenceClient(GuardedHTTPAdapter(policy), OPTIONS)
    root = f"http://localhost:{confluence.port}/rest/api"
    with pytest.raises(errors.AddressRefused) as refused:
        list_spaces(refusing, root, "three")
    failures.append(refused.value)
    assert len(failures) == len(SECRET_PERSONAS)  # all but "three" failed, plus the refusal
    for exc in failures:
        chain: list[BaseException] = [exc]
        while chain[-1].__cause__ is not None:
            chain.append(chain[-1].__cause__)
        for link in chain:
            for text in (str(link), repr(link), str(getattr(link, "detail", ""))):
                assert VALID_TOKEN not in text
                assert encoded[8:] not in text
    assert caplog.records, "the client logs each page at DEBUG"
    for record in caplog.records:
        message = record.getMessage()
        assert VALID_TOKEN not in message
        assert "Basic " not in message
    assert VALID_TOKEN not in repr(Credentials("u", VALID_TOKEN))
    assert VALID_TOKEN not in str(Credentials("u", VALID_TOKEN))


def test_one_debug_line_per_page(confluence: StandIn, client: ConfluenceClient, caplog):
    caplog.set_level(logging.DEBUG, logger="spacegate.confluence")
    list_spaces(client, confluence.dc_root, "v1-forms")
    pages = [r for r in caplog.records if r.name == "spacegate.confluence"]
    assert len(pages) == 7
    assert all(r.levelno == logging.DEBUG and "-> 200 in" in r.getMessage() for r in pages)


# --- options and the adapter seam ------------------------------------------------------------


def test_client_options_from_settings():
    settings = Settings(deadline_seconds=12, max_pages=7, retry_attempts=2)
    options = ClientOptions.from_settings(settings)
    assert options == ClientOptions(
        deadline_seconds=12,
        connect_timeout_seconds=settings.connect_timeout_seconds,
        read_timeout_seconds=settings.read_timeout_seconds,
        max_pages=7,
        max_page_bytes=settings.max_page_bytes,
        retry_attempts=2,
        retry_max_wait_seconds=settings.retry_max_wait_seconds,
        retry_budget_seconds=settings.retry_budget_seconds,
    )


def test_live_mode():
    settings = Settings(
        allowed_hosts=("*.atlassian.net",), worker_threads=8, cors_origins=("https://app.example",)
    )
    mode = mode_for(replace(settings, mode="live", jwt_secret="x" * 32).validated())
    try:
        adapter = mode.adapter
        assert isinstance(adapter, GuardedHTTPAdapter)
        assert isinstance(adapter, BaseAdapter)
        assert adapter.blocking is True  # the handler runs the client in a worker thread
        assert adapter.policy is mode.policy  # the 422 rule and the sender judge alike
        assert mode.policy.enforce_allow_list is True
        assert mode.cors_origins == ("https://app.example",)
        assert mode.rules == ()
        refusal = adapter.policy.address_refusal(ipaddress.ip_address("10.0.0.1"))
        assert refusal is not None
    finally:
        mode.adapter.close()


def test_the_live_adapter_refuses_the_stand_in_by_default(confluence: StandIn):
    # The shipped policy: the stand-in's loopback address is refused when connecting.
    settings = Settings(allowed_hosts=(f"localhost:{confluence.port}",))
    adapter = live_mode(settings).adapter
    try:
        client = ConfluenceClient(adapter, OPTIONS)
        with pytest.raises(errors.AddressRefused):
            list_spaces(client, f"https://localhost:{confluence.port}/wiki/rest/api", "three")
    finally:
        adapter.close()
    assert confluence.requests == []


# --- the pure helpers under the client ------------------------------------------------------

NOW = datetime.datetime(2026, 11, 27, 12, 0, 0, tzinfo=datetime.UTC).timestamp()


@pytest.mark.parametrize(
    ("header", "seconds", "clamped"),
    [
        ("1", 1.0, 1),
        ("0", 0.0, 1),
        (" 120 ", 120.0, 120),
        ("3601", 3601.0, 3600),
        ("9223372036854775807", float("inf"), 3600),
        ("9" * 5000, float("inf"), 3600),  # past Python's int-string limit: no ValueError
        ("Fri, 27 Nov 2026 12:00:30 GMT", 30.0, 30),
        ("Fri, 27 Nov 2026 11:00:00 GMT", 0.0, 1),  # in the past
        ("Fri, 31 Dec 9999 23:59:59 GMT", None, 3600),
        ("soon", None, 30),
        ("-5", None, 30),
        ("1.5", None, 30),
        ("", None, 30),
        (None, None, 30),
    ],
)
def test_retry_after(header: str | None, seconds: float | None, clamped: int):
    parsed = parse_retry_after(header, now=NOW)
    if seconds is None and header and header.startswith("Fri, 31 Dec 9999"):
        assert parsed is not None
        assert parsed > 3600
    else:
        assert parsed == seconds
    assert clamp_retry_after(parsed) == clamped


ORIGIN = Origin("https", "acme.atlassian.net", 443)


@pytest.mark.parametrize(
    ("links", "expected_next"),
    [
        ({"next": "/rest/api/space?start=25", "base": "https://acme.atlassian.net/wiki"},
         "https://acme.atlassian.net/wiki/rest/api/space?start=25"),
        ({"next": "rest/api/space?start=25", "base": "https://acme.atlassian.net/wiki/"},
         "https://acme.atlassian.net/wiki/rest/api/space?start=25"),
        ({"next": "https://acme.atlassian.net:443/wiki/rest/api/space?start=25"},
         "https://acme.atlassian.net:443/wiki/rest/api/space?start=25"),
        ({"next": "/rest/api/space?start=25"},
         "https://acme.atlassian.net/wiki/rest/api/space?start=25"),  # base derived from root
        ({"base": "https://acme.atlassian.net/wiki"}, None),
        ({}, None),
    ],
)  # fmt: skip
def test_v1_next(links: dict, expected_next: str | None):
    body = {"results": [], "_links": links}
    assert v1_next(body, ORIGIN, "https://acme.atlassian.net/wiki") == expected_next


@pytest.mark.parametrize(
    "links",
    [
        {"next": "//evil.example/rest/api/space"},
        {"next": "http://acme.atlassian.net/wiki/rest/api/space"},  # another scheme
        {"next": "https://acme.atlassian.net:8443/wiki/rest/api/space"},  # another port
        {"next": "/rest/api/space", "base": "https://evil.example/wiki"},
        {"next": 25},
    ],
)
def test_v1_next_elsewhere_or_unreadable_is_bad_gateway(links: dict):
    with pytest.raises(errors.BadGateway):
        v1_next({"results": [], "_links": links}, ORIGIN, "https://acme.atlassian.net/wiki")


def test_v2_next_from_body_or_link_header():
    site = "https://acme.atlassian.net/wiki"
    body = {"results": [], "_links": {"next": "/wiki/api/v2/spaces?cursor=abc"}}
    assert (
        v2_next(body, {}, ORIGIN, site)
        == "https://acme.atlassian.net/wiki/api/v2/spaces?cursor=abc"
    )
    header = {
        "Link": '</wiki/api/v2/spaces?cursor=def>; rel="next", '
        '<https://acme.atlassian.net/wiki>; rel="base"'
    }
    assert v2_next({"results": []}, header, ORIGIN, site) == (
        "https://acme.atlassian.net/wiki/api/v2/spaces?cursor=def"
    )
    assert v2_next({"results": [], "_links": {}}, {}, ORIGIN, site) is None
    with pytest.raises(errors.BadGateway):
        v2_next({"results": [], "_links": {"next": "https://evil.example/wiki/api/v2/spaces"}},
                {}, ORIGIN, site)  # fmt: skip
