"""Conformance harness: checks any implementation of `POST /v2/confluence/space-listing`.

It runs schemathesis 4 against openapi.yaml (examples, coverage and fuzzing phases, every
built-in check, with the contract's own checks added) and targeted probes of the rules of
docs/contract.md, then reports every rule as passed, failed or not applicable.

From a shell (secrets come from the environment, never from the command line)::

    SPACEGATE_JWT_SECRET=… python -m conformance --url http://127.0.0.1:8080 \\
        --tenant 3fa85f64-5717-4562-b3fc-2c963f66afa6 --junit-xml conformance.xml

From Python or pytest::

    from conformance import Options, run_conformance

    def test_conforms(running_service):
        report = run_conformance(Options(url=running_service.url, tenant=TENANT,
                                         environ={"SPACEGATE_JWT_SECRET": SECRET}))
        report.raise_for_failures()   # AssertionError carrying the readable summary

Modules: `rules` (contract checks), `probes` (targeted probes), `fuzzing` (the schemathesis
child process), `schemathesis_hooks` (loaded only inside that child), `report` (summary and
JUnit XML), `curl` (reproducible requests with secrets as $VARIABLES), `tokens`, `spec`.
"""

from conformance.report import Finding, Kind, NonConformance, Outcome, Report, RuleResult
from conformance.runner import ConformanceError, Options, TargetUnreachable, run_conformance

__all__ = [
    "ConformanceError",
    "Finding",
    "Kind",
    "NonConformance",
    "Options",
    "Outcome",
    "Report",
    "RuleResult",
    "TargetUnreachable",
    "run_conformance",
]
