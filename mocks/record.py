"""Recording a scenario: the live client against a real Confluence, through vcrpy, scrubbed.

Recording runs in one process for one scenario, so vcrpy's ordinary patching is fine here
(replay never patches). What is written: Authorization and cookies removed; the api_token
and the username replaced in every form `mocks.secret_forms` knows (raw, escaped, another
case, percent-encoded, base64'd alone or as `user:token`, mojibake...) in every part of
requests and responses (URI, header names and values, status line, bodies); the site's
origin replaced by `RECORDED_ORIGIN`. The cassette is then read back as replay will read it
and searched again, deeper; if any form of either secret is left, nothing is written and
`RecordingRefused` says where and in what form, never the secret itself.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import vcr
from vcr.cassette import Cassette
from vcr.record_mode import RecordMode
from vcr.request import Request

from mocks.scenarios import MATCH_ON, RECORDED_ORIGIN, load_scenario
from mocks.secret_forms import SecretForms
from service.confluence.client import (
    ClientOptions,
    ConfluenceClient,
    Credentials,
    PinnableAdapter,
)
from service.confluence.errors import ConfluenceError
from service.confluence.guarded_adapter import EnvironmentHTTPAdapter
from service.error_table import status_of

__all__ = ["Recording", "RecordingRefused", "record_scenario"]

REDACTED_TOKEN = "REDACTED-API-TOKEN"  # noqa: S105 - a placeholder, not a secret
REDACTED_USER = "recorded-user@example.invalid"
_DROPPED_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})


@dataclass(frozen=True)
class Recording:
    path: Path
    interactions: int
    status: int
    spaces: int


class RecordingRefused(Exception):
    """A credential survived scrubbing; `places` say where and in what form, not what."""

    def __init__(self, places: list[str]) -> None:
        self.places = places
        lines = "\n".join(f"  - {place}" for place in places)
        super().__init__(
            "the recording still holds a credential in a form that could not be scrubbed, "
            f"so nothing was written:\n{lines}"
        )


def _secret_forms(username: str, api_token: str) -> SecretForms:
    return SecretForms(
        {"api_token": (api_token, REDACTED_TOKEN), "username": (username, REDACTED_USER)}
    )


class _Scrubber:
    """Replaces secrets and the recorded site in everything vcrpy is about to write."""

    def __init__(self, instance_url: str, forms: SecretForms) -> None:
        parts = urlsplit(instance_url)
        self._forms = forms
        self._sites = (
            (f"{parts.scheme}://{parts.netloc}", RECORDED_ORIGIN),
            (parts.netloc, urlsplit(RECORDED_ORIGIN).netloc),
        )

    def text(self, value: str) -> str:
        value = self._forms.scrub(value)
        for site, placeholder in self._sites:
            if site:
                value = value.replace(site, placeholder)
        return value

    def data(self, value: bytes) -> bytes:
        value = self._forms.scrub_bytes(value)
        for site, placeholder in self._sites:
            if site:
                value = value.replace(site.encode(), placeholder.encode())
        return value

    def request(self, request: Request) -> Request:
        request.uri = self.text(request.uri)
        request.headers = {
            self.text(name): self.text(str(value))
            for name, value in request.headers.items()
            if name.lower() not in _DROPPED_HEADERS
        }
        if request.body:
            # vcrpy defines the setter apart from its getter, where mypy does not look for it
            request.body = self.data(request.body_bytes)  # type: ignore[misc]
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        status = response["status"]
        status["message"] = self.text(str(status["message"]))
        response["headers"] = {
            self.text(name): [self.text(str(v)) for v in values]
            for name, values in response["headers"].items()
            if name.lower() not in _DROPPED_HEADERS
        }
        body = response["body"].get("string")
        if body:
            raw = body if isinstance(body, bytes) else body.encode()
            response["body"]["string"] = self.data(raw)
        return response


def _parts(cassette: Cassette, forms: SecretForms) -> Iterator[tuple[str, str | bytes]]:
    """(where, value) for every part of a cassette as replay reads it."""

    def header(side: str, name: str, values: list[str]) -> Iterator[tuple[str, str | bytes]]:
        if forms.find(name):
            yield f"{side} header name", name
            where = f"{side} header value (of that name)"
        else:
            where = f"{side} header {name!r}"
        for value in values:
            yield where, value

    total = len(cassette.data)
    for index, (request, response) in enumerate(cassette.data, start=1):
        where = f"interaction {index} of {total}"
        yield f"{where}, request URI", request.uri
        for name, value in request.headers.items():
            yield from header(f"{where}, request", name, [value])
        if request.body:
            yield f"{where}, request body", request.body
        yield f"{where}, response status line", str(response["status"]["message"])
        for name, values in response["headers"].items():
            yield from header(f"{where}, response", name, values)
        if response["body"].get("string"):
            yield f"{where}, response body", response["body"]["string"]
    for key, value in cassette._metadata.items():  # vcrpy 9 keeps the file's metadata here
        yield f"metadata {key}", str(value)


def _leaks(path: Path, forms: SecretForms) -> list[str]:
    """Where the cassette at `path` still holds a secret, in what form; empty if nowhere."""
    cassette = Cassette.load(path=str(path), record_mode=RecordMode.NONE, match_on=MATCH_ON)
    places: list[str] = []
    seen: set[tuple[str, str]] = set()
    for where, value in _parts(cassette, forms):
        for finding in forms.find(value):
            seen.add((finding.secret, finding.form))
            places.append(f"{where}: the {finding.secret}, {finding.form}")
    # The file as written, in case its own encoding (YAML escapes, folded lines) hides a form.
    written = path.read_bytes().decode("utf-8", "surrogateescape")
    for finding in forms.find(written):
        if (finding.secret, finding.form) not in seen:
            places.append(f"the cassette file: the {finding.secret}, {finding.form}")
    return places


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
    adapter_factory: Callable[[], PinnableAdapter] = EnvironmentHTTPAdapter,
) -> Recording:
    """Record what Confluence answers the live client into `folder/<scenario>.yaml`."""
    target = folder / f"{scenario}.yaml"
    if target.exists() and not force:
        raise FileExistsError(f"{target} exists; pass --force to record over it")
    other = target.with_suffix(".yml")
    if other.exists():  # a name is one file, whatever its suffix (mocks.scenario_folder)
        raise FileExistsError(f"{other} exists: the scenario '{scenario}' is taken")
    forms = _secret_forms(username, api_token)
    scrubber = _Scrubber(instance_url, forms)
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
        places = _leaks(Path(scratch), forms)
        if places:  # a form the scrubber could not rewrite: write nothing
            raise RecordingRefused(places)
        load_scenario(Path(scratch), name=scenario)
        os.replace(scratch, target)
    finally:
        if os.path.exists(scratch):
            os.unlink(scratch)
    return Recording(path=target, interactions=interactions, status=status, spaces=spaces)

