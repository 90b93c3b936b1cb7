"""Recording a scenario: the live client against a real Confluence, through vcrpy, scrubbed.

Recording runs in one process for one scenario, so vcrpy's ordinary patching is fine here
(replay never patches). What is written: Authorization and cookies removed; the api_token,
the username and their Basic-auth encoding replaced in every header, URL and body of
requests and responses; the site's origin replaced by `RECORDED_ORIGIN`.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import vcr
from requests.adapters import BaseAdapter
from vcr.request import Request

from mocks.scenarios import MATCH_ON, RECORDED_ORIGIN, load_scenario
from service.confluence.client import ClientOptions, ConfluenceClient, Credentials
from service.confluence.errors import ConfluenceError
from service.confluence.guarded_adapter import EnvironmentHTTPAdapter
from service.error_table import status_of

__all__ = ["Recording", "record_scenario"]

REDACTED_TOKEN = "REDACTED-API-TOKEN"  # noqa: S105 - a placeholder, not a secret
REDACTED_USER = "recorded-user@example.invalid"
_DROPPED_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})


@dataclass(frozen=True)
class Recording:
    path: Path
    interactions: int
    status: int
    spaces: int


class _Scrubber:
    """Replaces secrets and the recorded site in everything vcrpy is about to write."""

    def __init__(self, instance_url: str, username: str, api_token: str) -> None:
        parts = urlsplit(instance_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        basic = base64.b64encode(f"{username}:{api_token}".encode()).decode()
        # Longest first, so that a secret inside another is not half-replaced.
        pairs = {
            basic: "REDACTED-BASIC-CREDENTIALS",
            api_token: REDACTED_TOKEN,
            quote(api_token, safe=""): REDACTED_TOKEN,
            username: REDACTED_USER,
            quote(username, safe=""): quote(REDACTED_USER, safe=""),
            origin: RECORDED_ORIGIN,
            parts.netloc: urlsplit(RECORDED_ORIGIN).netloc,
        }
        self._pairs = sorted(((k, v) for k, v in pairs.items() if k), key=lambda kv: -len(kv[0]))

    def text(self, value: str) -> str:
        for secret, placeholder in self._pairs:
            value = value.replace(secret, placeholder)
        return value

    def data(self, value: bytes) -> bytes:
        for secret, placeholder in self._pairs:
            value = value.replace(secret.encode(), placeholder.encode())
        return value

    def request(self, request: Request) -> Request:
        request.uri = self.text(request.uri)
        request.headers = {
            name: self.text(str(value))
            for name, value in request.headers.items()
            if name.lower() not in _DROPPED_HEADERS
        }
        if request.body:
            request.body = self.data(request.body_bytes)
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        response["headers"] = {
            name: [self.text(str(v)) for v in values]
            for name, values in response["headers"].items()
            if name.lower() not in _DROPPED_HEADERS
        }
        body = response["body"].get("string")
        if body:
            raw = body if isinstance(body, bytes) else body.encode()
            response["body"]["string"] = self.data(raw)
        return response


def record_scenario(
    *,
    folder: Path,
    scenario: str,
    instance_url: str,
    web_url: str,
    username: str,
    api_token: str,
    description: str,
    options: ClientOptions,
    force: bool = False,
    adapter_factory: Callable[[], BaseAdapter] = EnvironmentHTTPAdapter,
) -> Recording:
    """Record what Confluence answers the live client into `folder/<scenario>.yaml`."""
    target = folder / f"{scenario}.yaml"
    if target.exists() and not force:
        raise FileExistsError(f"{target} exists; pass --force to record over it")
    scrubber = _Scrubber(instance_url, username, api_token)
    recorder = vcr.VCR(
        record_mode="all",
        match_on=[m.__name__ for m in MATCH_ON],
        decode_compressed_response=True,
        before_record_request=scrubber.request,
        before_record_response=scrubber.response,
    )
    folder.mkdir(parents=True, exist_ok=True)
    # Written beside the target and moved over it only when complete: vcrpy would otherwise
    # load the old cassette's interactions and save them again with the new ones.
    handle, scratch = tempfile.mkstemp(prefix=f".{scenario}.", suffix=".yaml", dir=folder)
    os.close(handle)
    os.unlink(scratch)
    spaces = 0
    try:
        # vcrpy patches urllib3's standard pools, so an adapter on those is used: the guarded
        # one's own connection classes would go unrecorded. Proxies and CA bundle still apply.
        client = ConfluenceClient(adapter_factory(), options)
        with recorder.use_cassette(scratch) as cassette:
            try:
                credentials = Credentials(username, api_token)
                spaces = len(client.list_spaces(instance_url, web_url, credentials))
                status = 200
            except ConfluenceError as exc:
                status = status_of(exc)
            cassette.get_metadata("description", description)
            cassette.get_metadata("root", urlsplit(instance_url).path.rstrip("/") or "/")
            cassette.get_metadata("status", status)
            interactions = len(cassette.data)
        written = Path(scratch).read_bytes()
        leaked = [s for s in (api_token, username) if s and s.encode() in written]
        if leaked:  # a form of the secret the scrubber did not know: write nothing
            raise RuntimeError("the recording still holds a credential; nothing was written")
        load_scenario(Path(scratch), name=scenario)
        os.replace(scratch, target)
    finally:
        if os.path.exists(scratch):
            os.unlink(scratch)
    return Recording(path=target, interactions=interactions, status=status, spaces=spaces)

