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
import sys
from collections.abc import Sequence

from conformance.__main__ import EXIT_UNREACHABLE
from conformance.__main__ import main as conformance_main
from conformance.serving import ServiceDidNotStart, serving

__all__ = ["EXAMPLE_TENANT", "main"]

EXAMPLE_TENANT = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not os.environ.get("SPACEGATE_JWT_SECRET"):
        from service.settings import DEV_JWT_SECRET  # the mock's documented default

        os.environ["SPACEGATE_JWT_SECRET"] = DEV_JWT_SECRET
    if "--tenant" not in arguments:
        arguments += ["--tenant", EXAMPLE_TENANT]
    try:
        with serving("mock", env={**os.environ, "SPACEGATE_MODE": "mock"}) as served:
            return conformance_main(["--url", served.url, *arguments])
    except ServiceDidNotStart as exc:
        print(f"conformance: the mock did not start: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE


if __name__ == "__main__":
    sys.exit(main())
