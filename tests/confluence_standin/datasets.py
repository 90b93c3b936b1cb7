"""The spaces each persona can see, and how Confluence renders one space in each API flavor.

Pure data: nothing here knows HTTP. The server pages through `ordered_spaces()` and renders
items with `v1_space()` / `v2_space()`; tests compare a client's output with `expected_space()`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal, overload
from urllib.parse import quote

__all__ = [
    "FLAVORS",
    "PERSONAS",
    "Flavor",
    "RunawaySpaces",
    "Sized",
    "Space",
    "expected_space",
    "ordered_spaces",
    "persona_of",
    "v1_space",
    "v2_space",
]

Flavor = Literal["v2", "v1", "dc"]
FLAVORS: tuple[Flavor, ...] = ("v2", "v1", "dc")

# Every persona the stand-in knows; any other username (or none) behaves like "three".
PERSONAS: frozenset[str] = frozenset(
    {
        "three",
        "empty",
        "many",
        "over-a-thousand",
        "personal-and-archived",
        "unicode",
        "odd-words",
        "v1-forms",
        "v2-gone",
        "v1-gone",
        "both-gone",
        "legacy-401",
        "dc-html-401",
        "basic-disabled",
        "rate-limited-once",
        "rate-limited",
        "rate-limited-short",
        "unavailable",
        "unavailable-once",
        "slow",
        "slow-body",
        "html",
        "wrong-shape",
        "bad-space",
        "cycle",
        "runaway",
        "redirect-other-host",
        "redirect-same-host",
        "next-other-host",
        "base-other-host",
        "garbage-retry-after",
        "big-page",
    }
)

_ACCOUNT_ID = "5b10ac8d82e05b22cc7d4ef5"
# Cloud answers carry a site-wide id inside each `ari`; any stable UUID does.
_SITE_ID = "a436116f-02ce-4520-8fbb-7301462a1674"


@dataclass(frozen=True, slots=True)
class Space:
    id: int
    key: str
    name: str
    type: str = "global"
    status: str = "current"
    created_at: str = "2024-01-10T09:00:00.000Z"

    @property
    def homepage_id(self) -> int:
        return self.id + 1_000_000


def persona_of(username: str | None) -> str:
    """The persona a username selects; unknown or missing names get the default one.

    An email address selects by its local part (``html@standin.example`` is ``html``), as
    Cloud usernames are emails, and recordings can scrub a username that appears nowhere else.
    """
    name = (username or "").partition("@")[0]
    return name if name in PERSONAS or Sized.of(name) is not None else "three"


_WORDS = r"[a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*"
_SIZED = re.compile(rf"spaces-([0-9]{{1,7}})((?:\+{_WORDS}(?:-[0-9]{{1,7}})?)*)")
_MODIFIER = re.compile(rf"({_WORDS}?)(?:-([0-9]{{1,7}}))?")
_MOST_SIZED = 1_000_000


@dataclass(frozen=True)
class Sized:
    """A listing of any size with the paging behaviour tests and benchmarks ask for.

    ``spaces-<N>`` lists N generated spaces; modifiers follow, each after a ``+``:

    - ``page-<K>``: v1 and Data Center pages hold up to K spaces (a site whose administrator
      changed the cap; Data Center's is 25 otherwise);
    - ``undercount``: v1 and Data Center ``next`` links under-count ``start``: it advances by
      half of what the page served (rounded up), as Data Center has been reported to do;
    - ``throttle-at-<S>``: the request for the page at position S answers 429 (Retry-After: 1),
      and so does every request of this persona for ``THROTTLE_SECONDS`` after it; once, until
      ``clear()``;
    - ``fail-at-<S>``: the page at position S always answers 503, without Retry-After;
    - ``delay-<MS>``: pages of this persona come after MS milliseconds instead of the
      stand-in's ``page_delay``;
    - ``no-v2``: v2 answers 404, so a Cloud root is listed through v1.

    Example: ``spaces-20000+page-50+undercount``.
    """

    count: int
    page: int | None = None
    undercount: bool = False
    throttle_at: int | None = None
    fail_at: int | None = None
    delay: float | None = None
    no_v2: bool = False

    @classmethod
    def of(cls, persona: str) -> Sized | None:
        found = _SIZED.fullmatch(persona)
        if found is None or int(found.group(1)) > _MOST_SIZED:
            return None
        fields: dict[str, object] = {"count": int(found.group(1))}
        for modifier in filter(None, found.group(2).split("+")):
            name, number = _MODIFIER.fullmatch(modifier).groups()  # type: ignore[union-attr]
            value = None if number is None else int(number)
            match (name, value):
                case ("undercount", None):
                    fields["undercount"] = True
                case ("no-v2", None):
                    fields["no_v2"] = True
                case ("page", int(size)) if size > 0:
                    fields["page"] = size
                case ("throttle-at", int(position)):
                    fields["throttle_at"] = position
                case ("fail-at", int(position)):
                    fields["fail_at"] = position
                case ("delay", int(milliseconds)):
                    fields["delay"] = milliseconds / 1000
                case _:
                    return None
        return cls(**fields)  # type: ignore[arg-type]


# The seed's three spaces. Ids rise in the seed's order, so v2 (by id) lists KB, IT, HR while
# v1 (by key) lists HR, IT, KB: a client that mixes the orders up is caught.
_THREE = (
    Space(98306, "KB", "Knowledge Base"),
    Space(98307, "IT", "IT Documentation"),
    Space(98308, "HR", "HR Policies"),
)

_PERSONAL_AND_ARCHIVED = (
    Space(131073, "DEV", "Development"),
    Space(131074, f"~{_ACCOUNT_ID}", "Jane Doe", type="personal"),
    Space(131075, "~jsmith", "John Smith", type="personal"),
    Space(131076, "OLD", "Old Projects", status="archived"),
    Space(131077, "~leaver", "Former Employee", type="personal", status="archived"),
    Space(131078, "TEAM", "Team Collaboration", type="collaboration"),
    Space(131079, "SUP", "Support Knowledge Base", type="knowledge_base"),
    Space(131080, "ARCH", "Architecture", type="collaboration", status="archived"),
    Space(131072, "ADM", "Administration"),
)

_UNICODE = (
    Space(196609, "CAFE", "Café Résumé — Équipe Française"),
    Space(196610, "JP", "開発チーム (Development) 日本語"),
    Space(196611, "ZH", "中文知识库"),
    Space(196612, "EMOJI", "🚀 Launch Pad 🎉 👩🏽‍💻"),
    Space(196613, "AR", "فريق الدعم"),
    Space(196614, "HE", "צוות הפיתוח"),
    Space(196615, "BIDI", "Mixed שלום world مرحبا"),
    Space(196616, "QUOTE", "Quotes \"double\" and 'single' and `back`"),
    Space(196617, "BSL", "Back\\slash C:\\Temp\\new \\u0041 not an escape"),
    Space(
        196618,
        "MATH",
        "\U0001d518\U0001d52b\U0001d526\U0001d520\U0001d52c\U0001d521\U0001d522 ∑ ≠ ∞",
    ),
    Space(196619, "SEP", "Line\u2028separator and\ttab"),
    Space(196620, "COMB", "Combining: e\u0301 vs é, Ångström"),
)

# `type` and `status` as nobody has seen them yet: new words, and values that are not words at
# all, which a client must get as the contract's words (docs/contract.md#type-and-status).
_ODD_WORDS = (
    Space(393217, "DRAFT", "Drafts", status="draft"),
    Space(393218, "COLLAB", "Collaboration", type="collaboration"),
    Space(393219, "HUB", "Team Hub", type="team_hub"),
    Space(393220, "LOUD", "Shouted", type="GLOBAL", status="CURRENT"),
    Space(393221, "REVIEW", "Under Review", status="in review"),
    Space(393222, "UMLAUT", "Umlaut", status="Ärchived"),
    Space(393223, "BLANK", "Blank Type", type=""),
    Space(393224, "UNDER", "Underscores", type="__"),
    Space(393225, "MIXED", "Mixed", type="Knowledge-Base 2", status=" current\n"),
)

_ADJECTIVES = ("Blue", "Quiet", "Rapid", "Northern", "Shared", "Legacy", "Open", "Secure")
_NOUNS = ("Ops", "Design", "Finance", "Research", "Support", "Platform", "Sales", "Docs", "Labs")


@cache
def _many() -> tuple[Space, ...]:
    # 7919 is prime to 10,000, so ids are a permutation of 1..10,000 that does not follow the
    # keys: the v1 (by key) and v2 (by id) orders really differ.
    return tuple(
        Space(
            id=2_000_000 + (n * 7919) % 10_000,
            key=f"S{n + 1:05d}",
            name=f"{_ADJECTIVES[n % 8]} {_NOUNS[n % 9]} {n + 1}",
        )
        for n in range(10_000)
    )


@lru_cache(maxsize=4)
def _numbered(count: int) -> tuple[Space, ...]:
    # Ids are a permutation of the positions that does not follow the keys (7919 is prime, so
    # prime to any count it does not divide), so the v1 (by key) and v2 (by id) orders differ.
    step = 7919 if count % 7919 else 1
    return tuple(
        Space(
            id=3_000_000 + (n * step) % count,
            key=f"N{n + 1:07d}",
            name=f"{_ADJECTIVES[n % 8]} {_NOUNS[n % 9]} {n + 1}",
        )
        for n in range(count)
    )


@cache
def _v1_forms() -> tuple[Space, ...]:
    # 63 spaces at 10 a page: seven pages, so each of the three `next` forms shows up twice.
    return tuple(Space(262144 + n, f"F{n + 1:03d}", f"Forms space {n + 1}") for n in range(63))


_BIG_NAME_CHARS = 1_000_000


@cache
def _big() -> tuple[Space, ...]:
    filler = ("Huge name to blow a response-size cap. " * (_BIG_NAME_CHARS // 39 + 1))[
        :_BIG_NAME_CHARS
    ]
    # 20 spaces of ~1 MB each fit in one page of every flavor (the smallest cap is 25).
    return tuple(
        Space(327680 + n, f"BIG{n + 1:02d}", f"Big {n + 1:02d} {filler}") for n in range(20)
    )


class RunawaySpaces(Sequence[Space]):
    """An endless listing, generated on demand; key and id orders agree."""

    _BASE_ID = 900_000_000

    def __len__(self) -> int:
        return sys.maxsize

    @overload
    def __getitem__(self, index: int) -> Space: ...

    @overload
    def __getitem__(self, index: slice) -> list[Space]: ...

    def __getitem__(self, index: int | slice) -> Space | list[Space]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return Space(self._BASE_ID + index, f"R{index:019d}", f"Runaway {index}")

    def __iter__(self) -> Iterator[Space]:
        raise TypeError("the runaway listing never ends")


def _dataset(persona: str) -> Sequence[Space]:
    match persona:
        case "empty":
            return ()
        case "many":
            return _many()
        case "over-a-thousand":
            # five v2 pages: enough paging for the mock's "many" scenario, small to record
            return _many()[:1234]
        case "personal-and-archived":
            return _PERSONAL_AND_ARCHIVED
        case "unicode":
            return _UNICODE
        case "odd-words":
            return _ODD_WORDS
        case "v1-forms":
            return _v1_forms()
        case "big-page":
            return _big()
    sized = Sized.of(persona)
    return _THREE if sized is None else _numbered(sized.count)


@lru_cache(maxsize=64)
def _sorted(persona: str, by: Literal["key", "id"]) -> tuple[Space, ...]:
    if by == "key":
        # Confluence's v1 order; `~` personal keys land after the upper-case ones.
        return tuple(sorted(_dataset(persona), key=lambda space: space.key))
    return tuple(sorted(_dataset(persona), key=lambda space: space.id))


def ordered_spaces(persona: str, flavor: Flavor) -> Sequence[Space]:
    """The persona's spaces in the order that flavor lists them: v2 by id, v1 and dc by key."""
    if persona == "runaway":
        return RunawaySpaces()
    return _sorted(persona, "id" if flavor == "v2" else "key")


def webui(space: Space, flavor: Flavor) -> str:
    return f"/display/{space.key}" if flavor == "dc" else f"/spaces/{space.key}"


def expected_space(space: Space, flavor: Flavor) -> dict[str, str]:
    """The flavor-independent summary a client should extract from one listed space."""
    return {
        "id": str(space.id),
        "key": space.key,
        "name": space.name,
        "type": space.type,
        "status": space.status,
        "webui": webui(space, flavor),
    }


def v1_space(space: Space, base: str, flavor: Flavor) -> dict[str, object]:
    """One item of a v1 (`cloud`) or Data Center listing; `base` is the envelope's `_links.base`."""
    key = quote(space.key, safe="~")
    item: dict[str, object] = {"id": space.id, "key": space.key}
    if flavor != "dc":
        # Newer Cloud objects carry these; Data Center never does.
        item["alias"] = space.key
        item["ari"] = f"ari:cloud:confluence:{_SITE_ID}:space/{space.id}"
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
            "homepage": f"/rest/api/content/{space.homepage_id}",
        },
        "_links": {"webui": webui(space, flavor), "self": f"{base}/rest/api/space/{key}"},
    }
    return item


def v2_space(space: Space) -> dict[str, object]:
    """One item of a Cloud v2 listing."""
    return {
        "id": str(space.id),
        "key": space.key,
        "name": space.name,
        "type": space.type,
        "status": space.status,
        "authorId": _ACCOUNT_ID,
        "createdAt": space.created_at,
        "homepageId": str(space.homepage_id),
        "description": None,
        "icon": None,
        "currentActiveAlias": space.key,
        "_links": {"webui": webui(space, "v2")},
    }
