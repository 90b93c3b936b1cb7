"""The operation `listSpaces`: tenant check, then the Confluence client through its adapter."""

from __future__ import annotations

import threading
import time
from typing import Any, cast

from connexion import request as current_request
from connexion.lifecycle import ConnexionRequest
from starlette.responses import Response

from service.auth import check_tenant
from service.confluence.client import (
    ClientOptions,
    ConfluenceClient,
    Credentials,
    PinnableAdapter,
)
from service.confluence.errors import UpstreamTimeout
from service.confluence.page_threads import PageThreads
from service.listing_body import ListingBody
from service.request_context import request_arrival
from service.worker_pool import QueueTimeout, WorkerPool, sleep_unless_gone

__all__ = ["SpaceListing"]


def _no_wait(_seconds: float) -> None:
    return None


class SpaceListing:
    def __init__(
        self,
        adapter: PinnableAdapter,
        options: ClientOptions,
        *,
        tenant_claim: str,
        pool: WorkerPool,
        page_threads: PageThreads | None = None,
    ) -> None:
        self._adapter = adapter
        self._options = options
        self._tenant_claim = tenant_claim
        self._pool = pool
        self._page_threads = page_threads

    async def list_spaces(self, body: dict[str, Any], token_info: dict[str, Any]) -> Response:
        request = cast(ConnexionRequest, current_request)  # Connexion's proxy of this request
        # The token was verified before validation; the tenant is compared after it, so that a
        # malformed x-tenantid is a 422 and not a 403 (docs/contract.md#order-of-checks).
        check_tenant(token_info, self._tenant_claim, request.headers["x-tenantid"])
        arrival = request_arrival.get(None)
        since = time.monotonic() if arrival is None else arrival
        credentials = Credentials(username=body["username"], api_token=body["api_token"])

        def listing(gone: threading.Event | None) -> ListingBody:
            client = ConfluenceClient(
                self._adapter,
                self._options,
                # Pages are fetched ahead on borrowed threads only where sending blocks: on
                # the event loop (an adapter answering from memory) they would only add hops.
                page_threads=None if gone is None else self._page_threads,
                # An adapter answering from memory has nothing to wait for: its retry waits
                # pass at once (still counted against the budget), so the event loop never
                # sleeps. A thread's waits end early when the client goes.
                sleep=_no_wait if gone is None else gone.wait,
            )
            pages = client.pages(
                body["instance_url"],
                body["web_url_instance"],
                credentials,
                since=since,
                abandoned=(lambda: False) if gone is None else gone.is_set,
            )
            return ListingBody.of(pages)

        if not self._adapter.blocking:
            try:
                return listing(None).response()
            finally:
                # An adapter answering from memory never sleeps: the latency it stands for
                # runs its clock ahead, and the answer waits here, without blocking the loop.
                ahead = self._adapter.clock() - time.monotonic()
                if ahead > 0:
                    await sleep_unless_gone(ahead, request.receive)
        deadline = since + self._options.deadline_seconds
        try:
            answer = await self._pool.run(listing, deadline=deadline, receive=request.receive)
        except QueueTimeout:
            raise UpstreamTimeout(
                f"the overall deadline ({self._options.deadline_seconds:g} s) ran out while "
                "waiting for a worker thread: spacegate is saturated"
            ) from None
        return answer.response()
