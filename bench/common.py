"""What every benchmark reports about the machine and the code it ran on."""

from __future__ import annotations

import contextlib
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.tokens import TENANT

REPO = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024

__all__ = ["MIB", "REPO", "BenchError", "machine", "memory", "mint_token", "revision"]


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    commit = revision(REPO)
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git": commit or "unknown",
    }


def revision(checkout: Path) -> str:
    """`git describe` of `checkout` ("" when it is no git checkout)."""
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip()


def memory(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak since the process started) of `pid`, in bytes."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) * 1024  # kB
    return found


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why."""


def mint_token(env: dict[str, str]) -> str:
    """A token for the tests' tenant from `python -m service token`, signed with the secret in
    `env` (never argv)."""
    done = subprocess.run(
        [sys.executable, "-m", "service", "token", "--tenant", TENANT, "--ttl", "7200"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"`python -m service token` failed: {done.stderr.strip()}")
    return done.stdout.strip()
