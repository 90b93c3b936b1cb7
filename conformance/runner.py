"""One conformance run: prepare, probe, fuzz, fold into one `Report`.

report = run_conformance(Options(url="http://127.0.0.1:8080", tenant="3fa85f64-…"))
report.raise_for_failures()      # in a test: AssertionError with the summary

- `prepare` checks the options and loads what the run needs (tokens, the spec, the pinned
  body) before anything is sent: a `Plan`, or `ConformanceError`.
- `probe` sends the targeted probes (`conformance.probes`), judging every answer by every rule.
- `fuzz` runs schemathesis in a child process (`conformance.fuzzing`).
- `fold` merges both into one result per rule, check and probe.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from conformance.curl import Redactor
from conformance.deployment import Deployment
from conformance.exchange import Exchange, RunFacts
from conformance.fuzzing import PHASES, FuzzOutcome, SchemathesisRun, run_schemathesis
from conformance.probe_client import ProbeClient
from conformance.probes import PROBES
from conformance.probing import RulesJudge, run_probes
from conformance.replay import replay_instructions
from conformance.report import Kind, Report, RuleResult
from conformance.rules import RULES
from conformance.spec import Spec, default_spec_path
from conformance.tokens import (
    API_TOKEN_PLACEHOLDER,
    SECRET_VARIABLE,
    CredentialsMissing,
    Tokens,
)
from conformance.valid_requests import ValidRequests
from conformance.vocabulary import (
    BODY_FIELDS,
    CANONICAL_UUID,
    MOCK_DEVELOPMENT_SECRET,
    OPERATION_PATH,
)

__all__ = [
    "ConformanceError",
    "Options",
    "Plan",
    "Probed",
    "TargetUnreachable",
    "fold",
    "fuzz",
    "prepare",
    "probe",
    "run_conformance",
]


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
    # Where the contract leaves a rule to the deployment (conformance.deployment).
    allows_http: bool = False
    allows_private_addresses: bool = False
    origin: str | None = None
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
        if self.origin is not None:
            origin = urlsplit(self.origin)
            if (
                origin.scheme not in ("http", "https")
                or not origin.netloc
                or f"{origin.scheme}://{origin.netloc}" != self.origin
            ):
                raise ConformanceError(
                    f"--origin must be an origin like https://app.example; got {self.origin!r}"
                )
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


@dataclass(frozen=True)
class Plan:
    """A run, prepared: options checked, credentials and spec loaded, nothing sent yet."""

    options: Options
    base_url: str
    tokens: Tokens
    spec_path: Path
    spec: Spec
    pinned: dict[str, Any]
    seed: int
    deployment: Deployment
    # When the run starts sending: the report's timestamp, and the clock of its duration.
    started: float = field(default_factory=time.time)
    clock: float = field(default_factory=time.perf_counter)


@dataclass
class Probed:
    """What the probes found: the contract rules judged on their answers, and each probe.

    `valid` counts the run's schema-valid requests; the fuzzing phase adds its own to it.
    """

    contract: dict[str, RuleResult]
    probes: list[RuleResult]
    requests: int
    errors: list[str]
    valid: ValidRequests


def prepare(options: Options) -> Plan:
    """Check the options and load the run's tokens, spec and pinned body (ConformanceError)."""
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
    except CredentialsMissing as exc:
        raise ConformanceError(f"{exc}{_mock_hint(options)}") from exc
    # Absolute: schemathesis runs in a directory of its own.
    spec_path = Path(options.spec).resolve() if options.spec is not None else default_spec_path()
    try:
        spec = Spec(spec_path)
    except (OSError, ValueError, KeyError) as exc:
        raise ConformanceError(f"cannot read the spec {spec_path}: {exc}") from exc
    pinned = options.pinned_body()
    return Plan(
        options=options,
        base_url=options.url.rstrip("/"),
        tokens=tokens,
        spec_path=spec_path,
        spec=spec,
        pinned=pinned,
        seed=options.seed if options.seed is not None else secrets.randbelow(2**31),
        deployment=Deployment.of_run(
            allows_http=options.allows_http,
            allows_private_addresses=options.allows_private_addresses,
            origin=options.origin,
            instance_url=pinned.get("instance_url"),
        ),
    )


def _mock_hint(options: Options) -> str:
    """When the target says it is a mock, the development secret it verifies tokens with."""
    try:
        answer = requests.get(options.url.rstrip("/") + OPERATION_PATH, timeout=5)
    except requests.RequestException:
        return ""
    if answer.headers.get("x-spacegate-mode", "").lower() != "mock":
        return ""
    return (
        f". The target is a mock (x-spacegate-mode: mock): unless it was started with a key of "
        f"its own, it verifies tokens with spacegate's published development secret, so "
        f"{SECRET_VARIABLE}={MOCK_DEVELOPMENT_SECRET} lets the run mint every token it needs"
    )


def _check_reachable(session: requests.Session, url: str, timeout: float) -> None:
    try:
        # Routing answers before any token (docs/contract.md#order-of-checks): any status means
        # someone is there.
        session.get(url + OPERATION_PATH, timeout=min(timeout, 10.0))
    except requests.RequestException as exc:
        raise TargetUnreachable(f"nothing answers at {url}: {exc}") from exc


def _listed_scenario(session: requests.Session, plan: Plan) -> Mapping[str, Any]:
    """What a mock lists at GET /mock/scenarios for the run's scenario ({} if nothing).

    The listing is outside the contract: it only fills in what openapi.yaml does not document
    for a scenario (the root it was recorded at, the status it yields), never overrides it.
    """
    if plan.options.scenario is None:
        return {}
    try:
        answer = session.get(
            plan.base_url + "/mock/scenarios", timeout=min(plan.options.request_timeout, 10.0)
        )
        listed = answer.json()["scenarios"]
        return next(s for s in listed if s["name"] == plan.options.scenario)
    except (requests.RequestException, ValueError, LookupError, TypeError, StopIteration):
        return {}


def _valid_body(plan: Plan, listed: Mapping[str, Any]) -> dict[str, Any]:
    # The body documented for the run's scenario, else the first example moved to the root
    # the mock lists for it (`data-center` answers only at /rest/api), with the pinned
    # fields over it.
    documented = plan.spec.example_body_for(plan.options.scenario)
    example = documented or plan.spec.example_body()
    root = listed.get("root")
    if documented is None and isinstance(root, str) and root.startswith("/"):
        parts = urlsplit(str(example.get("instance_url", "")))
        origin = f"{parts.scheme}://{parts.netloc}"
        web = origin + root.removesuffix("/rest/api")
        example = {**example, "instance_url": origin + root, "web_url_instance": web}
    return {**example, **plan.pinned}


def _success_status(plan: Plan, listed: Mapping[str, Any]) -> int:
    """200, or the status openapi.yaml documents for the scenario, else the one the mock lists."""
    scenario = plan.options.scenario
    if scenario is None or scenario in {s.name for s in plan.spec.scenarios()}:
        return plan.spec.success_status(scenario)
    status = listed.get("status")
    return status if isinstance(status, int) else 200


def probe(plan: Plan) -> Probed:
    """Send the probes; every answer is judged by every contract rule (TargetUnreachable)."""
    contract = {
        rule.name: RuleResult(
            rule.name, Kind.CONTRACT, rule.description, judges=rule.judges, severity=rule.severity
        )
        for rule in RULES
    }
    errors: list[str] = []
    with requests.Session() as session:
        _check_reachable(session, plan.base_url, plan.options.request_timeout)
        listed = _listed_scenario(session, plan)
        facts = RunFacts(
            tenant=plan.tokens.tenant,
            token=plan.tokens.valid,
            judge=plan.spec,
            success_status=_success_status(plan, listed),
            body_pinned=all(name in plan.pinned for name in BODY_FIELDS),
        )
        body = _valid_body(plan, listed)
        valid = ValidRequests(plan.spec, facts, body, plan.options.scenario)
        judge = RulesJudge(contract, errors)

        def on_exchange(exchange: Exchange) -> None:
            judge(exchange)
            valid.observe_probe(exchange)

        client = ProbeClient(
            base_url=plan.base_url,
            tokens=plan.tokens,
            spec=plan.spec,
            body=body,
            pinned=plan.pinned,
            facts=facts,
            session=session,
            timeout=plan.options.request_timeout,
            on_exchange=on_exchange,
            scenario=plan.options.scenario,
            deployment=plan.deployment,
        )
        probes = run_probes(PROBES, client, errors)
    return Probed(
        contract=contract, probes=probes, requests=client.sent, errors=errors, valid=valid
    )


def fuzz(plan: Plan, observe: Callable[[Exchange], None] | None = None) -> FuzzOutcome:
    """Run schemathesis' phases against the target (none: an empty outcome).

    `observe` sees every generated exchange (the run's count of valid requests).
    """
    options = plan.options
    if not options.phases:
        return FuzzOutcome()
    return run_schemathesis(
        SchemathesisRun(
            spec=plan.spec_path,
            base_url=plan.base_url,
            tenant=options.tenant,
            token=plan.tokens.valid,
            pinned_body=plan.pinned,
            max_examples=options.max_examples,
            seed=plan.seed,
            phases=tuple(options.phases),
            scenario=options.scenario,
            request_timeout=options.request_timeout,
        ),
        observe=observe,
    )


def fold(plan: Plan, probed: Probed, fuzzed: FuzzOutcome) -> Report:
    """One result per rule, check and probe: contract rules first, then schemathesis', probes."""
    contract = probed.contract
    for name, result in fuzzed.results.items():
        if name in contract:
            contract[name].merge(result)
    others = [result for name, result in fuzzed.results.items() if name not in contract]
    redactor = Redactor(plan.tokens.placeholders)
    redactor.add(plan.pinned.get("api_token"), API_TOKEN_PLACEHOLDER)
    redactor.add(plan.tokens.secret, SECRET_VARIABLE)
    body_file = plan.options.body_file if plan.options.body is None else None
    return Report(
        target=plan.base_url,
        spec=str(plan.spec_path),
        seed=plan.seed,
        started=plan.started,
        seconds=time.perf_counter() - plan.clock,
        generated_requests=fuzzed.generated,
        probe_requests=probed.requests,
        results=[
            probed.valid.result(),
            *contract.values(),
            *(result for result in others if result.kind is Kind.CONTRACT),
            *(result for result in others if result.kind is Kind.SCHEMATHESIS),
            *probed.probes,
        ],
        errors=[*probed.errors, *fuzzed.errors],
        redactor=redactor,
        schemathesis_output=fuzzed.output,
        replay=replay_instructions(plan.tokens, body_file=body_file),
    )


def run_conformance(options: Options) -> Report:
    """Probe the target, run schemathesis against it, and report every rule's outcome.

    Raises ConformanceError when the run cannot start (TargetUnreachable when nothing answers);
    every finding about the target itself is in the returned Report.
    """
    plan = prepare(options)
    probed = probe(plan)
    return fold(plan, probed, fuzz(plan, observe=probed.valid.observe_generated))
