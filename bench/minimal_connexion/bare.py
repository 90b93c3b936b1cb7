"""A bare ASGI app on the same uvicorn: the machine's ceiling, to calibrate a run.

    python -m bench.minimal_connexion.bare [--host 127.0.0.1] [--port 8091]

It reads the request body and answers the seed's three spaces for any request: no routing,
no validation, no auth. Its figure says how fast this machine was during the run (the
design notes quote ~29,000 req/s on a quiet machine of this size).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import uvicorn

SEED = [("KB", "Knowledge Base"), ("IT", "IT Documentation"), ("HR", "HR Policies")]
BODY = json.dumps(
    {"spaces": [{"key": k, "name": n, "type": "global", "status": "current"} for k, n in SEED]}
).encode()
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.minimal_connexion.bare")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    args = parser.parse_args()
    uvicorn.run(
        f"{__name__}:app",
        host=args.host,
        port=args.port,
        workers=1,
        log_level="warning",
        access_log=False,
        server_header=False,
        lifespan="off",
    )


if __name__ == "__main__":
    main()
