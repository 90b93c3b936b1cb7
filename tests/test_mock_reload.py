"""The mock's scenarios folder while it runs: files added, changed, broken and deleted take
effect within 2 s (polled over HTTP), requests in flight never fail, a broken file keeps its
last good version serving, and every scenario is proved through the real handler first."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from conformance.serving import serving
from mocks.answer_check import AnswerCheck
from service.resources import default_cassettes_dir, spec_path
from service.settings import DEV_JWT_SECRET, Settings
from tests.support.bodies import EXAMPLE_BODY
from tests.support.contract import assert_conforms
from tests.support.processes import ROOT, environment
from tests.support.servers import RunningService, serve
from tests.support.tokens import auth_headers, mint

WITHIN = 2.0  # seconds a change may take to serve (the bound)


def write(folder: Path, name: str, content: dict[str, Any] | str) -> Path:
    """Written as editors and the recorder do: beside the target, then renamed over it."""
    path = folder / (name if "." in name else f"{name}.yaml")
    text = content if isinstance(content, str) else yaml.safe_dump(content, allow_unicode=True)
    scratch = folder / f".{path.name}.tmp"
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, path)
    return path


def listing(keys: list[str], **fields: Any) -> dict[str, Any]:
    return {
        "description": f"spaces {keys}",
        "spaces": [{"key": k, "name": k.title()} for k in keys],
    } | fields


def post(service: RunningService, prefer: str | None = None) -> requests.Response:
    headers = auth_headers(mint(secret=DEV_JWT_SECRET))
    if prefer is not None:
        headers["prefer"] = prefer
    return requests.post(service.api, json=EXAMPLE_BODY, headers=headers, timeout=10)


def keys_of(response: requests.Response) -> list[str] | int:
    return (
        [s["key"] for s in response.json()["spaces"]]
        if response.status_code == 200
        else response.status_code
    )


def catalogue(service: RunningService) -> dict[str, Any]:
    return requests.get(service.url + "/mock/scenarios", timeout=5).json()


def soon(check: Callable[[], Any], wanted: Any) -> Any:
    """Poll `check()` until it returns `wanted`, for at most WITHIN seconds from now."""
    deadline = time.monotonic() + WITHIN
    while True:
        seen = check()
        if seen == wanted or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(default_cassettes_dir() / "default.yaml", tmp_path)
    shutil.copy(default_cassettes_dir() / "many.yaml", tmp_path)
    return tmp_path


@pytest.fixture
def mock(folder: Path) -> Iterator[RunningService]:
    with serve(Settings(mode="mock", cassettes=folder).validated()) as service:
        yield service


def test_a_new_file_serves_without_a_restart(mock, folder):
    assert post(mock, "example=ours").status_code == 422
    write(folder, "ours", listing(["ENG", "DOC"], page_size=1))
    assert soon(lambda: keys_of(post(mock, "example=ours")), ["ENG", "DOC"]) == ["ENG", "DOC"]
    described = {s["name"]: s for s in catalogue(mock)["scenarios"]}["ours"]
    assert (described["source"], described["status"]) == ("hand-written", 200)


def test_a_changed_file_serves_its_new_answer(mock, folder):
    write(folder, "ours", listing(["ENG"]))
    assert soon(lambda: keys_of(post(mock, "example=ours")), ["ENG"]) == ["ENG"]
    write(folder, "ours", listing(["ENG", "OPS", "HR"], flavour="cloud-v1", page_size=2))
    assert soon(lambda: keys_of(post(mock, "example=ours")), ["ENG", "OPS", "HR"]) == [
        "ENG",
        "OPS",
        "HR",
    ]
    write(folder, "ours", {"description": "now down", "upstream": {"status": 503}})
    assert soon(lambda: keys_of(post(mock, "example=ours")), 502) == 502
    assert {s["name"]: s["status"] for s in catalogue(mock)["scenarios"]}["ours"] == 502


def test_a_broken_edit_keeps_the_last_good_version_and_says_why(mock, folder):
    path = write(folder, "ours", listing(["ENG"]))
    assert soon(lambda: keys_of(post(mock, "example=ours")), ["ENG"]) == ["ENG"]
    write(folder, "ours", "description: ours\nflavour: clod\nspaces: []\n")
    errors = soon(
        lambda: catalogue(mock)["errors"],
        [
            {
                "file": "ours.yaml",
                "problem": f"{path}, line 2, flavour: must be one of cloud, cloud-v1, "
                "data-center, not 'clod'",
                "still_serving": True,
            }
        ],
    )
    assert errors[0]["still_serving"] is True, errors
    assert errors[0]["problem"].startswith(f"{path}, line 2, flavour:")
    assert keys_of(post(mock, "example=ours")) == ["ENG"]
    write(folder, "ours", listing(["FIXED"]))
    assert soon(lambda: keys_of(post(mock, "example=ours")), ["FIXED"]) == ["FIXED"]
    assert catalogue(mock)["errors"] == []


def test_a_deleted_file_is_gone_but_default_stays(mock, folder):
    write(folder, "ours", listing(["ENG"]))
    assert soon(lambda: keys_of(post(mock, "example=ours")), ["ENG"]) == ["ENG"]
    (folder / "ours.yaml").unlink()
    assert soon(lambda: post(mock, "example=ours").status_code, 422) == 422
    (folder / "default.yaml").unlink()
    errors = soon(lambda: [e["file"] for e in catalogue(mock)["errors"]], ["default.yaml"])
    assert errors == ["default.yaml"]
    [error] = catalogue(mock)["errors"]
    assert error["still_serving"] is True
    assert "keeps serving" in error["problem"]
    assert keys_of(post(mock)) == ["KB", "IT", "HR"]


def test_two_files_with_one_name_keep_the_first_serving(mock, folder):
    write(folder, "ours", listing(["ENG"]))
    assert soon(lambda: keys_of(post(mock, "example=ours")), ["ENG"]) == ["ENG"]
    write(folder, "ours.yml", listing(["OTHER"]))
    files = soon(
        lambda: sorted(e["file"] for e in catalogue(mock)["errors"]), ["ours.yaml", "ours.yml"]
    )
    assert files == ["ours.yaml", "ours.yml"]
    assert keys_of(post(mock, "example=ours")) == ["ENG"]


def test_requests_in_flight_never_fail_while_files_change(mock, folder):
    write(folder, "ours", listing(["A"]))
    assert soon(lambda: keys_of(post(mock, "example=ours")), ["A"]) == ["A"]
    answers: list[tuple[str, Any]] = []
    stop = threading.Event()

    def keep_asking(prefer: str) -> None:
        while not stop.is_set():
            answers.append((prefer, keys_of(post(mock, prefer))))

    askers = [
        threading.Thread(target=keep_asking, args=(p,))
        for p in ("example=ours", "example=many", "example=default")
    ]
    for asker in askers:
        asker.start()
    try:
        for round_ in range(12):  # ends with an odd round: ["A"]
            write(folder, "ours", listing(["A"] if round_ % 2 else ["B", "C"], page_size=1))
            time.sleep(0.15)
    finally:
        stop.set()
        for asker in askers:
            asker.join()
    assert len(answers) > 30
    for prefer, answer in answers:
        # every answer a listing: the old version's or the new one's, never a failure
        assert isinstance(answer, list), (prefer, answer)
        if prefer == "example=ours":
            assert answer in (["A"], ["B", "C"])
    assert soon(lambda: keys_of(post(mock, "example=ours")), ["A"]) == ["A"]  # the last write


def test_a_sequence_whose_step_goes_away_is_refused(mock, folder):
    write(folder, "ours", listing(["ENG"]))
    write(folder, "retry", "description: ours twice\nsequence: [ours, default]\n")
    assert soon(lambda: catalogue(mock)["errors"], []) == []
    (folder / "ours.yaml").unlink()
    errors = soon(lambda: [e["file"] for e in catalogue(mock)["errors"]], ["retry.yaml"])
    assert errors == ["retry.yaml"]
    assert "'ours' is no scenario" in catalogue(mock)["errors"][0]["problem"]


# -- proving: played once through the real handler, judged by openapi.yaml ------------------------


def _declaring(status: int) -> str:
    """The shipped default cassette, declaring a status it does not yield."""
    text = (default_cassettes_dir() / "default.yaml").read_text()
    return text.replace("  status: 200\n", f"  status: {status}\n")


def test_a_scenario_that_does_not_yield_its_status_is_refused_on_reload(mock, folder):
    write(folder, "copy", _declaring(200))
    assert soon(lambda: keys_of(post(mock, "example=copy")), ["KB", "IT", "HR"]) == [
        "KB",
        "IT",
        "HR",
    ]
    path = write(folder, "copy", _declaring(403))
    problem = f"{path}: refused by its trial: spacegate answers 200, not 403"
    errors = soon(
        lambda: catalogue(mock)["errors"],
        [{"file": "copy.yaml", "problem": problem, "still_serving": True}],
    )
    assert errors == [{"file": "copy.yaml", "problem": problem, "still_serving": True}]
    # its last good version, which did yield what it declared, keeps serving
    assert {s["name"]: s["status"] for s in catalogue(mock)["scenarios"]}["copy"] == 200


def test_at_start_up_the_process_says_which_scenario_is_refused_and_why(folder, tmp_path_factory):
    bad = write(folder, "lies", _declaring(429))
    typo = write(folder, "typo", "description: x\nspaces:\n  - {key: ENG}\n")
    log = tmp_path_factory.mktemp("log") / "serve.log"
    env = environment(SPACEGATE_CASSETTES=str(folder))
    with serving("mock", "--workers", "2", env=env, log=log, cwd=ROOT) as served:
        listed = requests.get(served.url + "/mock/scenarios", timeout=5).json()
        assert sorted(s["name"] for s in listed["scenarios"]) == ["default", "many"]
        assert {e["file"]: e["still_serving"] for e in listed["errors"]} == {
            "lies.yaml": False,
            "typo.yaml": False,
        }
        headers = auth_headers(mint(secret=DEV_JWT_SECRET)) | {"prefer": "example=lies"}
        refused = requests.post(served.api, json=EXAMPLE_BODY, headers=headers, timeout=10)
        assert assert_conforms(refused).status_code == 422
        # the process as operators run it (granian, two workers) reloads too, in each worker
        write(folder, "typo", listing(["ENG"]))
        for _worker in range(4):
            assert soon(lambda: keys_of(post(served, "example=typo")), ["ENG"]) == ["ENG"]
    said = log.read_text()
    assert f"{bad}: refused by its trial: spacegate answers 200, not 429" in said
    assert f"{typo}, line 3, spaces[0].name: missing" in said
    assert "HTTP Request" not in said  # the trials themselves are not traffic


def test_without_a_default_that_serves_the_mock_does_not_start(folder):
    write(folder, "default", "description: x\nupstream: {status: 418}\n")
    env = environment(SPACEGATE_CASSETTES=str(folder))
    result = subprocess.run(
        [sys.executable, "-m", "service", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "no 'default' scenario that serves" in result.stderr
    assert "line 2, upstream.status: must be one of" in result.stderr


# -- the judge of the trials: real answers, and the same answers made wrong ----------------------

CHECK = AnswerCheck(spec_path(), "listSpaces")


@pytest.fixture(scope="module")
def answers() -> Iterator[dict[str, requests.Response]]:
    with serve(Settings(mode="mock").validated()) as service:
        yield {
            name: post(service, f"example={name}")
            for name in ("default", "rate-limited", "timeout")
        }


def _check(response: requests.Response, **changes: Any) -> list[str]:
    headers = {k.lower(): v for k, v in response.headers.items()}
    headers.update({k: v for k, v in changes.get("headers", {}).items() if v is not None})
    for name in [k for k, v in changes.get("headers", {}).items() if v is None]:
        headers.pop(name)
    return CHECK.problems(
        changes.get("status", response.status_code), headers, changes.get("body", response.content)
    )


def test_real_answers_conform(answers):
    for response in answers.values():
        assert _check(response) == []


@pytest.mark.parametrize(
    ("name", "changes", "words"),
    [
        ("default", {"status": 418}, "status 418 is not documented"),
        ("default", {"body": b'{"spaces": [{"key": "KB"}]}'}, "'name' is a required property"),
        ("default", {"body": b"not json"}, "not JSON"),
        ("default", {"headers": {"content-type": "text/html"}}, "content-type text/html is not"),
        ("rate-limited", {"headers": {"retry-after": None}}, "header Retry-After is missing"),
        (
            "rate-limited",
            {"headers": {"retry-after": "0"}},
            "header Retry-After: 0 is less than the minimum",
        ),
        (
            "rate-limited",
            {"headers": {"retry-after": "soon"}},
            "header Retry-After: 'soon' is not of type",
        ),
        ("timeout", {"body": b'{"detail": "late"}'}, "'code' is a required property"),
    ],
)
def test_wrong_answers_are_caught(answers, name, changes, words):
    found = _check(answers[name], **changes)
    assert any(words in problem for problem in found), found
