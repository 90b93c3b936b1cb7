"""The order of checks, 401 → 413 → 415 → 400 → 422 → 403 (docs/contract.md#order-of-checks):
one probe per ordered pair, each a request with both problems that must get the first one's answer.

Each is a variant of `checks_run_in_contract_order`, named `<first>-before-<then>`; a new rule
in the order adds a probe here for each pair it joins.
"""

from __future__ import annotations

from collections.abc import Callable

from conformance.expectations import expect_items, expect_status
from conformance.probe_client import ProbeClient
from conformance.probes.framing import oversized_body
from conformance.probes.tenant import OTHER_TENANT
from conformance.probes.urls import METADATA_HOST, instance_url_at
from conformance.probing import ProbeFunction, probe


def _ordered(first: int | str, then: int) -> Callable[[ProbeFunction], ProbeFunction]:
    return probe(name="checks_run_in_contract_order", variant=f"{first}-before-{then}")


@_ordered(401, 413)
def token_before_body_size(client: ProbeClient) -> None:
    """No token and a body over 64 KiB: the 401 answers."""
    exchange = client.send(headers=client.headers(token=None), content=oversized_body(client))
    expect_status(exchange, 401, "invalid_token")


@_ordered(413, 415)
def body_size_before_media_type(client: ProbeClient) -> None:
    """A body over 64 KiB as text/plain: the 413 answers."""
    headers = client.headers(content_type="text/plain")
    expect_status(client.send(headers=headers, content=oversized_body(client)), 413)


@_ordered(415, 400)
def media_type_before_json(client: ProbeClient) -> None:
    """Broken JSON as text/plain: the 415 answers."""
    headers = client.headers(content_type="text/plain")
    expect_status(client.send(headers=headers, content=b"{"), 415)


@_ordered(400, 422)
def json_before_validation(client: ProbeClient) -> None:
    """Broken JSON with a bad x-tenantid: the 400 answers."""
    headers = client.headers(tenant="not-a-uuid")
    expect_status(client.send(headers=headers, content=b"{"), 400, "invalid_json")


@_ordered(422, 403)
def validation_before_tenant(client: ProbeClient) -> None:
    """An empty field under another tenant's x-tenantid: the 422 answers."""
    exchange = client.post(client.body(username=""), tenant=OTHER_TENANT)
    expect_items(exchange, (("body", "username"), "value_error.any_str.min_length"))


@_ordered("422-url", 403)
def url_rules_before_tenant(client: ProbeClient) -> None:
    """A refused instance_url under another tenant's x-tenantid: the 422 answers.

    The URL rules that need only configuration are judged with the other 422 items, before
    the tenant (docs/contract.md#order-of-checks).
    """
    body = client.body(instance_url=instance_url_at(client, METADATA_HOST))
    exchange = client.post(body, tenant=OTHER_TENANT)
    expect_items(exchange, (("body", "instance_url"), "value_error.url.host"))
