"""What every live-listing case shares: the service as an operator runs it, and its memory.

The service runs as `python -m service serve --mode live --workers 1`, every secret in the
environment, never on the command line. granian answers from a worker process below the one
started: memory figures are that worker's (the process that holds the listings).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import statistics
import tempfile
from collections.abc import Iterator
from pathlib import Path

import requests

from bench.common import MIB, REPO, BenchError, memory, mint_token
from conformance.serving import ServedProcess, ServiceDidNotStart, serving
from tests.confluence_standin import StandIn
from tests.support.processes import process_tree
from tests.support.tokens import auth_headers

__all__ = [
    "MIB",
    "add_page_delay",
    "memory",
    "mib",
    "post_listing",
    "running_service",
    "service_env",
    "summary",
    "worker_pid",
]


def service_env(standin: StandIn, *, deadline: float, **variables: str) -> dict[str, str]:
    """Live mode against `standin`, quiet, with a fresh secret; `variables` are added."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACEGATE_")}
    env.update(
        {
            "SPACEGATE_JWT_SECRET": secrets.token_urlsafe(48),
            "SPACEGATE_ALLOWED_HOSTS": f"127.0.0.1:{standin.port}",
            "SPACEGATE_ALLOW_HTTP": "true",
            "SPACEGATE_ALLOW_PRIVATE_ADDRESSES": "true",
            "SPACEGATE_LOG_LEVEL": "WARNING",
            "SPACEGATE_DEADLINE_SECONDS": f"{deadline:g}",
            **variables,
        }
    )
    return env


@contextlib.contextmanager
def running_service(
    env: dict[str, str], *, cwd: Path | None = None
) -> Iterator[tuple[ServedProcess, dict[str, str]]]:
    """The service in live mode, one worker, from this checkout or the one at `cwd`; and the
    headers of a request it accepts."""
    headers = auth_headers(mint_token(env))
    with tempfile.TemporaryDirectory(prefix="spacegate-bench-") as folder:
        log = Path(folder) / "serve.log"
        try:
            with serving("live", "--workers", "1", env=env, log=log, cwd=cwd or REPO) as service:
                yield service, headers
        except ServiceDidNotStart as exc:
            raise BenchError(str(exc)) from exc


def worker_pid(service: ServedProcess) -> int:
    """The process that answers: granian's one worker, or `serve` itself if it has none."""
    return process_tree(service.pid)[-1]


def post_listing(
    session: requests.Session, service: ServedProcess, headers: dict[str, str], body: dict
) -> requests.Response:
    """One POST, read whole; anything but a 200 stops the benchmark."""
    response = session.post(service.api, json=body, headers=headers, timeout=600)
    if response.status_code != 200:
        raise BenchError(f"the service answered HTTP {response.status_code}: {response.text[:500]}")
    return response


def summary(values: list[float]) -> dict[str, float]:
    deciles = statistics.quantiles(values, n=10, method="inclusive") if len(values) > 1 else values
    return {
        "median": statistics.median(values),
        "p10": deciles[0],
        "p90": deciles[-1],
        "min": min(values),
        "max": max(values),
    }


def mib(n: float) -> str:
    return f"{n / MIB:.1f} MiB"


def add_page_delay(parser: argparse.ArgumentParser) -> None:
    """`--page-delay S`: how long the stand-in waits before each page (50 ms by default)."""
    parser.add_argument(
        "--page-delay", type=float, default=0.05, help="seconds per page (default 0.05)"
    )
