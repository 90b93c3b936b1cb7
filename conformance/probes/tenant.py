"""403: a token for one tenant does not list another's spaces."""

from __future__ import annotations

from conformance.expectations import expect_status
from conformance.probe_client import ProbeClient
from conformance.probing import probe

# A tenant no token of the run names (random, fixed so runs are reproducible).
OTHER_TENANT = "0f8e5b2a-7c1d-4e3f-9a6b-5d4c3b2a1f0e"


@probe()
def tenant_mismatch_is_403(client: ProbeClient) -> None:
    """x-tenantid other than the token's tenant is a 403 tenant_mismatch."""
    expect_status(client.post(tenant=OTHER_TENANT), 403, "tenant_mismatch")


@probe()
def other_tenant_token_is_403(client: ProbeClient) -> None:
    """A token for another tenant, sent with this tenant's x-tenantid, is a 403 tenant_mismatch."""
    token = client.tokens.for_tenant(OTHER_TENANT)
    expect_status(client.post(token=token), 403, "tenant_mismatch")
