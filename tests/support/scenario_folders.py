"""Scenario folders a test can write into, and the mock serving one."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from service.resources import default_cassettes_dir
from service.settings import Settings
from tests.support.servers import RunningService, serve


def shipped_scenarios_copy(folder: Path) -> Path:
    """`folder`, made to hold a copy of every shipped scenario file."""
    shutil.copytree(default_cassettes_dir(), folder)
    return folder


@contextmanager
def serve_mock_of(folder: Path) -> Iterator[RunningService]:
    """The mock (uvicorn, 127.0.0.1, an ephemeral port) serving the scenarios of `folder`."""
    with serve(Settings(mode="mock", cassettes=folder).validated()) as service:
        yield service
