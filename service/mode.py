"""What differs between live and mock mode, chosen once, where the app is composed.

    Mode(adapter, policy, cors_origins, rules=(), install=...)

`create_app` assembles the same app around either mode: the same routing, auth, validation,
handler, Confluence client and error table. A mode brings only the adapter below the client,
the URL policy of requests, the browser origins CORS allows, and anything of its own it adds
above (mock mode: its middleware, routes and 422 rule, in `mocks/web.py`). The live service
never imports `mocks/`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from connexion import AsyncApp

from service.confluence.client import PinnableAdapter
from service.confluence.guarded_adapter import GuardedHTTPAdapter
from service.confluence.urlpolicy import UrlPolicy
from service.settings import Settings
from service.url_rule import url_policy
from service.validation import RequestRule

__all__ = ["Mode", "live_mode", "mode_for"]

# Distinct Confluence hosts whose pools stay open; beyond this the least recently used closes.
_POOLED_HOSTS = 32


def _nothing(_app: AsyncApp) -> None:
    return None


@dataclass(frozen=True)
class Mode:
    """The parts of the app a mode chooses.

    - `adapter`: what the Confluence client sends through (closed at shutdown).
    - `policy`: the URL policy judging `instance_url` (mock mode: without the host allow-list,
      since nothing leaves the process).
    - `cors_origins`: the browser origins allowed.
    - `rules`: request rules run after the URL policy's, their 422 items reported with it.
    - `install(app)`: adds the mode's own routes and middleware; called before the app's own
      middleware are added, so a middleware it adds is outside them all.
    - `running()`: what the mode keeps doing while the app serves, entered when the app starts
      and left when it stops (mock mode: watching its scenarios folder).
    """

    adapter: PinnableAdapter
    policy: UrlPolicy
    cors_origins: tuple[str, ...]
    rules: tuple[RequestRule, ...] = ()
    install: Callable[[AsyncApp], None] = _nothing
    running: Callable[[], AbstractAsyncContextManager[object]] = contextlib.nullcontext


def live_mode(settings: Settings) -> Mode:
    """Real HTTPS to Confluence through one shared `GuardedHTTPAdapter`.

    The adapter's pools keep up to `2 * worker_threads` connections per Confluence host, one
    per thread that may be talking to it (worker threads, and as many page threads), so
    keep-alive connections are reused, not discarded.
    """
    policy = url_policy(settings, enforce_allow_list=True)
    adapter = GuardedHTTPAdapter(
        policy, pool_connections=_POOLED_HOSTS, pool_maxsize=2 * max(settings.worker_threads, 1)
    )
    return Mode(adapter=adapter, policy=policy, cors_origins=settings.cors_origins)


def mode_for(settings: Settings) -> Mode:
    """The one choice of mode: `SPACEGATE_MODE`."""
    if settings.mode == "live":
        return live_mode(settings)
    # Imported here so that the live service never loads the mock machinery.
    from mocks.web import mock_mode

    return mock_mode(settings)
