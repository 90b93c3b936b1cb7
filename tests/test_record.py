"""`python -m mocks record`: a real recording replays as the live answer, and holds no secret."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from service.resources import default_cassettes_dir
from service.settings import DEV_JWT_SECRET, Settings
from tests.confluence_standin import VALID_TOKEN
from tests.support.bodies import standin_body
from tests.support.contract import assert_conforms
from tests.support.servers import serve
from tests.support.tokens import auth_headers

ROOT = Path(__file__).resolve().parent.parent
USERNAME = "unicode@confluence-standin.example"


def record(folder: Path, *args: str, token: str | None = VALID_TOKEN, **overrides: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACEGATE_")}
    env["PYTHONPATH"] = str(ROOT)
    if token is not None:
        env["SPACEGATE_RECORD_API_TOKEN"] = token
    options = {"--scenario": "unicode", "--username": USERNAME, **overrides}
    argv = [a for pair in options.items() for a in pair]
    return subprocess.run(
        [sys.executable, "-m", "mocks", "record", "--cassettes", str(folder), *argv, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(default_cassettes_dir() / "default.yaml", tmp_path / "default.yaml")
    return tmp_path


@pytest.fixture
def urls(confluence) -> dict[str, str]:
    return {"--instance-url": confluence.cloud_root, "--web-url": confluence.url + "/wiki"}


def headers() -> dict[str, str]:
    return auth_headers(secret=DEV_JWT_SECRET)


def test_a_recording_replays_as_the_live_answer(folder, urls, confluence, live_settings):
    result = record(folder, **urls)
    assert result.returncode == 0, result.stderr
    assert "spacegate answered 200" in result.stdout
    body = standin_body(confluence, USERNAME)
    live = replace(live_settings, jwt_secret=DEV_JWT_SECRET).validated()
    mock = Settings(mode="mock", cassettes=folder, allow_http=True, allow_private_addresses=True)
    with serve(live) as live_service, serve(mock.validated()) as mock_service:
        from_live = requests.post(live_service.api, json=body, headers=headers(), timeout=20)
        replayed = requests.post(
            mock_service.api,
            json=body,
            headers=headers() | {"prefer": "example=unicode"},
            timeout=20,
        )
        listed = requests.get(mock_service.url + "/mock/scenarios", timeout=5).json()
    assert assert_conforms(replayed).status_code == from_live.status_code == 200
    assert replayed.json() == from_live.json()
    assert "unicode" in [s["name"] for s in listed["scenarios"]]


def test_a_recording_holds_no_secret(folder, urls, confluence):
    assert record(folder, **urls).returncode == 0
    cassette = (folder / "unicode.yaml").read_text()
    basic = base64.b64encode(f"{USERNAME}:{VALID_TOKEN}".encode()).decode()
    for secret in (VALID_TOKEN, USERNAME, "unicode@", basic, "Authorization", "authorization"):
        assert secret not in cassette
    assert f"127.0.0.1:{confluence.port}" not in cassette
    assert "confluence.recorded.invalid" in cassette


def test_a_refused_token_is_recorded_without_it(folder, urls):
    result = record(folder, token="a-wrong-token-that-must-vanish", **urls)
    assert result.returncode == 0, result.stderr
    assert "spacegate answered 403" in result.stdout
    assert "a-wrong-token-that-must-vanish" not in (folder / "unicode.yaml").read_text()


def test_an_existing_cassette_needs_force(folder, urls):
    assert record(folder, **urls).returncode == 0
    before = (folder / "unicode.yaml").read_text()
    refused = record(folder, **urls | {"--username": "three@confluence-standin.example"})
    assert refused.returncode == 1
    assert "--force" in refused.stderr
    assert (folder / "unicode.yaml").read_text() == before
    forced = record(folder, "--force", **urls | {"--username": "three@confluence-standin.example"})
    assert forced.returncode == 0
    assert "Knowledge Base" in (folder / "unicode.yaml").read_text()


def test_the_token_never_comes_from_the_command_line(folder, urls):
    missing = record(folder, token=None, **urls)
    assert missing.returncode == 2
    assert "SPACEGATE_RECORD_API_TOKEN" in missing.stderr
    assert not (folder / "unicode.yaml").exists()
    offered = record(folder, "--api-token", VALID_TOKEN, **urls)
    assert offered.returncode == 2  # argparse: no such option
