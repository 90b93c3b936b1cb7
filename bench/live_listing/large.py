"""Case `large` (issue 12): 100,000 spaces on Cloud v2 and on Data Center, time and memory.

    python -m bench.live_listing large [--spaces N] [--page-delay S] [--compare-with DIR]

For each site, a fresh service process (so that its memory peak is this listing's) lists
``spaces-<N>`` once after a small warm-up listing: Cloud v2 through its cursors (250 a page,
one page at a time: a cursor is known only once the page before it is read), Data Center in
pages of 25 with the default window. Reported: the wall time against its floor (pages x page
delay / window), the answer's size, and the worker's resident memory idle and at its peak
(VmHWM), the difference being what the listing cost.

``--compare-with DIR`` measures the same listings, in the same run, with the service of
another checkout (``git worktree add /tmp/before <commit>``): before and after.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench.common import BenchError, machine
from bench.live_listing import service as served
from bench.live_listing.service import add_page_delay
from service.settings import Settings
from tests.confluence_standin import VALID_TOKEN, StandIn
from tests.support.bodies import standin_body


@dataclass(frozen=True)
class Site:
    name: str
    flavor: str
    page: int
    window: int

    def root(self, standin: StandIn) -> tuple[str, str]:
        if self.flavor == "v2":
            return standin.cloud_root, standin.url + "/wiki"
        return standin.dc_root, standin.url


SITES = (
    Site("Cloud v2", "v2", 250, 1),
    Site("Data Center", "dc", 25, Settings().page_concurrency),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spaces", type=int, default=100_000, help="spaces (default 100,000)")
    add_page_delay(parser)
    parser.add_argument(
        "--compare-with",
        type=Path,
        default=None,
        help="a checkout of another spacegate, measured the same way",
    )


def check_arguments(args: argparse.Namespace) -> str | None:
    if args.spaces < 1:
        return "--spaces must be at least 1"
    if args.compare_with is not None and not (args.compare_with / "service").is_dir():
        return f"--compare-with: {args.compare_with} is not a spacegate checkout"
    return None


def warm(standin: StandIn, site: Site, user: str) -> None:
    """Every page fetched once beforehand, so that no checkout measured pays for the stand-in
    rendering them (it keeps rendered pages)."""
    delay, standin.page_delay = standin.page_delay, 0.0
    root, _ = site.root(standin)
    url: str | None = (
        f"{standin.url}/wiki/api/v2/spaces?limit=250" if site.flavor == "v2" else f"{root}/space"
    )
    try:
        with requests.Session() as session:
            session.auth = (user, VALID_TOKEN)
            while url:
                page = session.get(url, timeout=60).json()
                following = page["_links"].get("next")
                base = standin.url if site.flavor == "v2" else page["_links"]["base"]
                url = base + following if following else None
    finally:
        standin.page_delay = delay


def measure(
    standin: StandIn, site: Site, user: str, checkout: Path | None, deadline: float
) -> dict[str, Any]:
    root, web = site.root(standin)
    body = standin_body(standin, user, root=root, web_url_instance=web)
    # Room for any size: the older default page cap (1,000) would refuse Data Center's pages.
    env = served.service_env(standin, deadline=deadline, SPACEGATE_MAX_PAGES="1000000")
    with served.running_service(env, cwd=checkout) as (service, headers), requests.Session() as s:
        pid = served.worker_pid(service)
        served.post_listing(s, service, headers, standin_body(standin, "three", root=root))
        idle = served.memory(pid)
        started = time.perf_counter()
        response = served.post_listing(s, service, headers, body)
        elapsed = time.perf_counter() - started
        peak = served.memory(pid)
        spaces = response.json()["spaces"]
    if spaces != standin.expected_listing(user, web, site.flavor):
        raise BenchError(f"{site.name}: the service did not answer the listing")
    return {
        "time_s": elapsed,
        "answer_bytes": len(response.content),
        "rss_idle_bytes": idle["VmRSS"],
        "rss_peak_bytes": peak["VmHWM"],
        "rss_after_bytes": peak["VmRSS"],
        "listing_cost_bytes": peak["VmHWM"] - idle["VmRSS"],
    }


def run(args: argparse.Namespace, say: Any) -> dict[str, Any]:
    info = machine()
    user = f"spaces-{args.spaces}"
    checkouts: dict[str, Path | None] = {}
    if args.compare_with is not None:
        checkouts["compared"] = args.compare_with.resolve()
    checkouts["this"] = None
    results: list[dict[str, Any]] = []
    with StandIn(page_delay=args.page_delay) as standin:
        for site in SITES:
            pages = math.ceil(args.spaces / site.page)
            floor = pages * args.page_delay / site.window
            warm(standin, site, user)
            for label, checkout in checkouts.items():
                say(f"{site.name}: {args.spaces:,} spaces in {pages} pages, {label} checkout")
                standin.clear()
                figures = measure(standin, site, user, checkout, max(60.0, 4 * floor + 30))
                results.append(
                    {"site": site.name, "checkout": label, "pages": pages, "floor_s": floor}
                    | figures
                )
    return {
        "machine": info,
        "config": {
            "persona": user,
            "page_delay_s": args.page_delay,
            "compared_with": None if args.compare_with is None else str(args.compare_with),
        },
        "results": results,
    }


def table(result: dict[str, Any]) -> str:
    m, c = result["machine"], result["config"]
    mib = served.mib
    lines = [
        "spacegate live listing: large sites, time and memory (issue 12)",
        f"  date       {m['date']}   git {m['git']}",
        f"  machine    {m['cpu_count']} CPUs, load {m['loadavg_at_start']} at start",
        f"  workload   {c['persona']}, {c['page_delay_s'] * 1e3:g} ms a page"
        + (f"; compared with {c['compared_with']}" if c["compared_with"] else ""),
        "",
        "site          checkout  pages   time   floor  answer     idle RSS    peak RSS    "
        "listing cost",
    ]
    for r in result["results"]:
        lines.append(
            f"  {r['site']:<12}{r['checkout']:<9}{r['pages']:6} {r['time_s']:6.2f} "
            f"{r['floor_s']:7.2f}  {mib(r['answer_bytes']):>9}  {mib(r['rss_idle_bytes']):>10}  "
            f"{mib(r['rss_peak_bytes']):>10}  {mib(r['listing_cost_bytes']):>10} "
            f"({r['listing_cost_bytes'] / r['answer_bytes']:.1f}x the answer)"
        )
    return "\n".join(lines)
