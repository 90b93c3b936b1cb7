"""Clients generated from the contract work against every answer the mock can give.

A Python client generated with openapi-python-client drives every mock scenario (as listed by
GET /mock/scenarios, picked with `Prefer: example=<name>`) and the main error statuses, and
parses each answer into its model; TypeScript types generated with openapi-typescript accept
every one of those answers, checked by `tsc --strict`.
"""

from __future__ import annotations

import json
import subprocess
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import requests

from service.resources import spec_path
from service.settings import DEV_JWT_SECRET, Settings
from tests.support.bodies import EXAMPLE_BODY
from tests.support.generated_clients import (
    generate_python_client,
    generate_typescript_types,
    import_python_client,
    node_tool,
)
from tests.support.servers import RunningService, serve
from tests.support.tokens import OTHER_TENANT, TENANT, mint

# The model each documented status parses into, by the name the generator gives it.
MODEL_OF_STATUS = {
    200: "SpaceListing",
    400: "InvalidJsonError",
    401: "InvalidTokenError",
    403: "ForbiddenError",
    405: "MethodNotAllowedError",
    413: "BodyTooLargeError",
    415: "UnsupportedMediaTypeError",
    422: "ValidationError",
    429: "RateLimitedError",
    500: "InternalError",
    502: "BadGatewayError",
    504: "TimeoutError_",  # the generator's name for the schema TimeoutError
}
Rewrite = Callable[[httpx.Request], httpx.Request]


@dataclass
class Answer:
    """One call through the generated client: what it sent for, and what it parsed."""

    label: str
    expected_status: int
    status: int
    raw: Any
    parsed: Any
    headers: httpx.Headers


class Rewriting(httpx.BaseTransport):
    """Sends the generated client's request changed by `rewrite`: what a client bug would send."""

    def __init__(self, rewrite: Rewrite) -> None:
        self._rewrite = rewrite
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(self._rewrite(request))

    def close(self) -> None:
        self._inner.close()


def _resent(request: httpx.Request, **changes: Any) -> httpx.Request:
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    headers.update(changes.pop("headers", {}))
    fields = {"method": request.method, "content": request.content, **changes}
    return httpx.Request(fields.pop("method"), request.url, headers=headers, **fields)


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningService]:
    with serve(Settings(mode="mock").validated()) as service:
        yield service


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return import_python_client(generate_python_client(spec_path(), tmp_path_factory.mktemp("py")))


@pytest.fixture(scope="module")
def answers(mock: RunningService, client: ModuleType) -> list[Answer]:
    """Every scenario and the main error statuses, through the generated client."""
    from spacegate_client.api.confluence import list_spaces  # the generated package
    from spacegate_client.models import SpaceListingRequest

    def call(
        label: str,
        expected_status: int,
        *,
        token: str | None = None,
        tenant: str = TENANT,
        prefer: str | None = None,
        rewrite: Rewrite | None = None,
        **fields: str,
    ) -> Answer:
        httpx_args = {"transport": Rewriting(rewrite)} if rewrite else {}
        api = client.AuthenticatedClient(
            base_url=mock.url,
            token=token or mint(TENANT, secret=DEV_JWT_SECRET),
            httpx_args=httpx_args,
        )
        body = SpaceListingRequest.from_dict({**EXAMPLE_BODY, **fields})
        kwargs = {} if prefer is None else {"prefer": prefer}
        with api:
            response = list_spaces.sync_detailed(client=api, body=body, x_tenantid=tenant, **kwargs)
        raw = json.loads(response.content)
        return Answer(label, expected_status, response.status_code, raw, response.parsed,
                      httpx.Headers(response.headers))  # fmt: skip

    found = []
    scenarios = requests.get(mock.url + "/mock/scenarios", timeout=5).json()["scenarios"]
    for scenario in scenarios:
        site = "https://acme.example"
        found.append(
            call(
                f"scenario {scenario['name']}",
                scenario["status"],
                prefer=f"example={scenario['name']}",
                instance_url=site + scenario["root"],
                web_url_instance=site + scenario["root"].removesuffix("/rest/api"),
            )
        )
    found += [
        call("no token of ours", 401, token="not-a-jwt"),
        call("another tenant", 403, tenant=OTHER_TENANT),
        call("an x-tenantid that is no UUID", 422, tenant="not-a-uuid"),
        call("an empty username", 422, username=""),
        call("a body over 64 KiB", 413, api_token="x" * 70_000),
        call("not JSON", 400, rewrite=lambda r: _resent(r, content=b'{"instance_url": ')),
        call("text/plain", 415, rewrite=lambda r: _resent(r, headers={"content-type": "text/plain"})),
        call("GET", 405, rewrite=lambda r: _resent(r, method="GET", content=b"")),
    ]  # fmt: skip
    return found


def test_the_generated_call_takes_x_tenantid_as_the_string_it_sends(client):
    """`format: uuid` made it a uuid.UUID, which httpx refuses as a header value (TypeError)."""
    from spacegate_client.api.confluence import list_spaces

    assert typing.get_type_hints(list_spaces.sync_detailed)["x_tenantid"] is str


def test_every_scenario_is_listed_and_driven(answers):
    scenarios = [answer for answer in answers if answer.label.startswith("scenario ")]
    assert len(scenarios) >= 15
    assert {answer.status for answer in answers} == set(MODEL_OF_STATUS)


def test_every_answer_parses_into_the_model_of_its_status(answers, client):
    wrong = []
    for answer in answers:
        model = getattr(client.models, MODEL_OF_STATUS[answer.status])
        if answer.status != answer.expected_status or not isinstance(answer.parsed, model):
            wrong.append((answer.label, answer.status, type(answer.parsed).__name__))
        # Nothing lost or garbled: the model gives back the JSON it was read from.
        elif answer.parsed.to_dict() != answer.raw:
            wrong.append((answer.label, "round trip", answer.parsed.to_dict(), answer.raw))
    assert not wrong


def test_the_parsed_models_hold_typed_values(answers, client):
    models = client.models
    by_label = {answer.label: answer for answer in answers}
    listing = by_label["scenario many"].parsed
    assert len(listing.spaces) == len(by_label["scenario many"].raw["spaces"]) > 1000
    assert all(isinstance(space, models.Space) for space in listing.spaces)
    assert by_label["another tenant"].parsed.code == models.ForbiddenErrorCode.TENANT_MISMATCH
    for label, field, kind in [
        ("an x-tenantid that is no UUID", ["header", "x-tenantid"], "type_error.uuid"),
        ("an empty username", ["body", "username"], "value_error.any_str.min_length"),
    ]:
        [problem] = by_label[label].parsed.detail
        assert isinstance(problem, models.ValidationProblem)
        assert (problem.loc, problem.type_) == (field, kind)
    assert by_label["GET"].headers["allow"] == "POST"
    assert by_label["no token of ours"].headers["www-authenticate"].startswith("Bearer")
    assert int(by_label["scenario rate-limited"].headers["retry-after"]) == 3600


def test_typescript_types_accept_every_answer(answers, mock, tmp_path):
    """Each answer, as a literal of its status's response type, type-checks under --strict."""
    generate_typescript_types(mock.url + "/openapi.json", tmp_path / "spacegate.d.ts")
    lines = [
        'import type { paths } from "./spacegate";',
        'type Responses = paths["/v2/confluence/space-listing"]["post"]["responses"];',
        'type Answer<S extends keyof Responses> = Responses[S]["content"]["application/json"];',
    ]
    for number, answer in enumerate(answers):
        lines.append(f"// {answer.label}")
        lines.append(
            f"export const answer{number}: Answer<{answer.status}> = {json.dumps(answer.raw)};"
        )
    (tmp_path / "answers.ts").write_text("\n".join(lines) + "\n")
    result = _tsc(tmp_path / "answers.ts")
    assert result.returncode == 0, result.stdout[:5000]
    # The check has teeth: an answer the types do not describe is refused.
    (tmp_path / "wrong.ts").write_text(
        lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n"
        'export const wrong: Answer<200> = {"spaces": [{"key": "KB", "name": "KB"}]};\n'
    )  # fmt: skip
    refused = _tsc(tmp_path / "wrong.ts")
    assert refused.returncode != 0
    assert "is missing the following properties" in refused.stdout


def _tsc(source: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(node_tool("tsc")), "--noEmit", "--strict", "--target", "es2022",
         "--module", "nodenext", "--moduleResolution", "nodenext", str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
