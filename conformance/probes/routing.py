"""404 and 405: routing answers before any token is looked at."""

from __future__ import annotations

from conformance.expectations import expect_status
from conformance.probe_client import ProbeClient
from conformance.probing import probe


@probe(variants=("GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"))
def other_methods_are_405(client: ProbeClient, method: str) -> None:
    """Any method but POST is a 405 method_not_allowed with Allow, even without a token."""
    expect_status(client.send(method, headers={}), 405, "method_not_allowed")


@probe()
def unknown_path_is_404(client: ProbeClient) -> None:
    """A path the service does not serve is a 404 not_found, even without a token."""
    exchange = client.send(
        headers={"Content-Type": "application/json"},
        body=client.valid_body,
        path="/v2/confluence/conformance-no-such-operation",
    )
    expect_status(exchange, 404, "not_found")
