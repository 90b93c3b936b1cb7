"""The harness against deliberately broken servers: each breaks ONE rule, each run must fail
and name that rule. The servers are our real app behind one ASGI middleware each
(tests/broken_servers.py): live mode against the Confluence stand-in (the run pinning its body,
told the deployment's allowances and browser origin), or mock mode (the spec's example body,
as a run without --body-file sends it). Real HTTP throughout.

Runs are small: the targeted probes catch most breakages by themselves, so those runs skip
schemathesis (`phases=()`, as `--phases ""` would); a breakage that only a schemathesis check
sees names the phase that finds it, with few generated examples. Runs go three at a time.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import jwt
import pytest

from conformance import Options, Outcome, Report, run_conformance
from service.settings import DEV_JWT_SECRET, Settings
from tests.broken_servers import (
    BREAKAGES,
    Breakage,
    ChallengeDropped,
    DuplicateTenantFirstWins,
    EveryHostRefused,
    EveryValidRequestRefused,
    NoAcceptRefused,
    serve_broken,
)
from tests.confluence_standin import VALID_TOKEN, StandIn
from tests.support.bodies import standin_body
from tests.support.tokens import TENANT, TEST_SECRET

ROOT = Path(__file__).resolve().parent.parent
JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*")


# The browser origin the live deployment allows, and the run is told about (--origin).
ORIGIN = "https://app.conformance.example"


def judge(live_settings: Settings, body: dict[str, str], breakage: type[Breakage]) -> Report:
    if breakage.mode == "mock":
        settings = Settings(mode="mock").validated()
        options = Options(url="", tenant=TENANT, environ={"SPACEGATE_JWT_SECRET": DEV_JWT_SECRET})
    else:
        settings = replace(live_settings, cors_origins=(ORIGIN,)).validated()
        options = Options(
            url="",
            tenant=TENANT,
            body=body,
            allows_http=True,
            allows_private_addresses=True,
            origin=ORIGIN,
            environ={"SPACEGATE_JWT_SECRET": TEST_SECRET},
        )
    with serve_broken(settings, breakage) as server:
        return run_conformance(
            replace(options, url=server.url, max_examples=5, seed=11, phases=breakage.phases)
        )


@pytest.fixture(scope="module")
def reports(live_settings: Settings, confluence: StandIn) -> dict[type[Breakage], Report]:
    body = standin_body(confluence)
    judged = (*BREAKAGES, EveryHostRefused)
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="conformance") as pool:
        futures = {b: pool.submit(judge, live_settings, body, b) for b in judged}
        return {breakage: future.result() for breakage, future in futures.items()}


def test_there_are_enough_breakages():
    assert len(BREAKAGES) >= 35
    assert all(breakage.expected and breakage.__doc__ for breakage in BREAKAGES)
    # Every probe family and every contract rule is shown to catch something.
    caught = {name.split("[")[0] for breakage in BREAKAGES for name in breakage.expected}
    assert {
        "valid_requests_succeed",
        "space_type_and_status_are_words",
        "preflight_is_granted",
        "plain_http_instance_url_is_422",
        "literal_address_instance_url_is_422",
        "unreadable_host_is_422",
        "non_http_scheme_is_422",
        "web_url_instance_extra_parts_are_422",
        "url_problems_come_with_the_others",
        "token_without_exp_is_401",
        "non_uuid_tenant_claim_is_403",
        "no_accept_gets_json",
        "duplicate_tenant_is_422",
        "duplicate_authorization_is_401",
        "lone_surrogate_is_422",
    } <= caught


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda breakage: breakage.__name__)
def test_harness_fails_and_names_the_broken_rule(reports, breakage):
    report = reports[breakage]
    summary = report.summary()
    assert not report.passed, summary
    assert not report.errors, report.errors
    missing = [name for name in breakage.expected if name not in report.failed_rules]
    assert not missing, f"{breakage.__name__}: {missing} not reported\n{summary}"
    for name in breakage.expected:
        assert re.search(rf"^\d+\. \[\w+\] {re.escape(name)} \(", summary, re.MULTILINE), name
    # Every failure shows a request to replay, with no secret in it.
    assert "request: curl " in summary
    assert VALID_TOKEN not in summary + report.junit_xml()
    assert TEST_SECRET not in summary + report.junit_xml()
    for token in JWT.findall(summary + report.junit_xml()):
        with pytest.raises(jwt.PyJWTError):  # only tokens signed with some other key show
            jwt.decode(token, TEST_SECRET, algorithms=["HS256"], options={"verify_exp": False})


def test_business_422s_are_exempt_from_positive_data_acceptance(reports):
    report = reports[EveryHostRefused]
    exempt = report.result("contract_positive_data_acceptance")
    assert exempt.outcome is Outcome.PASSED, report.summary()
    assert exempt.applied >= 3
    # Only the probes that insist on a 200 for the pinned body fail, and the run's verdict
    # that nothing valid succeeded, listed first.
    assert report.failed_rules[0] == "valid_requests_succeed"
    assert "valid_request_succeeds" in report.failed_rules
    insisting = {
        "valid_requests_succeed",
        "valid_request_succeeds",
        "unknown_fields_are_ignored",
        "any_accept_gets_json",
        "no_accept_gets_json",
        "json_with_charset_is_accepted",
        "tenant_is_compared_ignoring_case",
        "body_at_size_limit_is_read",
    }
    assert set(report.failed_rules) <= insisting, report.summary()


def test_curl_lines_send_what_the_probe_sent(reports):
    """A header left out stays out (curl adds Accept by itself), a repeated one is repeated."""
    no_accept = reports[NoAcceptRefused].summary()
    assert re.search(r"request: curl .* -H 'Accept:'", no_accept)
    repeated = reports[DuplicateTenantFirstWins].summary()
    assert re.search(rf"-H 'x-tenantid: {TENANT}' -H 'x-tenantid: {TENANT}'", repeated)


def test_a_run_where_nothing_valid_succeeds_says_why_and_what_to_do(reports):
    report = reports[EveryValidRequestRefused]
    assert report.failed_rules[0] == "valid_requests_succeed"
    # The success probes had nothing to judge with the example body: not applicable, so only
    # the run's own verdict stands between this server and a pass.
    assert report.result("valid_request_succeeds").outcome is Outcome.NOT_APPLICABLE
    assert report.result("contract_positive_data_acceptance").outcome is Outcome.PASSED
    message = report.result("valid_requests_succeed").findings[0].message
    assert "422 value_error.confluence_not_found" in message
    assert "give --body-file" in message


def test_a_failing_command_exits_1_and_says_why_in_junit(live_settings, confluence, tmp_path):
    body_file = tmp_path / "body.json"
    body_file.write_text(json.dumps(standin_body(confluence)))
    junit = tmp_path / "junit.xml"
    with serve_broken(live_settings, ChallengeDropped) as server:
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "conformance",
                "--url",
                server.url,
                "--tenant",
                TENANT,
                "--body-file",
                str(body_file),
                "--junit-xml",
                str(junit),
                "--phases",
                "examples",
                "--max-examples",
                "1",
                "-q",
            ],
            cwd=ROOT,
            env={
                "PATH": "/usr/bin:/bin",
                "PYTHONPATH": str(ROOT),
                "SPACEGATE_JWT_SECRET": TEST_SECRET,
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert completed.stdout.startswith("FAILED")
    failures = {
        case.get("name"): case.find("failure")
        for case in ET.parse(junit).getroot().iter("testcase")
        if case.find("failure") is not None
    }
    assert "unauthorized_has_bearer_challenge" in failures
    text = failures["unauthorized_has_bearer_challenge"].text
    assert "WWW-Authenticate" in text
    assert "curl " in text
