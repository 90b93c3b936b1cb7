"""UrlPolicy: the static instance_url rules of the 422 table, and address refusals.

docs/contract.md#the-422-vocabulary, docs/design.md#url-policy
"""

from __future__ import annotations

import ipaddress

import pytest

from service.confluence.urlpolicy import UrlPolicy
from service.settings import Settings

LOC = ("body", "instance_url")

SCHEME_INVALID = ("invalid or missing URL scheme", "value_error.url.scheme")
SCHEME_NOT_PERMITTED = ("URL scheme not permitted", "value_error.url.scheme")
HOST_INVALID = ("URL host invalid", "value_error.url.host")

DEFAULT = UrlPolicy(
    allowed_hosts=("*.atlassian.net",), allow_http=False, allow_private_addresses=False
)
LAB = UrlPolicy(
    allowed_hosts=(
        "127.0.0.1:8080",
        "localhost:8080",
        "confluence.example.com",
        "[::1]:8443",
        "10.0.0.7",
    ),
    allow_http=True,
    allow_private_addresses=True,
)
ANY = UrlPolicy(allowed_hosts=("*",), allow_http=False, allow_private_addresses=False)
MOCK = UrlPolicy(
    allowed_hosts=("*.atlassian.net",),
    allow_http=False,
    allow_private_addresses=False,
    enforce_allow_list=False,
)


def refused(*fragments: str) -> tuple[str, ...]:
    """A url_host_refused problem whose sentence holds every fragment."""
    return ("refused", *fragments)


CASES = [
    # (policy, url, expected): None = no problem
    (DEFAULT, "https://acme.atlassian.net/wiki/rest/api", None),
    (DEFAULT, "https://acme.atlassian.net/wiki/rest/api/", None),
    (DEFAULT, "https://a.b.c.atlassian.net/wiki/rest/api", None),
    (DEFAULT, "https://ACME.Atlassian.NET./wiki/rest/api", None),
    (DEFAULT, "HTTPS://acme.atlassian.net:443/wiki/rest/api?x=1#frag", None),
    (DEFAULT, "https://café.atlassian.net/wiki/rest/api", None),
    (DEFAULT, "https://xn--caf-dma.atlassian.net/wiki/rest/api", None),
    (DEFAULT, "  https://acme.atlassian.net/wiki/rest/api  ", None),
    # scheme
    (DEFAULT, "", SCHEME_INVALID),
    (DEFAULT, "acme.atlassian.net/wiki/rest/api", SCHEME_INVALID),
    (DEFAULT, "//acme.atlassian.net/wiki/rest/api", SCHEME_INVALID),
    (DEFAULT, "ftp://acme.atlassian.net/wiki", SCHEME_INVALID),
    (DEFAULT, "javascript:alert(1)", SCHEME_INVALID),
    (DEFAULT, "file:///etc/passwd", SCHEME_INVALID),
    (DEFAULT, "http://acme.atlassian.net/wiki/rest/api", SCHEME_NOT_PERMITTED),
    (DEFAULT, "HTTP://acme.atlassian.net/wiki/rest/api", SCHEME_NOT_PERMITTED),
    # host shape
    (DEFAULT, "https://", HOST_INVALID),
    (DEFAULT, "https://[", HOST_INVALID),
    (DEFAULT, "https://[::1", HOST_INVALID),
    (DEFAULT, "https://]acme.atlassian.net", HOST_INVALID),
    (DEFAULT, "https:acme.atlassian.net", HOST_INVALID),
    (DEFAULT, "https:///wiki/rest/api", HOST_INVALID),
    (DEFAULT, "https://:443/wiki", HOST_INVALID),
    (DEFAULT, "https://acme.atlassian.net:99999/wiki", HOST_INVALID),
    (DEFAULT, "https://acme.atlassian.net:abc/wiki", HOST_INVALID),
    (DEFAULT, "https://acme.atlassian.net:0/wiki", HOST_INVALID),
    (DEFAULT, "https://user@acme.atlassian.net/wiki", HOST_INVALID),
    (DEFAULT, "https://user:secret@acme.atlassian.net/wiki", HOST_INVALID),
    (DEFAULT, "https://evil.example\\@acme.atlassian.net/wiki", HOST_INVALID),
    (DEFAULT, "https://exa mple.atlassian.net/wiki", HOST_INVALID),
    (DEFAULT, "https://acme.atl\tassian.net/wiki", HOST_INVALID),
    (DEFAULT, "https://acme..atlassian.net/wiki", HOST_INVALID),
    (DEFAULT, "https://-acme.atlassian.net/wiki", HOST_INVALID),
    (DEFAULT, "https://acme%2eatlassian.net/wiki", HOST_INVALID),
    (DEFAULT, "https://[not-an-ip]/wiki", HOST_INVALID),
    (DEFAULT, "https://999.1.1.1/wiki", HOST_INVALID),
    # literal addresses
    (DEFAULT, "https://127.0.0.1/rest/api", refused("127.0.0.1", "loopback", "public")),
    (DEFAULT, "https://10.1.2.3/rest/api", refused("10.1.2.3", "private address")),
    (DEFAULT, "https://192.168.0.10:8443/rest/api", refused("private address")),
    (DEFAULT, "https://169.254.169.254/latest/meta-data", refused("metadata", "never")),
    (DEFAULT, "https://169.254.10.10/", refused("link-local")),
    (DEFAULT, "https://0.0.0.0/", refused("unspecified")),
    (DEFAULT, "https://224.0.0.1/", refused("multicast")),
    (DEFAULT, "https://240.0.0.1/", refused("private address")),
    (DEFAULT, "https://100.64.0.1/", refused("reserved address")),
    (DEFAULT, "https://100.100.100.200/", refused("metadata")),
    (DEFAULT, "https://[::1]/rest/api", refused("loopback")),
    (DEFAULT, "https://[fd00:ec2::254]/", refused("metadata")),
    (DEFAULT, "https://[::ffff:169.254.169.254]/", refused("metadata")),
    (DEFAULT, "https://[::ffff:10.0.0.1]/", refused("private address")),
    (DEFAULT, "https://[64:ff9b::a9fe:a9fe]/", refused("metadata")),
    (DEFAULT, "https://[fe80::1%25eth0]/", refused("link-local")),
    (DEFAULT, "https://[fc00::1]/", refused("private address")),
    (DEFAULT, "https://2130706433/rest/api", refused("loopback")),
    (DEFAULT, "https://0x7f.1/rest/api", refused("loopback")),
    (DEFAULT, "https://127.1/rest/api", refused("loopback")),
    (DEFAULT, "https://8.8.8.8/rest/api", refused("8.8.8.8", "not an allowed", "*.atlassian.net")),
    # allow-list
    (DEFAULT, "https://atlassian.net/wiki/rest/api", refused("atlassian.net", "*.atlassian.net")),
    (DEFAULT, "https://evilatlassian.net/wiki/rest/api", refused("not an allowed")),
    (DEFAULT, "https://acme.atlassian.net.evil.example/wiki", refused("not an allowed")),
    (DEFAULT, "https://acme.atlassian.net:8443/wiki", refused("acme.atlassian.net:8443")),
    (DEFAULT, "https://localhost/rest/api", refused("localhost", "*.atlassian.net")),
    # a lab: http, private addresses and ports allowed explicitly
    (LAB, "http://127.0.0.1:8080/rest/api", None),
    (LAB, "https://127.0.0.1:8080/rest/api", None),
    (LAB, "http://LOCALHOST.:8080/rest/api", None),
    (LAB, "http://127.0.0.1/rest/api", refused("127.0.0.1", "127.0.0.1:8080")),
    (LAB, "http://127.0.0.1:8081/rest/api", refused("127.0.0.1:8081")),
    (LAB, "https://confluence.example.com/rest/api", None),
    (LAB, "https://confluence.example.com:443/rest/api", None),
    (LAB, "http://confluence.example.com/rest/api", None),
    (LAB, "http://confluence.example.com:443/rest/api", refused("not an allowed")),
    (LAB, "https://wiki.confluence.example.com/rest/api", refused("not an allowed")),
    (LAB, "https://[::1]:8443/rest/api", None),
    (LAB, "https://[::1]/rest/api", refused("[::1]")),
    (LAB, "https://10.0.0.7/rest/api", None),
    (LAB, "https://169.254.169.254/", refused("metadata")),
    (LAB, "https://[::ffff:a9fe:a9fe]/", refused("metadata")),
    # "*" allows any host on the default port; addresses are still judged
    (ANY, "https://wiki.example.org/rest/api", None),
    (ANY, "https://wiki.example.org:8443/rest/api", refused("wiki.example.org:8443")),
    (ANY, "https://10.0.0.1/rest/api", refused("private address")),
    (ANY, "https://169.254.169.254/", refused("metadata")),
    # mock mode: no allow-list, but literal addresses are still judged
    (MOCK, "https://anything.example/wiki/rest/api", None),
    (MOCK, "https://10.0.0.1/wiki/rest/api", refused("private address")),
    (MOCK, "https://169.254.169.254/wiki/rest/api", refused("metadata")),
    (MOCK, "http://anything.example/wiki/rest/api", SCHEME_NOT_PERMITTED),
]


@pytest.mark.parametrize(("policy", "url", "expected"), CASES, ids=[c[1] or "empty" for c in CASES])
def test_instance_url_problems(policy: UrlPolicy, url: str, expected: tuple[str, ...] | None):
    found = policy.problems(LOC, url)
    if expected is None:
        assert found == []
        return
    assert len(found) == 1, found  # only the first failing rule answers
    (problem,) = found
    assert problem["loc"] == list(LOC)
    if expected[0] == "refused":
        assert problem["type"] == "value_error.url.host"
        for fragment in expected[1:]:
            assert fragment in problem["msg"], problem["msg"]
    else:
        assert (problem["msg"], problem["type"]) == expected


def test_allow_list_sentence_names_the_patterns():
    policy = UrlPolicy(("*.atlassian.net", "wiki.example.com:8443"), False, False)
    (problem,) = policy.problems(LOC, "https://confluence.example.org/rest/api")
    assert "*.atlassian.net, wiki.example.com:8443" in problem["msg"]
    assert problem["msg"].startswith("confluence.example.org is not an allowed Confluence host")


WEB_CASES = [
    ("https://acme.atlassian.net/wiki", None),
    ("https://acme.atlassian.net/wiki/", None),
    ("http://localhost:8080", None),  # never fetched: no host policy
    ("https://10.0.0.1/wiki", None),
    ("https://169.254.169.254/", None),
    ("javascript:alert(1)", SCHEME_INVALID),
    ("data:text/html,hi", SCHEME_INVALID),
    ("acme.atlassian.net/wiki", SCHEME_INVALID),
    ("", SCHEME_INVALID),
    ("https://", HOST_INVALID),
    ("https://[", HOST_INVALID),
    ("https://acme.atlassian.net@evil.example/wiki", HOST_INVALID),
    ("https://acme.atlassian.net:99999/wiki", HOST_INVALID),
]


@pytest.mark.parametrize(("url", "expected"), WEB_CASES)
def test_web_url_problems(url: str, expected: tuple[str, str] | None):
    loc = ("body", "web_url_instance")
    found = DEFAULT.web_url_problems(loc, url)
    if expected is None:
        assert found == []
    else:
        assert [(p["msg"], p["type"], p["loc"]) for p in found] == [(*expected, list(loc))]


ADDRESS_CASES = [
    # (address, refused by default, refused with private addresses allowed)
    ("8.8.8.8", False, False),
    ("2606:4700::1111", False, False),
    ("127.0.0.1", True, False),
    ("::1", True, False),
    ("::ffff:127.0.0.1", True, False),
    ("10.0.0.1", True, False),
    ("172.16.5.4", True, False),
    ("192.168.1.1", True, False),
    ("169.254.1.1", True, False),
    ("fe80::1", True, False),
    ("0.0.0.0", True, False),
    ("::", True, False),
    ("224.0.0.251", True, False),
    ("ff02::1", True, False),
    ("100.64.0.1", True, False),
    ("192.0.2.1", True, False),
    ("2002:7f00:1::1", True, False),  # 6to4 around 127.0.0.1
    ("64:ff9b::808:808", False, False),  # NAT64 around 8.8.8.8
    ("169.254.169.254", True, True),
    ("fd00:ec2::254", True, True),
    ("::ffff:169.254.169.254", True, True),
    ("64:ff9b::a9fe:a9fe", True, True),
    ("2002:a9fe:a9fe::", True, True),
    ("100.100.100.200", True, True),
]


@pytest.mark.parametrize(("address", "by_default", "when_private_allowed"), ADDRESS_CASES)
def test_address_refusal(address: str, by_default: bool, when_private_allowed: bool):
    ip = ipaddress.ip_address(address)
    strict = UrlPolicy(("*.atlassian.net",), False, False)
    lenient = UrlPolicy(("*.atlassian.net",), False, True)
    assert (strict.address_refusal(ip) is not None) is by_default
    assert (lenient.address_refusal(ip) is not None) is when_private_allowed


def test_address_refusal_names_the_host_when_given():
    policy = UrlPolicy(("*.atlassian.net",), False, False)
    sentence = policy.address_refusal(ipaddress.ip_address("10.9.8.7"), host="wiki.internal")
    assert sentence == (
        "wiki.internal resolves to 10.9.8.7, a private address; "
        "spacegate only connects to public Confluence sites"
    )
    metadata = policy.address_refusal(ipaddress.ip_address("169.254.169.254"))
    assert metadata == "169.254.169.254 is a cloud metadata address; spacegate never connects to it"


def test_from_settings():
    settings = Settings(
        allowed_hosts=("*.atlassian.net", "wiki.example.com:8443"),
        allow_http=True,
        allow_private_addresses=True,
    )
    policy = UrlPolicy.from_settings(settings, enforce_allow_list=False)
    assert policy == UrlPolicy(
        allowed_hosts=("*.atlassian.net", "wiki.example.com:8443"),
        allow_http=True,
        allow_private_addresses=True,
        enforce_allow_list=False,
    )
    assert UrlPolicy.from_settings(Settings()).enforce_allow_list is True
    assert UrlPolicy.from_settings(Settings()).problems(LOC, "https://x.atlassian.net/") == []
