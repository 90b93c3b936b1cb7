"""`POST /mock/token` over HTTP: a browser or a test gets a token from the mock itself."""

from __future__ import annotations

import time
from collections.abc import Iterator

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mocks.token_endpoint import MAX_TTL_SECONDS
from service.settings import DEV_JWT_SECRET, Settings
from tests.support.bodies import EXAMPLE_BODY as BODY
from tests.support.contract import assert_conforms
from tests.support.servers import RunningService, serve
from tests.support.tokens import OTHER_TENANT, TENANT

SECRET = "a-team-secret-for-its-own-mock-0123456789abcdef"


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningService]:
    with serve(Settings(mode="mock").validated()) as service:
        yield service


def token_for(service: RunningService, **fields) -> requests.Response:
    return requests.post(service.url + "/mock/token", json=fields, timeout=10)


def list_spaces(service: RunningService, token: str, tenant: str = TENANT) -> requests.Response:
    headers = {"authorization": f"Bearer {token}", "x-tenantid": tenant}
    return assert_conforms(requests.post(service.api, json=BODY, headers=headers, timeout=10))


def test_mints_a_token_the_operation_accepts(mock):
    before = time.time()
    answer = token_for(mock, tenant=OTHER_TENANT)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-spacegate-mode"] == "mock"
    minted = answer.json()
    assert minted.keys() == {"access_token", "token_type", "expires_in", "tenant"}
    assert (minted["token_type"], minted["expires_in"], minted["tenant"]) == (
        "Bearer",
        3600,
        OTHER_TENANT,
    )
    claims = jwt.decode(minted["access_token"], DEV_JWT_SECRET, algorithms=["HS256"])
    assert claims["tenant_id"] == OTHER_TENANT
    assert before + 3600 - 2 <= claims["exp"] <= time.time() + 3600

    listing = list_spaces(mock, minted["access_token"], OTHER_TENANT)
    assert listing.status_code == 200
    assert [s["key"] for s in listing.json()["spaces"]] == ["KB", "IT", "HR"]
    # the token is the tenant's, not anyone's
    assert list_spaces(mock, minted["access_token"], TENANT).json()["code"] == "tenant_mismatch"


def test_ttl_sets_the_expiry(mock):
    minted = token_for(mock, tenant=TENANT, ttl=120).json()
    assert minted["expires_in"] == 120
    claims = jwt.decode(minted["access_token"], DEV_JWT_SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 120


@pytest.mark.parametrize(
    ("body", "items"),
    [
        ({}, [(["body", "tenant"], "value_error.missing")]),
        ({"tenant": "acme"}, [(["body", "tenant"], "type_error.uuid")]),
        ({"tenant": TENANT.replace("-", "")}, [(["body", "tenant"], "type_error.uuid")]),
        ({"tenant": None}, [(["body", "tenant"], "type_error.none.not_allowed")]),
        ({"tenant": 7}, [(["body", "tenant"], "type_error.str")]),
        ({"tenant": TENANT, "ttl": "60"}, [(["body", "ttl"], "type_error.integer")]),
        ({"tenant": TENANT, "ttl": 1.5}, [(["body", "ttl"], "type_error.integer")]),
        ({"tenant": TENANT, "ttl": True}, [(["body", "ttl"], "type_error.integer")]),
        ({"tenant": TENANT, "ttl": 0}, [(["body", "ttl"], "value_error.number.not_ge")]),
        (
            {"tenant": TENANT, "ttl": MAX_TTL_SECONDS + 1},
            [(["body", "ttl"], "value_error.number.not_le")],
        ),
        (
            {"tenant": "", "ttl": -5},
            [
                (["body", "tenant"], "type_error.uuid"),
                (["body", "ttl"], "value_error.number.not_ge"),
            ],
        ),
    ],
)
def test_bad_input_is_a_422_naming_every_field(mock, body, items):
    answer = requests.post(mock.url + "/mock/token", json=body, timeout=10)
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert [(i["loc"], i["type"]) for i in detail] == items
    assert all(i["msg"] for i in detail)


def test_the_ttl_bounds_say_the_limit(mock):
    [item] = token_for(mock, tenant=TENANT, ttl=MAX_TTL_SECONDS + 1).json()["detail"]
    assert item["msg"] == f"ensure this value is less than or equal to {MAX_TTL_SECONDS}"
    assert token_for(mock, tenant=TENANT, ttl=MAX_TTL_SECONDS).status_code == 200


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b"{", "application/json", 400, "invalid_json"),
        (b"[]", "application/json", 400, "invalid_json"),
        (b'{"tenant": "x"}', "text/plain", 415, "unsupported_media_type"),
        (b'{"tenant": "' + b"x" * 70_000 + b'"}', "application/json", 413, "body_too_large"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused_as_the_operation_refuses_it(
    mock, data, content_type, status, code
):
    answer = requests.post(
        mock.url + "/mock/token", data=data, headers={"content-type": content_type}, timeout=10
    )
    assert answer.status_code == status
    assert answer.json()["code"] == code


def test_a_browser_on_another_origin_may_ask(mock):
    origin = "http://localhost:5173"
    preflight = requests.options(
        mock.url + "/mock/token",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=5,
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", origin)
    answer = requests.post(
        mock.url + "/mock/token", json={"tenant": TENANT}, headers={"Origin": origin}, timeout=5
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] in ("*", origin)


def test_absent_in_live_mode(live):
    answer = requests.post(live.url + "/mock/token", json={"tenant": TENANT}, timeout=5)
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


def test_mints_with_the_deployments_own_secret_issuer_and_audience():
    settings = Settings(
        mode="mock", jwt_secret=SECRET, jwt_issuer="https://idp.acme.example", jwt_audience="ui"
    ).validated()
    with serve(settings) as service:
        token = token_for(service, tenant=TENANT).json()["access_token"]
        claims = jwt.decode(
            token, SECRET, algorithms=["HS256"], issuer="https://idp.acme.example", audience="ui"
        )
        assert claims["tenant_id"] == TENANT
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, DEV_JWT_SECRET, algorithms=["HS256"], audience="ui")
        assert list_spaces(service, token).status_code == 200


def test_a_mock_verifying_with_a_public_key_says_it_cannot_mint():
    key = ec.generate_private_key(ec.SECP256R1())
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    settings = Settings(mode="mock", jwt_public_key=pem).validated()
    with serve(settings) as service:
        answer = token_for(service, tenant=TENANT)
    assert answer.status_code == 403
    refusal = answer.json()
    assert refusal["code"] == "token_minting_unavailable"
    assert "public key or JWKS" in refusal["detail"]
    assert "identity provider" in refusal["detail"]
