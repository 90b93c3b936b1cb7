"""One conformance run: probes, then schemathesis, folded into one `Report`.

report = run_conformance(Options(url="http://127.0.0.1:8080", tenant="3fa85f64-…"))
report.raise_for_failures()      # in a test: AssertionError with the summary
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from conformance.curl import Redactor
from conformance.exchange import Exchange
from conformance.fuzzing import PHASES, SchemathesisRun, run_schemathesis
from conformance.probes import PROBES, NotApplicable, ProbeClient
from conformance.report import Finding, Kind, Report, RuleResult
from conformance.rules import RULES
from conformance.spec import Spec, default_spec_path
from conformance.tokens import API_TOKEN_PLACEHOLDER, SECRET_VARIABLE, Tokens
from conformance.vocabulary import BODY_FIELDS, CANONICAL_UUID, OPERATION_PATH

__all__ = ["ConformanceError", "Options", "TargetUnreachable", "run_conformance"]


class ConformanceError(Exception):
    """The run cannot start: bad options, no credentials, an unreadable body file."""


class TargetUnreachable(ConformanceError):
    """Nothing answers at the base URL."""


@dataclass
class Options:
    """A run's settings; the names follow the command's options (docs/design.md#operator-interface).

    Secrets are not options: the token comes from SPACEGATE_CONFORMANCE_TOKEN, or is minted
    from SPACEGATE_JWT_SECRET, read from `environ` (the process environment by default).
    """

    url: str
    tenant: str
    body_file: Path | None = None
    # The same as a body file, for callers that hold the values already (tests).
    body: Mapping[str, Any] | None = None
    spec: Path | None = None
    max_examples: int = 100
    seed: int | None = None
    issuer: str | None = None
    audience: str | None = None
    tenant_claim: str = "tenant_id"
    scenario: str | None = None
    phases: tuple[str, ...] = PHASES
    request_timeout: float = 30.0
    environ: Mapping[str, str] | None = field(default=None, repr=False)

    def validated(self) -> Options:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConformanceError(f"--url must be an http(s) base URL; got {self.url!r}")
        if not CANONICAL_UUID.match(self.tenant):
            raise ConformanceError(f"--tenant must be a canonical UUID; got {self.tenant!r}")
        unknown = set(self.phases) - set(PHASES)
        if unknown:
            raise ConformanceError(
                f"unknown phase(s) {', '.join(sorted(unknown))}; choose from {', '.join(PHASES)}"
            )
        if self.max_examples < 1:
            raise ConformanceError("--max-examples must be at least 1")
        return self

    def pinned_body(self) -> dict[str, Any]:
        """The fields to pin in valid requests: the body file's, or `body`'s (none by default)."""
        if self.body is not None:
            body: Any = dict(self.body)
        elif self.body_file is not None:
            try:
                body = json.loads(Path(self.body_file).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConformanceError(f"--body-file {self.body_file}: {exc}") from exc
        else:
            return {}
        if not isinstance(body, dict):
            raise ConformanceError("the body file must hold a JSON object")
        wrong = [name for name in BODY_FIELDS if name in body and not isinstance(body[name], str)]
        if wrong:
            raise ConformanceError(f"the body file's {', '.join(wrong)} must be strings")
        return body


def _check_reachable(session: requests.Session, url: str, timeout: float) -> None:
    try:
        # Routing answers before any token (docs/contract.md#order-of-checks): any status means
        # someone is there.
        session.get(url + OPERATION_PATH, timeout=min(timeout, 10.0))
    except requests.RequestException as exc:
        raise TargetUnreachable(f"nothing answers at {url}: {exc}") from exc


class _Judge:
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


def _run_probes(client: ProbeClient, report: Report) -> list[RuleResult]:
    results: list[RuleResult] = []
    for definition in PROBES:
        client.current = definition.name
        try:
            instances = list(definition.instances(client))
        except NotApplicable as exc:
            skipped = RuleResult(definition.name, Kind.PROBE, definition.description)
            skipped.note = str(exc)
            results.append(skipped)
            continue
        except requests.RequestException as exc:
            report.errors.append(f"probe {definition.name}: no answer: {exc}")
            continue
        for name, param in instances:
            result = RuleResult(name, Kind.PROBE, definition.description)
            client.current, client.last = name, None
            started = time.perf_counter()
            try:
                definition.run(client, param)
            except NotApplicable as exc:
                result.note = str(exc)
            except AssertionError as exc:
                result.record_failure(Finding(str(exc), client.last, f"probe {name}"))
            except requests.RequestException as exc:
                message = f"expected an answer; the connection failed: {exc}"
                result.record_failure(Finding(message, client.last, f"probe {name}"))
            except Exception as exc:  # a bug in a probe must not hide the other verdicts
                report.errors.append(f"probe {name} crashed: {exc!r}")
                result.note = "the probe crashed (see the run errors)"
            else:
                result.record_pass()
            result.seconds = time.perf_counter() - started
            results.append(result)
    return results


def run_conformance(options: Options) -> Report:
    """Probe the target, run schemathesis against it, and report every rule's outcome.

    Raises ConformanceError when the run cannot start (TargetUnreachable when nothing answers);
    every finding about the target itself is in the returned Report.
    """
    options = options.validated()
    environ = os.environ if options.environ is None else options.environ
    try:
        tokens = Tokens.from_environment(
            options.tenant,
            environ=environ,
            issuer=options.issuer,
            audience=options.audience,
            tenant_claim=options.tenant_claim,
        )
    except ValueError as exc:
        raise ConformanceError(str(exc)) from exc
    # Absolute: schemathesis runs in a directory of its own.
    spec_path = Path(options.spec).resolve() if options.spec is not None else default_spec_path()
    try:
        spec = Spec(spec_path)
    except (OSError, ValueError, KeyError) as exc:
        raise ConformanceError(f"cannot read the spec {spec_path}: {exc}") from exc
    pinned = options.pinned_body()
    seed = options.seed if options.seed is not None else secrets.randbelow(2**31)
    base_url = options.url.rstrip("/")

    report = Report(target=base_url, spec=str(spec_path), seed=seed)
    started = time.perf_counter()
    contract = {
        rule.name: RuleResult(rule.name, Kind.CONTRACT, rule.description, judges=rule.judges)
        for rule in RULES
    }
    judge = _Judge(contract, report.errors)

    with requests.Session() as session:
        _check_reachable(session, base_url, options.request_timeout)
        client = ProbeClient(
            base_url=base_url,
            tokens=tokens,
            spec=spec,
            body={**spec.example_body(), **pinned},
            body_pinned=all(name in pinned for name in BODY_FIELDS),
            session=session,
            timeout=options.request_timeout,
            on_exchange=judge,
            scenario=options.scenario,
        )
        probes = _run_probes(client, report)
        report.probe_requests = client.sent

    fuzzed: dict[str, RuleResult] = {}
    if options.phases:
        outcome = run_schemathesis(
            SchemathesisRun(
                spec=spec_path,
                base_url=base_url,
                tenant=options.tenant,
                token=tokens.valid,
                pinned_body=pinned,
                max_examples=options.max_examples,
                seed=seed,
                phases=tuple(options.phases),
                scenario=options.scenario,
                request_timeout=options.request_timeout,
            )
        )
        report.generated_requests = outcome.generated
        report.errors.extend(outcome.errors)
        fuzzed = outcome.results
        report.schemathesis_output = outcome.output

    for name, result in fuzzed.items():
        if name in contract:
            contract[name].merge(result)
    report.results = [
        *contract.values(),
        *(r for n, r in fuzzed.items() if n not in contract and r.kind is Kind.CONTRACT),
        *(r for n, r in fuzzed.items() if n not in contract and r.kind is Kind.SCHEMATHESIS),
        *probes,
    ]
    report.seconds = time.perf_counter() - started

    redactor = Redactor(tokens.placeholders)
    redactor.add(pinned.get("api_token"), API_TOKEN_PLACEHOLDER)
    redactor.add(tokens.secret, SECRET_VARIABLE)
    report.redactor = redactor
    return report
