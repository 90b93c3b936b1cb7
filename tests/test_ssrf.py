"""The URL policy over HTTP: instance_url cannot aim spacegate at what it must not reach."""

from __future__ import annotations

import pytest
import requests

from tests.support.contract import assert_conforms
from tests.support.tokens import auth_headers


def refusal(service, sent: dict) -> dict:
    response = assert_conforms(
        requests.post(service.api, json=sent, headers=auth_headers(), timeout=20)
    )
    assert response.status_code == 422, response.text
    [item] = response.json()["detail"]
    assert item["loc"] == ["body", "instance_url"]
    return item


@pytest.fixture(scope="module")
def strict(confluence, live_settings):
    """Defaults of a real deployment, except that the stand-in's port may be named."""
    from dataclasses import replace

    from tests.support.servers import serve

    settings = replace(
        live_settings,
        allow_http=False,
        allow_private_addresses=False,
        allowed_hosts=("*.atlassian.net", f"localhost:{confluence.port}"),
    ).validated()
    with serve(settings) as service:
        yield service


def test_plain_http_is_not_permitted_by_default(strict, body):
    item = refusal(strict, body(root="http://acme.atlassian.net/wiki/rest/api"))
    assert item == {
        "loc": ["body", "instance_url"],
        "msg": "URL scheme not permitted",
        "type": "value_error.url.scheme",
    }


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/wiki/rest/api",
        "https://10.0.0.1/wiki/rest/api",
        "https://192.168.1.10/wiki/rest/api",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/wiki/rest/api",
        "https://[fd00:ec2::254]/wiki/rest/api",
        "https://0.0.0.0/wiki/rest/api",
        "https://confluence.internal.example/rest/api",
        "https://atlassian.net/wiki/rest/api",  # the bare domain is not *.atlassian.net
        "https://acme.atlassian.net.evil.example/wiki/rest/api",
        "https://acme.atlassian.net:8443/wiki/rest/api",  # no port in the pattern: 443 only
    ],
)
def test_refused_hosts(strict, body, url, confluence):
    confluence.clear()
    item = refusal(strict, body(root=url))
    assert item["type"] == "value_error.url.host"
    assert item["msg"] not in ("", "URL host invalid")
    assert confluence.requests == []


def test_metadata_addresses_are_refused_even_where_private_ones_are_allowed(serve_with, body):
    with serve_with(allowed_hosts=("*",), allow_private_addresses=True) as service:
        for url in ("http://169.254.169.254/latest", "http://[fd00:ec2::254]/latest"):
            item = refusal(service, body(root=url))
            assert item["type"] == "value_error.url.host"
            assert "metadata" in item["msg"]


def test_a_name_resolving_to_loopback_is_refused_at_connect_time(strict, body, confluence):
    # localhost:<port> is on the allow-list; what it resolves to is not allowed.
    confluence.clear()
    item = refusal(strict, body(root=f"https://localhost:{confluence.port}/wiki/rest/api"))
    assert item["type"] == "value_error.url.host"
    assert "127.0.0.1" in item["msg"] or "loopback" in item["msg"] or "private" in item["msg"]
    assert confluence.requests == []


def test_the_same_name_is_listed_when_private_addresses_are_allowed(serve_with, body, confluence):
    with serve_with(allowed_hosts=(f"localhost:{confluence.port}",)) as service:
        sent = body(root=f"http://localhost:{confluence.port}/wiki/rest/api")
        response = requests.post(service.api, json=sent, headers=auth_headers(), timeout=20)
    assert response.status_code == 200, response.text
