"""422: the URL rules, which keep a caller from sending spacegate's requests where it must not.

docs/contract.md#request-body and #the-422-vocabulary: `instance_url` is https (plain http only
where the deployment allows it), its host is a name or an address the deployment allows (cloud
metadata addresses never), and a host that is missing or cannot be parsed is refused;
`web_url_instance` is an http(s) URL without query or fragment. Each refusal is a 422 item on
the field, listed with the request's other problems and found before the tenant is compared.
Where a rule is the deployment's choice, `conformance.deployment` says which way it went.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from conformance.expectations import ProbeFailure, expect_items, listed_items
from conformance.probe_client import MISSING, ProbeClient
from conformance.probing import probe

# Literal addresses: (host as written in a URL, refused whatever the deployment allows).
# Cloud metadata services are never a Confluence; the others only a deployment may allow.
LITERAL_ADDRESSES: dict[str, tuple[str, bool]] = {
    "loopback": ("127.0.0.1", False),
    "loopback-ipv6": ("[::1]", False),
    # Forms a resolver reads as 127.0.0.1 (docs/design.md#url-policy): an address, not a name.
    "loopback-shorthand": ("127.1", False),
    "loopback-hex": ("0x7f000001", False),
    "private": ("10.0.0.1", False),
    "link-local": ("169.254.1.1", False),
    "metadata": ("169.254.169.254", True),
    "metadata-ipv6": ("[fd00:ec2::254]", True),
    "metadata-alibaba": ("100.100.100.200", True),
}
# The cloud metadata address that no deployment allows: a URL problem every target refuses.
METADATA_HOST = LITERAL_ADDRESSES["metadata"][0]


def _path(client: ProbeClient) -> str:
    """The valid instance_url's path: a mock answers only at the root it recorded."""
    return urlsplit(str(client.valid_body.get("instance_url", ""))).path or "/wiki/rest/api"


def instance_url_at(client: ProbeClient, host: str, scheme: str = "https") -> str:
    return f"{scheme}://{host}{_path(client)}"


@probe()
def plain_http_instance_url_is_422(client: ProbeClient) -> None:
    """`http://` in instance_url is a 422 value_error.url.scheme, unless the deployment allows."""
    valid = urlsplit(str(client.valid_body.get("instance_url", "")))
    http_url = valid._replace(scheme="http").geturl()
    exchange = client.post(client.body(instance_url=http_url))
    allowed = client.deployment.allows_http
    if allowed is None:
        expect_items(
            exchange,
            (("body", "instance_url"), "value_error.url.scheme"),
            hint="a target that allows plain http is checked with --allows-http",
        )
        return
    refused = (("body", "instance_url"), "value_error.url.scheme") in listed_items(exchange)
    if refused:
        raise ProbeFailure(
            "Plain http refused",
            expected=f"no value_error.url.scheme for an http instance_url ({allowed})",
            received="422 value_error.url.scheme",
        )


def _literal_addresses(client: ProbeClient) -> dict[str, tuple[str, bool]]:
    allowed = client.deployment.allows_private_addresses
    if allowed is None:
        return LITERAL_ADDRESSES
    return {label: case for label, case in LITERAL_ADDRESSES.items() if case[1]}


@probe(variants=_literal_addresses)
def literal_address_instance_url_is_422(client: ProbeClient, case: tuple[str, bool]) -> None:
    """A loopback, private, link-local or metadata address in instance_url is a 422 url.host.

    Metadata addresses always; the others unless the deployment allows private addresses
    (then those variants are not run).
    """
    host, always = case
    exchange = client.post(client.body(instance_url=instance_url_at(client, host)))
    hint = "" if always else "a target allowing private addresses: --allows-private-addresses"
    expect_items(exchange, (("body", "instance_url"), "value_error.url.host"), hint=hint)


# Hosts that are missing or cannot be read (docs/contract.md#the-422-vocabulary).
UNREADABLE_HOSTS = {
    "open-bracket": "https://[",
    "port-only": "https://:443",
    "empty": "https://",
}


@probe(
    variants={
        f"{field}-{label}": (field, prefix)
        for field in ("instance_url", "web_url_instance")
        for label, prefix in UNREADABLE_HOSTS.items()
    }
)
def unreadable_host_is_422(client: ProbeClient, case: tuple[str, str]) -> None:
    """A URL whose host is missing or unparseable (`https://[`) is a 422 value_error.url.host."""
    field, prefix = case
    exchange = client.post(client.body(**{field: prefix + "/wiki/rest/api"}))
    expect_items(exchange, (("body", field), "value_error.url.host"))


@probe(
    variants={
        "instance_url-ftp": ("instance_url", "ftp://acme.atlassian.net/wiki/rest/api"),
        "instance_url-no-scheme": ("instance_url", "acme.atlassian.net/wiki/rest/api"),
        "web_url_instance-javascript": ("web_url_instance", "javascript:alert(1)"),
        "web_url_instance-data": ("web_url_instance", "data:text/html,<h1>hi</h1>"),
        "web_url_instance-ftp": ("web_url_instance", "ftp://acme.atlassian.net/wiki"),
        "web_url_instance-no-scheme": ("web_url_instance", "//acme.atlassian.net/wiki"),
    }
)
def non_http_scheme_is_422(client: ProbeClient, case: tuple[str, str]) -> None:
    """A URL field without an http(s) scheme is a 422 value_error.url.scheme on that field."""
    field, url = case
    exchange = client.post(client.body(**{field: url}))
    expect_items(exchange, (("body", field), "value_error.url.scheme"))


@probe(variants={"query": "?view=all", "fragment": "#top", "both": "?a=1#b"})
def web_url_instance_extra_parts_are_422(client: ProbeClient, extra: str) -> None:
    """A query or fragment in web_url_instance is a 422 value_error.url.* on it, not a link."""
    web_url = urlsplit(str(client.valid_body.get("web_url_instance", "")))
    bare = web_url._replace(query="", fragment="").geturl() or "https://acme.atlassian.net/wiki"
    exchange = client.post(client.body(web_url_instance=bare + extra))
    expect_items(exchange, (("body", "web_url_instance"), "value_error.url.*"))


@probe()
def url_problems_come_with_the_others(client: ProbeClient) -> None:
    """A refused instance_url is listed in the same 422 as a bad x-tenantid and a missing field."""
    body = client.body(instance_url=instance_url_at(client, METADATA_HOST), api_token=MISSING)
    exchange = client.post(body, tenant="not-a-uuid")
    expect_items(
        exchange,
        (("header", "x-tenantid"), "type_error.uuid"),
        (("body", "instance_url"), "value_error.url.host"),
        (("body", "api_token"), "value_error.missing"),
    )
