"""The servers under test: how each is started, asked, checked and stopped.

Each runs in its own process group on a free 127.0.0.1 port, its output to a log file; spacegate
and the minimal apps get a fresh random `SPACEGATE_JWT_SECRET` and no other `SPACEGATE_*`
variable from the caller's environment.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import REPO, BenchError, revision
from conformance.serving import free_port
from tests.support.bodies import EXAMPLE_BODY
from tests.support.tokens import auth_headers

PRISM_BIN = REPO / "bench" / "node_modules" / ".bin" / "prism"
PRISM_PACKAGE = REPO / "bench" / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
OPERATION = "/v2/confluence/space-listing"
SITE = "https://acme.atlassian.net"
SEED = [("KB", "Knowledge Base", "98306"), ("IT", "IT Documentation", "98307")]
SEED += [("HR", "HR Policies", "98308")]
# Prism answers the contract's first example; the minimal app answers the same.
SEED_BODY = {
    "spaces": [{"key": k, "name": n, "type": "global", "status": "current"} for k, n, _ in SEED]
}
# spacegate answers the default cassette, with each space's id and web url.
SPACEGATE_BODY = {
    "spaces": [
        {**space, "id": i, "url": f"{EXAMPLE_BODY['web_url_instance']}/spaces/{space['key']}"}
        for space, (_, _, i) in zip(SEED_BODY["spaces"], SEED, strict=True)
    ]
}


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    command: Callable[[int], list[str]]
    env: dict[str, str]
    expected: dict[str, Any]
    logging: str
    cwd: Path = REPO  # the checkout whose code it runs


def python_version(python: Path) -> str:
    """X.Y.Z of an interpreter: the label of the servers it runs."""
    try:
        found = subprocess.run(
            [str(python), "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise BenchError(f"--python {python}: cannot run it ({exc})") from exc
    return found.stdout.strip()


@dataclass
class Server:
    target: Target
    port: int
    process: subprocess.Popen
    log: Path
    spawned_at: float

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, size: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-size:]
        return ""


def targets(
    secret: str,
    with_prism: bool,
    before: Path | None = None,
    workers: Sequence[int] = (),
    pythons: Sequence[Path] = (),
    layers: bool = False,
) -> list[Target]:
    """The servers under test; `before`, another checkout, adds its spacegate INFO; each of
    `workers` above 1 adds spacegate INFO served by that many worker processes; each of
    `pythons` (an interpreter with the service's dependencies) adds spacegate INFO run by it;
    `layers` adds mock mode with its layers taken away one by one (`layers.py`)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SPACEGATE_")}
    base["SPACEGATE_JWT_SECRET"] = secret
    base["PYTHONDONTWRITEBYTECODE"] = "1"

    def spacegate_with(count: int, python: str = sys.executable) -> Callable[[int], list[str]]:
        def command(port: int) -> list[str]:
            serve = ["serve", "--mode", "mock", "--host", "127.0.0.1", "--port", str(port)]
            return [python, "-m", "service", *serve, "--workers", str(count)]

        return command

    spacegate = spacegate_with(1)

    def minimal(port: int) -> list[str]:
        return [sys.executable, "-m", "bench.minimal_connexion", "--port", str(port)]

    def bare(port: int) -> list[str]:
        return [sys.executable, "-m", "bench.minimal_connexion.bare", "--port", str(port)]

    def prism(*extra: str) -> Callable[[int], list[str]]:
        def command(port: int) -> list[str]:
            where = ["-h", "127.0.0.1", "-p", str(port)]
            return [str(PRISM_BIN), "mock", "openapi.yaml", *where, *extra]

        return command

    found = [
        Target(
            "spacegate_info",
            "spacegate mock, INFO",
            spacegate,
            {**base, "SPACEGATE_LOG_LEVEL": "INFO"},
            SPACEGATE_BODY,
            "INFO: one JSON access line per request, stderr to a file",
        ),
        Target(
            "spacegate_warning",
            "spacegate mock, WARNING",
            spacegate,
            {**base, "SPACEGATE_LOG_LEVEL": "WARNING"},
            SPACEGATE_BODY,
            "WARNING: no access line, stderr to a file",
        ),
    ]
    if before is not None:
        found.insert(
            1,
            Target(
                "spacegate_before",
                f"spacegate INFO @ {revision(before) or before.name}",
                spacegate,
                {**base, "SPACEGATE_LOG_LEVEL": "INFO"},
                SPACEGATE_BODY,
                f"as spacegate INFO, the code of {before}",
                cwd=before,
            ),
        )
    found += [
        Target(
            f"spacegate_info_w{count}",
            f"spacegate INFO, {count} workers",
            spacegate_with(count),
            {**base, "SPACEGATE_LOG_LEVEL": "INFO"},
            SPACEGATE_BODY,
            f"as spacegate INFO, `serve --workers {count}`",
        )
        for count in sorted(set(workers))
        if count > 1
    ]
    for python in pythons:
        version = python_version(python)
        found.append(
            Target(
                f"spacegate_info_py{version}",
                f"spacegate INFO, Python {version}",
                spacegate_with(1, str(python)),
                {**base, "SPACEGATE_LOG_LEVEL": "INFO"},
                SPACEGATE_BODY,
                f"as spacegate INFO, run by {python}",
            )
        )
    if layers:
        from bench.mock_throughput.layers import VARIANTS, layer_key

        def layered(variant: str) -> Callable[[int], list[str]]:
            def command(port: int) -> list[str]:
                where = ["--host", "127.0.0.1", "--port", str(port)]
                return [sys.executable, "-m", "bench.mock_throughput.layers", variant, *where]

            return command

        found += [
            Target(
                layer_key(name),
                variant.label,
                layered(name),
                {**base, "SPACEGATE_LOG_LEVEL": "INFO"},
                SPACEGATE_BODY,
                f"INFO; `python -m bench.mock_throughput.layers {name}`",
            )
            for name, variant in VARIANTS.items()
        ]
    if with_prism:
        found += [
            Target(
                "prism_default",
                "Prism, default logging",
                prism(),
                dict(os.environ),
                SEED_BODY,
                "default (info): ~10 lines per request, stdout to a file",
            ),
            Target(
                "prism_silent",
                "Prism, -v silent",
                prism("-v", "silent"),
                dict(os.environ),
                SEED_BODY,
                "-v silent",
            ),
        ]
    found.append(
        Target(
            "minimal",
            "minimal Connexion app",
            minimal,
            base,
            SEED_BODY,
            "WARNING, no access log, to a file",
        )
    )
    found.append(
        Target(
            "bare",
            "bare uvicorn (calibration)",
            bare,
            base,
            SEED_BODY,
            "none; any request answers the seed's spaces",
        )
    )
    return found


def spawn(target: Target, logs: Path) -> Server:
    port = free_port()
    log = logs / f"{target.key}-{port}.log"
    with log.open("wb") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(
            target.command(port),
            cwd=target.cwd,  # `python -m service` imports the checkout it starts in
            env=target.env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, ended as a whole by stop()
        )
    return Server(target, port, process, log, started)


def stop(server: Server) -> None:
    if server.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.process.wait()


@contextlib.contextmanager
def running(target: Target, logs: Path, token: str) -> Iterator[Server]:
    server = spawn(target, logs)
    try:
        wait_first_answer(server, token)
        yield server
    finally:
        stop(server)


def request(
    port: int,
    token: str,
    *,
    body: dict[str, Any] | None = None,
    prefer: str | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    headers = auth_headers(token)
    if prefer is not None:
        headers["Prefer"] = prefer
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", OPERATION, json.dumps(body or EXAMPLE_BODY), headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_first_answer(server: Server, token: str, limit: float = 30.0) -> float:
    """Seconds from spawn to the first 200 of the operation (polled every 5 ms)."""
    deadline = server.spawned_at + limit
    while time.perf_counter() < deadline:
        if server.process.poll() is not None:
            raise BenchError(
                f"{server.target.label} exited with {server.process.returncode}:\n"
                f"{server.log_tail()}"
            )
        try:
            status, content = request(server.port, token, timeout=5.0)
        except (ConnectionError, OSError, http.client.HTTPException):
            time.sleep(0.005)
            continue
        elapsed = time.perf_counter() - server.spawned_at
        if status != 200:
            raise BenchError(f"{server.target.label} answered {status}: {content[:500]!r}")
        return elapsed
    raise BenchError(f"{server.target.label} did not answer in {limit:g} s:\n{server.log_tail()}")


def check_answer(server: Server, token: str) -> None:
    status, content = request(server.port, token)
    try:
        decoded = json.loads(content)
    except ValueError:
        decoded = None
    if status != 200 or decoded != server.target.expected:
        raise BenchError(
            f"{server.target.label} answered {status} {content[:600]!r}, "
            f"not 200 {json.dumps(server.target.expected)}"
        )


def startup_times(
    chosen: list[Target], spawns: int, logs: Path, token: str
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {t.key: [] for t in chosen}
    for _ in range(spawns):
        for target in chosen:  # interleaved, so drift hits all alike
            server = spawn(target, logs)
            try:
                times[target.key].append(wait_first_answer(server, token))
                check_answer(server, token)
            finally:
                stop(server)
    return times


def scenario_timings(server: Server, token: str, tries: int = 3) -> list[dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/mock/scenarios")
    listed = json.loads(connection.getresponse().read())["scenarios"]
    connection.close()
    found = []
    for scenario in listed:
        root = scenario["root"]
        body = {**EXAMPLE_BODY, "instance_url": SITE + root, "web_url_instance": f"{SITE}/wiki"}
        seconds, statuses = [], []
        for _ in range(tries):
            started = time.perf_counter()
            status, content = request(
                server.port, token, body=body, prefer=f"example={scenario['name']}", timeout=30
            )
            seconds.append(time.perf_counter() - started)
            statuses.append(status)
        spaces = None
        if statuses[-1] == 200:
            spaces = len(json.loads(content)["spaces"])
        found.append(
            {
                "name": scenario["name"],
                "expected_status": scenario["status"],
                "statuses": statuses,
                "ok": all(s == scenario["status"] for s in statuses),
                "spaces": spaces,
                "first_s": seconds[0],
                "max_s": max(seconds),
            }
        )
    return found
