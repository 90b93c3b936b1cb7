"""`python -m bench.mock_throughput`: the driver, six phases in one run (see the package's doc)."""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import bench.mock_throughput as package
from bench.common import REPO, BenchError, machine, mint_token
from bench.mock_throughput.memory import measure_memory
from bench.mock_throughput.profiling import profile, py_spy
from bench.mock_throughput.report import table, verdict
from bench.mock_throughput.servers import (
    OPERATION,
    PRISM_BIN,
    PRISM_PACKAGE,
    Server,
    Target,
    check_answer,
    running,
    scenario_timings,
    spawn,
    startup_times,
    stop,
    targets,
    wait_first_answer,
)
from bench.mock_throughput.wrk import WRK_TIMEOUT_S, Run, Wrk, median_run, wrk_script
from tests.support.bodies import EXAMPLE_BODY


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def versions() -> dict[str, str]:
    found = {}
    for name in ("connexion", "starlette", "granian", "uvicorn", "uvloop", "httptools", "PyJWT"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[name] = importlib.metadata.version(name)
    for name in ("jsonschema", "requests", "urllib3", "vcrpy", "py-spy"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[name] = importlib.metadata.version(name)

    def output(command: list[str]) -> str:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)
            return (done.stdout or done.stderr).strip().splitlines()[0]
        return "unavailable"

    found["wrk"] = output(["wrk", "--version"])
    found["node"] = output(["node", "--version"])
    if PRISM_PACKAGE.exists():
        found["@stoplight/prism-cli"] = json.loads(PRISM_PACKAGE.read_text())["version"]
    return found


def prism_missing(args: argparse.Namespace) -> str | None:
    """Why the Prism rows cannot be measured, or None; wrk itself is required."""
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not on PATH (Debian: apt-get install wrk)")
    if args.skip_prism:
        return "skipped (--skip-prism)"
    if not PRISM_BIN.exists():
        return f"{PRISM_BIN.relative_to(REPO)} is missing: run `cd bench && npm ci` first"
    if shutil.which("node") is None:
        return "node is not on PATH"
    return None


# The phases


def measure_startup(
    by_key: dict[str, Target], spawns: int, folder: Path, token: str
) -> dict[str, Any]:
    """1. Spawn -> first 200, interleaved, on a quiet machine."""
    keys = ["spacegate_info", "spacegate_warning", "minimal"]
    keys += ["prism_default"] if "prism_default" in by_key else []
    say(f"start-up: {spawns} spawns each of {', '.join(keys)}")
    times = startup_times([by_key[k] for k in keys], spawns, folder, token)
    return {k: {"median": statistics.median(v), "max": max(v), "runs": v} for k, v in times.items()}


def measure_scenarios(target: Target, folder: Path, token: str) -> tuple[list[Any], int]:
    """2. Every scenario on a fresh spacegate; and the bytes it logged before that."""
    say("scenarios: one request each with Prefer: example=<name>, then two more")
    with running(target, folder, token) as fresh:
        scenarios = scenario_timings(fresh, token)
        return scenarios, fresh.log.stat().st_size


def measure_throughput(
    servers: dict[str, Server], wrk: Wrk, args: argparse.Namespace, token: str, *, warm: bool
) -> dict[str, Any]:
    """3. and 4. Every server driven in turn, the order rotated each round; checked after each
    run. `wrk` decides the connections: 50 for throughput, 1 for the latency of one client."""
    for server in servers.values():
        if warm:
            say(f"  warm-up {server.target.label}: {args.warmup} s")
            wrk.drive(server, args.warmup)
    runs: dict[str, list[Run]] = {k: [] for k in servers}
    order = list(servers)
    for round_ in range(args.repeats):
        shift = round_ % len(order)
        for key in order[shift:] + order[:shift]:
            one = wrk.drive(servers[key], args.duration)
            check_answer(servers[key], token)
            runs[key].append(one)
            say(
                f"  c={wrk.connections} round {round_ + 1}/{args.repeats} "
                f"{servers[key].target.label:<26} "
                f"{one.rps:8.0f} req/s  p50 {one.p50_ms:6.2f} ms  p99 {one.p99_ms:6.2f} ms"
                f"  cpu {one.cpu_us_per_request:5.0f} us/req ({one.cpu_pct:3.0f}%)"
                f"  others {one.others_pct:3.0f}%"
                + (f"  NON-2XX {one.non_2xx}" if one.non_2xx else "")
                + (f"  TIMEOUTS (>{WRK_TIMEOUT_S} s) {one.timeouts}" if one.timeouts else "")
                + (f"  SOCKET ERRORS {one.socket_errors}" if one.socket_errors else "")
            )
    return {k: {"median": median_run(v), "runs": [vars(r) for r in v]} for k, v in runs.items()}


def measure_memory_flat(
    target: Target, args: argparse.Namespace, folder: Path, token: str
) -> dict[str, Any] | str:
    """6. A fresh spacegate, `--memory-requests` requests at c=50 in steps, RSS after each."""
    if not args.memory_requests:
        return "skipped: --memory-requests 0"
    say(f"memory: {args.memory_requests} requests to a fresh {target.label}")
    wrk = Wrk(wrk_script(token, folder), args.threads, args.connections)
    return measure_memory(
        target, wrk, folder, token, requests=args.memory_requests, step_seconds=args.memory_step
    )


def measure_profile(
    servers: dict[str, Server],
    wrk: Wrk,
    args: argparse.Namespace,
    folder: Path,
    throughput: dict[str, Any],
) -> dict[str, Any] | str:
    """5. py-spy on spacegate INFO and the minimal app, after the timed rounds."""
    spy = None if args.no_profile else py_spy()
    if spy is None:
        why = "--no-profile" if args.no_profile else "py-spy not found (pip install py-spy)"
        return f"skipped: {why}"
    found = {}
    for key in ("spacegate_info", "spacegate_before", "minimal"):
        if key not in servers:
            continue
        say(f"profile: py-spy on {servers[key].target.label}, {args.profile_seconds} s")
        found[key] = profile(
            servers[key],
            wrk,
            spy,
            seconds=args.profile_seconds,
            rate=args.profile_rate,
            folder=folder,
            cost=throughput[key]["median"]["cpu_us_per_request"],
            keep_in=args.profile_dir,
        )
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    info = machine()
    secret = secrets.token_urlsafe(48)
    missing = prism_missing(args)
    if missing:
        say(f"Prism: {missing}; measuring the rest")
    chosen = targets(
        secret,
        with_prism=missing is None,
        before=args.compare_with,
        workers=args.workers,
        pythons=args.python,
        layers=args.layers,
    )
    by_key = {t.key: t for t in chosen}
    token = mint_token(by_key["spacegate_info"].env)
    result: dict[str, Any] = {
        "machine": info,
        "versions": versions(),
        "config": {
            "duration_s": args.duration,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "wrk_timeout_s": WRK_TIMEOUT_S,
            "repeats": args.repeats,
            "warmup_s": args.warmup,
            "startup_spawns": args.startup_spawns,
            "workers": [1, *sorted({n for n in args.workers if n > 1})],
            "request": {"path": OPERATION, "body": {**EXAMPLE_BODY, "api_token": "***"}},
            "targets": {t.key: {"label": t.label, "logging": t.logging} for t in chosen},
        },
        "prism": missing or "measured",
    }
    with tempfile.TemporaryDirectory(prefix="spacegate-bench-") as tmp:
        folder = Path(tmp)
        wrk = Wrk(wrk_script(token, folder), args.threads, args.connections)
        result["startup_s"] = measure_startup(by_key, args.startup_spawns, folder, token)
        scenarios, startup_log = measure_scenarios(by_key["spacegate_info"], folder, token)
        result["scenarios"] = scenarios
        result["spacegate_startup_log_bytes"] = startup_log
        say("throughput: starting " + ", ".join(t.label for t in chosen))
        servers: dict[str, Server] = {}
        try:
            for target in chosen:  # all up, driven one at a time
                servers[target.key] = spawn(target, folder)
                wait_first_answer(servers[target.key], token)
                check_answer(servers[target.key], token)
            result["throughput"] = measure_throughput(servers, wrk, args, token, warm=True)
            say("one connection: the same servers at c=1")
            single = Wrk(wrk.script, 1, 1)
            result["single"] = measure_throughput(servers, single, args, token, warm=False)
            result["profile"] = measure_profile(servers, wrk, args, folder, result["throughput"])
        finally:
            for server in servers.values():
                stop(server)
        result["memory"] = measure_memory_flat(by_key["spacegate_info"], args, folder, token)
    result["verdict"] = verdict(result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.mock_throughput", description=package.__doc__
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--connections", type=int, default=50, help="wrk -c (50)")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t (2)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed wrk seconds per server (3)")
    parser.add_argument("--startup-spawns", type=int, default=5, help="spawns timed per server (5)")
    parser.add_argument(
        "--memory-requests",
        type=int,
        default=100_000,
        help="requests to a fresh spacegate for the memory reading (100000; 0 skips it)",
    )
    parser.add_argument(
        "--memory-step", type=int, default=5, help="wrk seconds between memory readings (5)"
    )
    parser.add_argument("--profile-seconds", type=int, default=8, help="py-spy window (8)")
    parser.add_argument("--profile-rate", type=int, default=250, help="py-spy samples/s (250)")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--profile-dir", type=Path, help="keep py-spy's raw (collapsed) stacks in this folder"
    )
    parser.add_argument("--skip-prism", action="store_true")
    parser.add_argument(
        "--compare-with",
        type=Path,
        metavar="DIR",
        help="another checkout (git worktree add DIR <commit>): its spacegate INFO measured too",
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[],
        metavar="N",
        help="also spacegate INFO under `serve --workers N`, for each N above 1 (scaling)",
    )
    parser.add_argument(
        "--python",
        type=Path,
        nargs="+",
        default=[],
        metavar="PATH",
        help="also spacegate INFO run by each interpreter (a venv's python with the service "
        "installed: pip install .), this checkout's code",
    )
    parser.add_argument(
        "--layers",
        action="store_true",
        help="also mock mode with its layers taken away one by one (bench/mock_throughput/"
        "layers.py): what each layer costs under load, beside Prism",
    )
    parser.add_argument("--json", action="store_true", help="JSON on stdout, the table on stderr")
    args = parser.parse_args(argv)
    os.chdir(REPO)
    try:
        result = run(args)
    except BenchError as exc:
        say(f"benchmark failed: {exc}")
        return 1
    report = table(result)
    if args.json:
        say(report)
        print(json.dumps(result, indent=2))
    else:
        print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
