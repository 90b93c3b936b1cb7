"""`python -m service …` as an operator runs it: a separate process, its environment, its log."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(**variables: str) -> dict[str, str]:
    """This process's environment without any SPACEGATE_* variable, plus `variables`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACEGATE_")}
    return env | {"PYTHONPATH": str(ROOT)} | variables


def live_environment(standin_port: int, secret: str, **variables: str) -> dict[str, str]:
    """environment() for live mode against the stand-in on `standin_port`."""
    return environment(
        SPACEGATE_MODE="live",
        SPACEGATE_JWT_SECRET=secret,
        SPACEGATE_ALLOWED_HOSTS=f"127.0.0.1:{standin_port}",
        SPACEGATE_ALLOW_HTTP="true",
        SPACEGATE_ALLOW_PRIVATE_ADDRESSES="true",
        **variables,
    )


@contextmanager
def serving(*args: str, env: dict[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """`python -m service serve` on a free port, its stderr going to `log`."""
    port = free_port()
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(port), *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=ROOT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"serve did not start: {log.read_text()}")
            time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=20)


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it (serve's worker processes)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
    return found
