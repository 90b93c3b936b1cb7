"""The harness's parts without a target: rules, tokens, curl lines, the spec, the report."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import jwt
import pytest

from conformance import Options, run_conformance
from conformance.curl import Redactor, render_curl
from conformance.deployment import Deployment
from conformance.exchange import (
    Exchange,
    Received,
    RunFacts,
    SentRequest,
    header_lines,
    header_map,
)
from conformance.fuzzing import STRICTER_EXPECTATIONS, SchemathesisRun, read_events
from conformance.mint import main as mint_main
from conformance.replay import python_command, replay_instructions
from conformance.report import Finding, Kind, Outcome, Report, RuleResult, Severity
from conformance.rules import RULES, RuleViolation, rule_named
from conformance.runner import ConformanceError
from conformance.spec import Spec, default_spec_path, without_prefer
from conformance.tokens import CredentialsMissing, Tokens
from conformance.valid_requests import ValidRequests
from conformance.vocabulary import MOCK_DEVELOPMENT_SECRET, is_business_422_type, same_uuid
from service.settings import DEV_JWT_SECRET
from tests.support.bodies import EXAMPLE_BODY
from tests.support.tokens import TENANT

ROOT = Path(__file__).resolve().parent.parent

SECRET = "unit-test-secret-for-the-conformance-harness-0123456789"
URL = "http://127.0.0.1:9/v2/confluence/space-listing"
VALID_BODY = EXAMPLE_BODY | {"api_token": "secret-api-token-123"}


def exchange(
    status: int,
    body: object = None,
    *,
    headers: dict[str, str] | None = None,
    method: str = "POST",
    request_headers: dict[str, str] | None = None,
    request_body: object = VALID_BODY,
    raw_body: bytes | None = None,
    facts: RunFacts | None = None,
) -> Exchange:
    content = raw_body if raw_body is not None else json.dumps(body).encode()
    return Exchange(
        request=SentRequest(
            method=method,
            url=URL,
            headers=header_map(request_headers or {"content-type": "application/json"}),
            body=json.dumps(request_body).encode() if request_body is not None else None,
        ),
        response=Received(
            status=status,
            headers=header_map({"content-type": "application/json", **(headers or {})}),
            body=content,
        ),
        facts=facts,
    )


def judge(name: str, ex: Exchange) -> str | None:
    """None when the rule passes (or does not apply), else its message."""
    rule = rule_named(name)
    if not rule.applies(ex):
        return None
    try:
        rule(ex)
    except RuleViolation as exc:
        return str(exc)
    return None


def item(loc, msg="field required", type_="value_error.missing"):
    return {"loc": loc, "msg": msg, "type": type_}


# The rules


def test_every_rule_is_named_for_itself_and_described():
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert {
        "error_body_has_detail_and_code",
        "validation_items_follow_vocabulary",
        "unauthorized_has_bearer_challenge",
        "method_not_allowed_has_allow",
        "rate_limited_has_retry_after",
        "spaces_have_required_fields",
        "no_api_token_echoed",
    } <= set(names)
    assert all(rule.description and rule.function.__name__ == rule.name for rule in RULES)


@pytest.mark.parametrize(
    ("status", "body", "broken"),
    [
        (401, {"detail": "Token has expired", "code": "invalid_token"}, None),
        (403, {"detail": "x", "code": "confluence_credentials_rejected"}, None),
        (422, {"detail": [item(["body", "api_token"])]}, None),
        (401, {"detail": "Token has expired"}, "`code`"),
        (401, {"code": "invalid_token"}, "`detail`"),
        (401, {"detail": "x", "code": "tenant_mismatch"}, "invalid_token"),
        (400, {"detail": [item(["body"])], "code": "invalid_json"}, "sentence"),
        (500, {"detail": "KeyError: 'x' at line 3", "code": "internal_error"}, "Internal server"),
        (418, {"detail": "teapot", "code": "teapot"}, None),  # not in the table: any word
        (401, ["not", "an", "object"], "JSON object"),
    ],
)
def test_error_body_has_detail_and_code(status, body, broken):
    message = judge("error_body_has_detail_and_code", exchange(status, body))
    if broken is None:
        assert message is None
    else:
        assert broken in (message or "")


def test_cors_refusal_is_the_400_of_a_preflight():
    body = {"detail": "origin not allowed", "code": "cors_refused"}
    assert judge("error_body_has_detail_and_code", exchange(400, body, method="OPTIONS")) is None
    assert "invalid_json" in judge("error_body_has_detail_and_code", exchange(400, body))


@pytest.mark.parametrize(
    ("detail", "broken"),
    [
        ([item(["body", "api_token"])], None),
        ([item(["header", "X-TenantId"], "value is not a valid uuid", "type_error.uuid")], None),
        (
            [item(["body", "instance_url"], "evil.example is not allowed", "value_error.url.host")],
            None,
        ),
        (
            [item(["header", "prefer"], "unknown scenario; try default", "value_error.scenario")],
            None,
        ),
        ("The request is invalid", "non-empty list"),
        ([], "non-empty list"),
        ([{"loc": ["body", "username"], "msg": "field required"}], "loc, msg and type"),
        ([item(["query", "username"])], "start with body or header"),
        ([item(["username"])], "loc like"),
        ([item(["body", "apiToken"])], "got loc ['body', 'apiToken']"),
        ([item(["body", "username"], type_="value_error.jsondecode")], "one of"),
        ([item(["body", "username"], msg="Field required")], "'field required'"),
        ([item(["body", "username"], "bad", "type_error.uuid")], "type_error.uuid item at"),
        ([item(["body", "username"]), item(["body", "username"])], "appears twice"),
    ],
)
def test_validation_items_follow_vocabulary(detail, broken):
    message = judge("validation_items_follow_vocabulary", exchange(422, {"detail": detail}))
    if broken is None:
        assert message is None
    else:
        assert broken in (message or "")


def test_unauthorized_has_bearer_challenge():
    body = {"detail": "Token has expired", "code": "invalid_token"}
    good = exchange(401, body, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    assert judge("unauthorized_has_bearer_challenge", good) is None
    assert "got none" in judge("unauthorized_has_bearer_challenge", exchange(401, body))
    basic = exchange(401, body, headers={"WWW-Authenticate": "Basic realm=x"})
    assert "start with 'Bearer'" in judge("unauthorized_has_bearer_challenge", basic)


def test_method_not_allowed_has_allow():
    body = {"detail": "no", "code": "method_not_allowed"}
    good = exchange(405, body, headers={"Allow": "POST"}, method="DELETE")
    assert judge("method_not_allowed_has_allow", good) is None
    assert "got none" in judge("method_not_allowed_has_allow", exchange(405, body, method="GET"))
    both = exchange(405, body, headers={"Allow": "GET, POST"}, method="GET")
    assert "refused GET" in judge("method_not_allowed_has_allow", both)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("60", True),
        ("1", True),
        ("3600", True),
        ("0", False),
        ("3601", False),
        ("1.5", False),
        ("Wed, 21 Oct 2015 07:28:00 GMT", False),
        (None, False),
    ],
)
def test_rate_limited_has_retry_after(value, ok):
    headers = {"Retry-After": value} if value is not None else {}
    ex = exchange(429, {"detail": "slow", "code": "confluence_rate_limited"}, headers=headers)
    assert (judge("rate_limited_has_retry_after", ex) is None) is ok


@pytest.mark.parametrize(
    ("body", "broken"),
    [
        ({"spaces": []}, None),
        (
            {
                "spaces": [
                    {
                        "key": "KB",
                        "name": "K",
                        "type": "collaboration",
                        "status": "archived",
                        "id": "1",
                        "url": "https://x/wiki/spaces/KB",
                        "new": 1,
                    }
                ]
            },
            None,
        ),
        ({"spaces": [{"key": "KB", "name": "K", "type": "global"}]}, "status"),
        (
            {
                "spaces": [
                    {"key": "KB", "name": "K", "type": "global", "status": "current", "id": 1}
                ]
            },
            "id to be a string",
        ),
        ({"results": []}, "`spaces`"),
    ],
)
def test_spaces_have_required_fields(body, broken):
    message = judge("spaces_have_required_fields", exchange(200, body))
    assert (message is None) if broken is None else broken in (message or "")


@pytest.mark.parametrize(
    ("type_", "status", "broken"),
    [
        ("global", "current", None),
        ("team_hub", "draft", None),  # words nobody has seen yet are fine
        ("global", "CURRENT", "status"),
        ("global", "in review", "status"),
        ("Knowledge-Base", "current", "type"),
        ("", "current", "type"),
        ("__", "current", "type"),
        ("global", "current\n", "status"),  # a pattern's `$` would let this through
        ("global", "Ärchived", "status"),
    ],
)
def test_space_type_and_status_are_words(type_, status, broken):
    space = {"key": "KB", "name": "K", "type": type_, "status": status}
    message = judge("space_type_and_status_are_words", exchange(200, {"spaces": [space]}))
    if broken is None:
        assert message is None
    else:
        assert f"Space {broken} is not a word" in message
        assert "^[a-z][a-z_]*$" in message


def test_no_api_token_echoed_never_quotes_the_token():
    echoed = exchange(422, {"detail": [item(["body", "username"])], "body": VALID_BODY})
    message = judge("no_api_token_echoed", echoed)
    assert message is not None
    assert VALID_BODY["api_token"] not in message
    in_header = exchange(
        403,
        {"detail": "x", "code": "tenant_mismatch"},
        headers={"X-Debug": f"token={VALID_BODY['api_token']}"},
    )
    assert "X-Debug" in judge("no_api_token_echoed", in_header)
    short = dict(VALID_BODY, api_token="1234567")  # under 8 characters: words collide
    assert not rule_named("no_api_token_echoed").applies(
        exchange(422, {"detail": "1234567"}, request_body=short)
    )
    assert judge("no_api_token_echoed", exchange(422, {"detail": [item(["body", "x"])]})) is None


def test_valid_token_not_rejected_only_judges_the_runs_own_credentials():
    facts = RunFacts(tenant=TENANT, token="the-run-token")
    ours = {"authorization": "Bearer the-run-token", "x-tenantid": TENANT.upper()}
    rejected = exchange(
        401, {"detail": "x", "code": "invalid_token"}, request_headers=ours, facts=facts
    )
    assert "--issuer" in judge("valid_token_not_rejected", rejected)
    mismatch = exchange(
        403, {"detail": "x", "code": "tenant_mismatch"}, request_headers=ours, facts=facts
    )
    assert "tenant" in judge("valid_token_not_rejected", mismatch)
    theirs = exchange(
        401,
        {"detail": "x", "code": "invalid_token"},
        request_headers={"authorization": "Bearer garbage", "x-tenantid": TENANT},
        facts=facts,
    )
    assert not rule_named("valid_token_not_rejected").applies(theirs)


def test_answers_are_json():
    assert judge("answers_are_json", exchange(200, {"spaces": []})) is None
    problem = exchange(401, {"detail": "x"}, headers={"content-type": "application/problem+json"})
    assert "application/problem+json" in judge("answers_are_json", problem)
    html = exchange(500, None, raw_body=b"<html>", headers={"content-type": "application/json"})
    assert "JSON body" in judge("answers_are_json", html)
    assert not rule_named("answers_are_json").applies(
        exchange(405, None, method="HEAD", raw_body=b"")
    )


def test_business_422_types():
    assert is_business_422_type("value_error.url.host")
    assert is_business_422_type("value_error.url.scheme")
    assert is_business_422_type("value_error.confluence_not_found")
    assert is_business_422_type("value_error.scenario")
    assert not is_business_422_type("value_error.missing")
    assert not is_business_422_type("value_error.urlx")
    assert not is_business_422_type(None)
    assert same_uuid(TENANT, TENANT.upper())
    assert not same_uuid(TENANT.replace("-", ""), TENANT.replace("-", ""))


# Tokens


def test_tokens_come_from_the_environment_never_from_arguments():
    with pytest.raises(CredentialsMissing, match="SPACEGATE_CONFORMANCE_TOKEN"):
        Tokens.from_environment(TENANT, environ={})
    given = Tokens.from_environment(TENANT, environ={"SPACEGATE_CONFORMANCE_TOKEN": "a.b.c"})
    assert given.valid == "a.b.c"
    assert not given.can_mint
    with pytest.raises(CredentialsMissing, match="SPACEGATE_JWT_SECRET"):
        given.expired()


def test_minted_tokens_carry_the_claims_the_target_checks():
    tokens = Tokens.from_environment(
        TENANT,
        environ={"SPACEGATE_JWT_SECRET": SECRET},
        issuer="idp",
        audience="api",
        tenant_claim="org",
    )
    claims = jwt.decode(tokens.valid, SECRET, algorithms=["HS256"], audience="api", issuer="idp")
    assert claims["org"] == TENANT
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(tokens.expired(), SECRET, algorithms=["HS256"], audience="api")
    assert "org" not in jwt.decode(
        tokens.without_tenant_claim(), SECRET, algorithms=["HS256"], audience="api"
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tokens.signed_with_another_key(), SECRET, algorithms=["HS256"], audience="api")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tokens.with_tampered_signature(), SECRET, algorithms=["HS256"], audience="api")
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(tokens.wrong_audience(), SECRET, algorithms=["HS256"], audience="api")
    assert jwt.get_unverified_header(tokens.unsigned())["alg"] == "none"
    assert "exp" not in jwt.decode(
        tokens.without_expiry(), SECRET, algorithms=["HS256"], audience="api"
    )
    claimed = tokens.with_tenant_claim("not-a-uuid", "not-a-uuid")
    assert jwt.decode(claimed, SECRET, algorithms=["HS256"], audience="api")["org"] == "not-a-uuid"
    # Every token made from the secret or the valid token is printed under a placeholder.
    assert set(tokens.placeholders.values()) >= {
        "SPACEGATE_CONFORMANCE_TOKEN",
        "SPACEGATE_CONFORMANCE_EXPIRED_TOKEN",
        "SPACEGATE_CONFORMANCE_NO_EXP_TOKEN",
        "SPACEGATE_CONFORMANCE_NO_TENANT_TOKEN",
        "SPACEGATE_CONFORMANCE_TAMPERED_TOKEN",
        "SPACEGATE_CONFORMANCE_WRONG_AUDIENCE_TOKEN",
        "SPACEGATE_CONFORMANCE_TENANT_CLAIM_NOT_A_UUID_TOKEN",
    }
    # ... and each of those minted from the secret has the recipe that makes it again.
    assert set(tokens.recipes) == set(tokens.placeholders.values())


@pytest.mark.parametrize(
    ("variable", "make"),
    [
        ("SPACEGATE_CONFORMANCE_TOKEN", lambda tokens: tokens.valid),
        ("SPACEGATE_CONFORMANCE_EXPIRED_TOKEN", lambda tokens: tokens.expired()),
        ("SPACEGATE_CONFORMANCE_NO_EXP_TOKEN", lambda tokens: tokens.without_expiry()),
        ("SPACEGATE_CONFORMANCE_WRONG_AUDIENCE_TOKEN", lambda tokens: tokens.wrong_audience()),
        (
            "SPACEGATE_CONFORMANCE_TENANT_CLAIM_BRACES_TOKEN",
            lambda tokens: tokens.with_tenant_claim("{" + TENANT + "}", "braces"),
        ),
    ],
)
def test_the_replay_line_mints_a_token_with_the_same_claims(variable, make):
    """What the summary tells a person to run gives the token of the curl line, but for times."""
    tokens = Tokens.from_environment(
        TENANT, environ={"SPACEGATE_JWT_SECRET": SECRET}, audience="api", tenant_claim="org"
    )
    token = make(tokens)
    line = replay_instructions(tokens, body_file=None)[variable]
    assert line.startswith(f'export {variable}="$(')
    completed = subprocess.run(
        ["bash", "-c", f"{line.split('  # ')[0]}; printf %s \"${variable}\""],
        env={"SPACEGATE_JWT_SECRET": SECRET, "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    options = {"algorithms": ["HS256"], "options": {"verify_exp": False, "verify_aud": False}}
    replayed = jwt.decode(completed.stdout, SECRET, **options)
    original = jwt.decode(token, SECRET, **options)
    for claims in (replayed, original):
        issued = claims.pop("iat")
        if "exp" in claims:
            claims["exp"] = claims["exp"] > issued  # times differ; expired or not must not
    assert replayed == original


def test_the_mint_command_needs_the_secret_from_the_environment():
    assert mint_main(["expired", "--tenant", TENANT], environ={}) == 2


# curl lines


def test_curl_line_replays_the_request_with_secrets_as_variables():
    redactor = Redactor(
        {
            "tok.en.value": "SPACEGATE_CONFORMANCE_TOKEN",
            "secret-api-token-123": "SPACEGATE_CONFORMANCE_API_TOKEN",
        }
    )
    request = SentRequest(
        method="POST",
        url=URL,
        headers=header_map(
            {
                "Authorization": "Bearer tok.en.value",
                "x-tenantid": TENANT,
                "Content-Type": "application/json",
                "User-Agent": "python-requests",
                "Accept": "*/*",
            }
        ),
        body=json.dumps(VALID_BODY).encode(),
    )
    line = render_curl(request, redactor)
    assert "tok.en.value" not in line
    assert "secret-api-token-123" not in line
    assert '-H "Authorization: Bearer $SPACEGATE_CONFORMANCE_TOKEN"' in line
    assert "User-Agent" not in line
    # The shell gives back the exact body once the variables hold the secrets.
    data_word = line.split("--data-binary ", 1)[1]
    echoed = subprocess.run(
        ["bash", "-c", f"printf %s {data_word}"],
        env={"SPACEGATE_CONFORMANCE_API_TOKEN": "secret-api-token-123"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(echoed) == VALID_BODY


def test_curl_line_keeps_what_the_request_lacked_or_mangled():
    no_type = SentRequest("POST", URL, header_map({}), b'{"a": 1}')
    assert "-H 'Content-Type:'" in render_curl(no_type)  # curl would add a form type
    binary = SentRequest("POST", URL, header_map({"content-type": "application/json"}), b"\xff{")
    assert "$'\\xff{'" in render_curl(binary)
    big = SentRequest("POST", URL, header_map({"content-type": "application/json"}), b"x" * 70000)
    assert "@request-body" in render_curl(big)
    assert "70000 bytes" in render_curl(big)
    assert render_curl(SentRequest("HEAD", URL, header_map({}), None)).startswith(
        "curl -sS -i --head"
    )


# The spec


def test_the_spec_loses_prefer_for_generation_and_keeps_the_rest():
    spec = Spec(default_spec_path())
    document = without_prefer(json.loads(json.dumps(spec.document)))
    parameters = document["paths"]["/v2/confluence/space-listing"]["post"]["parameters"]
    assert parameters == [{"$ref": "#/components/parameters/TenantId"}]
    assert spec.example_body().keys() == VALID_BODY.keys()
    scenarios = {scenario.name: scenario.status for scenario in spec.scenarios()}
    assert scenarios["default"] == 200
    assert scenarios["rate-limited"] == 429
    assert scenarios["code-403"] == 403


def test_the_schemathesis_child_gets_secrets_by_environment_only():
    run = SchemathesisRun(
        spec=default_spec_path(),
        base_url="http://127.0.0.1:9",
        tenant=TENANT,
        token="tok.en.value",
        pinned_body={"api_token": "secret-api-token-123"},
        scenario="empty",
    )
    command = " ".join(run.command(default_spec_path(), default_spec_path()))
    config = run.config_text()
    assert "tok.en.value" not in command + config
    assert "secret-api-token-123" not in command + config
    assert "${SPACEGATE_CONFORMANCE_TOKEN}" in config
    assert 'prefer = "example=empty"' in config
    assert "--exclude-checks positive_data_acceptance" in command
    environment = run.environment()
    assert environment["SPACEGATE_CONFORMANCE_TOKEN"] == "tok.en.value"
    assert "SPACEGATE_JWT_SECRET" not in environment
    for check, statuses in STRICTER_EXPECTATIONS.items():
        assert f"[checks.{check}]" in config
        assert json.dumps(statuses) in config


def test_reading_schemathesis_events(tmp_path):
    interaction = {
        "request": {
            "method": "POST",
            "uri": URL,
            "headers": {"x-tenantid": [TENANT]},
            "body": {"$base64": "e30="},
        },
        "response": {
            "status_code": 401,
            "headers": {"content-type": ["application/json"]},
            "content": {"$base64": "e30="},
        },
    }
    events = [
        {"Initialize": {"seed": 1}},
        {
            "ScenarioFinished": {
                "phase": "coverage",
                "recorder": {
                    "interactions": {"c1": interaction, "c2": interaction},
                    "checks": {
                        "c1": [{"name": "not_a_server_error", "status": "success"}],
                        "c2": [
                            {
                                "name": "unauthorized_has_bearer_challenge",
                                "status": "failure",
                                "failure_info": {
                                    "failure": {
                                        "type": "CustomFailure",
                                        "title": "Custom check failed",
                                        "message": "expected a WWW-Authenticate",
                                    }
                                },
                            }
                        ],
                    },
                },
            }
        },
        {"NonFatalError": {"label": "POST /x", "value": {"message": "connection refused"}}},
    ]
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(json.dumps(event) for event in events))
    from conformance.fuzzing import FuzzOutcome

    outcome = FuzzOutcome()
    read_events(path, outcome)
    assert outcome.generated == 2
    assert outcome.results["not_a_server_error"].outcome is Outcome.PASSED
    failed = outcome.results["unauthorized_has_bearer_challenge"]
    assert failed.kind is Kind.CONTRACT
    assert failed.findings[0].message == "expected a WWW-Authenticate"
    assert failed.findings[0].exchange.request.body == b"{}"
    assert "connection refused" in outcome.errors[0]


# The report


def test_report_summary_and_junit_name_every_rule():
    ex = exchange(
        401,
        {"detail": "x", "code": "invalid_token"},
        request_headers={"authorization": "Bearer tok.en.value"},
    )
    failed = RuleResult("unauthorized_has_bearer_challenge", Kind.CONTRACT, "A 401 challenges")
    failed.record_failure(Finding("expected a WWW-Authenticate header", ex, "probe no_token"))
    passed = RuleResult("no_token_is_401", Kind.PROBE, "No token is a 401")
    passed.record_pass()
    skipped = RuleResult(
        "expired_token_is_401", Kind.PROBE, "Expired is a 401", note="needs SPACEGATE_JWT_SECRET"
    )
    report = Report(
        target="http://t",
        spec="openapi.yaml",
        seed=3,
        results=[failed, passed, skipped],
        redactor=Redactor({"tok.en.value": "SPACEGATE_CONFORMANCE_TOKEN"}),
    )
    assert not report.passed
    assert report.failed_rules == ["unauthorized_has_bearer_challenge"]
    summary = report.summary(verbose=True)
    assert "FAIL  unauthorized_has_bearer_challenge" in summary
    assert "$SPACEGATE_CONFORMANCE_TOKEN" in summary
    assert "tok.en.value" not in summary
    assert "--seed 3" in summary
    suite = ET.fromstring(report.junit_xml()).find("testsuite")
    assert suite.get("tests") == "3"
    assert suite.get("failures") == "1"
    assert suite.get("skipped") == "1"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["unauthorized_has_bearer_challenge"].find("failure") is not None
    assert (
        cases["expired_token_is_401"].find("skipped").get("message") == "needs SPACEGATE_JWT_SECRET"
    )
    assert "tok.en.value" not in report.junit_xml()
    with pytest.raises(AssertionError, match="unauthorized_has_bearer_challenge"):
        report.raise_for_failures()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"url": "ftp://x"}, "--url"),
        ({"tenant": "not-a-uuid"}, "--tenant"),
        ({"phases": ("stateful",)}, "phase"),
        ({"max_examples": 0}, "--max-examples"),
        ({"origin": "https://app.example/"}, "--origin"),
        ({"origin": "app.example"}, "--origin"),
    ],
)
def test_options_are_checked_before_anything_is_sent(changes, error):
    options = Options(
        **{
            "url": "http://127.0.0.1:9",
            "tenant": TENANT,
            "environ": {"SPACEGATE_JWT_SECRET": SECRET},
            **changes,
        }
    )
    with pytest.raises(ConformanceError, match=error):
        run_conformance(options)


def test_a_granted_preflight_is_the_cors_layers_affair():
    preflight = {"origin": "https://app.example", "access-control-request-method": "POST"}
    granted = exchange(
        200,
        None,
        method="OPTIONS",
        request_headers=preflight,
        raw_body=b"OK",
        headers={"content-type": "text/plain", "access-control-allow-origin": "*"},
    )
    assert not rule_named("answers_are_json").applies(granted)
    # A 2xx that does not allow the origin is a refusal a browser cannot read: JSON too.
    unshared = exchange(
        200,
        None,
        method="OPTIONS",
        request_headers=preflight,
        raw_body=b"OK",
        headers={"content-type": "text/plain", "access-control-allow-origin": "https://x.example"},
    )
    assert "text/plain" in judge("answers_are_json", unshared)
    refused = exchange(
        400,
        {"detail": "refused", "code": "cors_refused"},
        method="OPTIONS",
        request_headers=preflight,
        headers={"content-type": "text/plain"},
    )
    assert "text/plain" in judge("answers_are_json", refused)
    assert judge("error_body_has_detail_and_code", refused) is None


# Severity, replay, the run's own verdicts


def test_failures_are_listed_most_severe_first():
    ex = exchange(405, {"detail": "x", "code": "method_not_allowed"}, method="QUERY")
    minor = RuleResult("unsupported_method", Kind.SCHEMATHESIS, "405", severity=Severity.MINOR)
    minor.record_failure(Finding("expected 405", ex))
    critical = RuleResult(
        "spaces_have_required_fields", Kind.CONTRACT, "spaces", severity=Severity.CRITICAL
    )
    critical.record_failure(Finding("Missing `spaces`", exchange(200, {"results": []})))
    major = RuleResult("documented_response", Kind.CONTRACT, "doc", severity=Severity.MAJOR)
    major.record_failure(Finding("Undocumented status", ex))
    report = Report(target="http://t", spec="openapi.yaml", results=[minor, major, critical])
    assert report.failed_rules == [
        "spaces_have_required_fields",
        "documented_response",
        "unsupported_method",
    ]
    summary = report.summary()
    assert summary.index("1. [critical] spaces_have_required_fields") < summary.index(
        "3. [minor] unsupported_method"
    )


def test_the_summary_says_how_to_set_the_variables_its_curl_lines_use():
    tokens = Tokens.from_environment(TENANT, environ={"SPACEGATE_JWT_SECRET": SECRET})
    expired = tokens.expired()
    tokens.without_expiry()  # minted, but in no failing request: not listed
    failed = RuleResult("expired_token_is_401", Kind.PROBE, "Expired is a 401")
    failed.record_failure(
        Finding(
            "Wrong answer: expected 401; got 200",
            exchange(200, {"spaces": []}, request_headers={"authorization": f"Bearer {expired}"}),
        )
    )
    report = Report(
        target="http://t",
        spec="openapi.yaml",
        results=[failed],
        redactor=Redactor(tokens.placeholders),
        replay=replay_instructions(tokens, body_file=Path("confluence.json")),
    )
    summary = report.summary()
    assert expired not in summary
    assert '"authorization: Bearer $SPACEGATE_CONFORMANCE_EXPIRED_TOKEN"' in summary
    assert 'export SPACEGATE_CONFORMANCE_EXPIRED_TOKEN="$(' in summary
    assert f"-m conformance.mint expired --tenant {TENANT})" in summary
    assert "NO_EXP" not in summary
    # The interpreter that ran the harness, as a path a person can type here.
    assert replay_instructions(tokens, body_file=None)["SPACEGATE_CONFORMANCE_TOKEN"].split(
        '"$('
    )[1].startswith(python_command() + " -m conformance.mint valid")


def test_the_replay_line_reads_the_api_token_from_the_body_file(tmp_path):
    body_file = tmp_path / "confluence.json"
    body_file.write_text(json.dumps(VALID_BODY))
    tokens = Tokens.from_environment(TENANT, environ={"SPACEGATE_CONFORMANCE_TOKEN": "a.b.c"})
    lines = replay_instructions(tokens, body_file=body_file)
    assert "the token this run was given" in lines["SPACEGATE_CONFORMANCE_TOKEN"]
    line = lines["SPACEGATE_CONFORMANCE_API_TOKEN"].split("  # ")[0]
    completed = subprocess.run(
        ["bash", "-c", f'{line}; printf %s "$SPACEGATE_CONFORMANCE_API_TOKEN"'],
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout == VALID_BODY["api_token"]


def test_repeated_headers_are_one_value_to_the_rules_and_two_lines_to_curl():
    lines = [("Authorization", "Bearer a"), ("x-tenantid", TENANT), ("x-tenantid", TENANT)]
    request = SentRequest("POST", URL, header_map(lines), b"{}", header_lines(lines), True)
    assert request.headers["x-tenantid"] == f"{TENANT}, {TENANT}"
    assert not same_uuid(request.headers["x-tenantid"], TENANT)
    line = render_curl(request)
    assert line.count(f"-H 'x-tenantid: {TENANT}'") == 2
    assert "-H 'Accept:'" in line  # the request had none; curl must not add */*
    # schemathesis' report leaves out what its client added: no Accept there is not "none".
    reported = SentRequest("POST", URL, header_map(lines), b"{}", header_lines(lines))
    assert "Accept" not in render_curl(reported)
    empty = SentRequest("POST", URL, header_map({"x-tenantid": ""}), b"{}")
    assert "-H 'x-tenantid;'" in render_curl(empty)  # sent empty, not left out


def test_no_valid_request_succeeding_fails_the_run_and_names_the_fix():
    spec = Spec(default_spec_path())
    facts = RunFacts(tenant=TENANT, token="tok.en.value")
    headers = {
        "authorization": "Bearer tok.en.value",
        "x-tenantid": TENANT,
        "content-type": "application/json",
    }
    business = {"detail": [item(["body", "instance_url"], "not here", "value_error.url.host")]}
    refused = exchange(422, business, request_headers=headers)
    valid = ValidRequests(spec, facts, VALID_BODY)
    valid.observe_probe(refused)
    valid.observe_generated(refused)
    # Not the run's valid request (another instance_url), nor schema-valid: not counted.
    valid.observe_probe(exchange(422, business, request_headers=headers,
                                 request_body=VALID_BODY | {"instance_url": "https://x.example"}))  # fmt: skip
    valid.observe_generated(exchange(422, business, request_headers=headers,
                                     request_body=VALID_BODY | {"username": ""}))  # fmt: skip
    result = valid.result()
    assert result.outcome is Outcome.FAILED
    assert result.severity is Severity.CRITICAL
    message = result.findings[0].message
    assert "No schema-valid request succeeded" in message
    assert "422 value_error.url.host (2)" in message
    assert "--body-file" in message
    valid.observe_generated(exchange(200, {"spaces": []}, request_headers=headers))
    assert valid.result().outcome is Outcome.PASSED


def test_the_harness_names_the_mocks_published_secret():
    assert MOCK_DEVELOPMENT_SECRET == DEV_JWT_SECRET


@pytest.mark.parametrize(
    ("instance_url", "http", "private"),
    [
        ("https://acme.atlassian.net/wiki/rest/api", False, False),
        ("http://confluence.example/rest/api", True, False),
        ("https://10.1.2.3/rest/api", False, True),
        ("http://127.0.0.1:8090/wiki/rest/api", True, True),
        (None, False, False),
    ],
)
def test_a_pinned_instance_url_says_what_the_deployment_allows(instance_url, http, private):
    deployment = Deployment.of_run(
        allows_http=False, allows_private_addresses=False, origin=None, instance_url=instance_url
    )
    assert (deployment.allows_http is not None) is http
    assert (deployment.allows_private_addresses is not None) is private
    told = Deployment.of_run(
        allows_http=True, allows_private_addresses=True, origin="https://app.example",
        instance_url=None,
    )  # fmt: skip
    assert told.allows_http == "--allows-http"
    assert told.origin == "https://app.example"
    assert told.origin_given
