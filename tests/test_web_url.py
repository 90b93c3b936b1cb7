"""web_url_instance over HTTP: a prefix for each space's link, so a query or fragment is refused."""

from __future__ import annotations

import pytest
import requests

from tests.support.contract import assert_conforms
from tests.support.tokens import auth_headers


def post(service, sent: dict) -> requests.Response:
    return assert_conforms(requests.post(service.api, json=sent, headers=auth_headers(), timeout=20))


@pytest.mark.parametrize(
    ("suffix", "extra"),
    [("?x=1", "?x=1"), ("#frag", "#frag"), ("/?x=1#frag", "?x=1#frag"), ("?", "?")],
)
def test_a_query_or_fragment_is_refused(live, body, confluence, suffix: str, extra: str):
    confluence.clear()
    sent = body(web_url_instance=f"{confluence.url}/wiki{suffix}")
    response = post(live, sent)
    assert response.status_code == 422, response.text
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "web_url_instance"],
                "msg": f"URL invalid, extra characters found after valid URL: {extra!r}",
                "type": "value_error.url.extra",
            }
        ]
    }
    assert confluence.requests == []  # refused with the field problems, before Confluence


def test_it_comes_with_the_other_problems(live, body):
    sent = body(web_url_instance="https://acme.atlassian.net/wiki#x", username="")
    response = post(live, sent)
    assert response.status_code == 422, response.text
    assert [item["loc"] for item in response.json()["detail"]] == [
        ["body", "username"],
        ["body", "web_url_instance"],
    ]


def test_without_them_the_links_are_built_from_it(live, body, confluence):
    response = post(live, body(web_url_instance=f"{confluence.url}/wiki/"))
    assert response.status_code == 200, response.text
    urls = [space["url"] for space in response.json()["spaces"]]
    assert urls
    assert all(url.startswith(f"{confluence.url}/wiki/spaces/") for url in urls)
