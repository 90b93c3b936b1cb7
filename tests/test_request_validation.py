"""Bad input over HTTP: the 400 / 405 / 413 / 415 / 422 rows and the order of checks.

docs/contract.md#error-table, docs/contract.md#order-of-checks
"""

from __future__ import annotations

import json

import pytest
import requests

from tests.support.contract import assert_conforms
from tests.support.repeated_headers import post_with_header_lines
from tests.support.tokens import OTHER_TENANT, TENANT, auth_headers, mint

FIELDS = ("instance_url", "web_url_instance", "username", "api_token")


def post(service, *, json_body=None, data=None, headers=None, **kwargs) -> requests.Response:
    if json_body is not None:
        data = json.dumps(json_body).encode()
    response = requests.post(
        service.api,
        data=data,
        headers=auth_headers() if headers is None else headers,
        timeout=10,
        **kwargs,
    )
    return assert_conforms(response)


def items(response: requests.Response) -> list[dict]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["detail"]


def locs(response: requests.Response) -> list[list[str]]:
    return [item["loc"] for item in items(response)]


# -- 422: one item per problem, every problem at once ------------------------------------------


@pytest.mark.parametrize("field", FIELDS)
def test_a_missing_field_is_named(live, body, field):
    sent = body()
    del sent[field]
    assert items(post(live, json_body=sent)) == [
        {"loc": ["body", field], "msg": "field required", "type": "value_error.missing"}
    ]


def test_an_empty_object_lists_all_four_fields(live):
    assert items(post(live, json_body={})) == [
        {"loc": ["body", f], "msg": "field required", "type": "value_error.missing"}
        for f in FIELDS
    ]


@pytest.mark.parametrize(
    ("value", "msg", "type_"),
    [
        (None, "none is not an allowed value", "type_error.none.not_allowed"),
        (42, "str type expected", "type_error.str"),
        (["three"], "str type expected", "type_error.str"),
        ({"a": 1}, "str type expected", "type_error.str"),
        (True, "str type expected", "type_error.str"),
        ("", "ensure this value has at least 1 characters", "value_error.any_str.min_length"),
    ],
)
@pytest.mark.parametrize("field", FIELDS)
def test_a_wrong_value_gets_pydantic_vocabulary(live, body, field, value, msg, type_):
    assert items(post(live, json_body=body(**{field: value}))) == [
        {"loc": ["body", field], "msg": msg, "type": type_}
    ]


def test_a_missing_tenant_header_is_a_422_not_a_403(live, body):
    headers = auth_headers()
    del headers["x-tenantid"]
    assert items(post(live, json_body=body(), headers=headers)) == [
        {"loc": ["header", "x-tenantid"], "msg": "field required", "type": "value_error.missing"}
    ]


@pytest.mark.parametrize(
    "tenant",
    [
        "",
        "not-a-uuid",
        TENANT.replace("-", ""),  # Python's uuid.UUID takes this; the contract does not
        "{" + TENANT + "}",
        "urn:uuid:" + TENANT,
        TENANT + "0",
        TENANT[:-1] + "g",
    ],
)
def test_a_non_canonical_tenant_is_not_a_uuid(live, body, tenant):
    headers = auth_headers(mint(TENANT))
    headers["x-tenantid"] = tenant
    assert items(post(live, json_body=body(), headers=headers)) == [
        {"loc": ["header", "x-tenantid"], "msg": "value is not a valid uuid", "type": "type_error.uuid"}
    ]


def test_header_and_body_problems_come_together(live, body):
    headers = auth_headers()
    headers["x-tenantid"] = "nope"
    sent = body(username="", instance_url="ftp://acme.atlassian.net/wiki/rest/api")
    del sent["api_token"]
    assert items(post(live, json_body=sent, headers=headers)) == [
        {"loc": ["header", "x-tenantid"], "msg": "value is not a valid uuid", "type": "type_error.uuid"},
        {"loc": ["body", "instance_url"], "msg": "invalid or missing URL scheme", "type": "value_error.url.scheme"},
        {"loc": ["body", "username"], "msg": "ensure this value has at least 1 characters", "type": "value_error.any_str.min_length"},
        {"loc": ["body", "api_token"], "msg": "field required", "type": "value_error.missing"},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("field", "url", "msg", "type_"),
    [
        ("instance_url", "acme.atlassian.net/wiki/rest/api", "invalid or missing URL scheme", "value_error.url.scheme"),
        ("instance_url", "ftp://acme.atlassian.net/wiki/rest/api", "invalid or missing URL scheme", "value_error.url.scheme"),
        ("instance_url", "https://[", "URL host invalid", "value_error.url.host"),
        ("instance_url", "https://", "URL host invalid", "value_error.url.host"),
        ("instance_url", "https://acme.atlassian.net:99999/wiki/rest/api", "URL host invalid", "value_error.url.host"),
        ("instance_url", "https://user:pw@acme.atlassian.net/wiki/rest/api", "URL host invalid", "value_error.url.host"),
        ("web_url_instance", "javascript:alert(1)", "invalid or missing URL scheme", "value_error.url.scheme"),
        ("web_url_instance", "//acme.atlassian.net/wiki", "invalid or missing URL scheme", "value_error.url.scheme"),
        ("web_url_instance", "https://", "URL host invalid", "value_error.url.host"),
    ],
)  # fmt: skip
def test_url_syntax(live, body, field, url, msg, type_):
    assert items(post(live, json_body=body(**{field: url}))) == [
        {"loc": ["body", field], "msg": msg, "type": type_}
    ]


# -- lone surrogates: legal in JSON text, refused by every UTF-8 encoder ------------------------

SURROGATE = {"loc": None, "msg": "string contains a lone surrogate code point", "type": "value_error.unicodeencode"}  # fmt: skip


# chr(): tools that hold text as UTF-8 (ruff) cannot tell lone surrogates apart in source.
@pytest.mark.parametrize("surrogate", [chr(0xD800), chr(0xDFFF), chr(0xDC00) + chr(0xD800)])
@pytest.mark.parametrize("field", FIELDS)
def test_a_lone_surrogate_is_a_422_on_its_field(live, body, field, surrogate):
    sent = body()
    # in the middle of a value that is otherwise valid, so no other rule can object first
    sent[field] = sent[field][:12] + surrogate + sent[field][12:]
    raw = json.dumps(sent).encode()  # ASCII JSON: the surrogate travels as its \\u escape
    assert b"\\ud" in raw
    response = post(live, data=raw)
    assert items(response) == [SURROGATE | {"loc": ["body", field]}]
    assert response.headers["x-request-id"]


def test_every_field_with_a_surrogate_is_named_at_once(live, body):
    sent = {field: value + "\ud800" for field, value in body().items()}
    assert locs(post(live, json_body=sent)) == [["body", f] for f in FIELDS]


def test_a_surrogate_in_an_instance_url_path_never_reaches_confluence(live, body, confluence):
    # It used to: urllib3 sent it, the 404 answer's message quoted it, and writing that
    # answer failed into a plain-text 500 without x-request-id.
    confluence.clear()
    response = post(live, json_body=body(instance_url=confluence.cloud_root + "\ud800"))
    assert items(response) == [SURROGATE | {"loc": ["body", "instance_url"]}]
    assert confluence.requests == []


def test_a_surrogate_pair_written_as_two_escapes_is_one_character(live, body):
    rest = body()
    del rest["username"]
    raw = b'{"username": "three\\ud83d\\ude80", ' + json.dumps(rest)[1:].encode()
    response = post(live, data=raw)
    assert response.status_code == 200, response.text


def test_an_unknown_field_with_a_surrogate_is_ignored_like_any_unknown_field(live, body):
    assert post(live, json_body=body(colour="\ud800")).status_code == 200


# -- a header the contract wants once, sent twice ----------------------------------------------


def _lines(headers: dict[str, str], *extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [*headers.items(), *extra]


@pytest.mark.parametrize("second", [TENANT, OTHER_TENANT, "not-a-uuid"])
def test_two_tenant_headers_are_a_list_where_a_string_is_due(live, body, second):
    sent = json.dumps(body()).encode()
    response = assert_conforms(
        post_with_header_lines(live.api, sent, _lines(auth_headers(), ("x-tenantid", second)))
    )
    assert items(response) == [
        {"loc": ["header", "x-tenantid"], "msg": "str type expected", "type": "type_error.str"}
    ]


def test_two_tenant_headers_are_reported_with_the_body_problems(live, body):
    sent = json.dumps(body(username="")).encode()
    lines = _lines(auth_headers(), ("X-TenantId", TENANT))  # names compare case-insensitively
    assert locs(post_with_header_lines(live.api, sent, lines)) == [
        ["header", "x-tenantid"],
        ["body", "username"],
    ]


def test_prefer_is_a_list_field_and_may_repeat(live, body):
    sent = json.dumps(body()).encode()
    lines = _lines(auth_headers(), ("prefer", "respond-async"), ("prefer", "return=minimal"))
    response = assert_conforms(post_with_header_lines(live.api, sent, lines))
    assert response.status_code == 200, response.text


def test_unknown_fields_are_ignored(live, body):
    response = post(live, json_body=body(colour="blue", extra={"nested": [1, 2]}))
    assert response.status_code == 200, response.text
    assert [s["key"] for s in response.json()["spaces"]] == ["KB", "IT", "HR"]


def test_content_type_parameters_are_accepted(live, body):
    headers = auth_headers()
    headers["content-type"] = "Application/JSON; charset=utf-8"
    response = post(live, json_body=body(), headers=headers)
    assert response.status_code == 200, response.text


# -- 400: not a JSON object ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   ",
        b"{",
        b'{"instance_url": }',
        b"\xff\xfe{}",
        b'{"username": "\xe9"}',  # latin-1, not UTF-8
        b"null",
        b"[]",
        b'[{"instance_url": "x"}]',
        b"42",
        b'"a string"',
        b"true",
        b"NaN",
        b'{"username": NaN}',
        b"[" * 60_000,  # nested far beyond any parser's stack, yet under 64 KiB
        b'{"a":' * 10_000,
        b"\xef\xbb\xbf{}",  # a UTF-8 byte order mark
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400(live, raw):
    response = post(live, data=raw)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_json"
    assert response.json()["detail"]


# -- 413 and 415 ---------------------------------------------------------------------------------


def test_a_body_over_64_kib_is_a_413(live, body):
    response = post(live, json_body=body(padding="x" * 65_536))
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


def test_a_body_of_exactly_64_kib_is_read(live, body):
    sent = body()
    size = len(json.dumps(sent | {"padding": ""}).encode())
    sent["padding"] = "x" * (65_536 - size)
    assert len(json.dumps(sent).encode()) == 65_536
    assert post(live, json_body=sent).status_code == 200


def test_a_chunked_body_over_64_kib_is_a_413(live, body):
    def chunks():
        yield b'{"padding": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    # openapi-core cannot read a streamed request body back: the contract is checked by hand
    response = requests.post(live.api, data=chunks(), headers=auth_headers(), timeout=10)
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx", "text/json", ""])
def test_a_body_that_is_not_declared_json_is_a_415(live, body, content_type):
    headers = auth_headers()
    del headers["content-type"]
    if content_type is not None:
        headers["content-type"] = content_type
    response = post(live, data=json.dumps(body()).encode(), headers=headers)
    assert response.status_code == 415, response.text
    assert response.json()["code"] == "unsupported_media_type"


# -- routing: 404 and 405 ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"])
def test_other_methods_are_a_405_with_allow(live, method):
    response = requests.request(method, live.api, headers=auth_headers(), timeout=10)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    if method != "HEAD":
        assert response.json()["code"] == "method_not_allowed"


def test_other_methods_need_no_token(live):
    response = requests.get(live.api, timeout=10)
    assert response.status_code == 405


def test_an_unknown_path_is_a_json_404(live):
    response = requests.post(live.url + "/v2/confluence/space-listings", timeout=10)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# -- the order of checks: 401 -> 413 -> 415 -> 400 -> 422 -> 403 --------------------------------


def test_no_token_comes_before_everything(live):
    response = post(live, data=b"x" * 70_000, headers={"content-type": "text/plain"})
    assert response.status_code == 401


def test_size_comes_before_media_type(live):
    headers = auth_headers()
    headers["content-type"] = "text/plain"
    assert post(live, data=b"x" * 70_000, headers=headers).status_code == 413


def test_media_type_comes_before_json(live):
    headers = auth_headers()
    headers["content-type"] = "text/plain"
    assert post(live, data=b"{", headers=headers).status_code == 415


def test_json_comes_before_field_problems(live):
    headers = auth_headers()
    headers["x-tenantid"] = "nope"
    assert post(live, data=b"[]", headers=headers).status_code == 400


def test_field_problems_come_before_the_tenant(live, body):
    headers = auth_headers(mint(OTHER_TENANT))
    response = post(live, json_body=body(username=""), headers=headers)
    assert locs(response) == [["body", "username"]]


def test_the_tenant_comes_before_confluence(live, body, confluence):
    confluence.clear()
    headers = auth_headers(mint(OTHER_TENANT))
    response = post(live, json_body=body(), headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "tenant_mismatch"
    assert confluence.requests == []
