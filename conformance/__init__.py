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

Modules, in the order a run uses them:

- `runner`: `run_conformance` = prepare, probe, fuzz, fold; `Options`.
- `tokens`, `spec`, `vocabulary`: the run's credentials, the OpenAPI document, the contract's
  tables (status -> code, the 422 vocabulary).
- `exchange`: one request and its answer, whichever side sent it; `failures`: what a check raises.
- `rules`: the contract's checks, one function per rule, judging every answer.
- `probe_client`, `probing`, `expectations`, `probes/`: the targeted probes (one module per
  family of rules), the client that sends them, and what they expect.
- `fuzzing`: schemathesis in a child process; `schemathesis_hooks`: loaded only inside it.
- `report`, `curl`: the summary, JUnit XML, and replayable requests with secrets as $VARIABLES.
- `serving`, `mock_run`: our own service in a process (`tox -e conformance`).
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
