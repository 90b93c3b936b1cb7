"""Memory over many requests: a fresh spacegate driven by wrk in steps, its worker's RSS read
after each step.

"Flat" is the criterion of `bench.live_listing`: RSS after the last step minus RSS once settled
(after the first step that brings the count to a tenth of the requests) is at most
max(5 MiB, 5 %).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import MIB, BenchError, memory
from bench.mock_throughput.servers import Target, check_answer, running
from bench.mock_throughput.wrk import Wrk, busiest_process

FLAT_MIB = 5
FLAT_PCT = 5


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares growth of ys per unit of xs."""
    if len(xs) < 2:
        return 0.0
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    num = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    den = sum((x - mean_x) ** 2 for x in xs)
    return num / den if den else 0.0


def measure_memory(
    target: Target, wrk: Wrk, folder: Path, token: str, *, requests: int, step_seconds: int
) -> dict[str, Any]:
    """`requests` requests (at least) to a fresh server, RSS of its worker after each step."""
    readings: list[dict[str, int]] = []
    with running(target, folder, token) as server:
        worker = busiest_process(server.pid)
        start = memory(worker)
        total = 0
        while total < requests:
            run = wrk.drive(server, step_seconds)
            if run.non_2xx or run.timeouts or run.socket_errors:
                raise BenchError(f"{target.label} failed requests during the memory run: {run}")
            total += run.requests
            readings.append({"requests": total, **memory(worker)})
        check_answer(server, token)
    settled = next(r for r in readings if r["requests"] >= requests / 10)
    last = readings[-1]
    growth = last["VmRSS"] - settled["VmRSS"]
    allowed = max(FLAT_MIB * MIB, FLAT_PCT / 100 * settled["VmRSS"])
    after = [r for r in readings if r["requests"] >= settled["requests"]]
    return {
        "requests": total,
        "rss_at_start_bytes": start["VmRSS"],
        "rss_settled_bytes": settled["VmRSS"],
        "settled_after_requests": settled["requests"],
        "rss_last_bytes": last["VmRSS"],
        "peak_hwm_bytes": last["VmHWM"],
        "growth_bytes": growth,
        "allowed_growth_bytes": allowed,
        "flat": growth <= allowed,
        "trend_bytes_per_10k_requests": 10_000
        * slope([r["requests"] for r in after], [r["VmRSS"] for r in after]),
        "readings": readings,
    }
