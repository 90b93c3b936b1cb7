"""The seam between spacegate and the network: what answers the Confluence client's requests.

The handler asks a `Transport` for the adapter serving one API request and hands it to
`ConfluenceClient`; it never knows whether Confluence is real (`LiveTransport`) or recorded
(the cassette transport in `mocks/`). Everything above the adapter — URL policy, paging,
retries, error mapping — is the same code in both modes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from service.confluence.client import PinnableAdapter
from service.confluence.guarded_adapter import GuardedHTTPAdapter
from service.confluence.urlpolicy import UrlPolicy

if TYPE_CHECKING:
    from service.problems import Problem

__all__ = ["LiveTransport", "Transport"]


@runtime_checkable
class Transport(Protocol):
    """Where the Confluence client's requests go.

    - `mode`: "live" or "mock", reported by /healthz and logged at start.
    - `blocking`: False when the adapter answers without blocking I/O, so the service may
      call the client on the event loop instead of hopping to a worker thread.
    - `reaches_network`: True when requests leave the process, so the host allow-list
      applies (`UrlPolicy(..., enforce_allow_list=reaches_network)`).

    Example::

        transport = LiveTransport(policy, worker_threads=40)
        problems = transport.request_problems(headers)      # [] -> go on
        client = ConfluenceClient(transport.adapter_for(headers), options)
        spaces = client.list_spaces(instance_url, web_url, credentials)
        ...
        transport.close()                                   # at shutdown
    """

    mode: str
    blocking: bool
    reaches_network: bool

    def request_problems(self, headers: Mapping[str, str]) -> list[Problem]:
        """422 items this transport adds for one API request (mock: an unknown scenario)."""
        ...

    def adapter_for(self, headers: Mapping[str, str]) -> PinnableAdapter:
        """The adapter that serves every Confluence request of one API request.

        An adapter that knows the upstream has no API at the requested path may raise
        `RootNotFound` instead of answering 404, to say which root it expects.
        """
        ...

    def scenarios(self) -> list[dict[str, object]] | None:
        """What a recorded transport can play, for `GET /mock/scenarios`; None when live."""
        ...

    def close(self) -> None:
        """Release pooled connections; called once, at shutdown."""
        ...


class LiveTransport:
    """Real HTTP(S) to Confluence, through one shared `GuardedHTTPAdapter`.

    The adapter (and its connection pools) is shared by all concurrent API requests; its
    pool keeps up to `2 * worker_threads` connections per Confluence host, one per thread that
    may be talking to it (worker threads, and as many page threads), so keep-alive
    connections are reused instead of discarded.
    """

    mode = "live"
    blocking = True
    reaches_network = True

    def __init__(self, policy: UrlPolicy, *, worker_threads: int) -> None:
        self.policy = policy
        self._adapter = GuardedHTTPAdapter(
            policy, pool_connections=_POOLED_HOSTS, pool_maxsize=2 * max(worker_threads, 1)
        )

    def request_problems(self, headers: Mapping[str, str]) -> list[Problem]:
        return []

    def adapter_for(self, headers: Mapping[str, str]) -> PinnableAdapter:
        return self._adapter

    def scenarios(self) -> list[dict[str, object]] | None:
        return None

    def close(self) -> None:
        self._adapter.close()


# Distinct Confluence hosts whose pools stay open; beyond this the least recently used closes.
_POOLED_HOSTS = 32
