"""The service under uvicorn on 127.0.0.1, in a thread of the test process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from service.app import create_app
from service.mode import Mode
from service.settings import Settings


class RunningService:
    def __init__(self, server: uvicorn.Server, thread: threading.Thread, settings: Settings):
        self._server = server
        self._thread = thread
        self.settings = settings
        port = server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.port = port

    @property
    def api(self) -> str:
        return self.url + "/v2/confluence/space-listing"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@contextmanager
def serve(
    settings: Settings,
    *,
    mode: Mode | None = None,
    wrap: Callable[[ASGIApp], ASGIApp] | None = None,
) -> Iterator[RunningService]:
    """Serve create_app(settings), inside `wrap` if given, on an ephemeral port."""
    app = create_app(settings, mode=mode)
    if wrap is not None:
        app = wrap(app)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="spacegate-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the service did not start")
        time.sleep(0.01)
    running = RunningService(server, thread, settings)
    try:
        yield running
    finally:
        running.stop()
