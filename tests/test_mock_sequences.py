"""Sequences over HTTP: one step per request that reaches Confluence, the last step repeating,
`POST /mock/reset`, and the same sequence and journal whichever of `serve --workers 2`
answers."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from conformance.serving import serving
from mocks.state import STATE_FILE
from service.resources import default_cassettes_dir
from service.settings import Settings
from tests.support.bodies import EXAMPLE_BODY as BODY
from tests.support.contract import assert_conforms
from tests.support.processes import ROOT, environment, process_tree
from tests.support.servers import RunningService, serve
from tests.test_mock import headers

FLAKY = (
    "description: Down twice, then fine\nsequence: [confluence-down, confluence-down, default]\n"
)


def folder_with(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "cassettes"
    folder.mkdir()
    for cassette in default_cassettes_dir().glob("*.yaml"):
        shutil.copy(cassette, folder)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text)
    return folder


def play(url: str, prefer: str = "example=flaky", **kwargs) -> requests.Response:
    # A connection of its own each time, so that any worker may take it.
    response = requests.post(
        url + "/v2/confluence/space-listing",
        json=BODY,
        headers=headers(prefer),
        timeout=10,
        **kwargs,
    )
    return assert_conforms(response)


def reset(url: str) -> dict:
    response = requests.post(url + "/mock/reset", timeout=5)
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def mock(tmp_path) -> Iterator[RunningService]:
    settings = replace(
        Settings(mode="mock").validated(), cassettes=folder_with(tmp_path, flaky=FLAKY)
    )
    with serve(settings) as service:
        yield service


def test_each_request_plays_the_next_step_and_the_last_repeats(mock):
    assert [play(mock.url).status_code for _ in range(5)] == [502, 502, 200, 200, 200]
    entries = requests.get(mock.url + "/mock/requests", timeout=5).json()["requests"]
    assert [(e["scenario"], e["sequence"]) for e in entries] == [
        ("confluence-down", {"name": "flaky", "step": 1}),
        ("confluence-down", {"name": "flaky", "step": 2}),
        ("default", {"name": "flaky", "step": 3}),
        ("default", {"name": "flaky", "step": 3}),
        ("default", {"name": "flaky", "step": 3}),
    ]


def test_reset_rewinds_every_sequence_and_nothing_else(mock):
    assert play(mock.url).status_code == 502
    assert play(mock.url).status_code == 502
    answer = reset(mock.url)
    assert answer["rewound"] == [{"name": "flaky", "played": 2}]
    assert "first step" in answer["detail"]
    assert len(requests.get(mock.url + "/mock/requests", timeout=5).json()["requests"]) == 2
    assert [play(mock.url).status_code for _ in range(3)] == [502, 502, 200]
    assert reset(mock.url)["rewound"] == [{"name": "flaky", "played": 3}]
    assert reset(mock.url)["rewound"] == [{"name": "flaky", "played": 0}]


def test_a_request_refused_before_confluence_takes_no_step(mock):
    bad_tenant = requests.post(
        mock.api, json=BODY, headers=headers("example=flaky", tenant="not-a-uuid"), timeout=5
    )
    no_token = requests.post(mock.api, json=BODY, headers={"prefer": "example=flaky"}, timeout=5)
    assert (bad_tenant.status_code, no_token.status_code) == (422, 401)
    assert play(mock.url).status_code == 502  # still the first step


def test_the_catalogue_lists_sequences_and_a_typo_names_them(mock):
    listed = requests.get(mock.url + "/mock/scenarios", timeout=5).json()
    assert listed["sequences"] == [
        {
            "name": "flaky",
            "description": "Down twice, then fine",
            "sequence": ["confluence-down", "confluence-down", "default"],
        }
    ]
    assert "flaky" not in [s["name"] for s in listed["scenarios"]]
    [item] = play(mock.url, "example=flakey").json()["detail"]
    assert item["type"] == "value_error.scenario"
    assert "flaky" in item["msg"]


def test_a_sequence_written_while_the_mock_runs_plays_and_a_reload_keeps_its_place(mock):
    folder = mock.settings.cassettes
    assert play(mock.url).status_code == 502
    (folder / "healing.yaml").write_text("description: Fine at once\nsequence: [default]\n")

    def sequences() -> list[str]:
        listed = requests.get(mock.url + "/mock/scenarios", timeout=5).json()["sequences"]
        return [s["name"] for s in listed]

    deadline = time.monotonic() + 2.0
    while sequences() != ["flaky", "healing"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sequences() == ["flaky", "healing"]
    assert play(mock.url, "example=healing").status_code == 200
    # flaky was reloaded with the folder; where it stood is the mock's state, not the file's
    assert play(mock.url).status_code == 502
    assert play(mock.url).status_code == 200


def state_files_open(pid: int) -> int:
    """How many of `pid`'s file descriptors are the mock's state file."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd).endswith(STATE_FILE)
        except OSError:
            continue
    return count


def test_two_workers_share_the_sequence_and_the_journal(tmp_path):
    env = environment(SPACEGATE_CASSETTES=str(folder_with(tmp_path, flaky=FLAKY)))
    log = tmp_path / "serve.log"
    with serving("mock", "--workers", "2", env=env, log=log, cwd=ROOT) as served:
        workers = [pid for pid in process_tree(served.pid) if pid != served.pid]
        statuses = [play(served.url).status_code for _ in range(12)]
        entries = requests.get(served.url + "/mock/requests", timeout=5).json()["requests"]
        # Both workers answered, each through the state file they share.
        answered = [pid for pid in workers if state_files_open(pid)]
        assert len(answered) == 2, f"workers {workers}; the ones with the state open: {answered}"
        reset_answer = reset(served.url)
        after_reset = play(served.url).status_code
    assert statuses == [502, 502] + [200] * 10
    assert [e["sequence"]["step"] for e in entries] == [1, 2] + [3] * 10
    assert reset_answer["rewound"] == [{"name": "flaky", "played": 12}]
    assert after_reset == 502
