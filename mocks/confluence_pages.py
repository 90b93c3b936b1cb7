"""A hand-written listing as the interactions a recording of Confluence would hold.

Confluence's page shapes per flavour (docs/design.md#talking-to-confluence):

    cloud        v2  GET /wiki/api/v2/spaces?limit=250, then ?cursor=…&limit=N; `_links.next`
                     starts with /wiki, a `Link` header repeats it; ids are strings; /spaces/KEY
    cloud-v1     v2 answers 404 (JSON), then v1 GET /wiki/rest/api/space?limit=250, then
                     ?next=true&limit=N&start=S; `_links.next` is relative to `_links.base`
                     (…/wiki); ids are numbers; /spaces/KEY
    data-center  v1 at /rest/api/space, `_links.base` the site itself; /display/KEY

The first request of each API is the one the client sends (`?limit=250`); the pages after it
are whatever `next` says, so they match whatever the client follows. Hosts are
`RECORDED_ORIGIN`, which replay replaces by the caller's. An `upstream` failure is placed
before the first page, `times` times (once, repeating, when the listing never comes), in the
shape Confluence sends it: 403 JSON, 404 XML, 429 with Retry-After, 503 HTML, a 200 login page,
or a transport fault (mocks.scenarios.FAULTS).
"""

from __future__ import annotations

import base64
import http
import itertools
import json
from collections.abc import Iterator, Sequence
from urllib.parse import quote
from xml.sax.saxutils import escape

from vcr.request import Request

from mocks.scenario_file import Flavour, ListingFile, UpstreamFailure, WrittenSpace
from mocks.scenarios import RECORDED_ORIGIN, Interaction

__all__ = ["DEFAULT_PAGE_SIZE", "ROOTS", "listing_interactions"]

# The instance_url path each flavour is reached at.
ROOTS: dict[Flavour, str] = {
    "cloud": "/wiki/rest/api",
    "cloud-v1": "/wiki/rest/api",
    "data-center": "/rest/api",
}
# What Confluence gives for the client's limit=250: Cloud grants it, Data Center caps at 25.
DEFAULT_PAGE_SIZE: dict[Flavour, int] = {"cloud": 250, "cloud-v1": 250, "data-center": 25}

_FIRST_LIMIT = 250  # the limit the client's first request asks for (service.confluence.client)
_FIRST_ID = 98306  # ids made up for spaces the file gives none, counting up from here
# Stable stand-ins for values each Confluence site has its own of.
_ACCOUNT_ID = "5b10ac8d82e05b22cc7d4ef5"
_SITE_ID = "a436116f-02ce-4520-8fbb-7301462a1674"
_CREATED_AT = "2024-01-10T09:00:00.000Z"

_JSON = "application/json;charset=UTF-8"
_TEXT = "text/plain;charset=UTF-8"
_HTML = "text/html;charset=UTF-8"
_XML = "application/xml"
_FAULTS = {"timeout": "timeout", "connection-refused": "connection-refused"}
_UNEXPECTED = "unexpected-exception"

_CLOUD_LOGIN_PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    '<title>Log in with Atlassian account</title></head><body><div id="root">'
    '<form id="form-login" method="post" action="/login"><label for="username">Email</label>'
    '<input id="username" name="username" type="email"><button type="submit">Continue</button>'
    "</form></div></body></html>"
)
_DC_LOGIN_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Log In - Confluence</title></head>'
    '<body><form name="loginform" method="POST" action="/dologin.action">'
    '<input type="text" name="os_username" id="os_username"><input type="password" '
    'name="os_password" id="os_password"><input type="submit" value="Log in"></form>'
    "</body></html>"
)
_UNAVAILABLE_PAGE = (
    "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
    "<body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your "
    "request.</p></body></html>"
)
_RATE_LIMIT_HEADERS = (
    ("X-RateLimit-Limit", "100"),
    ("X-RateLimit-Remaining", "0"),
    ("X-RateLimit-FillRate", "10"),
    ("X-RateLimit-Interval-Seconds", "1"),
)
_DEFAULT_RETRY_AFTER = 1  # a 429 always names a wait


def _answer(
    uri: str,
    status: int,
    body: bytes = b"",
    content_type: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
    fault: str | None = None,
) -> Interaction:
    sent = ((("Content-Type", content_type),) if content_type else ()) + tuple(headers)
    return Interaction(
        request=Request("GET", uri, None, {}),
        status=status,
        reason=http.HTTPStatus(status).phrase if status else "",
        headers=sent,
        body=body,
        fault=fault,
    )


def _json(
    uri: str, status: int, payload: object, headers: Sequence[tuple[str, str]] = ()
) -> Interaction:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return _answer(uri, status, body, _JSON, headers)


def _ids(spaces: Sequence[WrittenSpace]) -> list[int]:
    """Each space's id: the file's, or the next free one counting up from _FIRST_ID."""
    taken = {space.id for space in spaces if space.id is not None}
    free = (n for n in itertools.count(_FIRST_ID) if n not in taken)
    return [space.id if space.id is not None else next(free) for space in spaces]


def _webui(key: str, flavour: Flavour) -> str:
    return f"/display/{key}" if flavour == "data-center" else f"/spaces/{key}"


def _v2_space(space: WrittenSpace, space_id: int) -> dict[str, object]:
    return {
        "id": str(space_id),
        "key": space.key,
        "name": space.name,
        "type": space.type,
        "status": space.status,
        "authorId": _ACCOUNT_ID,
        "createdAt": _CREATED_AT,
        "homepageId": str(space_id + 1_000_000),
        "description": None,
        "icon": None,
        "currentActiveAlias": space.key,
        "_links": {"webui": _webui(space.key, "cloud")},
    }


def _v1_space(space: WrittenSpace, space_id: int, base: str, flavour: Flavour) -> dict[str, object]:
    key = quote(space.key, safe="~")
    item: dict[str, object] = {"id": space_id, "key": space.key}
    if flavour != "data-center":
        # Newer Cloud objects carry these; Data Center never does.
        item["alias"] = space.key
        item["ari"] = f"ari:cloud:confluence:{_SITE_ID}:space/{space_id}"
    item |= {
        "name": space.name,
        "type": space.type,
        "status": space.status,
        "_expandable": {
            "settings": f"/rest/api/space/{key}/settings",
            "metadata": "",
            "operations": "",
            "lookAndFeel": f"/rest/api/settings/lookandfeel?spaceKey={key}",
            "identifiers": "",
            "permissions": "",
            "icon": "",
            "description": "",
            "theme": f"/rest/api/space/{key}/theme",
            "history": "",
            "homepage": f"/rest/api/content/{space_id + 1_000_000}",
        },
        "_links": {"webui": _webui(space.key, flavour), "self": f"{base}/rest/api/space/{key}"},
    }
    return item


def _chunks(spaces: Sequence[WrittenSpace], size: int) -> list[range]:
    return [range(start, min(start + size, len(spaces))) for start in range(0, len(spaces), size)]


def _cursor(space_id: int) -> str:
    # Opaque to clients; Confluence's is base64url JSON naming where the next page starts.
    raw = json.dumps({"id": str(space_id), "contentOrder": "id"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _v2_pages(spaces: Sequence[WrittenSpace], ids: list[int], size: int) -> Iterator[Interaction]:
    base = f"{RECORDED_ORIGIN}/wiki"
    pages = _chunks(spaces, size) or [range(0)]
    uri = f"{RECORDED_ORIGIN}/wiki/api/v2/spaces?limit={_FIRST_LIMIT}"
    for number, page in enumerate(pages):
        links: dict[str, str] = {}
        headers: list[tuple[str, str]] = []
        if number + 1 < len(pages):
            following = f"/wiki/api/v2/spaces?cursor={_cursor(ids[pages[number + 1][0]])}"
            links["next"] = f"{following}&limit={size}"
            headers.append(("Link", f'<{links["next"]}>; rel="next", <{base}>; rel="base"'))
        links["base"] = base
        results = [_v2_space(spaces[i], ids[i]) for i in page]
        yield _json(uri, 200, {"results": results, "_links": links}, headers)
        if "next" in links:
            uri = RECORDED_ORIGIN + links["next"]


def _v1_pages(
    spaces: Sequence[WrittenSpace], ids: list[int], size: int, flavour: Flavour
) -> Iterator[Interaction]:
    context = "" if flavour == "data-center" else "/wiki"
    base = RECORDED_ORIGIN + context
    pages = _chunks(spaces, size) or [range(0)]
    uri = f"{base}/rest/api/space?limit={_FIRST_LIMIT}"
    for number, page in enumerate(pages):
        start = number * size
        links = {"base": base, "context": context}
        if number + 1 < len(pages):
            links["next"] = f"/rest/api/space?next=true&limit={size}&start={start + size}"
        links["self"] = f"{base}/rest/api/space"
        results = [_v1_space(spaces[i], ids[i], base, flavour) for i in page]
        envelope = {
            "results": results,
            "start": start,
            "limit": size,
            "size": len(results),
            "_links": links,
        }
        yield _json(uri, 200, envelope)
        if "next" in links:
            uri = base + links["next"]


def _first_uri(flavour: Flavour, api: str) -> str:
    if api == "v2":
        return f"{RECORDED_ORIGIN}/wiki/api/v2/spaces?limit={_FIRST_LIMIT}"
    return f"{RECORDED_ORIGIN}{ROOTS[flavour]}/space?limit={_FIRST_LIMIT}"


def _not_found(uri: str) -> Interaction:
    body = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><status>'
        f"<status-code>404</status-code><message>null for uri: {escape(uri)}</message></status>"
    )
    return _answer(uri, 404, body.encode(), _XML)


def _failure(uri: str, failure: UpstreamFailure, flavour: Flavour) -> Interaction:
    given = failure.retry_after
    retry_after = () if given is None else (("Retry-After", str(given)),)
    match failure.status:
        case "403" if flavour == "data-center":
            disabled = {"message": "Basic Authentication has been disabled on this instance."}
            return _json(uri, 403, disabled)
        case "403":
            refused = {"statusCode": 403, "message": "Current user not permitted to use Confluence"}
            return _json(uri, 403, refused)
        case "404":
            return _not_found(uri)
        case "429":
            wait = retry_after or (("Retry-After", str(_DEFAULT_RETRY_AFTER)),)
            return _answer(uri, 429, b"Rate limit exceeded.", _TEXT, wait + _RATE_LIMIT_HEADERS)
        case "503":
            return _answer(uri, 503, _UNAVAILABLE_PAGE.encode(), _HTML, retry_after)
        case "html":
            page = _DC_LOGIN_PAGE if flavour == "data-center" else _CLOUD_LOGIN_PAGE
            return _answer(uri, 200, page.encode(), _HTML)
        case "error":
            return _answer(uri, 0, fault=_UNEXPECTED)
    return _answer(uri, 0, fault=_FAULTS[failure.status])


def listing_interactions(listing: ListingFile) -> tuple[Interaction, ...]:
    """Every answer Confluence gives the client for this listing, in the order it asks."""
    flavour = listing.flavour
    size = listing.page_size or DEFAULT_PAGE_SIZE[flavour]
    api = "v2" if flavour == "cloud" else "v1"
    played: list[Interaction] = []
    if flavour == "cloud-v1":
        # Cloud with v2 switched off: the client's v2 probe gets a 404 and it falls back to v1.
        v2 = _first_uri(flavour, "v2")
        missing = {"status": 404, "code": "NOT_FOUND", "title": "Not Found", "detail": None}
        played.append(_json(v2, 404, {"errors": [missing]}))
    failure = listing.upstream
    if failure is not None and failure.status == "404":
        # The wrong root: Confluence's XML 404 wherever the client looks.
        apis = ("v2", "v1") if flavour == "cloud" else ("v1",)
        return (*played, *(_not_found(_first_uri(flavour, a)) for a in apis))
    if failure is not None:
        played += [_failure(_first_uri(flavour, api), failure, flavour)] * (failure.times or 1)
    if listing.spaces is not None:
        spaces = listing.spaces
        ids = _ids(spaces)
        if api == "v2":
            played += _v2_pages(spaces, ids, size)
        else:
            played += _v1_pages(spaces, ids, size, flavour)
    return tuple(played)
