"""What a probe expects of the answer it provoked: a status and code, 422 items, a success.

Each raises `ProbeFailure` (a `Violation`: a fixed title, what was expected, what came), or
`NotApplicable` when the answer shows the run lacks what it needs to judge.
"""

from __future__ import annotations

from conformance.exchange import Exchange
from conformance.failures import NotApplicable, Violation
from conformance.vocabulary import business_422_types

__all__ = ["ProbeFailure", "expect_items", "expect_status", "expect_success", "listed_items"]


class ProbeFailure(Violation):
    """The target answered a probe other than the contract says."""


def expect_status(exchange: Exchange, status: int, code: str | None = None) -> None:
    """The answer has `status` and, when the answer has a body, `code`."""
    received = exchange.response
    body = received.json
    got_code = body.get("code") if isinstance(body, dict) else None
    if not exchange.answer_has_body:
        code = None  # a HEAD answer has no body to carry one
    if received.status != status or (code is not None and got_code != code):
        wanted = f"{status} {code}" if code else str(status)
        got = f"{received.status} {got_code}" if isinstance(got_code, str) else received.status
        raise ProbeFailure("Wrong answer", expected=wanted, received=str(got))


def listed_items(exchange: Exchange) -> list[tuple[tuple[str, ...], object]]:
    """The (loc, type) pairs a 422 lists, header names lower-case; none for another answer."""
    body = exchange.response.json
    detail = body.get("detail") if isinstance(body, dict) else None
    found: list[tuple[tuple[str, ...], object]] = []
    for item in detail if isinstance(detail, list) else ():
        if isinstance(item, dict) and isinstance(item.get("loc"), list):
            loc = tuple(str(part) for part in item["loc"])
            if loc and loc[0] == "header":
                loc = tuple(part.lower() for part in loc)
            found.append((loc, item.get("type")))
    return found


def _same_type(wanted: str, got: object) -> bool:
    # `value_error.url.*`: any word after the prefix (a family the contract fixes).
    if wanted.endswith(".*"):
        return isinstance(got, str) and got.startswith(wanted[:-1]) and len(got) > len(wanted) - 1
    return got == wanted


def expect_items(exchange: Exchange, *items: tuple[tuple[str, str], str], hint: str = "") -> None:
    """A 422 listing at least these (loc, type) items, header names in any case.

    A type ending in `.*` stands for its family (`value_error.url.*`); `hint` is added to
    what was expected when the answer is not that 422 (what the run assumed, say).
    """
    suffix = f" ({hint})" if hint else ""
    try:
        expect_status(exchange, 422)
    except ProbeFailure as failure:
        if not hint:
            raise
        raise ProbeFailure(
            failure.title, expected=failure.expected + suffix, received=failure.received
        ) from None
    found = listed_items(exchange)
    missing = [
        f"{list(loc)} {type_}"
        for loc, type_ in items
        if not any(loc == got_loc and _same_type(type_, got) for got_loc, got in found)
    ]
    if missing:
        listed = "; ".join(f"{list(loc)} {type_}" for loc, type_ in found) or "no items"
        raise ProbeFailure(
            "Missing 422 items",
            expected=f"the 422 to list {'; '.join(missing)}{suffix}",
            received=listed,
        )


def expect_success(exchange: Exchange) -> None:
    """A 200; with the spec's example body, a business 422 means "give a body file", not a failure.

    Under `--scenario`, the status openapi.yaml documents for that scenario instead.
    """
    facts = exchange.facts
    success_status = facts.success_status if facts is not None else 200
    if success_status != 200:
        expect_status(exchange, success_status)
        return
    received = exchange.response
    if received.status == 200:
        return
    types = business_422_types(received.json) if received.status == 422 else None
    if types and not (facts is not None and facts.body_pinned):
        raise NotApplicable(
            f"the target refused the spec's example body ({', '.join(types)}); give --body-file "
            "with real Confluence values to judge the 200 path"
        )
    raise ProbeFailure(
        "Valid request refused", expected="200 with the spaces", received=str(received.status)
    )
