"""`python -m conformance.mock_run [options]`: serve our mock, check it, stop it.

What `tox -e conformance` runs. It starts `python -m service serve --mode mock` on a free
127.0.0.1 port, waits for `/healthz`, runs `python -m conformance` against it with the given
options (`--tenant` defaults to the spec's example tenant) and stops the server. The mock
verifies tokens with SPACEGATE_JWT_SECRET, or with its documented development secret when the
variable is unset; the harness mints with the same one.

Unlike the harness itself, this knows our service: it is a convenience for this project's CI.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

import requests

from conformance.__main__ import EXIT_UNREACHABLE
from conformance.__main__ import main as conformance_main

__all__ = ["EXAMPLE_TENANT", "main"]

EXAMPLE_TENANT = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
_START_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_healthy(url: str, server: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.1)
    return False


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not os.environ.get("SPACEGATE_JWT_SECRET"):
        from service.settings import DEV_JWT_SECRET  # the mock's documented default

        os.environ["SPACEGATE_JWT_SECRET"] = DEV_JWT_SECRET
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "SPACEGATE_MODE": "mock"}
    server = subprocess.Popen(  # noqa: S603 - our interpreter, our service
        [sys.executable, "-m", "service", "serve", "--mode", "mock",
         "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        if not _wait_until_healthy(url, server):
            print(f"conformance: the mock did not start on {url}", file=sys.stderr)
            return EXIT_UNREACHABLE
        if "--tenant" not in arguments:
            arguments += ["--tenant", EXAMPLE_TENANT]
        return conformance_main(["--url", url, *arguments])
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    sys.exit(main())
