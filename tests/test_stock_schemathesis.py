"""Stock schemathesis passes against the mock: its own CLI, no project code, no flag.

`st run --checks all URL/openapi.json` in the checkout reads the shipped schemathesis.toml
(the contract's expected statuses, the token from SPACEGATE_CONFORMANCE_TOKEN); the spec's
examples combine into requests the mock accepts. The run is the README's command, with the
mock on an ephemeral port instead of 8080.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from conformance.fuzzing import STRICTER_EXPECTATIONS
from service.resources import spec_path
from service.settings import DEV_JWT_SECRET, Settings
from tests.support.servers import RunningService, serve
from tests.support.tokens import TENANT, mint

ROOT = Path(__file__).resolve().parent.parent
ST = Path(sys.executable).with_name("st")
# docs/contract.md#business-422s: a schema-valid request may get a 422 for what no schema says.
BUSINESS_422 = "422"


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningService]:
    with serve(Settings(mode="mock").validated()) as service:
        yield service


def stock_run(mock: RunningService, token: str) -> subprocess.CompletedProcess[str]:
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("SCHEMATHESIS")
    }
    environment["SPACEGATE_CONFORMANCE_TOKEN"] = token
    return subprocess.run(
        [str(ST), "run", "--checks", "all", f"{mock.url}/openapi.json"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_stock_cli_passes_against_the_mock(mock):
    result = stock_run(mock, mint(TENANT, secret=DEV_JWT_SECRET))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Configuration:    {ROOT / 'schemathesis.toml'}" in result.stdout
    for phase in ("Examples", "Coverage", "Fuzzing"):
        assert f"✅ {phase}" in result.stdout, result.stdout


def test_the_stock_cli_fails_a_run_whose_token_is_refused(mock):
    """The token really comes from the configuration, and a 401 is no answer to valid data."""
    result = stock_run(mock, mint(TENANT, secret="another-secret-" + "x" * 32))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Schema-valid request rejected" in result.stdout


def test_the_shipped_expectations_are_the_harness_ones_and_the_business_422():
    checks = tomllib.loads((ROOT / "schemathesis.toml").read_text())["checks"]
    shipped = {name: check["expected-statuses"] for name, check in checks.items()}
    harness = dict(STRICTER_EXPECTATIONS)
    # For valid data the harness accepts exactly the business 422 items, in a check of its
    # own, and leaves a 401 to its valid_token_not_rejected rule; stock schemathesis has
    # neither, so it accepts the 422 status, and no 401.
    harness["positive_data_acceptance"] = [
        status for status in harness["positive_data_acceptance"] if status != "401"
    ] + [BUSINESS_422]
    assert {name: sorted(statuses) for name, statuses in shipped.items()} == {
        name: sorted(statuses) for name, statuses in harness.items()
    }


def _examples(holder: dict) -> list[object]:
    return [example["value"] for example in holder["examples"].values()]


def test_every_combination_of_the_spec_examples_gets_the_answer_it_documents(mock):
    """schemathesis pairs every `prefer` example with the body examples: none may be a 422."""
    spec = yaml.safe_load(spec_path().read_text())
    components = spec["components"]["parameters"]
    operation = spec["paths"]["/v2/confluence/space-listing"]["post"]
    bodies = _examples(operation["requestBody"]["content"]["application/json"])
    preferences = _examples(components["Prefer"])
    tenant = components["TenantId"]["example"]
    scenarios = requests.get(mock.url + "/mock/scenarios", timeout=5).json()["scenarios"]
    status_of = {f"example={s['name']}": s["status"] for s in scenarios}
    status_of[""] = status_of["example=default"]
    headers = {"authorization": f"Bearer {mint(tenant, secret=DEV_JWT_SECRET)}",
               "x-tenantid": tenant}  # fmt: skip
    answered = []
    for body, prefer in itertools.product(bodies, preferences):
        response = requests.post(
            mock.api, json=body, headers={**headers, "prefer": prefer}, timeout=10
        )
        expected = (
            int(prefer.removeprefix("code=")) if prefer.startswith("code=") else status_of[prefer]
        )
        answered.append((prefer, body["instance_url"], response.status_code, expected))
    assert all(status == expected for _, _, status, expected in answered), answered
    assert {status for _, _, status, _ in answered} <= {200, 403, 429}, answered
    assert len(answered) == len(bodies) * len(preferences) >= 10
