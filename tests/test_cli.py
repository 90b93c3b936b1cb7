"""The command line as an operator runs it: separate processes, environment, real sockets."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import jwt
import pytest
import requests

from conformance.serving import serving
from tests.support.bodies import EXAMPLE_BODY, standin_body
from tests.support.contract import assert_conforms
from tests.support.processes import ROOT, environment, live_environment
from tests.support.tokens import TENANT, auth_headers

SECRET = "cli-test-secret-which-is-long-enough-0123456789"


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


@pytest.fixture
def live_env(confluence) -> dict[str, str]:
    return live_environment(confluence.port, SECRET)


def test_token_mints_a_jwt_for_the_configured_secret(live_env):
    result = run("token", "--tenant", TENANT, "--ttl", "120", env=live_env)
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["tenant_id"] == TENANT
    assert 100 < claims["exp"] - time.time() <= 120


def test_token_refuses_a_tenant_that_is_not_a_uuid(live_env):
    result = run("token", "--tenant", "acme", env=live_env)
    assert result.returncode == 2
    assert "UUID" in result.stderr


def test_a_minted_token_lists_the_stand_ins_spaces(live_env, confluence, tmp_path):
    """The issue's "done when": serve live, mint a token, list spaces."""
    token = run("token", "--tenant", TENANT, env=live_env).stdout.strip()
    with serving("live", env=live_env, log=tmp_path / "serve.log", cwd=ROOT) as served:
        response = requests.post(
            served.api,
            json=standin_body(confluence),
            headers=auth_headers(token),
            timeout=20,
        )
    assert_conforms(response)
    assert response.status_code == 200
    assert [s["key"] for s in response.json()["spaces"]] == ["KB", "IT", "HR"]


def test_serve_logs_json_says_the_mode_and_keeps_the_secret_out(live_env, tmp_path):
    log = tmp_path / "serve.log"
    with serving("live", "--workers", "2", env=live_env, log=log, cwd=ROOT) as served:
        for _ in range(4):
            assert requests.get(served.url + "/healthz", timeout=5).json()["mode"] == "live"
    stderr = log.read_text()
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any("LIVE MODE" in line["message"] for line in lines)
    assert SECRET not in stderr
    # the HTTP server's own lines (granian's) come through the same JSON formatter
    assert any(line["logger"].startswith("_granian") for line in lines)


def test_a_lone_surrogate_is_a_422_and_every_log_line_stays_json(live_env, confluence, tmp_path):
    """The audit's case: a surrogate in the path of instance_url ended in a plain-text 500."""
    token = run("token", "--tenant", TENANT, env=live_env).stdout.strip()
    log = tmp_path / "serve.log"
    sent = standin_body(confluence, "three\udfff", root=confluence.cloud_root + "\ud800")
    with serving("live", env=live_env, log=log, cwd=ROOT) as served:
        response = requests.post(
            served.api,
            data=json.dumps(sent).encode(),
            headers={
                "Authorization": f"Bearer {token}",
                "x-tenantid": TENANT,
                "content-type": "application/json",
            },
            timeout=20,
        )
    assert_conforms(response)
    assert response.status_code == 422, response.text
    assert response.headers["x-request-id"]
    assert [item["loc"] for item in response.json()["detail"]] == [
        ["body", "instance_url"],
        ["body", "username"],
    ]
    lines = log.read_text().splitlines()
    assert lines
    for line in lines:
        json.loads(line)  # warnings or tracebacks printed as plain text would fail here


def test_serve_refuses_a_bad_setting_and_names_it(live_env):
    result = run("serve", env=live_env | {"SPACEGATE_DEADLINE_SECONDS": "soon"})
    assert result.returncode == 2
    assert "SPACEGATE_DEADLINE_SECONDS" in result.stderr


def test_serve_starts_with_only_a_short_deadline_set(tmp_path):
    """One variable alone never fails on another's default: the timeouts fit the deadline."""
    env = environment(SPACEGATE_DEADLINE_SECONDS="3")
    with serving("mock", env=env, log=tmp_path / "serve.log", cwd=ROOT) as served:
        assert requests.get(served.url + "/healthz", timeout=5).json()["status"] == "ok"
        assert served.process.poll() is None


def test_mock_serve_with_an_unusable_cassette_names_the_variable(tmp_path):
    (tmp_path / "default.yaml").write_text("interactions: []\nversion: 1\n")
    result = run("serve", env=environment(SPACEGATE_CASSETTES=str(tmp_path)))
    assert result.returncode == 2
    assert "SPACEGATE_CASSETTES" in result.stderr
    assert "default.yaml" in result.stderr


def test_live_serve_without_a_key_names_the_variable():
    result = run("serve", "--mode", "live", env=environment())
    assert result.returncode == 2
    assert "SPACEGATE_JWT_SECRET" in result.stderr


def test_every_access_line_is_written_by_the_time_serve_stops(tmp_path):
    """Access lines are written in batches (service.logs.BatchingStreamHandler): none is lost
    when the worker stops, and each one is there while serving, a moment after its answer."""
    env = environment(SPACEGATE_MODE="mock", SPACEGATE_JWT_SECRET=SECRET)
    token = run("token", "--tenant", TENANT, env=env).stdout.strip()
    log = tmp_path / "serve.log"

    def access_lines() -> list[dict[str, object]]:
        lines = [json.loads(line) for line in log.read_text().splitlines() if line]
        return [line for line in lines if line.get("path") == "/v2/confluence/space-listing"]

    with serving("mock", env=env, log=log, cwd=ROOT) as served:
        with requests.Session() as session:
            statuses = [
                session.post(
                    served.api, json=EXAMPLE_BODY, headers=auth_headers(token), timeout=20
                ).status_code
                for _ in range(40)
            ]
        deadline = time.monotonic() + 5
        while len(access_lines()) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(access_lines()) == 40  # while serving, within moments
        # answered just before the server stops: its line is written by then
        last = requests.post(served.api, json=EXAMPLE_BODY, headers=auth_headers(token), timeout=20)
    assert statuses == [200] * 40
    assert last.status_code == 200
    lines = access_lines()
    assert len(lines) == 41
    assert lines[-1]["request_id"] == last.headers["x-request-id"]
