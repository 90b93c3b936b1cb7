"""The conformance harness against our own service: it must pass, in live and in mock mode.

Real HTTP only: the service under uvicorn, live mode against the Confluence stand-in, the
harness's schemathesis run in its own process. The command is run as operators run it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance import Kind, Options, Outcome, Report, run_conformance
from conformance.serving import free_port
from service.settings import DEV_JWT_SECRET, Settings
from tests.confluence_standin import VALID_TOKEN, StandIn
from tests.support.bodies import standin_body
from tests.support.servers import RunningService, serve
from tests.support.tokens import TENANT, TEST_SECRET, mint

ROOT = Path(__file__).resolve().parent.parent
# Probes that need what these runs deliberately do not give (an issuer, an audience), or a
# mode the target is not in.
NOT_APPLICABLE_LIVE = {
    "wrong_issuer_is_401",
    "wrong_audience_is_401",
    "documented_scenario_answers",
}


# A browser origin the live deployment allows (SPACEGATE_CORS_ORIGINS), given as --origin.
ORIGIN = "https://app.conformance.example"


@pytest.fixture(scope="module")
def live_report(serve_with, confluence: StandIn) -> Report:
    with serve_with(cors_origins=(ORIGIN,)) as live:
        return run_conformance(
            Options(
                url=live.url,
                tenant=TENANT,
                body=standin_body(confluence),
                max_examples=60,
                seed=20261127,
                # The deployment allows plain http and private addresses (the stand-in is on
                # http://127.0.0.1), as the body says; metadata addresses are still probed.
                allows_http=True,
                allows_private_addresses=True,
                origin=ORIGIN,
                environ={"SPACEGATE_JWT_SECRET": TEST_SECRET},
            )
        )


def test_live_service_conforms(live_report: Report):
    assert live_report.passed, live_report.summary(verbose=True)
    assert not live_report.errors
    not_applicable = {r.name for r in live_report.results if r.outcome is Outcome.NOT_APPLICABLE}
    # Nothing else is skipped: every probe ran, every contract check met its kind of answer
    # (but 429: the stand-in is not asked to rate-limit in a conformance run).
    assert not_applicable == NOT_APPLICABLE_LIVE | {"rate_limited_has_retry_after"}


def test_live_run_exercises_the_200_path_and_every_phase(live_report: Report):
    assert live_report.generated_requests >= 100
    assert live_report.probe_requests >= 110
    # Pinned auth, tenant and body fields make generated valid requests reach Confluence.
    assert live_report.result("spaces_have_required_fields").applied >= 30
    assert live_report.result("contract_positive_data_acceptance").applied >= 50
    kinds = {result.kind for result in live_report.results}
    assert kinds == {Kind.CONTRACT, Kind.SCHEMATHESIS, Kind.PROBE}
    builtin = {r.name for r in live_report.results if r.kind is Kind.SCHEMATHESIS}
    assert {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "missing_required_header",
        "unsupported_method",
        "ignored_auth",
    } <= builtin
    # Replaced by the contract-aware check, never run (nor switched off) on its own.
    assert "positive_data_acceptance" not in builtin
    # Probes and generated requests alike reached the listing.
    assert live_report.result("valid_requests_succeed").applied >= 30


def test_live_run_probes_every_rule_family(live_report: Report):
    passed = {r.name for r in live_report.results if r.outcome is Outcome.PASSED}
    assert {
        "token_without_exp_is_401",
        "duplicate_authorization_is_401",
        "non_uuid_tenant_claim_is_403[no-hyphens]",
        "duplicate_tenant_is_422",
        "lone_surrogate_is_422[api_token]",
        "no_accept_gets_json",
        "plain_http_instance_url_is_422",
        "literal_address_instance_url_is_422[metadata]",
        "unreadable_host_is_422[instance_url-open-bracket]",
        "non_http_scheme_is_422[web_url_instance-javascript]",
        "web_url_instance_extra_parts_are_422[query]",
        "url_problems_come_with_the_others",
        "checks_run_in_contract_order[422-url-before-403]",
        "preflight_is_granted",
        "preflight_allows_contract_headers",
        "cors_answers_expose_headers[401]",
        "refused_preflight_is_json",
    } <= passed
    # The deployment allows private addresses: those variants are not sent, metadata ones are.
    names = {r.name for r in live_report.results}
    assert "literal_address_instance_url_is_422[loopback]" not in names


def test_a_live_run_without_real_data_fails_and_asks_for_a_body_file(live: RunningService):
    """The spec's example body names acme.atlassian.net, which this deployment refuses: every
    valid request meets a business 422, each success probe is n/a, and the run must not pass."""
    report = run_conformance(
        Options(
            url=live.url,
            tenant=TENANT,
            phases=("examples",),
            max_examples=5,
            environ={"SPACEGATE_JWT_SECRET": TEST_SECRET},
        )
    )
    assert not report.passed
    assert report.failed_rules[0] == "valid_requests_succeed", report.summary()
    summary = report.summary()
    assert "No schema-valid request succeeded" in summary
    assert "422 value_error.url.host" in summary
    assert "give --body-file" in summary


@pytest.fixture(scope="module")
def mock_service() -> Iterator[RunningService]:
    with serve(Settings(mode="mock").validated()) as service:
        yield service


def test_mock_service_conforms(mock_service: RunningService):
    report = run_conformance(
        Options(
            url=mock_service.url,
            tenant=TENANT,
            max_examples=30,
            seed=7,
            environ={"SPACEGATE_JWT_SECRET": DEV_JWT_SECRET},
        )
    )
    assert report.passed, report.summary(verbose=True)
    # In mock mode the documented scenarios are probed, 429 included, and CORS grants all.
    assert report.result("preflight_is_granted").outcome is Outcome.PASSED
    scenarios = [r for r in report.results if r.name.startswith("documented_scenario_answers[")]
    assert len(scenarios) >= 5
    assert all(result.outcome is Outcome.PASSED for result in scenarios)
    assert report.result("rate_limited_has_retry_after").outcome is Outcome.PASSED


@pytest.mark.parametrize("scenario", ["empty", "data-center", "wrong-root"])
def test_a_named_scenario_is_sent_on_every_request(mock_service: RunningService, scenario):
    """A scenario openapi.yaml does not document as an example is played as the mock lists it:
    `data-center` at its own root (the example body moved there), `wrong-root` as its 422."""
    report = run_conformance(
        Options(
            url=mock_service.url,
            tenant=TENANT,
            scenario=scenario,
            phases=("examples",),
            environ={"SPACEGATE_JWT_SECRET": DEV_JWT_SECRET},
        )
    )
    assert report.passed, report.summary(verbose=True)
    assert report.result("valid_request_succeeds").outcome is Outcome.PASSED


# The command, as CI runs it


def conformance_command(*arguments: str, environ: dict[str, str]) -> subprocess.CompletedProcess:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SPACEGATE_", "SCHEMATHESIS_"))
    }
    environment["PYTHONPATH"] = str(ROOT)
    environment.update(environ)
    return subprocess.run(
        [sys.executable, "-m", "conformance", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_command_passes_with_a_given_token_and_writes_reports(
    live: RunningService, confluence: StandIn, tmp_path: Path
):
    body_file = tmp_path / "body.json"
    body_file.write_text(json.dumps(standin_body(confluence)))
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.txt"
    token = mint(TENANT, ttl=3600)
    completed = conformance_command(
        "--url", live.url, "--tenant", TENANT, "--body-file", str(body_file),
        "--junit-xml", str(junit), "--summary", str(summary),
        "--max-examples", "5", "--phases", "examples,fuzzing", "--seed", "1",
        "--allows-http", "--allows-private-addresses",
        environ={"SPACEGATE_CONFORMANCE_TOKEN": token},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "PASSED" in completed.stdout
    # Without the secret, the probes that must mint say so instead of passing.
    assert "n/a   expired_token_is_401" in completed.stdout
    assert "needs SPACEGATE_JWT_SECRET" in completed.stdout
    # This deployment allows no browser origin and none was named: CORS is not judged.
    assert "give --origin" in completed.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = list(suite.iter("testcase"))
    assert len(cases) == int(suite.get("tests")) >= 100
    assert suite.get("failures") == "0"
    assert {"error_body_has_detail_and_code", "not_a_server_error", "no_token_is_401"} <= {
        case.get("name") for case in cases
    }
    assert summary.read_text().startswith("spacegate conformance of")
    for text in (completed.stdout, completed.stderr, summary.read_text(), junit.read_text()):
        assert token not in text
        assert VALID_TOKEN not in text


def test_command_needs_a_token_or_a_secret(live: RunningService):
    completed = conformance_command("--url", live.url, "--tenant", TENANT, environ={})
    assert completed.returncode == 2
    assert "SPACEGATE_CONFORMANCE_TOKEN" in completed.stderr
    assert "SPACEGATE_JWT_SECRET" in completed.stderr
    assert DEV_JWT_SECRET not in completed.stderr  # not a mock: no development secret


def test_against_a_mock_the_missing_credentials_error_names_the_development_secret(
    mock_service: RunningService,
):
    completed = conformance_command("--url", mock_service.url, "--tenant", TENANT, environ={})
    assert completed.returncode == 2
    assert "x-spacegate-mode: mock" in completed.stderr
    assert f"SPACEGATE_JWT_SECRET={DEV_JWT_SECRET}" in completed.stderr


def test_command_says_when_nothing_answers():
    port = free_port()  # closed again before the run: nothing listens there
    completed = conformance_command(
        "--url", f"http://127.0.0.1:{port}", "--tenant", TENANT,
        environ={"SPACEGATE_JWT_SECRET": TEST_SECRET},
    )  # fmt: skip
    assert completed.returncode == 3
    assert "unreachable" in completed.stderr
    assert f"127.0.0.1:{port}" in completed.stderr


def test_mock_run_serves_the_mock_and_checks_it(tmp_path: Path):
    """What `tox -e conformance` runs: our mock on a free port, the harness against it."""
    summary = tmp_path / "summary.txt"
    completed = subprocess.run(
        [sys.executable, "-m", "conformance.mock_run", "--phases", "", "--summary", str(summary)],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "0 generated requests" in summary.read_text()
    assert "pass  documented_scenario_answers[rate-limited]" in summary.read_text()
