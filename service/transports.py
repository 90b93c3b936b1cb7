"""The composition root's one choice: which transport serves the mode."""

from __future__ import annotations

from service.confluence.client import ClientOptions
from service.confluence.transport import LiveTransport, Transport
from service.settings import ConfigError, Settings
from service.url_rule import url_policy

__all__ = ["transport_for"]


def transport_for(settings: Settings) -> Transport:
    if settings.mode == "live":
        policy = url_policy(settings, enforce_allow_list=True)
        return LiveTransport(policy, worker_threads=settings.worker_threads)
    # Imported here so that the live service never loads the mock machinery.
    from mocks.scenarios import ScenarioError
    from mocks.transport import CassetteTransport

    try:
        return CassetteTransport.from_folder(
            settings.cassettes, ClientOptions.from_settings(settings)
        )
    except ScenarioError as exc:
        raise ConfigError("SPACEGATE_CASSETTES", str(exc)) from None
