"""What a rule or a probe raises instead of passing: a violation, or "cannot judge this here".

A violation reads like a schemathesis failure: a fixed title naming what went wrong, then what
the contract expects and what was received, on one line::

    Missing bearer challenge: expected a WWW-Authenticate header to start with 'Bearer'; got none

It is an `AssertionError`, which is what schemathesis expects a check to raise. Its text never
quotes a submitted secret.
"""

from __future__ import annotations

__all__ = ["NotApplicable", "Violation"]


class Violation(AssertionError):
    """An answer broke a rule of the contract."""

    def __init__(self, title: str, *, expected: str, received: str) -> None:
        self.title = title
        self.expected = expected
        self.received = received
        super().__init__(f"{title}: expected {expected}; got {received}")


class NotApplicable(Exception):
    """The check cannot judge this target with what the run was given; says what it needs."""
