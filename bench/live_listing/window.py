"""Case `window` (issue 12): a Data Center site listed one page at a time, and with the window.

    python -m bench.live_listing window [--repeats N] [--page-delay S] [--spaces N] [--page-size K]

The stand-in serves ``spaces-<N>+page-<K>`` on its Data Center root (by default 20,000 spaces
in 400 pages of 50, each answered after ``--page-delay`` seconds). Two services run side by
side, the same but for ``SPACEGATE_PAGE_CONCURRENCY``: 1 (sequential paging) and the default.
Their listings alternate (sequential, windowed, sequential, ...), each answer is compared with
the stand-in's expected one outside the timer, and the stand-in counts the most requests it
saw at once from each listing.

The physical floor of a listing is pages x page delay / window: the waiting no client can
avoid. Target: the windowed listing within 1.5x its floor (about 5 s for 400 pages at 50 ms in
a window of 4, against 20 s sequentially).
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import requests

from bench.common import BenchError, machine
from bench.live_listing.service import (
    add_page_delay,
    post_listing,
    running_service,
    service_env,
    summary,
)
from service.settings import Settings
from tests.confluence_standin import StandIn
from tests.support.bodies import standin_body

TARGET_OVER_FLOOR = 1.5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeats", type=int, default=3, help="listings of each (default 3)")
    add_page_delay(parser)
    parser.add_argument("--spaces", type=int, default=20_000, help="spaces (default 20,000)")
    parser.add_argument("--page-size", type=int, default=50, help="spaces a page (default 50)")


def check_arguments(args: argparse.Namespace) -> str | None:
    if args.repeats < 1 or args.spaces < 1 or args.page_size < 1:
        return "--repeats, --spaces and --page-size must be at least 1"
    return None


def run(args: argparse.Namespace, say: Any) -> dict[str, Any]:
    info = machine()
    window = Settings().page_concurrency
    user = f"spaces-{args.spaces}+page-{args.page_size}"
    pages = math.ceil(args.spaces / args.page_size)
    floors = {1: pages * args.page_delay, window: pages * args.page_delay / window}
    times: dict[int, list[float]] = {1: [], window: []}
    most: dict[int, list[int]] = {1: [], window: []}
    asked: dict[int, list[int]] = {1: [], window: []}
    with StandIn(page_delay=args.page_delay) as standin:
        body = standin_body(standin, user, root=standin.dc_root, web_url_instance=standin.url)
        expected = standin.expected_listing(user, standin.url, "dc")
        deadline = max(30.0, 2 * floors[1] + 10)
        say(
            f"stand-in on {standin.url}: {args.spaces:,} spaces, {pages} pages of "
            f"{args.page_size} at {args.page_delay * 1e3:g} ms; starting both services"
        )
        with (
            running_service(
                service_env(standin, deadline=deadline, SPACEGATE_PAGE_CONCURRENCY="1")
            ) as (one, one_headers),
            running_service(service_env(standin, deadline=deadline)) as (windowed, headers),
            requests.Session() as caller,
        ):
            services = {1: (one, one_headers), window: (windowed, headers)}
            for service, sent_headers in services.values():  # warm-up: imports, connections
                post_listing(caller, service, sent_headers, standin_body(standin, "three"))
            for repeat in range(args.repeats):
                for concurrency, (service, sent_headers) in services.items():
                    standin.clear()
                    started = time.perf_counter()
                    response = post_listing(caller, service, sent_headers, body)
                    spaces = response.json()["spaces"]
                    times[concurrency].append(time.perf_counter() - started)
                    if spaces != expected:
                        raise BenchError(f"window {concurrency} did not answer the listing")
                    most[concurrency].append(standin.most_in_flight(user))
                    asked[concurrency].append(sum(r.username == user for r in standin.requests))
                say(
                    f"  round {repeat + 1}/{args.repeats}: sequential {times[1][-1]:.2f} s, "
                    f"window {window} {times[window][-1]:.2f} s"
                )
    medians = {c: summary(t)["median"] for c, t in times.items()}
    return {
        "machine": info,
        "config": {
            "persona": user,
            "spaces": args.spaces,
            "pages": pages,
            "page_delay_s": args.page_delay,
            "repeats": args.repeats,
            "window": window,
        },
        "runs": {
            str(c): {
                "times_s": times[c],
                "time_s": summary(times[c]),
                "floor_s": floors[c],
                "over_floor": medians[c] / floors[c] if floors[c] else math.inf,
                "most_in_flight": max(most[c]),
                "requests": asked[c],
            }
            for c in times
        },
        "speed_up": medians[1] / medians[window],
        "target_over_floor": TARGET_OVER_FLOOR,
        "meets_target": medians[window] <= TARGET_OVER_FLOOR * floors[window],
    }


def table(result: dict[str, Any]) -> str:
    m, c = result["machine"], result["config"]
    lines = [
        "spacegate live listing: Data Center, pages one at a time against the window (issue 12)",
        f"  date       {m['date']}   git {m['git']}",
        f"  machine    {m['cpu_count']} CPUs, load {m['loadavg_at_start']} at start",
        f"  workload   {c['spaces']:,} spaces = {c['pages']} pages ({c['persona']}), "
        f"{c['page_delay_s'] * 1e3:g} ms a page, {c['repeats']} listings of each, alternating",
        "",
        "PAGE_CONCURRENCY   median     min     max   floor  /floor  most at once  requests",
    ]
    for concurrency, run in result["runs"].items():
        t = run["time_s"]
        lines.append(
            f"  {concurrency:<17}{t['median']:7.2f} {t['min']:7.2f} {t['max']:7.2f} "
            f"{run['floor_s']:7.2f} {run['over_floor']:6.2f}x  {run['most_in_flight']:12}  "
            f"{max(run['requests'])}"
        )
    lines += [
        "",
        f"  sequential / window {c['window']}: {result['speed_up']:.2f}x faster",
        f"  target: window within {result['target_over_floor']:g}x its floor: "
        f"{'MET' if result['meets_target'] else 'MISSED'}",
    ]
    return "\n".join(lines)
