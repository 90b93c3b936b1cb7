"""The operation `listSpaces`: tenant check, then the Confluence client through the transport."""

from __future__ import annotations

import functools
import time
from typing import Any

import anyio
import anyio.to_thread
from connexion import request

from service.auth import check_tenant
from service.confluence.client import ClientOptions, ConfluenceClient, Credentials
from service.confluence.transport import Transport

__all__ = ["SpaceListing"]


def _no_wait(_seconds: float) -> None:
    return None


class SpaceListing:
    def __init__(
        self,
        transport: Transport,
        options: ClientOptions,
        *,
        tenant_claim: str,
        worker_threads: int,
    ) -> None:
        self._transport = transport
        self._options = options
        self._tenant_claim = tenant_claim
        self._worker_threads = worker_threads
        self._limiter: anyio.CapacityLimiter | None = None

    async def list_spaces(self, body: dict[str, Any], token_info: dict[str, Any]) -> dict[str, Any]:
        headers = request.headers
        # The token was verified before validation; the tenant is compared after it, so that a
        # malformed x-tenantid is a 422 and not a 403 (docs/contract.md#order-of-checks).
        check_tenant(token_info, self._tenant_claim, headers["x-tenantid"])
        client = ConfluenceClient(
            self._transport.adapter_for(headers),
            self._options,
            # A transport answering from memory has nothing to wait for: its retry waits pass
            # at once (still counted against the budget), so the event loop never sleeps.
            sleep=time.sleep if self._transport.blocking else _no_wait,
        )
        call = functools.partial(
            client.list_spaces,
            body["instance_url"],
            body["web_url_instance"],
            Credentials(username=body["username"], api_token=body["api_token"]),
        )
        if not self._transport.blocking:
            spaces = call()
        else:
            if self._limiter is None:  # needs a running event loop to exist
                self._limiter = anyio.CapacityLimiter(self._worker_threads)
            spaces = await anyio.to_thread.run_sync(call, limiter=self._limiter)
        return {"spaces": spaces}
