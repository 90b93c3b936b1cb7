"""How much a broken rule hurts the target's clients: the order a report lists failures in.

Every rule, built-in check and probe has one. A report lists failures most severe first, so
the missing `spaces` of a 200 comes before the status of a method nobody calls.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Severity"]


class Severity(Enum):
    """Most severe first; `rank` orders them."""

    # A client gets wrong data or none, or someone gets what they must not: valid requests
    # refused, spaces missing or malformed, a token, tenant or URL rule not enforced, a secret
    # echoed, a server error.
    CRITICAL = "critical"
    # A client cannot rely on an answer: the wrong status, `code`, body or media type for an
    # error, a status or body openapi.yaml does not document, the order of checks.
    MAJOR = "major"
    # A detail of the protocol a client rarely depends on: `Allow`, the bearer challenge,
    # methods nobody calls, slowness.
    MINOR = "minor"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)
