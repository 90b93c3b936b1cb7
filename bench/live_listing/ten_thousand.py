"""Case `ten-thousand` (issue 2): 10,000 spaces through spacegate versus fetching them directly.

    python -m bench.live_listing [ten-thousand] [--repeats N] [--page-delay S] [--memory-requests M]

It starts the Confluence stand-in in this process (persona ``many``: 10,000 spaces, 40 v2
pages of 250 on the Cloud root, each page answered after ``--page-delay`` seconds) and the
service as a real separate process (see `service.py`), then:

1. time: N interleaved pairs (baseline, service, baseline, service, ...) after a warm-up.
   *Baseline* is a hand-written client: one ``requests.Session`` walking ``_links.next`` and
   building the same list of spaces. *Service* is one POST to /v2/confluence/space-listing,
   timed until the decoded list of spaces is in hand. Both results are compared with what the
   stand-in says a full listing is (outside the timer); any difference stops the benchmark.
   Reported: medians, p10/p90, min/max, the ratio of medians service/baseline and the
   overhead in %, against the target of under 10%.
2. memory: M more requests to the service (the stand-in's page delay set to
   ``--memory-page-delay``, 0 by default, so the phase goes fast; the work per request is the
   same), reading VmRSS and VmHWM from /proc/<pid>/status of the service's worker after each. "Flat"
   means RSS after the last request exceeds RSS after the 5th by at most
   max(5 MiB, 5 % of it).

Everything reported comes from this one run: nothing is hard-coded.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import requests

from bench.common import BenchError, machine
from bench.live_listing.service import (
    MIB,
    add_page_delay,
    memory,
    mib,
    post_listing,
    running_service,
    service_env,
    summary,
    worker_pid,
)
from conformance.serving import ServedProcess
from tests.confluence_standin import VALID_TOKEN, StandIn
from tests.support.bodies import standin_body

USERNAME = "many"
EXPECTED_SPACES = 10_000
EXPECTED_PAGES = 40  # v2 pages of 250
PAGE_LIMIT = 250
TARGET_OVERHEAD_PCT = 10.0
FLAT_MIB = 5.0
FLAT_PCT = 5.0
SETTLE_AFTER = 5  # memory readings before this many requests count as warm-up


# -- the two ways to get the listing ------------------------------------------------------------


def baseline_listing(session: requests.Session, standin: StandIn, web_url: str) -> list[dict]:
    """What a hand-written client costs: walk the v2 pages, build the same list."""
    origin = standin.url  # scheme + host of the site
    url: str | None = f"{origin}/wiki/api/v2/spaces?limit={PAGE_LIMIT}"
    spaces: list[dict] = []
    while url:
        response = session.get(url, timeout=60)
        response.raise_for_status()
        page = response.json()
        for item in page["results"]:
            spaces.append(
                {
                    "key": item["key"],
                    "name": item["name"],
                    "type": item["type"],
                    "status": item["status"],
                    "id": item["id"],
                    "url": web_url + item["_links"]["webui"],
                }
            )
        following = page["_links"].get("next")
        url = origin + following if following else None
    return spaces


def service_listing(
    session: requests.Session, service: ServedProcess, headers: dict[str, str], body: dict
) -> list[dict]:
    """One POST; done when the decoded list is in hand (a caller needs it as much as we do)."""
    return post_listing(session, service, headers, body).json()["spaces"]


def slope(ys: list[float]) -> float:
    """Least-squares growth per step."""
    if len(ys) < 2:
        return 0.0
    xs = range(len(ys))
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    num = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    den = sum((x - mean_x) ** 2 for x in xs)
    return num / den


# -- the run ------------------------------------------------------------------------------------


def check(spaces: list[dict], expected: list[dict], what: str, pages: int | None) -> None:
    if len(spaces) != EXPECTED_SPACES:
        raise BenchError(f"{what} returned {len(spaces)} spaces, not {EXPECTED_SPACES}")
    if spaces != expected:
        raise BenchError(f"{what} returned 10,000 spaces, but not the expected ones")
    if pages is not None and pages != EXPECTED_PAGES:
        raise BenchError(f"{what} fetched {pages} pages from the stand-in, not {EXPECTED_PAGES}")


def timed(
    standin: StandIn, fetch: Callable[[], list[dict]], expected: list[dict], what: str
) -> float:
    standin.clear()
    started = time.perf_counter()
    spaces = fetch()
    elapsed = time.perf_counter() - started
    pages = sum(1 for r in standin.requests if r.username == USERNAME)
    check(spaces, expected, what, pages)
    return elapsed


def run(args: argparse.Namespace, say: Callable[[str], None]) -> dict[str, Any]:
    info = machine() | {"requests": requests.__version__}
    with StandIn(page_delay=args.page_delay) as standin:
        web_url = f"{standin.url}/wiki"
        expected = standin.expected_listing(USERNAME, web_url)
        body = standin_body(standin, USERNAME)
        # 40 pages must fit whatever --page-delay says
        env = service_env(standin, deadline=max(30.0, 4 * EXPECTED_PAGES * args.page_delay + 10))
        say(f"stand-in on {standin.url}, page delay {args.page_delay:g} s; starting the service")
        with (
            running_service(env) as (service, headers),
            requests.Session() as direct,
            requests.Session() as caller,
        ):
            pid = worker_pid(service)
            rss_started = memory(pid)

            def base() -> list[dict]:
                direct.auth = (USERNAME, VALID_TOKEN)
                return baseline_listing(direct, standin, web_url)

            def serv() -> list[dict]:
                return service_listing(caller, service, headers, body)

            # Warm-up: connections, imports and first-request work on both sides. The baseline
            # goes first so that the stand-in's page cache is warm when the service's first
            # (cold) request is timed.
            first_baseline = timed(standin, base, expected, "the baseline (warm-up)")
            first_service = timed(standin, serv, expected, "the service (warm-up)")
            for _ in range(args.warmup - 1):
                timed(standin, base, expected, "the baseline (warm-up)")
                timed(standin, serv, expected, "the service (warm-up)")
            say(f"warm-up done (first service request {first_service:.3f} s); timing")

            base_times: list[float] = []
            serv_times: list[float] = []
            for i in range(args.repeats):
                base_times.append(timed(standin, base, expected, "the baseline"))
                serv_times.append(timed(standin, serv, expected, "the service"))
                say(
                    f"  pair {i + 1}/{args.repeats}: baseline {base_times[-1]:.3f} s, "
                    f"service {serv_times[-1]:.3f} s"
                )

            standin.page_delay = args.memory_page_delay
            say(f"memory: {args.memory_requests} requests, page delay {args.memory_page_delay:g} s")
            after_timing = memory(pid)
            readings: list[dict[str, int]] = []
            for _ in range(args.memory_requests):
                check(serv(), expected, "the service (memory phase)", None)
                readings.append(memory(pid))
            if service.process.poll() is not None:
                raise BenchError(f"the service died:\n{service.log_tail()}")

    b, s = summary(base_times), summary(serv_times)
    ratio = s["median"] / b["median"]
    paired = [sv / bv for sv, bv in zip(serv_times, base_times, strict=True)]
    floor = EXPECTED_PAGES * args.page_delay
    overhead = (ratio - 1) * 100

    rss = [r["VmRSS"] for r in readings]
    settle = min(SETTLE_AFTER, len(rss)) - 1
    rss_settled, rss_last = rss[settle], rss[-1]
    growth = rss_last - rss_settled
    allowed = max(FLAT_MIB * MIB, FLAT_PCT / 100 * rss_settled)
    return {
        "machine": info,
        "config": {
            "persona": USERNAME,
            "spaces": EXPECTED_SPACES,
            "pages": EXPECTED_PAGES,
            "page_delay_s": args.page_delay,
            "repeats": args.repeats,
            "warmup": args.warmup,
            "memory_requests": args.memory_requests,
            "memory_page_delay_s": args.memory_page_delay,
            "service_workers": 1,
        },
        "time": {
            "waiting_floor_s": floor,
            "baseline_s": b,
            "service_s": s,
            "baseline_runs_s": base_times,
            "service_runs_s": serv_times,
            "first_service_request_s": first_service,
            "first_baseline_run_s": first_baseline,
            "ratio_of_medians": ratio,
            "overhead_pct": overhead,
            "overhead_ms": (s["median"] - b["median"]) * 1e3,
            "overhead_ms_per_page": (s["median"] - b["median"]) * 1e3 / EXPECTED_PAGES,
            "paired_ratio": summary(paired),
            "target_overhead_pct": TARGET_OVERHEAD_PCT,
            "meets_target": overhead < TARGET_OVERHEAD_PCT,
        },
        "memory": {
            "pid": pid,
            "rss_at_start_bytes": rss_started["VmRSS"],
            "rss_after_timing_bytes": after_timing["VmRSS"],
            "rss_after_request_bytes": rss,
            "settled_after_requests": settle + 1,
            "rss_settled_bytes": rss_settled,
            "rss_last_bytes": rss_last,
            "growth_bytes": growth,
            "growth_pct": growth / rss_settled * 100,
            "slope_bytes_per_request": slope(rss[settle:]),
            "peak_hwm_bytes": readings[-1]["VmHWM"],
            "hwm_settled_bytes": readings[settle]["VmHWM"],
            "flat_allowed_bytes": allowed,
            "flat": growth <= allowed,
            "criterion": (
                f"RSS after the last request minus RSS after request {settle + 1} "
                f"<= max({FLAT_MIB:g} MiB, {FLAT_PCT:g}% of the latter)"
            ),
        },
    }


# -- output -------------------------------------------------------------------------------------


def table(result: dict[str, Any]) -> str:
    m, c, t, mem = result["machine"], result["config"], result["time"], result["memory"]
    b, s, p = t["baseline_s"], t["service_s"], t["paired_ratio"]
    lines = [
        "spacegate live listing benchmark (issue 2)",
        f"  date       {m['date']}   git {m['git']}",
        f"  machine    {m['cpu_count']} CPUs ({m['cpus_usable']} usable) {m['cpu_model']}, "
        f"load {m['loadavg_at_start']} at start",
        f"  python     {m['python']} on {m['platform']}, requests {m['requests']}",
        f"  workload   {c['spaces']:,} spaces = {c['pages']} v2 pages of {PAGE_LIMIT}, "
        f"page delay {c['page_delay_s'] * 1e3:g} ms (waiting floor {t['waiting_floor_s']:.3f} s)",
        f"  runs       {c['repeats']} interleaved pairs after {c['warmup']} warm-up pair(s); "
        "service: 1 worker (granian), separate process",
        "",
        "wall time (s)        median     p10     p90     min     max",
    ]
    for name, row in (("baseline (requests)", b), ("service (POST)", s)):
        lines.append(
            f"  {name:<19}{row['median']:7.3f} {row['p10']:7.3f} {row['p90']:7.3f} "
            f"{row['min']:7.3f} {row['max']:7.3f}"
        )
    lines.append(
        f"  {'paired ratio':<19}{p['median']:7.3f} {p['p10']:7.3f} {p['p90']:7.3f} "
        f"{p['min']:7.3f} {p['max']:7.3f}"
    )
    lines.append("")

    def row(label: str, value: str) -> None:
        lines.append(f"  {label:<35}{value}")

    row("ratio of medians service/baseline", f"{t['ratio_of_medians']:.3f}")
    row(
        "overhead",
        f"{t['overhead_pct']:+.1f} %  ({t['overhead_ms']:+.0f} ms, "
        f"{t['overhead_ms_per_page']:+.1f} ms/page)",
    )
    row(f"target < {t['target_overhead_pct']:g} %", "MET" if t["meets_target"] else "MISSED")
    row(
        "above the waiting floor",
        f"baseline {(b['median'] - t['waiting_floor_s']) * 1e3:+.0f} ms, "
        f"service {(s['median'] - t['waiting_floor_s']) * 1e3:+.0f} ms",
    )
    row("first (cold) service request", f"{t['first_service_request_s']:.3f} s")
    lines.append("")
    lines.append(
        f"memory of the service's worker process (pid {mem['pid']}), "
        f"{c['memory_requests']} requests at page delay {c['memory_page_delay_s']:g} s"
    )
    row("RSS at start (idle)", mib(mem["rss_at_start_bytes"]))
    row("RSS after the timing phase", mib(mem["rss_after_timing_bytes"]))
    row(f"RSS after request {mem['settled_after_requests']}", mib(mem["rss_settled_bytes"]))
    row(f"RSS after request {c['memory_requests']}", mib(mem["rss_last_bytes"]))
    row(
        "growth",
        f"{mem['growth_bytes'] / MIB:+.1f} MiB ({mem['growth_pct']:+.1f} %), "
        f"trend {mem['slope_bytes_per_request'] / 1024:+.0f} KiB/request",
    )
    row(
        "peak (VmHWM)",
        f"{mib(mem['peak_hwm_bytes'])} (was {mib(mem['hwm_settled_bytes'])} after request "
        f"{mem['settled_after_requests']})",
    )
    row("flat?", f"{'yes' if mem['flat'] else 'NO'}: growth <= {mib(mem['flat_allowed_bytes'])}")
    row("  criterion", mem["criterion"])
    per_request = [f"{r / MIB:.1f}" for r in mem["rss_after_request_bytes"]]
    for start in range(0, len(per_request), 10):
        label = "RSS after each request (MiB)" if start == 0 else ""
        row(label, " ".join(per_request[start : start + 10]))
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeats", type=int, default=9, help="interleaved pairs (default 9)")
    add_page_delay(parser)
    parser.add_argument("--warmup", type=int, default=1, help="untimed pairs first (default 1)")
    parser.add_argument(
        "--memory-requests", type=int, default=30, help="requests in the memory phase (30)"
    )
    parser.add_argument(
        "--memory-page-delay",
        type=float,
        default=0.0,
        help="page delay during the memory phase (default 0: same work, less waiting)",
    )


def check_arguments(args: argparse.Namespace) -> str | None:
    if args.repeats < 2 or args.warmup < 1 or args.memory_requests < 1:
        return "--repeats must be at least 2, --warmup and --memory-requests at least 1"
    return None
