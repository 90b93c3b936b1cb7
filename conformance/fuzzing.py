"""The schemathesis part of a run: `st run` in a child process, read back from its NDJSON events.

Why a child process: custom checks and hooks register globally in schemathesis, so running them
in the harness (or in a pytest session that uses schemathesis for its own tests) would change
what every other schemathesis user in that process checks. Why the NDJSON report: it is the
machine-readable record of every case, every check result and every request as sent.

The child gets the token through its environment and a configuration file that names the
variable (`${SPACEGATE_CONFORMANCE_TOKEN}`), never through its command line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.exchange import Exchange
from conformance.report import Finding, Kind, RuleResult
from conformance.rules import rule_named
from conformance.severity import Severity
from conformance.spec import first_paragraph

__all__ = [
    "PHASES",
    "STRICTER_EXPECTATIONS",
    "FuzzOutcome",
    "SchemathesisRun",
    "run_schemathesis",
]

PHASES = ("examples", "coverage", "fuzzing")
_HOOKS_MODULE = "conformance.schemathesis_hooks"
# Replaced, not dropped: contract_positive_data_acceptance delegates to it (see the hooks).
_REPLACED_CHECKS = ("positive_data_acceptance",)

# Expected statuses where docs/contract.md is stricter than schemathesis' defaults (never looser).
STRICTER_EXPECTATIONS: dict[str, list[str]] = {
    # Invalid input: 401 (a generated or missing token comes first), 413 / 415 / 400 (the
    # body's framing), 422 (every field and header problem). 422 precedes 403 and Confluence,
    # so 403, 404, 405, 409, 429 and 5xx never answer invalid input.
    "negative_data_rejection": ["400", "401", "413", "415", "422"],
    # A missing x-tenantid (the run's token is valid) is a 422 item, nothing else.
    "missing_required_header": ["422"],
    # Valid input: the 200, or what Confluence may cause (403 credentials, 429); 401 only for a
    # token schemathesis generated itself (a 401 for the run's own token fails
    # valid_token_not_rejected). 5xx is left to not_a_server_error, which fails it.
    "positive_data_acceptance": ["200", "401", "403", "429", "5xx"],
}


@dataclass
class FuzzOutcome:
    results: dict[str, RuleResult] = field(default_factory=dict)
    generated: int = 0
    errors: list[str] = field(default_factory=list)
    output: str = ""
    exit_code: int = 0


@dataclass
class SchemathesisRun:
    """Everything `st run` needs; the token and pinned body travel in `environment` only."""

    spec: Path
    base_url: str
    tenant: str
    token: str
    pinned_body: Mapping[str, Any] = field(default_factory=dict)
    max_examples: int = 100
    seed: int | None = None
    phases: tuple[str, ...] = PHASES
    scenario: str | None = None
    request_timeout: float = 30.0
    workers: int = 1

    def config_text(self) -> str:
        lines = ['headers = { Authorization = "Bearer ${SPACEGATE_CONFORMANCE_TOKEN}"']
        if self.scenario is not None:
            lines[0] += f", prefer = {json.dumps('example=' + self.scenario)}"
        lines[0] += " }"
        for check, statuses in STRICTER_EXPECTATIONS.items():
            lines += ["", f"[checks.{check}]", f"expected-statuses = {json.dumps(statuses)}"]
        return "\n".join(lines) + "\n"

    def command(self, config: Path, ndjson: Path) -> list[str]:
        command = [
            sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color",
            "run", str(self.spec),
            "--url", self.base_url,
            "--checks", "all",
            "--exclude-checks", ",".join(_REPLACED_CHECKS),
            "--phases", ",".join(self.phases),
            "--max-examples", str(self.max_examples),
            "--continue-on-failure",
            "--report", "ndjson", "--report-ndjson-path", str(ndjson),
            # Our report redacts by value; schemathesis' own masking would hide which token
            # a failing request carried (ours, a generated one, or none).
            "--output-sanitize", "false",
            "--generation-database", "none",
            "--request-timeout", str(self.request_timeout),
            # max_response_time (a built-in of --checks all) at the same bound: an answer may
            # take as long as the deployment's deadline allows (30 s by default, then 504).
            "--max-response-time", str(self.request_timeout),
            "--workers", str(self.workers),
        ]  # fmt: skip
        if self.seed is not None:
            command += ["--seed", str(self.seed)]
        return command

    def environment(self) -> dict[str, str]:
        environment = {
            name: value
            for name, value in os.environ.items()
            # The child needs no signing secret, and a stray hooks module must not load.
            if name not in ("SPACEGATE_JWT_SECRET", "SCHEMATHESIS_HOOKS")
        }
        package_root = str(Path(__file__).resolve().parent.parent)
        python_path = [package_root, *filter(None, [environment.get("PYTHONPATH")])]
        environment.update(
            SCHEMATHESIS_HOOKS=_HOOKS_MODULE,
            PYTHONPATH=os.pathsep.join(python_path),
            SPACEGATE_CONFORMANCE_TOKEN=self.token,
            SPACEGATE_CONFORMANCE_RUN=json.dumps(
                {"tenant": self.tenant, "pinned_body": dict(self.pinned_body)}
            ),
            PYTHONDONTWRITEBYTECODE="1",
        )
        return environment


def _events(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            line = line.strip()
            if not line:
                continue
            event = json.loads(line)
            for name, payload in event.items():
                yield name, payload if isinstance(payload, dict) else {}


# What each built-in check holds the target to, as this run configures it.
_BUILTIN_DESCRIPTIONS = {
    "not_a_server_error": "No generated request gets a 5xx (the run needs a healthy upstream).",
    "status_code_conformance": "Every status is one openapi.yaml documents.",
    "content_type_conformance": "Every answer has a media type openapi.yaml documents for it.",
    "response_headers_conformance": "Every header openapi.yaml requires for a status is there.",
    "response_schema_conformance": "Every body matches the schema documented for its status.",
    "negative_data_rejection": "Invalid requests are refused: 400, 401, 413, 415 or 422.",
    "missing_required_header": "A missing x-tenantid is a 422; a missing Authorization a 401.",
    "unsupported_method": "A method openapi.yaml does not document is a 405 with Allow.",
    "allow_header_conformance": "Allow names exactly the documented methods.",
    "ignored_auth": "Without a token, or with a bad one, a successful request is refused.",
    "max_response_time": "Every answer comes within the request timeout.",
    "use_after_free": "Stateful: nothing deleted is still served (needs links; one operation).",
    "ensure_resource_availability": "Stateful: what is created can be read (needs links).",
    "object_level_authorization": "Stateful: one identity cannot read another's objects.",
}


# How much breaking each built-in check hurts a client (conformance.severity); others: MAJOR.
_BUILTIN_SEVERITIES = {
    "not_a_server_error": Severity.CRITICAL,
    "ignored_auth": Severity.CRITICAL,
    "unsupported_method": Severity.MINOR,
    "allow_header_conformance": Severity.MINOR,
    "max_response_time": Severity.MINOR,
}


# Ours, though not a rule of `conformance.rules`: the hooks' replacement of a built-in check.
_CONTRACT_CHECKS = {
    "contract_positive_data_acceptance": (
        "Valid requests are accepted (positive_data_acceptance), a business 422 of "
        "docs/contract.md#business-422s excepted: value_error.url.*, "
        "value_error.confluence_not_found, value_error.scenario."
    ),
}


def _result(name: str) -> RuleResult:
    """An empty result for the check `name`: a contract rule, our replacement, or a built-in."""
    try:
        rule = rule_named(name)
    except KeyError:
        if name in _CONTRACT_CHECKS:
            description, kind = _CONTRACT_CHECKS[name], Kind.CONTRACT
            severity = Severity.CRITICAL  # valid requests refused
        else:
            description = _BUILTIN_DESCRIPTIONS.get(name, f"schemathesis built-in check `{name}`")
            kind = Kind.SCHEMATHESIS
            severity = _BUILTIN_SEVERITIES.get(name, Severity.MAJOR)
    else:
        description, kind, severity = rule.description, Kind.CONTRACT, rule.severity
    return RuleResult(name, kind, description, judges="generated answers", severity=severity)


def _failure_message(failure: Mapping[str, Any]) -> str:
    title, message = failure.get("title", ""), first_paragraph(failure.get("message", ""))
    if failure.get("type") == "CustomFailure" or str(title).startswith("Custom check failed"):
        return str(message)
    return f"{title}: {message}" if message else str(title)


Observer = Callable[[Exchange], None]


def read_events(path: Path, outcome: FuzzOutcome, observe: Observer | None = None) -> None:
    """Fold the NDJSON events of `st run` into per-check results; `observe` sees every exchange."""
    for name, payload in _events(path):
        if name == "ScenarioFinished":
            phase = payload.get("phase") or ""
            phase = str(phase.get("name", "") if isinstance(phase, dict) else phase)
            recorder = payload.get("recorder") or {}
            interactions = recorder.get("interactions") or {}
            outcome.generated += len(interactions)
            if observe is not None:
                for interaction in interactions.values():
                    seen = Exchange.from_interaction(interaction, origin=f"schemathesis {phase}")
                    if seen is not None:
                        observe(seen)
            for case_id, checks in (recorder.get("checks") or {}).items():
                for check in checks:
                    check_name = str(check.get("name"))
                    if check_name not in outcome.results:
                        outcome.results[check_name] = _result(check_name)
                    result = outcome.results[check_name]
                    if check.get("status") == "success":
                        result.record_pass()
                        continue
                    failure = (check.get("failure_info") or {}).get("failure") or {}
                    # A check that sent its own request (ignored_auth) points at that case.
                    target = failure.get("case_id") or case_id
                    interaction = interactions.get(target) or interactions.get(case_id) or {}
                    exchange = Exchange.from_interaction(
                        interaction, origin=f"schemathesis {phase}"
                    )
                    result.record_failure(
                        Finding(
                            message=_failure_message(failure) or str(check.get("status")),
                            exchange=exchange,
                            origin=f"schemathesis {phase} phase, case {target}",
                        )
                    )
        elif name in ("NonFatalError", "FatalError"):
            value = payload.get("value") or payload.get("exception") or payload
            label = payload.get("label", "")
            text = value.get("message") if isinstance(value, dict) else str(value)
            outcome.errors.append(f"schemathesis {name} {label}: {text}".strip())


def run_schemathesis(
    run: SchemathesisRun, *, timeout: float | None = None, observe: Observer | None = None
) -> FuzzOutcome:
    """Run `st run` against the target and collect each check's results.

    `observe` sees every exchange of the run (conformance.valid_requests counts them).
    """
    with tempfile.TemporaryDirectory(prefix="spacegate-conformance-") as directory:
        workdir = Path(directory)
        config = workdir / "schemathesis.toml"
        config.write_text(run.config_text(), encoding="utf-8")
        ndjson = workdir / "events.ndjson"
        try:
            completed = subprocess.run(  # noqa: S603 - our own interpreter, our own arguments
                run.command(config, ndjson),
                cwd=workdir,  # schemathesis and hypothesis write nothing into the caller's tree
                env=run.environment(),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            outcome = FuzzOutcome(exit_code=-1, output=str(exc.stdout or ""))
            outcome.errors.append(f"schemathesis did not finish within {timeout} s")
            read_events(ndjson, outcome, observe)
            return outcome
        outcome = FuzzOutcome(
            exit_code=completed.returncode, output=completed.stdout + completed.stderr
        )
        read_events(ndjson, outcome, observe)
    # 0: all passed, 1: failures (read from the events). Anything else: it could not run.
    if completed.returncode not in (0, 1) or (not outcome.results and not outcome.errors):
        tail = "\n".join(outcome.output.strip().splitlines()[-25:])
        outcome.errors.append(f"schemathesis exited with status {completed.returncode}:\n{tail}")
    return outcome
