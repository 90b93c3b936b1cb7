"""Serve the stand-in Confluence until Ctrl-C: `python -m tests.confluence_standin --port 8090`."""

from __future__ import annotations

import argparse
import contextlib
import threading

from .datasets import PERSONAS
from .server import VALID_TOKEN, StandIn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.confluence_standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--page-delay", type=float, default=0.0, help="seconds before each page")
    parser.add_argument("--verbose", action="store_true", help="print each request line")
    args = parser.parse_args(argv)

    with StandIn(
        host=args.host, port=args.port, page_delay=args.page_delay, verbose=args.verbose
    ) as confluence:
        print(f"Cloud v1 root:       {confluence.cloud_root}")
        print(f"Cloud v2 spaces:     {confluence.url}/wiki/api/v2/spaces")
        print(f"Data Center root:    {confluence.dc_root}")
        print(f"DC, context path:    {confluence.dc_context_root}")
        # The token is a public test value, so showing it is a convenience, not a leak.
        print(f"Basic auth:          <persona>:{VALID_TOKEN}")
        print(f"Personas:            {', '.join(sorted(PERSONAS))}")
        print("Ctrl-C stops.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
