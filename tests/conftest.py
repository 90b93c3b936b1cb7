"""Shared fixtures: the Confluence stand-in and the service under uvicorn, both on 127.0.0.1."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from service.settings import Settings
from tests.confluence_standin import StandIn
from tests.support.bodies import standin_body
from tests.support.servers import RunningService, serve
from tests.support.tokens import TEST_SECRET


@pytest.fixture(scope="session")
def confluence() -> Iterator[StandIn]:
    with StandIn() as standin:
        yield standin


@pytest.fixture(scope="session")
def live_settings(confluence: StandIn) -> Settings:
    """Live mode pointed at the stand-in, with short clocks so failures come quickly."""
    return Settings(
        mode="live",
        jwt_secret=TEST_SECRET,
        allowed_hosts=(f"127.0.0.1:{confluence.port}",),
        allow_http=True,
        allow_private_addresses=True,
        deadline_seconds=3.0,
        connect_timeout_seconds=1.0,
        read_timeout_seconds=2.0,
        retry_max_wait_seconds=1.5,
        retry_budget_seconds=3.0,
        max_pages=500,
        max_page_bytes=4 * 1024 * 1024,
    ).validated()


@pytest.fixture(scope="session")
def live(live_settings: Settings) -> Iterator[RunningService]:
    with serve(live_settings) as service:
        yield service


@pytest.fixture(scope="session")
def serve_with(live_settings: Settings) -> Callable[..., Any]:
    """Another live service whose settings differ from `live_settings` by the given fields."""

    def start(**changes: Any) -> Any:
        return serve(replace(live_settings, **changes).validated())

    return start


@pytest.fixture
def body(confluence: StandIn) -> Callable[..., dict[str, Any]]:
    """A request body for the stand-in: `body("many")`, `body("three", root=confluence.dc_root)`."""
    return functools.partial(standin_body, confluence)
