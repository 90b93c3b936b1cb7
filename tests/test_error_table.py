"""The error table: every failure answered with a status and `code` the contract lists.

Framework problems are raised for real, by routes a test mode installs in the served app, so
they travel Connexion's exception layer exactly as routing's and security's own do.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests
from connexion import AsyncApp
from connexion.exceptions import (
    BadRequestProblem,
    ExtraParameterProblem,
    NonConformingResponseBody,
    OAuthProblem,
    OAuthScopeProblem,
    ResolverProblem,
    Unauthorized,
    UnsupportedMediaTypeProblem,
)
from starlette.exceptions import HTTPException
from starlette.requests import Request

from conformance.vocabulary import ERROR_CODES
from service.confluence import errors as upstream
from service.error_table import FRAMEWORK, UPSTREAM, status_of
from service.mode import live_mode
from service.settings import Settings
from tests.support.servers import RunningService, serve

# What each framework problem becomes: (status, code).
PROBLEMS: dict[str, tuple[Exception, int, str]] = {
    "missing-token": (OAuthProblem(detail="No authorization token provided"), 401, "invalid_token"),
    "unauthorized": (Unauthorized(), 401, "invalid_token"),
    "no-such-path": (HTTPException(404), 404, "not_found"),
    "method": (HTTPException(405, headers={"Allow": "POST"}), 405, "method_not_allowed"),
    "media-type": (UnsupportedMediaTypeProblem(detail="Invalid"), 415, "unsupported_media_type"),
    # Unforeseen: nothing in the contract says what they mean, so they are spacegate's bug.
    "bad-request": (BadRequestProblem("RequestBody is required"), 500, "internal_error"),
    "extra-parameter": (
        ExtraParameterProblem(param_type="query", extra_params=["x"]),
        500,
        "internal_error",
    ),
    "scope": (OAuthScopeProblem(token_scopes=[], required_scopes=["admin"]), 500, "internal_error"),
    "teapot": (HTTPException(418), 500, "internal_error"),
    "nonconforming": (NonConformingResponseBody("bad body"), 500, "internal_error"),
    "resolver": (ResolverProblem(detail="no handler"), 500, "internal_error"),
}


def _raising_routes(app: AsyncApp) -> None:
    for name, (problem, _status, _code) in PROBLEMS.items():

        async def route(_request: Request, problem: Exception = problem) -> None:
            raise problem

        app.add_url_rule(f"/raise/{name}", name, route, methods=["GET"])


@pytest.fixture(scope="module")
def service(live_settings: Settings) -> Iterator[RunningService]:
    mode = replace(live_mode(live_settings), install=_raising_routes)
    with serve(live_settings, mode=mode) as running:
        yield running


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_a_framework_problem_gets_the_contracts_answer(service, name, caplog):
    _problem, status, code = PROBLEMS[name]
    with caplog.at_level(logging.ERROR, logger="spacegate.errors"):
        response = requests.get(f"{service.url}/raise/{name}", timeout=10)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == code
    assert code in ERROR_CODES[status]
    if status == 500:
        assert response.json() == {"detail": "Internal server error", "code": "internal_error"}
        assert any(r.exc_info and r.exc_info[1] is PROBLEMS[name][0] for r in caplog.records)


def test_the_framework_rows_are_the_statuses_the_contract_answers():
    assert set(FRAMEWORK) == {401, 404, 405, 415}
    for status in FRAMEWORK:
        assert status in ERROR_CODES


def _confluence_failures() -> list[type[upstream.ConfluenceError]]:
    return [
        kind
        for _name, kind in inspect.getmembers(upstream, inspect.isclass)
        if issubclass(kind, upstream.ConfluenceError) and kind is not upstream.ConfluenceError
    ]


def test_every_confluence_failure_has_a_row_with_a_contract_code():
    for kind in _confluence_failures():
        row = UPSTREAM[kind]
        if row.status == 422:
            assert row.code is None
            assert row.item is not None
        else:
            assert row.item is None
            assert row.code in ERROR_CODES[row.status], kind


def test_status_of_asks_the_same_table():
    for kind in _confluence_failures():
        failure = kind("x") if kind is not upstream.RateLimited else kind("x", retry_after=3)
        assert status_of(failure) == UPSTREAM[kind].status

    class Unmapped(upstream.ConfluenceError):
        pass

    assert status_of(Unmapped("a failure nobody put in the table")) == 500
