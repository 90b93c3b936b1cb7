"""Schemathesis extension for a conformance run: loaded by `st run` through SCHEMATHESIS_HOOKS.

Only the schemathesis child process of a run imports this module (it registers checks and hooks
globally, which must not leak into the harness or a pytest session). It reads the run from
`SPACEGATE_CONFORMANCE_RUN` (JSON: tenant, pinned body fields) and the token from
`SPACEGATE_CONFORMANCE_TOKEN`, which the configuration file also sends as the Authorization
header (so schemathesis knows it as explicit auth: `ignored_auth` removes it to probe, and
`missing_required_header` gets to leave it out).

What it adds:
- every rule of `conformance.rules` as a check named for it;
- `contract_positive_data_acceptance` in place of the built-in `positive_data_acceptance`:
  the business 422s (docs/contract.md#business-422s) pass, everything else goes to the
  built-in unchanged;
- pins in every part generated valid (an invalid part stays as generated): the run's tenant
  in `x-tenantid` and the `--body-file` fields in the body, so valid requests reach the 200
  path and invalid ones are refused for what is invalid in them;
- `prefer` taken out of the document: generated requests never pick mock scenarios.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from conformance.exchange import Exchange, RunFacts
from conformance.rules import RULES, Rule
from conformance.spec import without_prefer
from conformance.vocabulary import CANONICAL_UUID, business_422_types

__all__ = ["RUN_VARIABLE", "contract_positive_data_acceptance"]

RUN_VARIABLE = "SPACEGATE_CONFORMANCE_RUN"

_RUN: dict[str, Any] = json.loads(os.environ.get(RUN_VARIABLE) or "{}")
_FACTS = RunFacts(
    tenant=_RUN.get("tenant", ""), token=os.environ.get("SPACEGATE_CONFORMANCE_TOKEN")
)
_PINNED_BODY: dict[str, Any] = _RUN.get("pinned_body") or {}


def _exchange(response: Any, case: Any) -> Exchange:
    # schemathesis' Response keeps the requests.PreparedRequest that went on the wire.
    phase = case.meta.phase.name if case.meta is not None else "explicit"
    return Exchange.from_requests(response, origin=f"schemathesis {phase}", facts=_FACTS)


def _as_check(rule: Rule) -> Any:
    def check(ctx: Any, response: Any, case: Any) -> bool | None:
        exchange = _exchange(response, case)
        if not rule.applies(exchange):
            return True  # schemathesis records no result for a skipped check: "not applicable"
        rule(exchange)
        return None

    check.__name__ = check.__qualname__ = rule.name
    check.__doc__ = rule.description
    return check


for _rule in RULES:
    if not _rule.probes_only:
        schemathesis.check(_as_check(_rule))


def _is_positive(case: Any) -> bool:
    meta = case.meta
    return meta is None or meta.generation.mode.is_positive


@schemathesis.check
def contract_positive_data_acceptance(ctx: Any, response: Any, case: Any) -> bool | None:
    """positive_data_acceptance, but a schema-valid request may meet a business 422.

    docs/contract.md#business-422s: a URL rule that needs configuration or the network
    (`value_error.url.*`), Confluence's 404 at the root, an unknown mock scenario. Only a 422
    whose every item is one of those is exempt; anything else is judged by the built-in check
    itself.
    """
    if (
        _is_positive(case)
        and response.status_code == 422
        and business_422_types(_exchange(response, case).response.json)
    ):
        return None
    return positive_data_acceptance(ctx, response, case)


@schemathesis.hook
def before_load_schema(context: Any, raw_schema: dict[str, Any]) -> None:
    without_prefer(raw_schema)


def _is_valid_at(case: Any, location: ParameterLocation) -> bool:
    meta = case.meta
    if meta is None:
        return True
    component = meta.components.get(location)
    if component is None:
        return bool(meta.generation.mode.is_positive)
    return not component.mode.is_negative


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    # Pin only what was generated valid, part by part: a negative body still gets the run's
    # tenant (else the answer could be the 403 of a random tenant), a negative header still
    # gets the real body (else a refused host would answer 422 whatever the header says).
    # A part generated invalid is left alone: schemathesis re-judges a part that changes, and
    # a request missing Authorization would pass for valid once its headers were touched.
    headers = case.headers
    if (
        headers is not None
        and _is_valid_at(case, ParameterLocation.HEADER)
        and CANONICAL_UUID.match(str(headers.get("x-tenantid", "")))
    ):
        headers["x-tenantid"] = _FACTS.tenant
    if _PINNED_BODY and isinstance(case.body, dict) and _is_valid_at(case, ParameterLocation.BODY):
        case.body.update(_PINNED_BODY)
