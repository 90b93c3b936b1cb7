"""Browsers: CORS preflights, granted by the CORS layer or refused in the contract's words.

docs/contract.md#cors: a granted preflight answers `Access-Control-Allow-Origin`, `-Methods`
including POST and `-Headers` covering authorization, content-type, x-tenantid and prefer;
answers to an allowed origin expose Retry-After, WWW-Authenticate and x-request-id; a refused
preflight is a JSON 400 `cors_refused`. Which origins a target allows is its deployment's
choice: the probes ask for `--origin` (default https://conformance.example, which a mock
grants), and a target refusing that default without being told otherwise is not judged.
"""

from __future__ import annotations

from collections.abc import Iterable

from conformance.exchange import Exchange
from conformance.expectations import ProbeFailure, expect_status
from conformance.failures import NotApplicable
from conformance.probe_client import ProbeClient
from conformance.probing import probe
from conformance.vocabulary import CORS_EXPOSED_HEADERS, CORS_REQUEST_HEADERS

# An origin no deployment allows: `.invalid` names nothing (RFC 2606).
REFUSED_ORIGIN = "https://conformance.invalid"


def _preflight(client: ProbeClient, origin: str) -> Exchange:
    return client.send(
        "OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": ", ".join(CORS_REQUEST_HEADERS),
        },
    )


def _allows_origin(exchange: Exchange, origin: str) -> bool:
    """An answer (preflight or not) shared with `origin`."""
    allowed = exchange.response.headers.get("access-control-allow-origin", "").strip()
    return allowed in (origin, "*")


def _names(exchange: Exchange, header: str) -> set[str]:
    value = exchange.response.headers.get(header, "")
    return {part.strip().lower() for part in value.split(",") if part.strip()}


def granted_preflight(client: ProbeClient) -> Exchange:
    """The run's origin's preflight, granted; NotApplicable when refused and not --origin.

    ProbeFailure when not granted: preflight_is_granted reports that; the probes of what a
    granted preflight carries call `_granted` and do not apply then.
    """
    deployment = client.deployment
    exchange = _preflight(client, deployment.origin)
    received = exchange.response
    if exchange.preflight_granted:
        return exchange
    body = received.json
    code = body.get("code") if isinstance(body, dict) else None
    refused = received.status == 400 and code == "cors_refused"
    if refused and not deployment.origin_given:
        raise NotApplicable(
            f"the target refuses the origin {deployment.origin}; give --origin with one it "
            "allows to check its CORS answers"
        )
    allow_origin = received.headers.get("access-control-allow-origin")
    raise ProbeFailure(
        "Preflight not granted",
        expected=f"a 2xx with Access-Control-Allow-Origin {deployment.origin} (or *)",
        received=f"{received.status} with Access-Control-Allow-Origin {allow_origin!r}",
    )


@probe()
def preflight_is_granted(client: ProbeClient) -> None:
    """A preflight from an allowed origin is a 2xx with Access-Control-Allow-Origin for it."""
    granted_preflight(client)


def _granted(client: ProbeClient) -> Exchange:
    try:
        return granted_preflight(client)
    except ProbeFailure as failure:
        message = f"the preflight is not granted (preflight_is_granted): {failure}"
        raise NotApplicable(message) from None


def _expect_listed(
    exchange: Exchange, header: str, wanted: Iterable[str], title: str, *, star_covers: bool = True
) -> None:
    """`header` lists every name of `wanted` (case ignored); `*` covers them if `star_covers`.

    In the Fetch standard `*` is a wildcard for requests without credentials, but it never
    covers Authorization, which a preflight must name.
    """
    listed = _names(exchange, header)
    missing = [
        name
        for name in wanted
        if name not in listed and not ("*" in listed and star_covers and name != "authorization")
    ]
    if missing:
        raise ProbeFailure(
            title,
            expected=f"{header} to include {', '.join(missing)}",
            received=repr(exchange.response.headers.get(header)),
        )


@probe()
def preflight_allows_post(client: ProbeClient) -> None:
    """A granted preflight's Access-Control-Allow-Methods includes POST."""
    exchange = _granted(client)
    _expect_listed(exchange, "Access-Control-Allow-Methods", ["post"], "POST not allowed")


@probe()
def preflight_allows_contract_headers(client: ProbeClient) -> None:
    """A granted preflight allows authorization, content-type, x-tenantid and prefer."""
    exchange = _granted(client)
    _expect_listed(
        exchange,
        "Access-Control-Allow-Headers",
        CORS_REQUEST_HEADERS,
        "Request headers not allowed",
    )


@probe(variants={"success": True, "401": False})
def cors_answers_expose_headers(client: ProbeClient, with_token: bool) -> None:
    """Answers to an allowed origin expose Retry-After, WWW-Authenticate and x-request-id."""
    _granted(client)  # the origin is allowed, or this is not judged
    origin = client.deployment.origin
    exchange = client.post(origin=origin) if with_token else client.post(token=None, origin=origin)
    if not _allows_origin(exchange, origin):
        got = exchange.response.headers.get("access-control-allow-origin")
        raise ProbeFailure(
            "Answer not shared with the origin",
            expected=f"Access-Control-Allow-Origin {origin} (or *) on a {exchange.response.status}",
            received=repr(got),
        )
    _expect_listed(
        exchange, "Access-Control-Expose-Headers", CORS_EXPOSED_HEADERS, "Headers not exposed"
    )


@probe()
def refused_preflight_is_json(client: ProbeClient) -> None:
    """A CORS preflight from an origin the target refuses is a JSON 400 cors_refused."""
    exchange = _preflight(client, REFUSED_ORIGIN)
    if exchange.preflight_granted:
        raise NotApplicable(
            "the target grants a preflight from any origin (as mock mode does), so none is refused"
        )
    expect_status(exchange, 400, "cors_refused")
