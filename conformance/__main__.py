"""`python -m conformance`: check an implementation of the space-listing API against the contract.

Exit status: 0 every rule passed; 1 a rule failed (or the run could not complete); 2 bad usage
or missing credentials; 3 nothing answers at --url.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance.fuzzing import PHASES
from conformance.runner import ConformanceError, Options, TargetUnreachable, run_conformance
from conformance.tokens import SECRET_VARIABLE, TOKEN_VARIABLE

__all__ = ["EXIT_FAILED", "EXIT_PASSED", "EXIT_UNREACHABLE", "EXIT_USAGE", "main"]

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # argparse's own status for bad usage
EXIT_UNREACHABLE = 3


def _phases(text: str) -> tuple[str, ...]:
    phases = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [phase for phase in phases if phase not in PHASES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown phase {unknown[0]!r}; choose from {PHASES}")
    return phases


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance",
        description="Check an implementation of POST /v2/confluence/space-listing against "
        "openapi.yaml and docs/contract.md: schemathesis (examples, coverage, fuzzing; every "
        "built-in check) plus the contract's own checks and targeted probes.",
        epilog=f"The bearer token comes from {TOKEN_VARIABLE}, or is minted from "
        f"{SECRET_VARIABLE} (HS256), which also lets the run mint expired and foreign-tenant "
        "tokens for its probes. Secrets are never taken from the command line. Exit status: "
        "0 passed, 1 failed, 2 usage or credentials, 3 target unreachable.",
    )
    parser.add_argument("--url", required=True, help="base URL of the implementation")
    parser.add_argument("--tenant", required=True, help="tenant UUID of the token (x-tenantid)")
    parser.add_argument(
        "--body-file",
        type=Path,
        help="JSON object whose fields are pinned in valid requests (a live target needs real "
        "instance_url, web_url_instance, username and api_token); default: the spec's example",
    )
    parser.add_argument("--junit-xml", type=Path, help="write a JUnit XML report here")
    parser.add_argument(
        "--summary", type=Path, help="write the readable summary here, every probe listed"
    )
    parser.add_argument(
        "--max-examples", type=int, default=100, help="generated cases per phase (default 100)"
    )
    parser.add_argument("--seed", type=int, help="seed for reproducible generation")
    parser.add_argument("--issuer", help="`iss` of minted tokens (when the target checks it)")
    parser.add_argument("--audience", help="`aud` of minted tokens (when the target checks it)")
    parser.add_argument(
        "--tenant-claim", default="tenant_id", help="claim naming the tenant (default tenant_id)"
    )
    parser.add_argument("--spec", type=Path, help="OpenAPI document (default: the project's)")
    parser.add_argument(
        "--scenario",
        help="send `Prefer: example=SCENARIO` on every request (mock targets); "
        "by default no request carries `prefer`",
    )
    parser.add_argument(
        "--phases",
        type=_phases,
        default=PHASES,
        help=f"schemathesis phases, comma-separated (default {','.join(PHASES)}); "
        "an empty value runs the probes alone",
    )
    parser.add_argument(
        "--request-timeout", type=float, default=30.0, help="seconds per request (default 30)"
    )
    deployment = parser.add_argument_group(
        "the deployment",
        "Rules the contract leaves to the deployment: say which way the target went (a "
        "--body-file whose instance_url is http://, or a private address, says so too).",
    )
    deployment.add_argument(
        "--allows-http",
        action="store_true",
        help="the target accepts http:// instance URLs (spacegate: SPACEGATE_ALLOW_HTTP)",
    )
    deployment.add_argument(
        "--allows-private-addresses",
        action="store_true",
        help="the target accepts loopback and private addresses "
        "(spacegate: SPACEGATE_ALLOW_PRIVATE_ADDRESSES); metadata addresses are still probed",
    )
    deployment.add_argument(
        "--origin",
        help="a browser origin the target allows (spacegate: SPACEGATE_CORS_ORIGINS), for the "
        "CORS probes; default https://conformance.example, which a mock allows",
    )
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", help="print the verdict only")
    verbosity.add_argument(
        "-v", "--verbose", action="store_true", help="list every probe and schemathesis' output"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    options = Options(
        url=arguments.url,
        tenant=arguments.tenant,
        body_file=arguments.body_file,
        spec=arguments.spec,
        max_examples=arguments.max_examples,
        seed=arguments.seed,
        issuer=arguments.issuer,
        audience=arguments.audience,
        tenant_claim=arguments.tenant_claim,
        scenario=arguments.scenario,
        phases=arguments.phases,
        request_timeout=arguments.request_timeout,
        allows_http=arguments.allows_http,
        allows_private_addresses=arguments.allows_private_addresses,
        origin=arguments.origin,
    )
    try:
        report = run_conformance(options)
    except TargetUnreachable as exc:
        print(f"conformance: target unreachable: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except ConformanceError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE

    summary = report.summary(verbose=arguments.verbose)
    if arguments.junit_xml is not None:
        arguments.junit_xml.parent.mkdir(parents=True, exist_ok=True)
        arguments.junit_xml.write_text(report.junit_xml(), encoding="utf-8")
    if arguments.summary is not None:
        arguments.summary.parent.mkdir(parents=True, exist_ok=True)
        # The file is the record of the run: every probe listed, whatever -q/-v say.
        arguments.summary.write_text(report.summary(verbose=True) + "\n", encoding="utf-8")
    if arguments.verbose and report.schemathesis_output:
        print(report.redactor(report.schemathesis_output))
    print(report.headline() if arguments.quiet else summary)
    return EXIT_PASSED if report.passed else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
