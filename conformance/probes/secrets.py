"""Secrets: the api_token a request carries never comes back, whatever the answer."""

from __future__ import annotations

from conformance.expectations import expect_status
from conformance.probe_client import ProbeClient
from conformance.probing import probe
from conformance.rules import no_api_token_echoed

# A distinctive api_token whose echo is easy to spot, 8+ characters
# (docs/contract.md#secrets-in-answers).
CANARY_API_TOKEN = "conformance-canary-api-token-7f3a"  # noqa: S105 - bait, not a credential


@probe(name="api_token_not_echoed", variant="validation-error")
def api_token_not_echoed_by_a_422(client: ProbeClient) -> None:
    """A 422 never quotes the api_token of the body it refuses."""
    exchange = client.post(client.body(api_token=CANARY_API_TOKEN, username=""))
    expect_status(exchange, 422)
    no_api_token_echoed(exchange)


@probe(name="api_token_not_echoed", variant="confluence-refusal")
def api_token_not_echoed_after_confluence(client: ProbeClient) -> None:
    """An answer to a wrong api_token (Confluence refuses it, a mock ignores it) never quotes it."""
    no_api_token_echoed(client.post(client.body(api_token=CANARY_API_TOKEN)))
