"""Registering probes and running them: one `RuleResult` per probe, or per variant of one.

A probe is a function of the `ProbeClient` registered with `@probe`; its docstring's first line
is what it checks. A probe with variants takes its variant as a second parameter and reports
once per variant (`missing_field_is_422[api_token]`)::

    @probe(variants={"empty": "", "braces": "{3fa85f64-…}"})
    def non_uuid_tenant_is_422(client: ProbeClient, tenant: str) -> None: ...

Variants may also be computed from the client (`variants=lambda client: {...}`; raising
`NotApplicable` there skips the probe), and a function of its own may stand for one variant of
a family (`@probe(name="checks_run_in_contract_order", variant="401-before-413")`) where each
variant needs a different request rather than a different value.

A probe passes by returning; it fails by raising an `AssertionError` (a `ProbeFailure` from
`conformance.expectations`), and does not apply when it raises `NotApplicable` or needs a token
the run cannot mint (`CredentialsMissing`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from conformance.exchange import Exchange
from conformance.failures import NotApplicable
from conformance.probe_client import ProbeClient
from conformance.report import Finding, Kind, RuleResult
from conformance.rules import RULES
from conformance.severity import Severity
from conformance.tokens import CredentialsMissing

__all__ = ["REGISTRY", "Probe", "ProbeFunction", "RulesJudge", "probe", "run_probes"]

ProbeFunction = Callable[..., None]
Variants = Mapping[str, Any] | Iterable[str]


@dataclass(frozen=True)
class Probe:
    name: str
    function: ProbeFunction
    description: str
    variants: Variants | Callable[[ProbeClient], Variants] | None = None
    # None: its family's (conformance.probes.FAMILIES).
    severity: Severity | None = None

    def instances(self, client: ProbeClient) -> Iterator[tuple[str, Callable[[], None]]]:
        """(name, call) pairs, one per variant; variants computed from the target may raise."""
        if self.variants is None:
            yield self.name, functools.partial(self.function, client)
            return
        variants = self.variants(client) if callable(self.variants) else self.variants
        if not isinstance(variants, Mapping):
            variants = {label: label for label in variants}
        for label, value in variants.items():
            yield f"{self.name}[{label}]", functools.partial(self.function, client, value)


# Every probe registered, in the order its module defines them (`conformance.probes` orders
# the modules).
REGISTRY: list[Probe] = []


def probe(
    *,
    variants: Variants | Callable[[ProbeClient], Variants] | None = None,
    name: str | None = None,
    variant: str | None = None,
    severity: Severity | None = None,
) -> Callable[[ProbeFunction], ProbeFunction]:
    """Register a probe, in report order; its docstring's first line is what it checks.

    `severity` overrides its family's (conformance.probes.FAMILIES).
    """

    def register(function: ProbeFunction) -> ProbeFunction:
        description = (function.__doc__ or function.__name__).strip().splitlines()[0]
        reported = name or function.__name__
        if variant is not None:
            reported = f"{reported}[{variant}]"
        REGISTRY.append(Probe(reported, function, description, variants, severity))
        return function

    return register


class RulesJudge:
    """Judges every probe exchange by every rule, into one RuleResult per rule."""

    def __init__(self, results: dict[str, RuleResult], errors: list[str]) -> None:
        self.results = results
        self.errors = errors

    def __call__(self, exchange: Exchange) -> None:
        for rule in RULES:
            result = self.results[rule.name]
            try:
                if not rule.applies(exchange):
                    continue
                rule(exchange)
            except AssertionError as exc:
                result.record_failure(Finding(str(exc), exchange, exchange.origin))
            except Exception as exc:  # a bug in a rule must not hide the other rules' verdicts
                self.errors.append(f"rule {rule.name} crashed on {exchange.origin}: {exc!r}")
            else:
                result.record_pass()


def _run_one(
    client: ProbeClient, name: str, call: Callable[[], None], result: RuleResult, errors: list[str]
) -> None:
    client.current, client.last = name, None
    try:
        call()
    except (NotApplicable, CredentialsMissing) as exc:
        result.note = str(exc)
    except AssertionError as exc:
        result.record_failure(Finding(str(exc), client.last, f"probe {name}"))
    except requests.RequestException as exc:
        message = f"expected an answer; the connection failed: {exc}"
        result.record_failure(Finding(message, client.last, f"probe {name}"))
    except Exception as exc:  # a bug in a probe must not hide the other verdicts
        errors.append(f"probe {name} crashed: {exc!r}")
        result.note = "the probe crashed (see the run errors)"
    else:
        result.record_pass()


def run_probes(probes: Iterable[Probe], client: ProbeClient, errors: list[str]) -> list[RuleResult]:
    """Run the probes against the client's target; problems of the run go to `errors`."""
    results: list[RuleResult] = []
    for definition in probes:
        client.current = definition.name
        severity = definition.severity or Severity.MAJOR
        try:
            instances = list(definition.instances(client))
        except NotApplicable as exc:
            skipped = RuleResult(
                definition.name, Kind.PROBE, definition.description, severity=severity
            )
            skipped.note = str(exc)
            results.append(skipped)
            continue
        except requests.RequestException as exc:
            errors.append(f"probe {definition.name}: no answer: {exc}")
            continue
        for name, call in instances:
            result = RuleResult(name, Kind.PROBE, definition.description, severity=severity)
            started = time.perf_counter()
            _run_one(client, name, call, result, errors)
            result.seconds = time.perf_counter() - started
            results.append(result)
    return results
