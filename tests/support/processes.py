"""The environment of `python -m service …` run as an operator runs it, and its process tree.

Serving it (free port, wait for /healthz, stop) is `conformance.serving.serving`."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


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
