"""Bearer JWT and tenant over HTTP: every way a token can be wrong, and every key source."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.support.contract import assert_conforms
from tests.support.repeated_headers import post_with_header_lines
from tests.support.tokens import OTHER_TENANT, TENANT, TEST_SECRET, auth_headers, mint


def call(service, body, token: str | None, *, tenant: str = TENANT, authorization: str | None = None):
    headers = auth_headers(token or "x", tenant)
    if authorization is not None:
        headers["Authorization"] = authorization
    elif token is None:
        del headers["Authorization"]
    response = requests.post(service.api, json=body(), headers=headers, timeout=10)
    return assert_conforms(response)


def assert_401(response: requests.Response, reason: str | None = None) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "invalid_token"
    assert response.headers["www-authenticate"].startswith("Bearer")
    if reason is not None:
        assert reason in response.json()["detail"]


def test_a_valid_token_lists_spaces(live, body):
    response = call(live, body, mint())
    assert response.status_code == 200
    assert [s["key"] for s in response.json()["spaces"]] == ["KB", "IT", "HR"]


def test_no_token_gets_a_bare_challenge(live, body):
    response = call(live, body, None)
    assert_401(response, "missing")
    assert response.headers["www-authenticate"] == 'Bearer realm="spacegate"'


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "Bearer", "Token abc", "bearer", "Bearer not.a.jwt", "Bearer a.b"],
)
def test_an_authorization_that_is_not_a_bearer_jwt(live, body, authorization):
    response = call(live, body, None, authorization=authorization)
    assert_401(response)


@pytest.mark.parametrize(
    "second",
    [
        "same",  # even the same valid token twice
        "Bearer " + "garbage",
        "Basic dXNlcjpwYXNz",
        "Bearer " + mint(OTHER_TENANT),
    ],
)
@pytest.mark.parametrize("valid_first", [True, False])
def test_two_authorization_headers_are_a_401(live, body, second, valid_first):
    valid = "Bearer " + mint()
    pair = [valid, valid if second == "same" else second]
    if not valid_first:
        pair.reverse()
    lines = [("Authorization", pair[0]), ("authorization", pair[1]), ("x-tenantid", TENANT),
             ("content-type", "application/json")]  # fmt: skip
    response = assert_conforms(post_with_header_lines(live.api, json.dumps(body()).encode(), lines))
    assert_401(response, "more than once")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_garbage_token(live, body):
    assert_401(call(live, body, "garbage"), "malformed")


def test_a_token_signed_with_another_secret(live, body):
    assert_401(call(live, body, mint(secret="another-secret-of-at-least-32-bytes!!")), "signature")


def test_an_expired_token(live, body):
    assert_401(call(live, body, mint(ttl=-120)), "expired")


def test_clock_skew_within_the_leeway_is_tolerated(live, body):
    assert call(live, body, mint(ttl=-10)).status_code == 200


def test_a_token_without_exp(live, body):
    token = jwt.encode({"tenant_id": TENANT, "sub": "x"}, TEST_SECRET, algorithm="HS256")
    assert_401(call(live, body, token), "exp")


def test_alg_none_is_refused(live, body):
    token = jwt.encode({"tenant_id": TENANT, "exp": 2**40}, None, algorithm="none")
    assert_401(call(live, body, token), "algorithm")


def test_an_algorithm_outside_the_allow_list_is_refused(live, body):
    assert_401(call(live, body, mint(algorithm="HS512")), "algorithm")


def test_a_token_without_the_tenant_claim(live, body):
    assert_401(call(live, body, mint(tenant=None)), "tenant_id")


def test_another_tenant_is_a_403(live, body):
    response = call(live, body, mint(OTHER_TENANT))
    assert response.status_code == 403
    assert response.json()["code"] == "tenant_mismatch"


@pytest.mark.parametrize("claim", ["not-a-uuid", TENANT.replace("-", ""), 42, None, ""])
def test_a_tenant_claim_that_is_not_a_uuid_is_a_403(live, body, claim):
    token = jwt.encode({"tenant_id": claim, "exp": 2**40}, TEST_SECRET, algorithm="HS256")
    response = call(live, body, token)
    assert response.status_code == 403
    assert response.json()["code"] == "tenant_mismatch"


def test_the_tenant_is_compared_as_a_uuid(live, body):
    response = call(live, body, mint(TENANT.upper()), tenant=TENANT.lower())
    assert response.status_code == 200


def test_issuer_and_audience_when_configured(serve_with, body):
    with serve_with(jwt_issuer="https://idp.example", jwt_audience="spacegate") as service:
        good = {"iss": "https://idp.example", "aud": "spacegate"}
        assert call(service, body, mint(**good)).status_code == 200
        assert_401(call(service, body, mint(iss="https://evil.example", aud="spacegate")), "issuer")
        assert_401(call(service, body, mint(iss="https://idp.example", aud="other")), "audience")
        assert_401(call(service, body, mint(aud="spacegate")), "iss")
        assert_401(call(service, body, mint(iss="https://idp.example")), "aud")


def test_a_custom_tenant_claim(serve_with, body):
    with serve_with(tenant_claim="org") as service:
        assert call(service, body, mint(claim="org")).status_code == 200
        assert_401(call(service, body, mint(claim="tenant_id")), "org")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256(claims: dict, key: bytes) -> str:
    # PyJWT refuses to HMAC with a PEM key, as it should; an attacker would not.
    signing_input = _b64(b'{"alg":"HS256","typ":"JWT"}') + "." + _b64(json.dumps(claims).encode())
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(signature)


# -- public keys ---------------------------------------------------------------------------------


def _pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.mark.parametrize(
    ("algorithm", "make_key"),
    [
        ("RS256", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("ES256", lambda: ec.generate_private_key(ec.SECP256R1())),
    ],
)
def test_a_public_key(serve_with, body, algorithm, make_key):
    key = make_key()
    with serve_with(jwt_secret=None, jwt_public_key=_pem(key), jwt_algorithms=()) as service:
        assert call(service, body, mint(secret=key, algorithm=algorithm)).status_code == 200
        other = make_key()
        assert_401(call(service, body, mint(secret=other, algorithm=algorithm)), "signature")
        # the classic confusion: HS256 keyed with the public key's PEM text, which is public
        forged = _hs256({"tenant_id": TENANT, "exp": 2**40}, _pem(key).encode())
        assert_401(call(service, body, forged), "algorithm")


# -- JWKS ----------------------------------------------------------------------------------------


class Jwks:
    """A JWKS endpoint on 127.0.0.1 that counts its fetches."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.fetches = 0
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        document = json.dumps({"keys": [jwk | {"kid": "key-1", "use": "sig", "alg": "RS256"}]})
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetches += 1
                payload = document.encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, kid: str = "key-1", **claims) -> str:
        return mint(secret=self.key, algorithm="RS256", headers={"kid": kid}, **claims)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    endpoint = Jwks()
    yield endpoint
    endpoint.close()


def test_jwks_keys_are_fetched_once_and_cached(serve_with, body, jwks):
    with serve_with(jwt_secret=None, jwks_url=jwks.url, jwt_algorithms=()) as service:
        for _ in range(3):
            assert call(service, body, jwks.token()).status_code == 200
        assert jwks.fetches == 1


def test_an_unknown_kid_refreshes_at_most_once(serve_with, body, jwks):
    with serve_with(jwt_secret=None, jwks_url=jwks.url, jwt_algorithms=()) as service:
        assert call(service, body, jwks.token()).status_code == 200
        for _ in range(5):
            assert_401(call(service, body, jwks.token(kid="rotated-away")), "key")
        assert jwks.fetches == 1  # the first fetch was moments ago: no refetch per bad token


def test_an_unreachable_jwks_fails_closed(serve_with, body, jwks):
    url = jwks.url
    token = jwks.token()
    jwks.close()
    with serve_with(jwt_secret=None, jwks_url=url, jwt_algorithms=()) as service:
        assert_401(call(service, body, token), "key")


# -- remembering verified tokens ----------------------------------------------------------------


def test_a_remembered_token_still_expires(serve_with, body):
    import time

    with serve_with(jwt_leeway_seconds=0) as service:
        token = mint(ttl=2)
        assert call(service, body, token).status_code == 200  # verified, then remembered
        time.sleep(2.5)
        assert_401(call(service, body, token), "expired")


def test_only_the_exact_token_is_remembered(live, body):
    token = mint()
    assert call(live, body, token).status_code == 200
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert_401(call(live, body, tampered))


def test_the_memory_is_bounded_and_forgets_the_oldest():
    from service.auth import VerifiedTokens

    remembered = VerifiedTokens(size=2)
    for name in ("a", "b", "c"):
        remembered.put(name, {"sub": name}, expires=2**40)
    assert remembered.get("a") is None
    assert remembered.get("c") == {"sub": "c"}
    remembered.put("d", {"sub": "d"}, expires=0)  # already expired
    assert remembered.get("d") is None
