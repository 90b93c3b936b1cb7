"""Live-mode benchmarks against the Confluence stand-in, one case per run.

    python -m bench.live_listing [CASE] [options] [--json]

Cases (bench/README.md says how to read each):

- `ten-thousand` (the default; issue 2): 10,000 spaces through the service against fetching
  the same 40 v2 pages directly, and memory over repeated listings;
- `window` (issue 12): a 20,000-space Data Center site paged one page at a time
  (SPACEGATE_PAGE_CONCURRENCY=1) against the default window, in one run;
- `large` (issue 12): 100,000 spaces on Cloud v2 and on Data Center, time and peak memory.

Run from the repository root. Everything reported comes from the one run.
"""

from __future__ import annotations

import argparse
import json
import sys

from bench.common import BenchError
from bench.live_listing import large, ten_thousand, window

CASES = {"ten-thousand": ten_thousand, "window": window, "large": large}
DEFAULT = "ten-thousand"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in [*CASES, "-h", "--help"]:
        argv.insert(0, DEFAULT)
    parser = argparse.ArgumentParser(
        prog="python -m bench.live_listing", description=__doc__.split("\n\n")[0]
    )
    cases = parser.add_subparsers(dest="case", required=True)
    for name, case in CASES.items():
        sub = cases.add_parser(name, help=(case.__doc__ or "").split("\n\n")[0])
        case.add_arguments(sub)
        sub.add_argument(
            "--json", action="store_true", help="JSON on stdout (the table goes to stderr)"
        )
    args = parser.parse_args(argv)
    case = CASES[args.case]
    problem = case.check_arguments(args)
    if problem:
        parser.error(problem)

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    try:
        result = case.run(args, say)
    except BenchError as exc:
        say(f"benchmark failed: {exc}")
        return 1
    if args.json:
        say(case.table(result))
        print(json.dumps(result, indent=2))
    else:
        print(case.table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
