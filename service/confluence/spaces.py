"""One page of Confluence's space listing (v1, v2 or Data Center) read into our `Space` items."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from typing import NotRequired, TypedDict

import orjson

from service.confluence.errors import BadGateway

__all__ = ["NOT_THE_LISTING", "UNKNOWN_WORD", "Space", "page_spaces", "read_page", "space_word"]

NOT_THE_LISTING = "Confluence answered something that is not its space listing"

# What a `type` or `status` with no letter left becomes (docs/contract.md#type-and-status).
UNKNOWN_WORD = "unknown"
_WORD = re.compile(r"[a-z][a-z_]*")
_NOT_LETTERS = re.compile(r"[^a-z]+")


class Space(TypedDict):
    key: str
    name: str
    type: str
    status: str
    id: NotRequired[str]
    url: NotRequired[str]


def read_page(raw: bytes, where: str) -> Mapping[str, object]:
    """A page's body as a JSON object, or a BadGateway; `where` names the page in errors."""
    try:
        body = orjson.loads(raw)  # several times faster: a large site has thousands of pages
    except orjson.JSONDecodeError:
        # orjson is stricter than json (lone surrogates, NaN, deep nesting): json decides.
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise BadGateway(f"{NOT_THE_LISTING} (not JSON at {where})") from None
    if not isinstance(body, dict):
        raise BadGateway(f"{NOT_THE_LISTING} (no list of results at {where})")
    return body


def page_spaces(body: Mapping[str, object], web_url: str, where: str) -> list[Space]:
    """The spaces of one decoded page, in Confluence's order.

    `web_url` is `web_url_instance` without its trailing slash; `where` names the page in errors.
    Anything that is not the listing's shape is a BadGateway: guessing would hand the user a
    silently wrong list.
    """
    results = body.get("results")
    if not isinstance(results, list):
        raise BadGateway(f"{NOT_THE_LISTING} (no list of results at {where})")
    return [_space(item, web_url, where) for item in results]


def _space(item: object, web_url: str, where: str) -> Space:
    if not isinstance(item, dict):
        raise BadGateway(f"{NOT_THE_LISTING} (a result that is not an object at {where})")
    key, name, type_ = item.get("key"), item.get("name"), item.get("type")
    # Both APIs and every Data Center release we know of send `status`; no default is safe,
    # since an archived space must not pass for a current one.
    status = item.get("status")
    if not (
        isinstance(key, str)
        and isinstance(name, str)
        and isinstance(type_, str)
        and isinstance(status, str)
    ):
        raise BadGateway(
            f"{NOT_THE_LISTING} (a space without a text key, name, type or status at {where})"
        )
    space: Space = {
        "key": key,
        "name": name,
        "type": space_word(type_),
        "status": space_word(status),
    }
    space_id = item.get("id")
    # v1 sends a number, v2 a string; bool is an int to Python but not an id to anyone.
    if isinstance(space_id, int | str) and not isinstance(space_id, bool):
        space["id"] = str(space_id)
    links = item.get("_links")
    webui = links.get("webui") if isinstance(links, dict) else None
    if isinstance(webui, str) and webui:
        space["url"] = web_url + (webui if webui.startswith("/") else "/" + webui)
    return space


def space_word(value: str) -> str:
    """`type` or `status` as the contract's lower-case word (docs/contract.md#type-and-status).

    A word (`global`, `draft`) is passed through as Confluence wrote it. Anything else is
    normalised, never refused: accents and compatibility forms decomposed and their marks
    dropped (`Ärchived`), case folded (`CURRENT`), every run of other characters one `_`
    (`in review`), `_` stripped from both ends, and nothing left is `unknown`. Clients switch
    on these values, so a value that is not a word must not reach them; failing a whole
    listing over one space's label would be worse.
    """
    if _WORD.fullmatch(value):
        return value
    decomposed = unicodedata.normalize("NFKD", value)
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    word = _NOT_LETTERS.sub("_", letters.casefold()).strip("_")
    return word or UNKNOWN_WORD
