"""The harness's probe machinery without a target: the registry, the expectations, the failures."""

from __future__ import annotations

import json
import pkgutil

import pytest

import conformance.probes
from conformance.exchange import Exchange, Received, RunFacts, SentRequest, header_map
from conformance.expectations import ProbeFailure, expect_items, expect_status, expect_success
from conformance.failures import NotApplicable, Violation
from conformance.probes import FAMILIES, PROBES
from conformance.vocabulary import business_422_types
from tests.support.tokens import TENANT

URL = "http://127.0.0.1:9/v2/confluence/space-listing"


def answer(status: int, body: object, *, method: str = "POST", pinned: bool = False) -> Exchange:
    return Exchange(
        request=SentRequest(method, URL, header_map({}), b"{}"),
        response=Received(status, header_map({"content-type": "application/json"}),
                          json.dumps(body).encode() if body is not None else b""),
        facts=RunFacts(tenant=TENANT, body_pinned=pinned),
    )  # fmt: skip


def item(loc: list[str], type_: str) -> dict[str, object]:
    return {"loc": loc, "msg": "x", "type": type_}


def test_every_probe_module_is_a_reported_family():
    # A module missing from FAMILIES would never be imported: its probes would silently not run.
    modules = {module.name for module in pkgutil.iter_modules(conformance.probes.__path__)}
    assert modules == set(FAMILIES)
    families = [probe.function.__module__.rpartition(".")[2] for probe in PROBES]
    assert families == sorted(families, key=list(FAMILIES).index)
    # Every probe has a severity: its own, or its family's.
    assert all(probe.severity is not None for probe in PROBES)
    assert set(families) == set(FAMILIES)


def test_probes_are_named_once_and_described():
    names = [probe.name for probe in PROBES]
    assert len(names) == len(set(names))
    assert all(probe.description for probe in PROBES)
    ordered = [name for name in names if name.startswith("checks_run_in_contract_order[")]
    assert ordered == [
        f"checks_run_in_contract_order[{pair}]"
        for pair in ("401-before-413", "413-before-415", "415-before-400", "400-before-422",
                     "422-before-403", "422-url-before-403")
    ]  # fmt: skip


def test_a_violation_says_what_was_expected_and_what_came():
    violation = Violation("Missing Allow", expected="an Allow header", received="none")
    assert str(violation) == "Missing Allow: expected an Allow header; got none"
    assert isinstance(violation, AssertionError)  # what schemathesis expects a check to raise


def test_business_422s_are_those_whose_every_item_is_one():
    host = item(["body", "instance_url"], "value_error.url.host")
    scenario = item(["header", "prefer"], "value_error.scenario")
    missing = item(["body", "username"], "value_error.missing")
    assert business_422_types({"detail": [scenario, host, host]}) == [
        "value_error.scenario",
        "value_error.url.host",
    ]
    assert business_422_types({"detail": [host, missing]}) is None
    assert business_422_types({"detail": []}) is None
    assert business_422_types({"detail": "refused"}) is None
    assert business_422_types(["not", "an", "object"]) is None


def test_a_business_422_to_the_example_body_asks_for_a_body_file():
    refused = {"detail": [item(["body", "instance_url"], "value_error.url.host")]}
    with pytest.raises(NotApplicable, match="--body-file"):
        expect_success(answer(422, refused))
    with pytest.raises(ProbeFailure, match="expected 200 with the spaces; got 422"):
        expect_success(answer(422, refused, pinned=True))
    with pytest.raises(ProbeFailure, match="got 422"):
        expect_success(answer(422, {"detail": [item(["body", "username"], "value_error.missing")]}))
    expect_success(answer(200, {"spaces": []}))


def test_expectations_name_what_was_missing():
    with pytest.raises(ProbeFailure, match="expected 401 invalid_token; got 403 tenant_mismatch"):
        expect_status(answer(403, {"detail": "x", "code": "tenant_mismatch"}), 401, "invalid_token")
    expect_status(answer(405, None, method="HEAD"), 405, "method_not_allowed")  # no body, no code
    listed = answer(422, {"detail": [item(["header", "X-TenantId"], "type_error.uuid")]})
    expect_items(listed, (("header", "x-tenantid"), "type_error.uuid"))
    with pytest.raises(ProbeFailure, match=r"\['body', 'username'\] value_error.missing; got"):
        expect_items(listed, (("body", "username"), "value_error.missing"))


def test_a_type_family_matches_any_word_after_it():
    extra = answer(422, {"detail": [item(["body", "web_url_instance"], "value_error.url.extra")]})
    expect_items(extra, (("body", "web_url_instance"), "value_error.url.*"))
    with pytest.raises(ProbeFailure):
        expect_items(extra, (("body", "instance_url"), "value_error.url.*"))
    bare = answer(422, {"detail": [item(["body", "web_url_instance"], "value_error.url.")]})
    with pytest.raises(ProbeFailure):
        expect_items(bare, (("body", "web_url_instance"), "value_error.url.*"))


def test_a_hint_says_what_the_run_assumed():
    accepted = answer(200, {"spaces": []})
    with pytest.raises(ProbeFailure, match=r"expected 422 \(give --allows-http\); got 200"):
        expect_items(accepted, (("body", "instance_url"), "value_error.url.scheme"),
                     hint="give --allows-http")  # fmt: skip
