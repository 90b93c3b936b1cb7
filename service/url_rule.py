"""The URL rules of a request: the URL policy's refusals as the contract's 422 items.

The policy (`service/confluence/urlpolicy.py`) says what it refuses and why; this module,
part of the web layer, builds the policy from the settings and words its refusals in the
contract's vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers

from service import problems
from service.confluence.origin import Refusal
from service.confluence.urlpolicy import UrlPolicy, web_url_refusal
from service.problems import Loc, Problem
from service.settings import Settings
from service.validation import RequestRule

__all__ = ["url_policy", "url_problem", "url_rule"]

_INSTANCE_URL: Loc = ("body", "instance_url")
_WEB_URL: Loc = ("body", "web_url_instance")


def url_policy(settings: Settings, *, enforce_allow_list: bool) -> UrlPolicy:
    """The deployment's policy; where nothing leaves the process (mock mode) the allow-list
    does not apply."""
    return UrlPolicy(
        allowed_hosts=tuple(settings.allowed_hosts),
        allow_http=settings.allow_http,
        allow_private_addresses=settings.allow_private_addresses,
        enforce_allow_list=enforce_allow_list,
    )


def url_problem(loc: Loc, refusal: Refusal) -> Problem:
    """A refusal as a 422 item, in pydantic v1's words where pydantic has them."""
    match refusal.kind:
        case Refusal.Kind.SCHEME_INVALID:
            return problems.url_scheme_invalid(loc)
        case Refusal.Kind.SCHEME_NOT_PERMITTED:
            return problems.url_scheme_not_permitted(loc)
        case Refusal.Kind.HOST_INVALID:
            return problems.url_host_invalid(loc)
        case Refusal.Kind.HOST_REFUSED:
            return problems.url_host_refused(loc, refusal.sentence)
        case Refusal.Kind.EXTRA:
            return problems.url_extra(loc, refusal.extra)


def url_rule(policy: UrlPolicy) -> RequestRule:
    """The request rule for both URL fields (those the schema has not already refused)."""

    def rule(body: Mapping[str, Any], _headers: Headers, invalid: frozenset[Loc]) -> list[Problem]:
        found: list[Problem] = []
        if _INSTANCE_URL not in invalid:
            refusal = policy.refusal(body["instance_url"])
            if refusal is not None:
                found.append(url_problem(_INSTANCE_URL, refusal))
        if _WEB_URL not in invalid:
            refusal = web_url_refusal(body["web_url_instance"])
            if refusal is not None:
                found.append(url_problem(_WEB_URL, refusal))
        return found

    return rule
