"""UrlPolicy: the static URL rules of the contract's 422 table, the one reading of a URL
(`Origin.of`) they rest on, and address refusals.

docs/contract.md#the-422-vocabulary, docs/design.md#url-policy
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import pytest
import requests

from service.confluence.origin import Origin, Refusal, parse_host
from service.confluence.urlpolicy import UrlPolicy, web_url_refusal
from service.problems import Problem
from service.settings import Settings
from service.url_rule import url_policy, url_problem

LOC = ("body", "instance_url")
WEB_LOC = ("body", "web_url_instance")


def problems(policy: UrlPolicy, url: str) -> list[Problem]:
    """What the web layer answers for `url` as instance_url."""
    refusal = policy.refusal(url)
    return [] if refusal is None else [url_problem(LOC, refusal)]

SCHEME_INVALID = ("invalid or missing URL scheme", "value_error.url.scheme")
SCHEME_NOT_PERMITTED = ("URL scheme not permitted", "value_error.url.scheme")
HOST_INVALID = ("URL host invalid", "value_error.url.host")


def extra(extra: str) -> tuple[str, str]:
    return (f"URL invalid, extra characters found after valid URL: {extra!r}", "value_error.url.extra")

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
    (DEFAULT, "https://[fe80::1%25eth0]/", HOST_INVALID),  # a zone id: urllib3 decodes it
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
    found = problems(policy, url)
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
    (problem,) = problems(policy, "https://confluence.example.org/rest/api")
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
    ("https://evil.example\\@acme.atlassian.net/wiki", HOST_INVALID),
    # a query or fragment would land in the middle of every link: pydantic's UrlExtraError
    ("https://acme.atlassian.net/wiki?x=1", extra("?x=1")),
    ("https://acme.atlassian.net/wiki#frag", extra("#frag")),
    ("https://acme.atlassian.net/wiki?x=1#frag", extra("?x=1#frag")),
    ("https://acme.atlassian.net/wiki?", extra("?")),
    ("https://acme.atlassian.net?x=1", extra("?x=1")),
    ("https://acme.atlassian.net/wiki/#", extra("#")),
]


@pytest.mark.parametrize(("url", "expected"), WEB_CASES)
def test_web_url_refusal(url: str, expected: tuple[str, str] | None):
    refusal = web_url_refusal(url)
    if expected is None:
        assert refusal is None
    else:
        assert refusal is not None
        problem = url_problem(WEB_LOC, refusal)
        assert (problem["msg"], problem["type"], problem["loc"]) == (*expected, list(WEB_LOC))


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


def test_the_policy_of_a_deployment():
    settings = Settings(
        allowed_hosts=("*.atlassian.net", "wiki.example.com:8443"),
        allow_http=True,
        allow_private_addresses=True,
    )
    policy = url_policy(settings, enforce_allow_list=False)
    assert policy == UrlPolicy(
        allowed_hosts=("*.atlassian.net", "wiki.example.com:8443"),
        allow_http=True,
        allow_private_addresses=True,
        enforce_allow_list=False,
    )
    shipped = url_policy(Settings(), enforce_allow_list=True)
    assert shipped.refusal("https://x.atlassian.net/") is None
    assert shipped.refusal("https://x.example/") is not None


# --- one reading of a URL: Origin.of -----------------------------------------------------------

# URLs that parsers read differently (urlsplit, urllib3, WHATWG), each refused, never guessed at.
DIVERGENT = [
    # a backslash ends urllib3's authority, not urlsplit's: the credential leak of issue 7
    "https://evil.example\\@acme.atlassian.net/wiki",
    "https://evil.example\\.acme.atlassian.net/wiki",
    "https://acme.atlassian.net\\@evil.example/wiki",
    "https://acme.atlassian.net/wiki\\..\\evil",  # WHATWG reads these as slashes
    # user-info: never ours to send, and `:port@` reads as a port to some parsers
    "https://user@acme.atlassian.net/wiki",
    "https://user:secret@acme.atlassian.net/wiki",
    "https://acme.atlassian.net:443@evil.example/wiki",
    # percent-encoded delimiters (and letters) in the authority: urllib3 decodes some
    "https://acme.atlassian.net%40evil.example/wiki",
    "https://evil.example%2F@acme.atlassian.net/wiki",
    "https://evil.example%2f.acme.atlassian.net/wiki",
    "https://evil.example%5C@acme.atlassian.net/wiki",
    "https://acme.atlassian.net%3A443/wiki",
    "https://acme%2eatlassian.net/wiki",
    # whitespace and control characters: urlsplit drops tab/CR/LF, urllib3 refuses or encodes
    "https://acme.atlassian.net\t/wiki",
    "https://acme.atlas\tsian.net/wiki",
    "https://acme.atlassian.net\n.evil.example/wiki",
    "https://acme.atlassian.net\r/wiki",
    "https://acme.atlassian.net /wiki",
    "https://acme.atlassian.net/wi\tki",
    "https://acme.atlassian.net\x00.evil.example/wiki",
    "https://acme.atlassian.net\x0b/wiki",
    "https://acme.atlassian.net\x7f/wiki",
    "https://acme.atlassian.net\u00a0/wiki",
    "https://acme.atlassian.net\u3000/wiki",
    "https://acme.atlassian.net\u200b/wiki",
    "https://acme.atlassian.net\u2028/wiki",
    # IPv6 zone ids: urllib3 decodes %25, urlsplit keeps it
    "https://[fe80::1%25eth0]/wiki",
    "https://[fe80::1%eth0]/wiki",
    "https://[::1%2525]/wiki",
    # full stops of other scripts: dots to Python's IDNA codec, refused by urllib3's
    "https://acme.atlassian.net\uff0eevil.example/wiki",
    "https://acme.atlassian.net\u3002evil.example/wiki",
]


OPEN = UrlPolicy(allowed_hosts=("*",), allow_http=True, allow_private_addresses=True)


@pytest.mark.parametrize("url", DIVERGENT, ids=repr)
def test_a_url_parsers_read_differently_is_refused(url: str):
    refusal = Origin.of(url)
    assert isinstance(refusal, Refusal)
    assert refusal.kind is Refusal.Kind.HOST_INVALID
    # No policy lets it through, however open: the reading comes before any rule.
    assert problems(OPEN, url) == [{"loc": list(LOC), "msg": HOST_INVALID[0], "type": HOST_INVALID[1]}]


@pytest.mark.parametrize("space", ["\t", "\n", " ", "\u3000"], ids=repr)
def test_only_instance_url_may_be_wrapped_in_whitespace(space: str):
    # A caller's instance_url is stripped, by the policy and the client alike; a URL from
    # Confluence (Location, next, base) is taken as it comes, so whitespace around it is refused.
    url = f"{space}https://acme.atlassian.net/wiki{space}"
    assert OPEN.refusal(url) is None
    assert isinstance(Origin.of(url), Refusal)
    assert isinstance(Origin.of(url.lstrip()), Refusal)


# URLs read the same by every parser, in the forms Confluence and operators write.
READABLE = [
    "https://acme.atlassian.net/wiki/rest/api",
    "HTTPS://ACME.Atlassian.NET./wiki/rest/api?x=1#frag",
    "https://acme.atlassian.net:443/wiki/api/v2/spaces?cursor=eyJpZCI6IjEifQ==&limit=250",
    "https://acme.atlassian.net:0443/wiki",
    "https://acme.atlassian.net:/wiki",
    "http://confluence.example.com:8090/rest/api/space?start=25&limit=25",
    "https://café.atlassian.net/wiki/rest/api",
    "https://straße.example/rest/api",
    "https://xn--caf-dma.atlassian.net/wiki",
    "https://10.0.0.7/rest/api",
    "https://127.1/rest/api",
    "https://0x7f000001/rest/api",
    "https://[::1]:8443/rest/api",
    "https://[::ffff:127.0.0.1]/rest/api",
    "https://acme.atlassian.net/wiki/rest/api/space?next=%2Fwiki%40x&a=%5C",
    "https://acme.atlassian.net/wiki/spaces/%C3%A9t%C3%A9",
    "https://acme.atlassian.net/wiki/spaces/été",
]


@pytest.mark.parametrize("url", READABLE)
def test_the_origin_is_where_requests_connects(url: str):
    origin = Origin.of(url)
    assert isinstance(origin, Origin)
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, None)
    # requests' adapter pools (and so connects) by the host and port of the prepared URL, as
    # urllib.parse reads it; urllib3 wrote that host back.
    parts = urlsplit(prepared.url)
    assert parse_host(parts.hostname or "") == origin.host
    assert (parts.port or {"http": 80, "https": 443}[parts.scheme]) == origin.port
    assert parts.scheme == origin.scheme
    # The send-time check reads the prepared URL the same way as the client read the original.
    assert Origin.of(prepared.url) == origin


def test_idna_is_urllib3s():
    # Python's own IDNA codec reads straße as strasse, a different host from the one urllib3
    # connects to (xn--strae-oqa): the allow-list judges the host that is connected to.
    origin = Origin.of("https://straße.example/rest/api")
    assert isinstance(origin, Origin)
    assert origin.host == "xn--strae-oqa.example"
    strasse = UrlPolicy(allowed_hosts=("strasse.example",), allow_http=False, allow_private_addresses=False)
    (problem,) = problems(strasse, "https://straße.example/rest/api")
    assert problem["type"] == "value_error.url.host"
    assert "xn--strae-oqa.example is not an allowed Confluence host" in problem["msg"]
    written = UrlPolicy(allowed_hosts=("straße.example",), allow_http=False, allow_private_addresses=False)
    assert written.refusal("https://straße.example/rest/api") is None
    assert written.refusal("https://xn--strae-oqa.example/rest/api") is None
    assert written.refusal("https://strasse.example/rest/api") is not None
