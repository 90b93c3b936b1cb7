"""Benchmark: the mock under each candidate HTTP server, in one run (README, "Why granian").

    python -m bench.asgi_servers [--duration 8] [--repeats 4] [--connections 50] [--json]

Run from the repository root. The same app (`service.asgi:make_app`, mock mode, INFO logging
with its access line, one worker) under: uvicorn with httptools, uvicorn with h11, hypercorn
with uvloop, granian with its defaults, and `python -m service serve` (granian with the
client limits and service.server's corrections). Each is checked to answer the default
scenario, warmed up, then driven by bench.mock_throughput's wrk run (the same POST, CPU of
the server's whole process tree), in rounds whose order rotates; medians are reported, with
req/s as a ratio to the first server. A server whose package is not installed is skipped
(hypercorn is not a dependency of spacegate: `pip install hypercorn`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import secrets
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.common import BenchError, machine, mint_token
from bench.mock_throughput.servers import SPACEGATE_BODY, Target, check_answer, running
from bench.mock_throughput.wrk import Run, Wrk, median_run, wrk_script

FACTORY = "service.asgi:make_app"


def candidates(secret: str) -> list[tuple[Target, str]]:
    """(target, the package it needs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACEGATE_")}
    env |= {"SPACEGATE_JWT_SECRET": secret, "SPACEGATE_MODE": "mock"}
    python = sys.executable

    def uvicorn(parser: str) -> Callable[[int], list[str]]:
        def command(port: int) -> list[str]:
            quiet = ["--no-access-log", "--no-server-header", "--log-level", "warning"]
            where = ["--port", str(port), "--http", parser]
            return [python, "-m", "uvicorn", "--factory", FACTORY, *where, *quiet]

        return command

    def hypercorn(port: int) -> list[str]:
        where = ["-b", f"127.0.0.1:{port}", "--worker-class", "uvloop", "--log-level", "warning"]
        return [python, "-m", "hypercorn", *where, f"{FACTORY}()"]

    def granian(port: int) -> list[str]:
        options = ["--interface", "asgi", "--factory", "--port", str(port)]
        return [python, "-m", "granian", *options, "--log-level", "warning", FACTORY]

    def serve(port: int) -> list[str]:
        return [python, "-m", "service", "serve", "--mode", "mock", "--port", str(port)]

    def target(key: str, label: str, command: Callable[[int], list[str]]) -> Target:
        return Target(key, label, command, env, SPACEGATE_BODY, "INFO: one JSON access line")

    return [
        (target("uvicorn_httptools", "uvicorn + httptools", uvicorn("httptools")), "httptools"),
        (target("uvicorn_h11", "uvicorn + h11", uvicorn("h11")), "h11"),
        (target("hypercorn", "hypercorn (uvloop)", hypercorn), "hypercorn"),
        (target("granian", "granian, defaults", granian), "granian"),
        (target("serve", "python -m service serve", serve), "granian"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.asgi_servers", description=__doc__)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run (8)")
    parser.add_argument("--connections", type=int, default=50, help="wrk -c (50)")
    parser.add_argument("--repeats", type=int, default=4, help="rotated rounds (4)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed wrk seconds per server (2)")
    parser.add_argument("--json", action="store_true", help="JSON on stdout")
    args = parser.parse_args(argv)
    args.threads = min(2, args.connections)
    where = machine()
    secret = secrets.token_hex(32)
    token = mint_token({**os.environ, "SPACEGATE_JWT_SECRET": secret})
    chosen, skipped = [], []
    for target, package in candidates(secret):
        (chosen if importlib.util.find_spec(package) else skipped).append(target)
    runs: dict[str, list[Run]] = {t.key: [] for t in chosen}
    try:
        with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
            wrk = Wrk(wrk_script(token, Path(folder)), args.threads, args.connections)
            servers = [stack.enter_context(running(t, Path(folder), token)) for t in chosen]
            for server in servers:
                check_answer(server, token)
                wrk.drive(server, args.warmup)
            for round_ in range(args.repeats):
                shift = round_ % len(servers)
                for server in servers[shift:] + servers[:shift]:
                    runs[server.target.key].append(wrk.drive(server, args.duration))
    except BenchError as exc:
        print(f"bench.asgi_servers: {exc}", file=sys.stderr)
        return 1
    medians = {key: median_run(found) for key, found in runs.items()}
    first = medians[chosen[0].key]["rps"]
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.repeats} rotated "
        f"rounds, medians; {where['date']}, load at start {where['loadavg_at_start']}",
        file=sys.stderr,
    )
    print(f"{'server':<28}{'req/s':>8}{'ratio':>8}{'p50 ms':>9}{'p99 ms':>9}{'cpu us':>8}")
    for target in chosen:
        m = medians[target.key]
        print(
            f"{target.label:<28}{m['rps']:>8.0f}{m['rps'] / first:>7.2f}x{m['p50_ms']:>9.1f}"
            f"{m['p99_ms']:>9.1f}{m['cpu_us_per_request']:>8.0f}"
        )
    for target in skipped:
        print(f"{target.label:<28}skipped: its package is not installed")
    if args.json:
        print(json.dumps({"machine": where, "medians": medians}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
