"""The 200 path: a valid request, and the variations of it the contract still accepts."""

from __future__ import annotations

import json

from conformance.expectations import expect_success
from conformance.probe_client import ProbeClient
from conformance.probing import probe
from conformance.vocabulary import MAX_BODY_BYTES


@probe()
def valid_request_succeeds(client: ProbeClient) -> None:
    """A valid request is a 200 listing the spaces."""
    expect_success(client.post())


@probe()
def unknown_fields_are_ignored(client: ProbeClient) -> None:
    """Unknown body fields are ignored, not refused."""
    body = client.body(conformance_extra="ignored", conformance_nested={"a": [1, None]})
    expect_success(client.post(body))


@probe()
def json_with_charset_is_accepted(client: ProbeClient) -> None:
    """`content-type: application/json; charset=utf-8` is JSON."""
    expect_success(client.post(content_type="application/json; charset=utf-8"))


@probe()
def tenant_is_compared_ignoring_case(client: ProbeClient) -> None:
    """x-tenantid in upper case names the same tenant as the token's claim."""
    expect_success(client.post(tenant=client.tenant.upper()))


@probe()
def any_accept_gets_json(client: ProbeClient) -> None:
    """`accept` is not a parameter: `accept: text/html` still gets the JSON 200."""
    expect_success(client.post(accept="text/html"))


@probe()
def no_accept_gets_json(client: ProbeClient) -> None:
    """A request with no `accept` header at all still gets the JSON 200."""
    expect_success(client.post(accept=None))


@probe()
def body_at_size_limit_is_read(client: ProbeClient) -> None:
    """A body of exactly 64 KiB is read, not refused as too large."""
    body = client.body(conformance_padding="")
    padding = MAX_BODY_BYTES - len(json.dumps(body).encode("utf-8"))
    body["conformance_padding"] = "x" * padding
    content = json.dumps(body).encode("utf-8")
    assert len(content) == MAX_BODY_BYTES
    expect_success(client.send(headers=client.headers(), content=content))
