"""Driving one server with wrk, and what the run cost it and the rest of the machine.

The POST is the same for every server (bearer token, `x-tenantid`, content-type, the contract's
first example), written once into a Lua script that also prints wrk's summary as JSON.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import BenchError
from bench.mock_throughput.servers import OPERATION, Server
from tests.support.bodies import EXAMPLE_BODY
from tests.support.processes import process_tree  # serve answers from worker processes
from tests.support.tokens import auth_headers

WRK_TIMEOUT_S = 5
CLK_TCK = os.sysconf("SC_CLK_TCK")


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
    headers = "\n".join(
        f"wrk.headers[{lua_string(name)}] = {lua_string(value)}"
        for name, value in auth_headers(token).items()
    )
    script = folder / "post.lua"
    script.write_text(
        f"""wrk.method = "POST"
wrk.body = {lua_string(json.dumps(EXAMPLE_BODY))}
{headers}

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


@dataclass(frozen=True)
class Wrk:
    """`wrk -t<threads> -c<connections>` with the POST script, for any number of seconds."""

    script: Path
    threads: int
    connections: int

    def drive(self, server: Server, seconds: int) -> Run:
        command = ["wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{seconds}s"]
        command += ["--latency", "--timeout", f"{WRK_TIMEOUT_S}s", "-s", str(self.script)]
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
