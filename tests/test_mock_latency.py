"""Confluence's latency in mock mode, over HTTP: `Prefer: delay=`, a scenario's `latency_ms`,
`SPACEGATE_MOCK_LATENCY_MS`; the client's timeouts and deadline apply as live; waiting never
blocks the event loop.

Timings are judged against the delays the tests ask for (lower bounds, and ratios where the
issue asks for one), never against absolute figures.
"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from mocks.scenarios import ScenarioError, load_scenario
from service.resources import default_cassettes_dir
from service.settings import ConfigError, Settings
from tests.support.bodies import EXAMPLE_BODY as BODY
from tests.support.contract import assert_conforms
from tests.support.servers import RunningService, serve
from tests.test_mock import headers

MOCK = Settings(mode="mock").validated()


def post(service: RunningService, prefer: str | None = None, **kwargs) -> requests.Response:
    response = requests.post(service.api, json=BODY, headers=headers(prefer), timeout=60, **kwargs)
    return assert_conforms(response)


def timed(service: RunningService, prefer: str | None = None) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = post(service, prefer)
    return response, time.monotonic() - started


def journal(service: RunningService, request_id: str) -> dict:
    [entry] = requests.get(
        service.url + "/mock/requests", params={"request_id": request_id}, timeout=5
    ).json()["requests"]
    return entry


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningService]:
    with serve(MOCK) as service:
        yield service


def test_the_delay_is_per_answer_of_confluence(mock):
    delay = 0.3
    one_page, one_page_took = timed(mock, f"delay={delay * 1000:.0f}")
    many, many_took = timed(mock, f"example=many, delay={delay * 1000:.0f}")
    assert one_page.status_code == many.status_code == 200
    pages = journal(mock, many.headers["x-request-id"])["confluence"]
    assert len(pages) == 5
    assert len(journal(mock, one_page.headers["x-request-id"])["confluence"]) == 1
    assert one_page_took >= delay
    assert many_took >= 5 * delay  # five pages, five times Confluence's latency
    assert one_page_took < 5 * delay


def test_without_a_delay_nothing_waits(mock):
    _, plain = timed(mock)
    _, delayed = timed(mock, "delay=500")
    assert delayed >= 0.5
    assert plain < delayed / 2


def test_fifty_delayed_requests_at_once_take_about_one_delay(mock):
    delay = 1.0

    def one(_: int) -> tuple[int, float]:
        response, took = timed(mock, f"delay={delay * 1000:.0f}")
        return response.status_code, took

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(one, range(50)))
    wall = time.monotonic() - started
    assert [status for status, _ in answers] == [200] * 50
    assert min(took for _, took in answers) >= delay
    # Sleeping on the event loop (or in 40 worker threads) would take 50 (or 2) delays.
    assert wall / delay < 2.5, f"50 requests delayed {delay} s each took {wall:.2f} s"


def test_a_delay_past_the_read_timeout_is_a_504_after_the_timeout():
    settings = replace(MOCK, read_timeout_seconds=0.5)
    with serve(settings) as service:
        response, took = timed(service, "delay=5000")
        entry = journal(service, response.headers["x-request-id"])
    assert response.status_code == 504
    assert response.json()["code"] == "confluence_timeout"
    assert "reading timeout" in response.json()["detail"]
    assert 0.5 <= took < 5.0  # the read timeout's wait, not the whole delay
    assert entry["confluence"] == [
        {
            "method": "GET",
            "path": "/wiki/api/v2/spaces?limit=250",
            "status": None,
            "error": "timeout",
        }
    ]


def test_the_deadline_counts_confluences_latency():
    # 400 ms a page, five pages, a 1 s deadline: the third page runs out of time.
    settings = Settings.from_env({"SPACEGATE_DEADLINE_SECONDS": "1"})  # timeouts follow it
    with serve(settings) as service:
        response, took = timed(service, "example=many, delay=400")
        entry = journal(service, response.headers["x-request-id"])
    assert response.status_code == 504
    assert 1.0 <= took < 2.0
    assert [call["status"] for call in entry["confluence"]] == [200, 200, None]


@pytest.fixture(scope="module")
def slow_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cassettes")
    for cassette in default_cassettes_dir().glob("*.yaml"):
        shutil.copy(cassette, folder)
    default = (folder / "default.yaml").read_text()
    (folder / "slow.yaml").write_text(
        default.replace("metadata:\n", "metadata:\n  latency_ms: 600\n", 1)
    )
    return folder


def test_a_scenario_latency_and_the_mock_default(slow_folder):
    settings = replace(MOCK, cassettes=slow_folder, mock_latency_ms=200)
    with serve(settings) as service:
        listed = requests.get(service.url + "/mock/scenarios", timeout=5).json()["scenarios"]
        _, default_took = timed(service)
        _, slow_took = timed(service, "example=slow")
        _, asked_took = timed(service, "example=slow, delay=0")
    assert {s["name"]: s.get("latency_ms") for s in listed}["slow"] == 600
    assert 0.2 <= default_took < 0.6  # SPACEGATE_MOCK_LATENCY_MS
    assert slow_took >= 0.6  # the scenario's own
    assert asked_took < 0.2  # the request's, which wins


def test_the_mock_latency_setting():
    assert Settings.from_env({"SPACEGATE_MOCK_LATENCY_MS": "250"}).mock_latency_ms == 250
    for bad in ("-1", "soon", "1.5", "60001"):
        with pytest.raises(ConfigError, match="SPACEGATE_MOCK_LATENCY_MS"):
            Settings.from_env({"SPACEGATE_MOCK_LATENCY_MS": bad})


# "9" * 5000: past Python's int-string limit, where int() itself raises.
@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "60001", "", "\u00b2", "9" * 5000])
def test_a_delay_that_cannot_be_honoured_is_a_422_with_the_other_problems(mock, value):
    response = requests.post(
        mock.api,
        json=BODY | {"username": ""},
        headers=headers(f"delay={value}"),
        timeout=10,
    )
    assert_conforms(response)
    assert response.status_code == 422
    body_item, prefer_item = response.json()["detail"]
    assert body_item["loc"] == ["body", "username"]
    assert prefer_item["loc"] == ["header", "prefer"]
    assert prefer_item["type"] == "value_error.scenario"
    assert "0 to 60000" in prefer_item["msg"]


def test_a_client_that_leaves_during_the_delay_frees_the_request(mock):
    payload = requests.Request(
        "POST", mock.api, json=BODY, headers=headers("delay=4000") | {"x-request-id": "gone-1"}
    ).prepare()
    head = "POST /v2/confluence/space-listing HTTP/1.1\r\nhost: 127.0.0.1\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in payload.headers.items()
    )
    with socket.create_connection(("127.0.0.1", mock.port), timeout=5) as client:
        client.sendall(head.encode() + b"\r\n" + payload.body)
        time.sleep(0.3)
    deadline = time.monotonic() + 3.0
    entries: list = []
    while not entries and time.monotonic() < deadline:
        entries = requests.get(
            mock.url + "/mock/requests", params={"request_id": "gone-1"}, timeout=5
        ).json()["requests"]
        time.sleep(0.05)
    [entry] = entries
    assert entry["status"] == 499
    assert entry["duration_ms"] < 4000


def test_the_delay_holds_beside_prisms_query_form(mock):
    response = requests.post(
        mock.api + "?__example=many",
        json=BODY,
        headers=headers("delay=100"),
        timeout=30,
    )
    assert_conforms(response)
    entry = journal(mock, response.headers["x-request-id"])
    assert (entry["scenario"], entry["latency_ms"], len(entry["confluence"])) == ("many", 100, 5)
    assert entry["duration_ms"] >= 500


def test_a_cassette_latency_that_cannot_be_used_is_refused(tmp_path):
    default = (default_cassettes_dir() / "default.yaml").read_text()
    for bad in ("-5", "1.5", "'300'", "true"):
        file = tmp_path / "slow.yaml"
        file.write_text(default.replace("metadata:\n", f"metadata:\n  latency_ms: {bad}\n", 1))
        with pytest.raises(ScenarioError, match=r"metadata\.latency_ms"):
            load_scenario(file)


def test_a_delay_written_with_thousands_of_leading_zeros_is_its_number(mock):
    prefer = "delay=" + "0" * 5000 + "1"
    response = requests.post(mock.api, json=BODY, headers=headers(prefer), timeout=10)
    assert_conforms(response)
    assert response.status_code == 200
