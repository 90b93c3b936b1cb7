"""openapi.yaml itself: valid, complete for docs/contract.md, examples obeying their schemas."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from connexion.json_schema import resolve_refs
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from service import __version__
from service.resources import spec_path

ROOT = Path(__file__).resolve().parent.parent
SPEC = yaml.safe_load(spec_path().read_text())
RESOLVED = resolve_refs(SPEC)
OPERATION = RESOLVED["paths"]["/v2/confluence/space-listing"]["post"]
CONTRACT_STATUSES = {"200", "400", "401", "403", "405", "408", "413", "415", "422", "429", "500", "502", "504"}
CODES = {
    "400": {"invalid_json"},
    "401": {"invalid_token"},
    "403": {"tenant_mismatch", "confluence_credentials_rejected"},
    "405": {"method_not_allowed"},
    "408": {"request_timeout"},
    "413": {"body_too_large"},
    "415": {"unsupported_media_type"},
    "429": {"confluence_rate_limited"},
    "500": {"internal_error"},
    "502": {"confluence_bad_gateway"},
    "504": {"confluence_timeout"},
}


def test_the_document_is_valid_openapi_3_0():
    validate(SPEC)
    assert SPEC["openapi"] == "3.0.3"


def test_every_status_of_the_contract_is_documented_with_its_body():
    responses = OPERATION["responses"]
    assert set(responses) == CONTRACT_STATUSES
    for status, response in responses.items():
        schema = response["content"]["application/json"]["schema"]
        if status not in ("200", "422"):
            codes = set()
            for part in schema["allOf"]:
                codes |= set(part.get("properties", {}).get("code", {}).get("enum", []))
            assert codes == CODES[status], status


@pytest.mark.parametrize(("status", "header"), [("401", "WWW-Authenticate"), ("405", "Allow"), ("429", "Retry-After")])
def test_required_headers_are_documented(status, header):
    assert OPERATION["responses"][status]["headers"][header]["required"] is True


def test_every_example_obeys_its_schema():
    checked = 0
    for response in OPERATION["responses"].values():
        media = response["content"]["application/json"]
        examples = [media["example"]] if "example" in media else []
        examples += [e["value"] for e in media.get("examples", {}).values()]
        for example in examples:
            OAS30Validator(media["schema"]).validate(example)
            checked += 1
    body = OPERATION["requestBody"]["content"]["application/json"]
    for example in body["examples"].values():
        OAS30Validator(body["schema"]).validate(example["value"])
        checked += 1
    assert checked >= 15


def test_prefer_examples_name_only_2xx_and_4xx_scenarios():
    """The examples phase of a conformance run sends them; a 5xx would be a false failure."""
    from mocks.scenario_folder import load_scenarios
    from service.resources import default_cassettes_dir

    scenarios = load_scenarios(default_cassettes_dir())
    prefer = next(p for p in OPERATION["parameters"] if p["name"] == "prefer")
    for example in prefer["examples"].values():
        value = example["value"]
        if value.startswith("example="):
            assert scenarios[value.removeprefix("example=")].status < 500
        elif value.startswith("code="):
            assert int(value.removeprefix("code=")) < 500


URL_PATTERN = OPERATION["requestBody"]["content"]["application/json"]["schema"]["properties"][
    "instance_url"
]["pattern"]


@settings(max_examples=300, deadline=None)
@given(st.from_regex(URL_PATTERN))
def test_a_url_the_schema_accepts_is_one_python_can_parse(url):
    # Otherwise schemathesis would send "valid" URLs that only a 422 can answer.
    parts = urlsplit(url.strip())
    assert parts.scheme.lower() in ("http", "https")
    assert parts.hostname
    parts.port  # noqa: B018 - raises ValueError for a port Python refuses


@pytest.mark.parametrize("url", ["https://[", "https://", "https://a:99999/", "https://u:p@h/", "ftp://h", "h/x", "https://a b/"])
def test_urls_python_refuses_are_refused_by_the_schema(url):
    assert not re.search(URL_PATTERN, url)


def test_the_wheel_carries_the_contract_and_the_cassettes(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    [wheel] = tmp_path.glob(f"spacegate-{__version__}-*.whl")  # the version, written once
    names = set(zipfile.ZipFile(io.BytesIO(wheel.read_bytes())).namelist())
    assert "service/openapi.yaml" in names
    assert "service/cassettes/default.yaml" in names
    assert {"mocks/web.py", "service/app.py"} <= names
