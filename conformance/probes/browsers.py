"""Browsers: CORS preflights, granted by the CORS layer or refused in the contract's words."""

from __future__ import annotations

from conformance.expectations import expect_status
from conformance.failures import NotApplicable
from conformance.probe_client import ProbeClient
from conformance.probing import probe


@probe()
def refused_preflight_is_json(client: ProbeClient) -> None:
    """A CORS preflight from an origin the target refuses is a JSON 400 cors_refused."""
    exchange = client.send(
        "OPTIONS",
        headers={
            "Origin": "https://conformance.invalid",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-tenantid",
        },
    )
    if exchange.response.status < 300:
        raise NotApplicable(
            "the target grants a preflight from any origin (as mock mode does), so none is refused"
        )
    expect_status(exchange, 400, "cors_refused")
