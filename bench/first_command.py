"""Issue 9 §7: the README's first command, from a fresh clone with an empty HOME, to the first 200.

    python -m bench.first_command               # 3 runs of HEAD, the median
    python -m bench.first_command --runs 5 --json > result.json
    python -m bench.first_command --ref main --ref HEAD   # before and after, interleaved

Each run clones the repository into a new temporary folder at a committed revision (`--ref`,
HEAD by default; several are interleaved run by run), gives the command a new empty HOME (so
pip's cache and tox's and virtualenv's data start empty, as on a new machine), runs the first
line of that revision's README's first `sh` block verbatim with bash, and polls
http://127.0.0.1:8080/healthz (the command's port) until it answers 200. It stamps the phases
from the command's own output: `pip install tox` ends when tox prints its first line (venv and
pip included), the environment is built when tox runs `serve: commands[0]`, then the server
starts.

Port 8080 must be free: another server there would answer for this one, so the run stops.
The machine's pip configuration (/etc/pip.conf, PIP_* variables) applies, as it would to
anyone on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import REPO, BenchError, machine

PORT = 8080
HEALTH = f"http://127.0.0.1:{PORT}/healthz"
TIMEOUT_SECONDS = 600.0
# Variables of the caller's own tools that a new user's shell would not have.
_DROPPED = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "XDG_CACHE_HOME", "XDG_DATA_HOME")


def first_command(readme: str) -> str:
    """The first line of a README's first `sh` code block."""
    match = re.search(r"^```sh\n(.+)$", readme, re.MULTILINE)
    if match is None:
        raise BenchError("the README has no ```sh block")
    command = match.group(1).strip()
    if "tox -e serve" not in command:
        raise BenchError(f"the README's first command does not serve: {command!r}")
    return command


def _port_taken() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", PORT)) == 0


def _healthy() -> bool:
    try:
        with urllib.request.urlopen(HEALTH, timeout=1) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _environment(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _DROPPED and not k.startswith(("TOX_", "SPACEGATE_"))
    }
    env["HOME"] = str(home)
    return env


def one_run(ref: str, keep_log: Path | None = None) -> dict[str, Any]:
    """The first command of `ref`'s README, run in a clone of `ref`: its phases' times."""
    if _port_taken():
        raise BenchError(f"port {PORT} is taken: stop whatever serves there first")
    with tempfile.TemporaryDirectory(prefix="spacegate-first-command-") as scratch:
        home = Path(scratch) / "home"
        home.mkdir()
        clone = Path(scratch) / "clone"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", ref], check=True)
        command = first_command((clone / "README.md").read_text())
        log = Path(scratch) / "output.log"
        stamps: dict[str, float] = {}
        started = time.monotonic()
        process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=clone,
            env=_environment(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

        def watch() -> None:
            assert process.stdout is not None
            with log.open("w") as out:
                for line in process.stdout:
                    now = time.monotonic() - started
                    out.write(f"{now:8.2f} {line}")
                    stamps.setdefault("tox_started", now)
                    if "serve: commands[0]>" in line:
                        stamps.setdefault("environment_built", now)

        reader = threading.Thread(target=watch, daemon=True)
        reader.start()
        try:
            while not _healthy():
                if process.poll() is not None:
                    ended = process.returncode
                    raise BenchError(f"the command ended ({ended}):\n{log.read_text()}")
                if time.monotonic() - started > TIMEOUT_SECONDS:
                    raise BenchError(f"no 200 within {TIMEOUT_SECONDS:g} s:\n{log.read_text()}")
                time.sleep(0.05)
            stamps["first_200"] = time.monotonic() - started
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            reader.join(timeout=5)
            if keep_log is not None:
                keep_log.write_text(log.read_text())
        return {k: round(v, 2) for k, v in stamps.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.first_command", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs of each revision")
    parser.add_argument(
        "--ref", action="append", help="a revision to measure (repeatable; default HEAD)"
    )
    parser.add_argument("--json", action="store_true", help="JSON on stdout, the table on stderr")
    parser.add_argument("--logs", type=Path, help="keep each run's timed output in this folder")
    args = parser.parse_args(argv)
    refs = {
        ref: subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", ref],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for ref in args.ref or ["HEAD"]
    }
    result: dict[str, Any] = {"machine": machine(), "revisions": {}}
    runs: dict[str, list[dict[str, Any]]] = {ref: [] for ref in refs}
    for index in range(args.runs):
        for ref, commit in refs.items():
            print(f"run {index + 1}/{args.runs} of {ref} ({commit})", file=sys.stderr)
            keep = None
            if args.logs is not None:
                args.logs.mkdir(parents=True, exist_ok=True)
                keep = args.logs / f"{commit}-run-{index + 1}.log"
            runs[ref].append(one_run(commit, keep))
            print(f"  {runs[ref][-1]}", file=sys.stderr)
    for ref, commit in refs.items():
        median = statistics.median(r["first_200"] for r in runs[ref])
        result["revisions"][ref] = {
            "commit": commit,
            "runs": runs[ref],
            "median_first_200_seconds": median,
        }
        each = ", ".join(f"{r['first_200']:.1f}" for r in runs[ref])
        print(
            f"{ref} ({commit}): first 200 on /healthz, median {median:.1f} s over "
            f"{len(runs[ref])} runs ({each})",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench.first_command: {exc}", file=sys.stderr)
        sys.exit(1)
