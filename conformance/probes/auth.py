"""401: a request without a token the target can verify is refused before anything else."""

from __future__ import annotations

from conformance.expectations import expect_status
from conformance.failures import NotApplicable
from conformance.probe_client import ProbeClient
from conformance.probing import probe


def _expect_invalid_token(client: ProbeClient, token: str | None) -> None:
    expect_status(client.post(token=token), 401, "invalid_token")


@probe()
def no_token_is_401(client: ProbeClient) -> None:
    """No Authorization header is a 401 invalid_token."""
    _expect_invalid_token(client, None)


@probe(variants={"not-a-jwt": "not-a-jwt", "three-garbage-segments": "abc.def.ghi", "empty": ""})
def garbage_token_is_401(client: ProbeClient, token: str) -> None:
    """A bearer token that is not a JWT is a 401 invalid_token."""
    _expect_invalid_token(client, token)


@probe(
    variants=lambda client: {
        "basic": "Basic Y29uZm9ybWFuY2U6Y29uZm9ybWFuY2U=",
        "token-scheme": f"Token {client.tokens.valid}",
        "no-scheme": client.tokens.valid,
    }
)
def non_bearer_authorization_is_401(client: ProbeClient, authorization: str) -> None:
    """An Authorization header that is not `Bearer <token>` is a 401 invalid_token."""
    headers = client.headers(token=None)
    headers["Authorization"] = authorization
    exchange = client.send(headers=headers, body=client.valid_body)
    expect_status(exchange, 401, "invalid_token")


@probe()
def unsigned_token_is_401(client: ProbeClient) -> None:
    """A token with `alg: none` is a 401 invalid_token, whatever it claims."""
    _expect_invalid_token(client, client.tokens.unsigned())


@probe()
def wrong_signature_is_401(client: ProbeClient) -> None:
    """The run's claims signed with another key are a 401 invalid_token."""
    _expect_invalid_token(client, client.tokens.signed_with_another_key())


@probe()
def tampered_signature_is_401(client: ProbeClient) -> None:
    """The run's own token with a forged signature is a 401 invalid_token."""
    _expect_invalid_token(client, client.tokens.with_tampered_signature())


@probe()
def expired_token_is_401(client: ProbeClient) -> None:
    """A token expired an hour ago is a 401 invalid_token."""
    _expect_invalid_token(client, client.tokens.expired())


@probe()
def token_without_exp_is_401(client: ProbeClient) -> None:
    """A token without `exp`, one that would never expire, is a 401 invalid_token."""
    _expect_invalid_token(client, client.tokens.without_expiry())


@probe()
def duplicate_authorization_is_401(client: ProbeClient) -> None:
    """Authorization sent twice, even the same valid token twice, is a 401 invalid_token.

    docs/contract.md#duplicate-headers: a proxy or log in front may read the other copy.
    """
    lines = [(name, value) for name, value in client.headers().items() if value is not None]
    authorization = f"Bearer {client.tokens.valid}"
    lines.insert(1, ("Authorization", authorization))
    exchange = client.send(headers=lines, body=client.valid_body)
    expect_status(exchange, 401, "invalid_token")


@probe()
def token_without_tenant_claim_is_401(client: ProbeClient) -> None:
    """A token without the tenant claim is a 401 invalid_token."""
    _expect_invalid_token(client, client.tokens.without_tenant_claim())


@probe()
def wrong_issuer_is_401(client: ProbeClient) -> None:
    """A token from another issuer is a 401 invalid_token (when the target checks --issuer)."""
    if not client.tokens.issuer:
        raise NotApplicable("give --issuer to check that the target verifies the issuer")
    _expect_invalid_token(client, client.tokens.wrong_issuer())


@probe()
def wrong_audience_is_401(client: ProbeClient) -> None:
    """A token for another audience is a 401 invalid_token (when the target checks --audience)."""
    if not client.tokens.audience:
        raise NotApplicable("give --audience to check that the target verifies the audience")
    _expect_invalid_token(client, client.tokens.wrong_audience())
