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


def _non_uuid_claims(client: ProbeClient) -> dict[str, tuple[str, str]]:
    claims = {
        "not-a-uuid": "not-a-uuid",
        # The run's own tenant, in forms a UUID parser reads as the same value.
        "no-hyphens": client.tenant.replace("-", ""),
        "braces": "{" + client.tenant + "}",
        "urn": "urn:uuid:" + client.tenant,
    }
    return {label: (label, claim) for label, claim in claims.items()}


@probe(variants=_non_uuid_claims)
def non_uuid_tenant_claim_is_403(client: ProbeClient, case: tuple[str, str]) -> None:
    """A token whose tenant claim is not a canonical UUID is a 403 tenant_mismatch, not a 401.

    docs/contract.md#the-tenant: the token is valid; its tenant is not x-tenantid's.
    """
    label, claim = case
    token = client.tokens.with_tenant_claim(claim, label)
    expect_status(client.post(token=token), 403, "tenant_mismatch")
