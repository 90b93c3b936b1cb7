"""The scenarios mock mode serves, kept in step with their folder while it runs.

    library = ScenarioLibrary(folder, options=..., prove=Prover(settings).prove,
                              on_change=catalogue.replace)   # reads and proves the folder now
    library.current          # the last ScenarioFolder read: scenarios, sequences, errors
    async with library.watching():
        ...                  # each change to the folder is read within a moment

Watching is `watchfiles` (inotify and its kin, polling where they are missing). A change to a
`*.yaml` or `*.yml` file is read again in a worker thread (`FolderReader`: only changed files
are loaded and proved; a file that stops loading keeps its last good version), and the result
replaces the served one whole, through `on_change`: a request in flight keeps the scenario it
picked, the next one sees the new set. Every refusal is logged once, when it appears.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from watchfiles import Change, awatch

from mocks.scenario_folder import FolderReader, Prove, ScenarioFolder, is_scenario_name
from service.confluence.client import ClientOptions

__all__ = ["ScenarioLibrary"]

logger = logging.getLogger("spacegate.mock")

OnChange = Callable[[ScenarioFolder], None]
# Changes closer together than this are read as one; well inside the 2 s a change may take.
_STEP_MS = 50
_RETRY_SECONDS = 1.0
_STOP_SECONDS = 5.0


def _relevant(_change: Change, path: str) -> bool:
    # A scratch file's rename into place is seen as a change of the scenario file itself.
    return is_scenario_name(Path(path).name)


class ScenarioLibrary:
    def __init__(
        self,
        folder: Path,
        *,
        options: ClientOptions,
        prove: Prove | None = None,
        on_change: OnChange | None = None,
    ) -> None:
        self.folder = folder
        self._reader = FolderReader(folder, options, prove)
        self._on_change = on_change
        self.current = ScenarioFolder()
        self.reread()

    def reread(self) -> ScenarioFolder:
        """Read the folder again (blocking: call it from a worker thread while serving)."""
        before = self.current
        after = self._reader.read()
        self.current = after
        _log_changes(self.folder, before, after)
        if self._on_change is not None:
            self._on_change(after)
        return after

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(self._watch(stop), name="spacegate-mock-watch")
        try:
            yield
        finally:
            stop.set()
            try:
                await asyncio.wait_for(task, _STOP_SECONDS)
            except TimeoutError:
                logger.warning("the watch on %s did not stop in time", self.folder)

    async def _watch(self, stop: asyncio.Event) -> None:
        polling = False
        while not stop.is_set():
            try:
                async for _changes in awatch(
                    self.folder,
                    watch_filter=_relevant,
                    step=_STEP_MS,
                    stop_event=stop,
                    recursive=False,
                    force_polling=polling or None,
                    ignore_permission_denied=True,
                ):
                    await asyncio.to_thread(self.reread)
            except Exception as exc:  # the watch must not die with the first odd file system
                polling = True
                logger.warning(
                    "watching %s failed (%s: %s); watching it by polling from now on",
                    self.folder,
                    type(exc).__name__,
                    exc,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), _RETRY_SECONDS)


def _log_changes(folder: Path, before: ScenarioFolder, after: ScenarioFolder) -> None:
    old: dict[str, object] = {**before.scenarios, **before.sequences}
    new: dict[str, object] = {**after.scenarios, **after.sequences}
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    changed = sorted(name for name in new.keys() & old.keys() if new[name] is not old[name])
    if old and (added or removed or changed):
        logger.info(
            "scenarios of %s reloaded: added %s; changed %s; removed %s",
            folder,
            ", ".join(added) or "none",
            ", ".join(changed) or "none",
            ", ".join(removed) or "none",
        )
    for file, problem in after.errors.items():
        if before.errors.get(file) != problem:
            kept = (
                "its last good version keeps serving"
                if file in after.still_serving
                else ("not served")
            )
            logger.warning("scenario file %s refused (%s): %s", file, kept, problem)
