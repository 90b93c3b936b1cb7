"""Benchmark (issue 4): a full conformance run against the mock, at least 500 generated requests.

    python -m bench.conformance_run [--repeats 3] [--max-examples 500]

Runs `python -m conformance.mock_run` (what `tox -e conformance` runs: it serves the mock on a
free port, then runs probes and schemathesis's examples, coverage and fuzzing phases) the given
number of times, and reports the median wall time of the whole command, the run's own time as
its summary states it, and the requests it sent. Target: under a minute.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_COUNTS = re.compile(r"(\d+) generated requests and (\d+) probe requests in ([\d.]+) s")


def one_run(max_examples: int, seed: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        summary = Path(folder) / "summary.txt"
        started = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable, "-m", "conformance.mock_run",
                "--max-examples", str(max_examples), "--seed", str(seed),
                "--summary", str(summary),
            ],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if not k.startswith("SPACEGATE_")},
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        wall = time.perf_counter() - started
        text = summary.read_text() if summary.exists() else result.stdout
    found = _COUNTS.search(text)
    if result.returncode != 0 or found is None:
        raise SystemExit(f"the conformance run failed (exit {result.returncode}):\n{text}")
    generated, probes, seconds = found.groups()
    return {
        "wall_s": wall,
        "run_s": float(seconds),
        "generated": int(generated),
        "probes": int(probes),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-examples", type=int, default=500)
    args = parser.parse_args()
    runs = [one_run(args.max_examples, seed=1000 + n) for n in range(args.repeats)]
    for n, run in enumerate(runs, 1):
        print(
            f"run {n}: {run['wall_s']:.1f} s in all, {run['run_s']:.1f} s checking, "
            f"{run['generated']} generated + {run['probes']} probe requests"
        )
    wall = statistics.median(r["wall_s"] for r in runs)
    print(
        f"\nconformance run against the mock ({time.strftime('%Y-%m-%d')}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()})\n"
        f"  median wall time   {wall:.1f} s (serving the mock included)\n"
        f"  median check time  {statistics.median(r['run_s'] for r in runs):.1f} s\n"
        f"  generated requests {min(r['generated'] for r in runs)} at least\n"
        f"  target < 60 s      {'MET' if wall < 60 else 'NOT MET'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
