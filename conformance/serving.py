"""Our service as an operator starts it, in a process of its own: start, wait until healthy, stop.

`python -m service serve --mode MODE --host 127.0.0.1 --port <free port>`, waited for until
`/healthz` answers 200 in that mode, terminated (then killed) on the way out::

    with serving("mock", env={**os.environ, "SPACEGATE_JWT_SECRET": secret}) as served:
        requests.get(served.url + "/healthz")

What `python -m conformance.mock_run` (`tox -e conformance`) serves; the command-line tests and
the benchmarks serve the service through it too. Unlike the rest of the harness, this knows our
service.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

__all__ = ["ServedProcess", "ServiceDidNotStart", "free_port", "serving"]

HOST = "127.0.0.1"


class ServiceDidNotStart(RuntimeError):
    """The service exited, or did not answer /healthz in its mode in time; says why."""


def free_port(host: str = HOST) -> int:
    """A port nothing listens on right now (bound, then closed again)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class ServedProcess:
    process: subprocess.Popen[bytes]
    port: int
    # Where its stderr goes (None: nowhere).
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api(self) -> str:
        return self.url + "/v2/confluence/space-listing"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, size: int = 4000) -> str:
        if self.log is None:
            return "(its log was not kept)"
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-size:]
        return ""


def _healthy(served: ServedProcess, mode: str) -> bool:
    try:
        health = requests.get(served.url + "/healthz", timeout=1)
    except requests.RequestException:
        return False
    if health.status_code != 200:
        return False
    try:
        answered = health.json().get("mode")
    except (ValueError, AttributeError):
        return False  # not ours (yet): something else answered on the port
    if answered != mode:
        raise ServiceDidNotStart(f"the service answers in {answered} mode, not {mode}")
    return True


def _wait_until_healthy(served: ServedProcess, mode: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not _healthy(served, mode):
        if served.process.poll() is not None:
            raise ServiceDidNotStart(
                f"the service exited with {served.process.returncode}:\n{served.log_tail()}"
            )
        if time.monotonic() > deadline:
            raise ServiceDidNotStart(
                f"the service did not answer /healthz on {served.url} in {seconds:g} s:\n"
                f"{served.log_tail()}"
            )
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes], seconds: float = 10.0) -> None:
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def serving(
    mode: str,
    *options: str,
    env: Mapping[str, str],
    log: Path | None = None,
    cwd: Path | None = None,
    start_seconds: float = 30.0,
) -> Iterator[ServedProcess]:
    """Serve in `mode` on a free port with `options` (`--workers 2`) and `env` as its environment.

    Its stderr goes to `log` when given (stdout nowhere); ServiceDidNotStart when it does not
    come up healthy within `start_seconds`.
    """
    port = free_port()
    command = [sys.executable, "-m", "service", "serve", "--mode", mode,
               "--host", HOST, "--port", str(port), *options]  # fmt: skip
    with contextlib.ExitStack() as files:
        stderr = files.enter_context(log.open("wb")) if log is not None else subprocess.DEVNULL
        process = subprocess.Popen(  # noqa: S603 - our interpreter, our service
            command,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    served = ServedProcess(process, port, log)
    try:
        _wait_until_healthy(served, mode, start_seconds)
        yield served
    finally:
        _stop(process)
