"""422: every problem with the fields and headers, listed together in one answer."""

from __future__ import annotations

from conformance.expectations import expect_items
from conformance.probe_client import MISSING, ProbeClient
from conformance.probing import probe
from conformance.vocabulary import BODY_FIELDS


@probe(variants=BODY_FIELDS)
def missing_field_is_422(client: ProbeClient, field: str) -> None:
    """A missing body field is a 422 item at ["body", field], value_error.missing."""
    exchange = client.post(client.body(**{field: MISSING}))
    expect_items(exchange, (("body", field), "value_error.missing"))


@probe(variants=BODY_FIELDS)
def empty_string_is_422(client: ProbeClient, field: str) -> None:
    """An empty string is a 422 item at ["body", field], value_error.any_str.min_length."""
    exchange = client.post(client.body(**{field: ""}))
    expect_items(exchange, (("body", field), "value_error.any_str.min_length"))


@probe(variants=BODY_FIELDS)
def null_field_is_422(client: ProbeClient, field: str) -> None:
    """A null field is a 422 item at ["body", field], type_error.none.not_allowed."""
    exchange = client.post(client.body(**{field: None}))
    expect_items(exchange, (("body", field), "type_error.none.not_allowed"))


@probe(variants=BODY_FIELDS)
def non_string_field_is_422(client: ProbeClient, field: str) -> None:
    """A number where a string belongs is a 422 item at ["body", field], type_error.str."""
    exchange = client.post(client.body(**{field: 42}))
    expect_items(exchange, (("body", field), "type_error.str"))


@probe()
def every_missing_field_is_listed(client: ProbeClient) -> None:
    """`{}` is one 422 listing all four missing fields."""
    exchange = client.post({})
    expect_items(exchange, *((("body", f), "value_error.missing") for f in BODY_FIELDS))


@probe(
    variants={
        "not-a-uuid": "not-a-uuid",
        "empty": "",
        "no-hyphens": "3fa85f6457174562b3fc2c963f66afa6",
        "braces": "{3fa85f64-5717-4562-b3fc-2c963f66afa6}",
        "urn": "urn:uuid:3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "too-long": "3fa85f64-5717-4562-b3fc-2c963f66afa60",
    }
)
def non_uuid_tenant_is_422(client: ProbeClient, tenant: str) -> None:
    """x-tenantid that is not a canonical UUID is a 422 item at ["header", "x-tenantid"]."""
    exchange = client.post(tenant=tenant)
    expect_items(exchange, (("header", "x-tenantid"), "type_error.uuid"))


@probe()
def missing_tenant_is_422(client: ProbeClient) -> None:
    """No x-tenantid header is a 422 item at ["header", "x-tenantid"], value_error.missing."""
    exchange = client.post(tenant=None)
    expect_items(exchange, (("header", "x-tenantid"), "value_error.missing"))


@probe()
def duplicate_tenant_is_422(client: ProbeClient) -> None:
    """x-tenantid sent twice, even the same value twice, is a 422 type_error.str on it.

    docs/contract.md#duplicate-headers: one copy must not be chosen over the other.
    """
    lines = [(name, value) for name, value in client.headers().items() if value is not None]
    lines.append(("x-tenantid", client.tenant))
    exchange = client.send(headers=lines, body=client.valid_body)
    expect_items(exchange, (("header", "x-tenantid"), "type_error.str"))


@probe(variants=BODY_FIELDS)
def lone_surrogate_is_422(client: ProbeClient, field: str) -> None:
    """A lone surrogate (`"\\ud800"`) in a field is a 422 value_error.unicodeencode, not a 500."""
    exchange = client.post(client.body(**{field: "conformance\ud800"}))
    expect_items(exchange, (("body", field), "value_error.unicodeencode"))


@probe()
def header_and_body_problems_come_together(client: ProbeClient) -> None:
    """A bad x-tenantid, a missing field and an empty one make one 422 listing all three."""
    exchange = client.post(client.body(api_token=MISSING, username=""), tenant="not-a-uuid")
    expect_items(
        exchange,
        (("header", "x-tenantid"), "type_error.uuid"),
        (("body", "api_token"), "value_error.missing"),
        (("body", "username"), "value_error.any_str.min_length"),
    )
