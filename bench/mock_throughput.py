"""Benchmark (issue 3): mock-mode throughput against Stoplight Prism and a minimal Connexion app.

    python -m bench.mock_throughput [--duration S] [--connections 50] [--repeats N] [--json]

Run from the repository root. In ONE run, never driving two servers at once:

1. start-up: spawns ``python -m service serve --mode mock --port P --workers 1`` at INFO (the
   default) and at WARNING, the minimal Connexion app and Prism, ``--startup-spawns`` times
   each, interleaved, and times process spawn -> first 200 of the operation (polled every 5 ms).
2. scenarios: on a freshly started spacegate, one request per scenario of ``GET
   /mock/scenarios`` with ``Prefer: example=<name>`` (``instance_url`` ending with the
   scenario's ``root``), then two more; each status must be the scenario's ``status``.
3. throughput: six servers, one worker each, all on 127.0.0.1, each checked first to answer
   200 with its expected body, then driven one after another by ``wrk -t2 -c50 -d<S>s
   --latency --timeout 5s -s <script>`` with the same POST (bearer token, ``x-tenantid``,
   content-type, the ``default`` scenario's JSON body), after a warm-up each: ``--repeats``
   rounds, the order rotated every round, medians reported (and checked again after each run).

   - spacegate INFO: its normal JSON access line per request, stderr to a file;
   - spacegate WARNING: the same with ``SPACEGATE_LOG_LEVEL=WARNING`` (no access line);
   - Prism default: ``prism mock openapi.yaml -h 127.0.0.1 -p P`` (its default ``info``
     logging: ~10 lines, ~600 bytes per request), stdout to a file;
   - Prism silent: the same with ``-v silent``;
   - minimal: ``python -m bench.minimal_connexion`` (Connexion's default validation, PyJWT
     HS256, an async handler answering the seed's three spaces, no access log);
   - bare: ``python -m bench.minimal_connexion.bare``, a raw ASGI app on the same uvicorn:
     the machine's ceiling during this run, to compare runs on different days.

   Prism is ``bench/node_modules/.bin/prism`` (what ``npx prism`` runs from ``bench/``, minus
   npx's own process), pinned in ``bench/package.json``: ``cd bench && npm ci``. Without it the
   Prism rows are skipped with the reason. The server's CPU time (``/proc/<pid>/stat`` of the
   process and its workers: ``serve`` answers from a granian worker process) is read
   around every run: CPU us per request is the cost measure least disturbed by wrk and other
   processes sharing the two cores; ``others %`` is what everything else on the machine used.
4. profile: ``py-spy record --format raw`` (pausing the process for each sample; the busiest
   process of the server's tree, so serve's worker) on spacegate
   INFO and on the minimal app during one more wrk run each, after the timed rounds. Samples
   go to owners (the innermost frame of a known package; stdlib helpers bill their caller;
   logging, PyJWT and jsonschema take everything below them) and to overlapping subtrees
   (the bearer check, validation, the handler, ...), scaled by the rounds' median CPU us per
   request. Stacks not rooted in the main module (torn reads) are counted and dropped.

Every Python server gets a fresh random ``SPACEGATE_JWT_SECRET`` and no other ``SPACEGATE_*``
variable from the caller's environment. Everything reported comes from this one run; with
``--json`` the JSON goes to stdout and the table to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.metadata
import json
import os
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import REPO, TENANT, BenchError, free_port, machine, mint_token
from tests.support.processes import process_tree  # serve answers from worker processes

BENCH = REPO / "bench"
PRISM_BIN = BENCH / "node_modules" / ".bin" / "prism"
PRISM_PACKAGE = BENCH / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
OPERATION = "/v2/confluence/space-listing"
SITE = "https://acme.atlassian.net"
BODY = {
    "instance_url": f"{SITE}/wiki/rest/api",
    "web_url_instance": f"{SITE}/wiki",
    "username": "jane.doe@acme.example",
    "api_token": "ATATT3xFfGF0-bench-token",
}
SEED = [("KB", "Knowledge Base", "98306"), ("IT", "IT Documentation", "98307")]
SEED += [("HR", "HR Policies", "98308")]
# Prism answers the contract's first example; the minimal app answers the same.
SEED_BODY = {
    "spaces": [{"key": k, "name": n, "type": "global", "status": "current"} for k, n, _ in SEED]
}
# spacegate answers the default cassette, with each space's id and web url.
SPACEGATE_BODY = {
    "spaces": [
        {**space, "id": i, "url": f"{BODY['web_url_instance']}/spaces/{space['key']}"}
        for space, (_, _, i) in zip(SEED_BODY["spaces"], SEED, strict=True)
    ]
}
STARTUP_TARGET_S = 2.0
SCENARIO_TARGET_S = 2.0
WRK_TIMEOUT_S = 5
BUSY_PCT = 20.0  # CPU of other processes, % of one core, above which the table warns
CLK_TCK = os.sysconf("SC_CLK_TCK")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the servers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    command: Callable[[int], list[str]]
    env: dict[str, str]
    expected: dict[str, Any]
    logging: str


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


def targets(secret: str, with_prism: bool) -> list[Target]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SPACEGATE_")}
    base["SPACEGATE_JWT_SECRET"] = secret
    base["PYTHONDONTWRITEBYTECODE"] = "1"

    def spacegate(port: int) -> list[str]:
        serve = ["serve", "--mode", "mock", "--host", "127.0.0.1", "--port", str(port)]
        return [sys.executable, "-m", "service", *serve, "--workers", "1"]

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
            cwd=REPO,
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
    headers = {
        "Authorization": f"Bearer {token}",
        "x-tenantid": TENANT,
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    if prefer is not None:
        headers["Prefer"] = prefer
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", OPERATION, json.dumps(body or BODY), headers)
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


# -- measuring ----------------------------------------------------------------------------------


def own_cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` (all its threads) so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` and its worker processes so far."""
    total = 0.0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            total += own_cpu_seconds(member)
    return total


def busiest_process(pid: int) -> int:
    """The process of `pid`'s tree that has used the most CPU: the one running the app."""
    cpu: dict[int, float] = {}
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            cpu[member] = own_cpu_seconds(member)
    return max(cpu, key=cpu.__getitem__, default=pid)


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have run (steal included), from /proc/stat."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_script(token: str, folder: Path) -> Path:
    script = folder / "post.lua"
    script.write_text(
        f"""wrk.method = "POST"
wrk.body = {lua_string(json.dumps(BODY))}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = {lua_string("Bearer " + token)}
wrk.headers["x-tenantid"] = {lua_string(TENANT)}

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {{\\"requests\\": %d, \\"duration_us\\": %d, \\"bytes\\": %d, "
    .. "\\"connect_errors\\": %d, \\"read_errors\\": %d, \\"write_errors\\": %d, "
    .. "\\"status_errors\\": %d, \\"timeouts\\": %d, \\"p50_us\\": %d, \\"p90_us\\": %d, "
    .. "\\"p99_us\\": %d, \\"max_us\\": %d, \\"mean_us\\": %.1f}}\\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
"""
    )
    return script


@dataclass
class Run:
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    non_2xx: int  # answers other than 2xx/3xx
    timeouts: int  # no answer within wrk's --timeout
    socket_errors: int  # connect, read and write errors
    cpu_us_per_request: float
    cpu_pct: float  # of one core, over the run
    others_pct: float  # CPU of everything but the server and wrk, % of one core
    log_bytes_per_request: float


def drive(server: Server, script: Path, args: argparse.Namespace, seconds: int) -> Run:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", f"{WRK_TIMEOUT_S}s", "-s", str(script)]
    command.append(f"http://127.0.0.1:{server.port}{OPERATION}")
    log_before = server.log.stat().st_size
    machine_before, wrk_before = machine_busy_seconds(), children_cpu_seconds()
    cpu_before, wall_before = cpu_seconds(server.pid), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    cpu = cpu_seconds(server.pid) - cpu_before
    wall = time.perf_counter() - wall_before
    wrk_cpu = children_cpu_seconds() - wrk_before
    others = machine_busy_seconds() - machine_before - cpu - wrk_cpu
    log_bytes = server.log.stat().st_size - log_before
    if server.process.poll() is not None:
        raise BenchError(f"{server.target.label} died under load:\n{server.log_tail()}")
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    result = json.loads(line.removeprefix("BENCH_JSON "))
    count = max(result["requests"], 1)
    socket_errors = sum(result[f"{kind}_errors"] for kind in ("connect", "read", "write"))
    return Run(
        rps=result["requests"] / (result["duration_us"] / 1e6),
        p50_ms=result["p50_us"] / 1000,
        p90_ms=result["p90_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        max_ms=result["max_us"] / 1000,
        requests=result["requests"],
        non_2xx=result["status_errors"],
        timeouts=result["timeouts"],
        socket_errors=socket_errors,
        cpu_us_per_request=cpu / count * 1e6,
        cpu_pct=100 * cpu / wall,
        others_pct=max(0.0, 100 * others / wall),
        log_bytes_per_request=log_bytes / count,
    )


def median_run(runs: list[Run]) -> dict[str, float]:
    keys = ("rps", "p50_ms", "p90_ms", "p99_ms", "max_ms", "cpu_us_per_request", "cpu_pct")
    keys += ("others_pct",)
    summary = {k: statistics.median(getattr(r, k) for r in runs) for k in keys}
    summary["log_bytes_per_request"] = statistics.median(r.log_bytes_per_request for r in runs)
    for key in ("requests", "non_2xx", "timeouts", "socket_errors"):
        summary[key] = sum(getattr(r, key) for r in runs)
    summary["rps_min"] = min(r.rps for r in runs)
    summary["rps_max"] = max(r.rps for r in runs)
    return summary


# -- start-up and scenarios ---------------------------------------------------------------------


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
        body = {**BODY, "instance_url": SITE + root, "web_url_instance": f"{SITE}/wiki"}
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


# -- profile ------------------------------------------------------------------------------------

# Owners, tried on each sample's frames from the innermost outwards: the first frame whose
# file matches one of them takes the sample. Frames of unlisted modules (re, typing,
# functools, ...) thus bill their caller. Umbrellas win over everything below them.
UMBRELLAS = (
    ("logging (stdlib logging, JSON log formatter, scrubbing)", r"^(logging/|service/logs\.py)"),
    ("PyJWT (decode, verify HS256)", r"^jwt/"),
    ("jsonschema (+ referencing)", r"^(jsonschema|referencing|jsonschema_specifications)/"),
)
OWNERS = (
    ("json (encode/decode)", r"^json/"),
    ("vcrpy matchers/request", r"^vcr/"),
    ("requests (session, prepare, send)", r"^requests/"),
    ("urllib3 (HTTPResponse over BytesIO)", r"^urllib3/"),
    ("spacegate mocks/ (cassette transport, adapter)", r"^mocks/"),
    ("spacegate Confluence client (+ paging, spaces)", r"^service/confluence/"),
    ("spacegate handler + auth", r"^service/(handler|auth)\.py"),
    ("spacegate validation (validation, problems)", r"^service/(validation|problems)\.py"),
    (
        "spacegate middlewares (request context, body guard, CORS, errors)",
        r"^(service/(request_context|body_guard|cors|error_table|errors)\.py|starlette/middleware/)",
    ),
    ("minimal app (bearer function, handler)", r"^bench/minimal_connexion/"),
    ("Connexion security", r"^connexion/(security|middleware/security)"),
    (
        "Connexion validation (validators, URI parsing)",
        r"^connexion/(validators|middleware/request_validation|uri_parsing)",
    ),
    (
        "Connexion routing (+ Starlette routing)",
        r"^(connexion/middleware/routing|starlette/routing)",
    ),
    (
        "Connexion handler call + response (decorators, jsonifier)",
        r"^connexion/(decorators|frameworks|operations|jsonifier|context|middleware/context)",
    ),
    ("Connexion middleware plumbing (other)", r"^connexion/"),
    ("Starlette (requests, responses, datastructures)", r"^starlette/"),
    ("ASGI server's Python side (uvicorn + httptools, granian)", r"^(uvicorn|httptools|granian)/"),
    ("asyncio/anyio plumbing", r"^(asyncio|anyio|uvloop|sniffio)/"),
)
# Subtrees: a sample counts in each one any of whose frames (function and file) matches, so
# they overlap; each names a call whose callees are all its own work, never the downstream app.
SUBTREES = (
    ("bearer check (Connexion verify_fn, all below)", r"^\S*verify_fn \(connexion/security\.py"),
    (
        "  of which the verify function (PyJWT and checks)",
        r"^(TokenVerifier\.verify \(service/auth\.py|verify_token \(bench/)",
    ),
    (
        "request validation (validators, Connexion's or spacegate's)",
        r"\((connexion/validators/|service/validation\.py|connexion/uri_parsing\.py)",
    ),
    ("  jsonschema, all", r"\((jsonschema|referencing)/"),
    (
        "  jsonschema validators built per request",
        r"(^\S*__attrs_post_init__ \(jsonschema/|<attrs generated methods jsonschema)",
    ),
    (
        "operation handler, all below it",
        r"(^|\.)list_spaces \((service/handler|bench/minimal_connexion/app)\.py",
    ),
    ("  Confluence client list_spaces", r"^ConfluenceClient\.list_spaces \("),
    ("    requests Session.send", r"^Session\.send \(requests/sessions\.py"),
    ("    cassette adapter send", r"^CassetteAdapter\.send \(mocks/"),
    ("inspect.signature (Connexion, per request)", r"^signature \(inspect\.py"),
    (
        "response building (Connexion response decorator helpers)",
        r"^\S+Decorator\.(?!__call__)\S+ \(connexion/decorators/response\.py",
    ),
    ("logging (access line, formatter)", r"\((logging/|service/logs\.py)"),
)
_ROOT = "_run_module_as_main (<frozen runpy>"
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*):\d+\)$")


def frames_of(stack: str) -> list[tuple[str, str]]:
    """(frame text, file) from the root to the leaf; py-spy's raw lines are root first."""
    found = []
    for text in stack.split(";"):
        match = _FRAME.match(text.strip())
        found.append((text.strip(), match.group("file") if match else ""))
    return found


def attribute(samples: Counter[str]) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    owners: Counter[str] = Counter()
    subtrees: Counter[str] = Counter()
    files: Counter[str] = Counter()
    compiled_umbrellas = [(n, re.compile(p)) for n, p in UMBRELLAS]
    compiled_owners = [(n, re.compile(p)) for n, p in OWNERS]
    compiled_subtrees = [(n, re.compile(p)) for n, p in SUBTREES]
    for stack, count in samples.items():
        frames = frames_of(stack)
        paths = [f for _, f in frames]
        owner = next(
            (n for n, p in compiled_umbrellas if any(p.search(f) for f in paths)),
            None,
        )
        if owner is None:
            for path in reversed(paths):
                owner = next((n for n, p in compiled_owners if p.search(path)), None)
                if owner is not None:
                    break
        owners[owner or "other (event loop in C, interpreter start-up, unknown)"] += count
        for name, pattern in compiled_subtrees:
            if any(pattern.search(text) for text, _ in frames):
                subtrees[name] += count
        if paths:
            files[paths[-1] or frames[-1][0]] += count
    return dict(owners), dict(subtrees), dict(files)


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def profile(
    server: Server,
    script: Path,
    args: argparse.Namespace,
    spy: str,
    folder: Path,
    cost: float,
) -> dict[str, Any]:
    """py-spy during a wrk run; shares of the samples times `cost` (CPU us per request)."""
    raw = folder / f"profile-{server.target.key}.txt"
    seconds = args.profile_seconds
    recorder = subprocess.Popen(
        [
            *(spy, "record", "--pid", str(busiest_process(server.pid))),
            *("--rate", str(args.profile_rate)),
            *("--duration", str(seconds), "--format", "raw", "-o", str(raw)),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    run = drive(server, script, args, seconds + 2)  # covers py-spy's attach and whole window
    _, errors = recorder.communicate(timeout=60)
    if recorder.returncode != 0 or not raw.exists():
        raise BenchError(f"py-spy failed ({recorder.returncode}): {errors[-1500:]}")
    if args.profile_dir is not None:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(raw, args.profile_dir / raw.name)
    samples: Counter[str] = Counter()
    torn = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not (stack and count.isdigit()):
            continue
        if stack.startswith(_ROOT):
            samples[stack] += int(count)
        else:  # a stack read while it changed: not rooted in the main module
            torn += int(count)
    total = sum(samples.values())
    if not total:
        raise BenchError(f"py-spy recorded no usable stack of {server.target.label}")
    owners, subtrees, files = attribute(samples)

    def scaled(counts: dict[str, int], order: tuple[str, ...] = ()) -> dict[str, dict[str, float]]:
        names = [n for n in order if n in counts]
        names += sorted((n for n in counts if n not in names), key=lambda n: -counts[n])
        return {
            name: {"pct": 100 * counts[name] / total, "us_per_request": cost * counts[name] / total}
            for name in names
        }

    return {
        "samples": total,
        "samples_dropped_torn": torn,
        "expected_samples_if_always_busy": seconds * args.profile_rate,
        "run": vars(run),
        "scaled_by_cpu_us_per_request": cost,
        "owners": scaled(owners),
        "subtrees": scaled(subtrees, tuple(name for name, _ in SUBTREES)),
        "leaf_files": dict(list(scaled(files).items())[:15]),
    }


# -- the run ------------------------------------------------------------------------------------


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


@dataclass
class Plan:
    chosen: list[Target]
    prism_missing: str | None = None
    notes: list[str] = field(default_factory=list)


def plan(args: argparse.Namespace, secret: str) -> Plan:
    missing = None
    if args.skip_prism:
        missing = "skipped (--skip-prism)"
    elif not PRISM_BIN.exists():
        missing = f"{PRISM_BIN.relative_to(REPO)} is missing: run `cd bench && npm ci` first"
    elif shutil.which("node") is None:
        missing = "node is not on PATH"
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not on PATH (Debian: apt-get install wrk)")
    return Plan(targets(secret, with_prism=missing is None), prism_missing=missing)


def run(args: argparse.Namespace) -> dict[str, Any]:
    info = machine()
    secret = secrets.token_urlsafe(48)
    chosen = plan(args, secret)
    if chosen.prism_missing:
        say(f"Prism: {chosen.prism_missing}; measuring the rest")
    by_key = {t.key: t for t in chosen.chosen}
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
            "workers": 1,
            "request": {"path": OPERATION, "body": {**BODY, "api_token": "***"}},
            "targets": {t.key: {"label": t.label, "logging": t.logging} for t in chosen.chosen},
        },
        "prism": chosen.prism_missing or "measured",
    }
    with tempfile.TemporaryDirectory(prefix="spacegate-bench-") as tmp:
        folder = Path(tmp)
        script = wrk_script(token, folder)

        # 1. start-up, on a quiet machine
        startup_keys = ["spacegate_info", "spacegate_warning", "minimal"] + (
            ["prism_default"] if "prism_default" in by_key else []
        )
        say(f"start-up: {args.startup_spawns} spawns each of {', '.join(startup_keys)}")
        startup = startup_times(
            [by_key[k] for k in startup_keys], args.startup_spawns, folder, token
        )
        result["startup_s"] = {
            k: {"median": statistics.median(v), "max": max(v), "runs": v}
            for k, v in startup.items()
        }

        # 2. every scenario, on a fresh spacegate
        say("scenarios: one request each with Prefer: example=<name>, then two more")
        with running(by_key["spacegate_info"], folder, token) as fresh:
            scenarios = scenario_timings(fresh, token)
            startup_log = fresh.log.stat().st_size
        result["scenarios"] = scenarios
        result["spacegate_startup_log_bytes"] = startup_log

        # 3. throughput: all servers up, driven one at a time
        say("throughput: starting " + ", ".join(t.label for t in chosen.chosen))
        servers: dict[str, Server] = {}
        try:
            for target in chosen.chosen:
                servers[target.key] = spawn(target, folder)
                wait_first_answer(servers[target.key], token)
                check_answer(servers[target.key], token)
            for server in servers.values():
                say(f"  warm-up {server.target.label}: {args.warmup} s")
                drive(server, script, args, args.warmup)
            runs: dict[str, list[Run]] = {k: [] for k in servers}
            order = list(servers)
            for round_ in range(args.repeats):
                shift = round_ % len(order)
                for key in order[shift:] + order[:shift]:
                    one = drive(servers[key], script, args, args.duration)
                    check_answer(servers[key], token)
                    runs[key].append(one)
                    say(
                        f"  round {round_ + 1}/{args.repeats} {servers[key].target.label:<26} "
                        f"{one.rps:8.0f} req/s  p50 {one.p50_ms:6.2f} ms  p99 {one.p99_ms:6.2f} ms"
                        f"  cpu {one.cpu_us_per_request:5.0f} us/req ({one.cpu_pct:3.0f}%)"
                        f"  others {one.others_pct:3.0f}%"
                        + (f"  NON-2XX {one.non_2xx}" if one.non_2xx else "")
                        + (
                            f"  TIMEOUTS (>{WRK_TIMEOUT_S} s) {one.timeouts}"
                            if one.timeouts
                            else ""
                        )
                        + (f"  SOCKET ERRORS {one.socket_errors}" if one.socket_errors else "")
                    )
            result["throughput"] = {
                k: {"median": median_run(v), "runs": [vars(r) for r in v]} for k, v in runs.items()
            }

            # 4. profile
            spy = None if args.no_profile else py_spy()
            if spy is None:
                result["profile"] = "skipped: " + (
                    "--no-profile" if args.no_profile else "py-spy not found (pip install py-spy)"
                )
            else:
                result["profile"] = {}
                for key in ("spacegate_info", "minimal"):
                    say(f"profile: py-spy on {servers[key].target.label}, {args.profile_seconds} s")
                    cost = result["throughput"][key]["median"]["cpu_us_per_request"]
                    result["profile"][key] = profile(servers[key], script, args, spy, folder, cost)
        finally:
            for server in servers.values():
                stop(server)
    result["verdict"] = verdict(result)
    return result


def ratio(result: dict[str, Any], a: str, b: str, what: str = "rps") -> float | None:
    tp = result.get("throughput", {})
    if a not in tp or b not in tp:
        return None
    return tp[a]["median"][what] / tp[b]["median"][what]


def verdict(result: dict[str, Any]) -> dict[str, Any]:
    tp = result["throughput"]
    found: dict[str, Any] = {
        "ratios": {
            "spacegate_info/prism_default": ratio(result, "spacegate_info", "prism_default"),
            "spacegate_info/prism_silent": ratio(result, "spacegate_info", "prism_silent"),
            "spacegate_info/minimal": ratio(result, "spacegate_info", "minimal"),
            "spacegate_warning/prism_default": ratio(result, "spacegate_warning", "prism_default"),
            "spacegate_warning/prism_silent": ratio(result, "spacegate_warning", "prism_silent"),
            "spacegate_warning/minimal": ratio(result, "spacegate_warning", "minimal"),
            # how far the yardstick itself is from the target
            "minimal/prism_default": ratio(result, "minimal", "prism_default"),
            "minimal/prism_silent": ratio(result, "minimal", "prism_silent"),
        },
        "cpu_us_per_request_over_minimal": {
            k: tp[k]["median"]["cpu_us_per_request"] - tp["minimal"]["median"]["cpu_us_per_request"]
            for k in ("spacegate_info", "spacegate_warning")
        },
    }
    vs_prism = found["ratios"]["spacegate_info/prism_default"]
    found["throughput_at_least_prism_default"] = None if vs_prism is None else vs_prism >= 1.0
    vs_silent = found["ratios"]["spacegate_info/prism_silent"]
    found["next_goal_beats_prism_silent"] = None if vs_silent is None else vs_silent >= 1.0
    startup = result["startup_s"]["spacegate_info"]
    found["startup_under_2s"] = startup["median"] < STARTUP_TARGET_S
    found["startup_max_under_2s"] = startup["max"] < STARTUP_TARGET_S
    worst = max(result["scenarios"], key=lambda s: s["max_s"])
    found["scenarios_max_s"] = worst["max_s"]
    found["scenarios_slowest"] = worst["name"]
    found["scenarios_within_2s"] = worst["max_s"] < SCENARIO_TARGET_S
    found["scenarios_status_as_declared"] = all(s["ok"] for s in result["scenarios"])
    found["only_2xx_under_load"] = all(v["median"]["non_2xx"] == 0 for v in tp.values())
    found["timeouts_under_load"] = {
        k: v["median"]["timeouts"] for k, v in tp.items() if v["median"]["timeouts"]
    }
    found["socket_errors_under_load"] = {
        k: v["median"]["socket_errors"] for k, v in tp.items() if v["median"]["socket_errors"]
    }
    return found


# -- report -------------------------------------------------------------------------------------


def yes_no(value: bool | None) -> str:
    return "n/a" if value is None else ("MET" if value else "NOT MET")


def table(result: dict[str, Any]) -> str:
    m, v, cfg = result["machine"], result["versions"], result["config"]
    lines = [
        "spacegate mock-mode throughput (issue 3)",
        f"date {m['date']}  git {m['git']}  {m['cpu_model']}, {m['cpus_usable']} cpus usable, "
        f"load at start {m['loadavg_at_start']}",
        f"python {m['python']}  {m['platform']}",
        "versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        f"wrk -t{cfg['wrk_threads']} -c{cfg['connections']} -d{cfg['duration_s']}s --latency "
        f"--timeout {cfg['wrk_timeout_s']}s, POST {cfg['request']['path']} (default scenario), "
        f"{cfg['repeats']} interleaved rounds after {cfg['warmup_s']} s warm-up each; "
        "one worker each, 127.0.0.1",
        f"Prism: {result['prism']}",
        "",
        f"{'server':<26}{'req/s':>8}{'(min..max)':>15}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'cpu us/req':>11}{'cpu %':>7}{'others %':>9}{'log B/req':>10}"
        f"{'non-2xx':>8}{'t/o':>5}{'sock':>5}  logging",
    ]
    for key, entry in result["throughput"].items():
        s = entry["median"]
        spread = f"{s['rps_min']:.0f}..{s['rps_max']:.0f}"
        lines.append(
            f"{cfg['targets'][key]['label']:<26}{s['rps']:>8.0f}{spread:>15}{s['p50_ms']:>8.2f}"
            f"{s['p99_ms']:>8.2f}{s['cpu_us_per_request']:>11.0f}{s['cpu_pct']:>7.0f}"
            f"{s['others_pct']:>9.0f}"
            f"{s['log_bytes_per_request']:>10.0f}{s['non_2xx']:>8}{s['timeouts']:>5}"
            f"{s['socket_errors']:>5}  "
            f"{cfg['targets'][key]['logging']}"
        )
    verdict_ = result["verdict"]
    busy = max(e["median"]["others_pct"] for e in result["throughput"].values())
    if "bare" in result["throughput"]:
        lines.append(
            f"calibration: bare uvicorn {result['throughput']['bare']['median']['rps']:.0f} req/s "
            "(the design notes quote ~29,000 on a quiet machine of this size)"
        )
    if busy > BUSY_PCT:
        lines.append(
            f"NOTE: other processes used up to {busy:.0f}% of a core during some runs (median per "
            "server): absolute figures are depressed; compare the ratios of this run."
        )
    lines.append("")
    lines.append("ratios of median req/s:")
    for name, value in verdict_["ratios"].items():
        if value is not None:
            lines.append(f"  {name:<34}{value:6.2f}")
    for key, extra in verdict_["cpu_us_per_request_over_minimal"].items():
        lines.append(f"  CPU over the minimal app, {key:<17}{extra:+7.0f} us/request")
    lines.append("")
    lines.append("start-up, spawn -> first 200 of the operation (s):")
    for key, s in result["startup_s"].items():
        runs = " ".join(f"{x:.2f}" for x in s["runs"])
        lines.append(f"  {key:<18} median {s['median']:.2f}  max {s['max']:.2f}   [{runs}]")
    lines.append(
        f"  (spacegate wrote {result['spacegate_startup_log_bytes']} bytes of log before "
        "its first request)"
    )
    lines.append("")
    lines.append("scenarios (Prefer: example=<name>; first request, then max of 3):")
    for s in result["scenarios"]:
        extra = f", {s['spaces']} spaces" if s["spaces"] is not None else ""
        mark = "" if s["ok"] else f"  WRONG STATUS, expected {s['expected_status']}"
        lines.append(
            f"  {s['name']:<24}{s['statuses'][0]:>4}  first {s['first_s'] * 1000:7.1f} ms  "
            f"max {s['max_s'] * 1000:7.1f} ms{extra}{mark}"
        )
    profile = result.get("profile")
    if isinstance(profile, dict):
        lines += profile_table(profile, cfg)
    elif profile:
        lines += ["", f"profile: {profile}"]
    lines += [
        "",
        "targets:",
        f"  spacegate INFO >= Prism default req/s: "
        f"{yes_no(verdict_['throughput_at_least_prism_default'])}",
        f"  (next goal) spacegate INFO >= Prism silent: "
        f"{yes_no(verdict_['next_goal_beats_prism_silent'])}",
        f"  start-up to first answer < 2 s (median): {yes_no(verdict_['startup_under_2s'])}"
        f" (every spawn: {yes_no(verdict_['startup_max_under_2s'])})",
        f"  every scenario within 2 s: {yes_no(verdict_['scenarios_within_2s'])} "
        f"(slowest {verdict_['scenarios_slowest']}, {verdict_['scenarios_max_s'] * 1000:.0f} ms)"
        f"; statuses as declared: {yes_no(verdict_['scenarios_status_as_declared'])}",
        f"  only 2xx answers under load: {yes_no(verdict_['only_2xx_under_load'])}"
        f"; wrk timeouts (no answer in {WRK_TIMEOUT_S} s): "
        f"{verdict_['timeouts_under_load'] or 'none'}"
        f"; socket errors: {verdict_['socket_errors_under_load'] or 'none'}",
    ]
    return "\n".join(lines)


def profile_table(profile: dict[str, Any], cfg: dict[str, Any]) -> list[str]:
    keys = list(profile)
    labels = [cfg["targets"][k]["label"] for k in keys]
    lines = [
        "",
        "profile (py-spy record during one more wrk run; us = share of the samples x the",
        "median CPU us/request of the rounds above):",
    ]
    for key, label in zip(keys, labels, strict=True):
        p = profile[key]
        lines.append(
            f"  {label}: {p['samples']} busy samples of {p['expected_samples_if_always_busy']}"
            f" ({p['samples_dropped_torn']} torn dropped); "
            f"profiled run {p['run']['rps']:.0f} req/s, {p['run']['cpu_us_per_request']:.0f} CPU "
            f"us/request; scaled by {p['scaled_by_cpu_us_per_request']:.0f}"
        )
    head = "".join(f"{label[:22]:>24}" for label in labels)
    for title, section in (("owner (self time)", "owners"), ("subtree (overlapping)", "subtrees")):
        lines.append("")
        lines.append(f"  {title:<66}{head}")
        names: list[str] = []
        if section == "subtrees":
            names = [name for name, _ in SUBTREES]
        else:
            for key in keys:
                names += [n for n in profile[key][section] if n not in names]
        for name in names:
            cells = ""
            for key in keys:
                cell = profile[key][section].get(name)
                cells += (
                    f"{cell['us_per_request']:>10.0f} us {cell['pct']:>5.1f}%    "
                    if cell
                    else f"{'-':>24}"
                )
            lines.append(f"  {name[:66]:<66}{cells}")
    for key, label in zip(keys, labels, strict=True):
        lines.append("")
        lines.append(f"  hottest leaf files, {label}:")
        for name, cell in list(profile[key]["leaf_files"].items())[:10]:
            lines.append(f"    {cell['pct']:5.1f}%  {cell['us_per_request']:5.0f} us  {name}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mock_throughput", description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--connections", type=int, default=50, help="wrk -c (50)")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t (2)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed wrk seconds per server (3)")
    parser.add_argument("--startup-spawns", type=int, default=5, help="spawns timed per server (5)")
    parser.add_argument("--profile-seconds", type=int, default=8, help="py-spy window (8)")
    parser.add_argument("--profile-rate", type=int, default=250, help="py-spy samples/s (250)")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--profile-dir", type=Path, help="keep py-spy's raw (collapsed) stacks in this folder"
    )
    parser.add_argument("--skip-prism", action="store_true")
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
