"""The composition root's one choice: which transport serves the mode."""

from __future__ import annotations

from service.confluence.transport import LiveTransport, Transport
from service.settings import ConfigError, Settings

__all__ = ["transport_for"]


def transport_for(settings: Settings) -> Transport:
    if settings.mode == "live":
        return LiveTransport(settings)
    # Imported here so that the live service never loads the mock machinery.
    from mocks.scenarios import ScenarioError
    from mocks.transport import CassetteTransport

    try:
        return CassetteTransport.from_folder(settings.cassettes)
    except ScenarioError as exc:
        raise ConfigError("SPACEGATE_CASSETTES", str(exc)) from None
