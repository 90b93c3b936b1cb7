"""Logs are JSON with a request id, and never carry an api_token, a password or a bearer token."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests

from service.logs import BatchingStreamHandler, JsonFormatter
from tests.support.tokens import TEST_SECRET, auth_headers, mint

API_TOKEN = "Sup3r-Secret-Api-Token-Value-41"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every record of every logger, at DEBUG, formatted as the service formats them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def test_no_secret_reaches_a_log_line_or_an_error_body(live, body, confluence, log_lines):
    token = mint()
    headers = auth_headers(token)
    bodies = []
    cases = [
        body("three", api_token=API_TOKEN),  # Confluence refuses it: 403
        body("legacy-401", api_token=API_TOKEN),
        body("unavailable", api_token=API_TOKEN),  # 502, after retries logged at WARNING
        body("html", api_token=API_TOKEN),
        body("rate-limited", api_token=API_TOKEN),
        body("three", api_token=API_TOKEN, root=confluence.url + "/nope/rest/api"),
        body("three", api_token=API_TOKEN, instance_url="ftp://x"),  # 422
        body("three", api_token=API_TOKEN) | {"username": None},
        body("three"),  # 200
    ]
    for sent in cases:
        response = requests.post(live.api, json=sent, headers=headers, timeout=20)
        bodies.append(response.text)
    # a token in the wrong place, and a broken one: refused, and not logged either
    requests.post(live.api, json=body(), headers=auth_headers(token + "x"), timeout=20)
    requests.post(live.api, data=API_TOKEN.encode(), headers=headers, timeout=20)

    text = log_lines.getvalue()
    assert text.count("\n") > len(cases), "the capture saw the service's log lines"
    for secret in (API_TOKEN, token, TEST_SECRET, "standin-api-token"):
        assert secret not in text
        assert all(secret not in b for b in bodies)


def test_every_line_is_json_with_the_request_id(live, body, log_lines):
    response = requests.post(
        live.api,
        json=body("three"),
        headers=auth_headers() | {"x-request-id": "trace-123"},
        timeout=20,
    )
    assert response.headers["x-request-id"] == "trace-123"
    entries = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    access = [e for e in entries if e["logger"] == "spacegate.access"]
    assert access
    assert access[-1]["request_id"] == "trace-123"
    assert access[-1]["status"] == 200
    assert access[-1]["path"] == "/v2/confluence/space-listing"


def test_an_unsafe_request_id_is_replaced(live):
    response = requests.get(live.url + "/healthz", headers={"x-request-id": "a b\tc"}, timeout=5)
    assert response.headers["x-request-id"] != "a b\tc"
    assert len(response.headers["x-request-id"]) == 32


def test_an_unexpected_error_is_a_500_that_reveals_nothing(live_settings, body, log_lines):
    from service.confluence.guarded_adapter import GuardedHTTPAdapter
    from service.mode import live_mode
    from tests.support.servers import serve

    class Exploding(GuardedHTTPAdapter):
        def pinned(self, origin):
            raise RuntimeError(f"boom with {API_TOKEN}")

    mode = live_mode(live_settings)
    exploding = replace(mode, adapter=Exploding(mode.policy))
    with serve(live_settings, mode=exploding) as service:
        response = requests.post(
            service.api, json=body(api_token=API_TOKEN), headers=auth_headers(), timeout=20
        )
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error", "code": "internal_error"}
    text = log_lines.getvalue()
    assert "RuntimeError" in text  # the operator sees what happened...
    assert API_TOKEN not in text  # ...but not the secret in its message


def test_secrets_are_scrubbed_however_json_would_escape_them():
    import contextvars

    from service.logs import remember_secrets

    def format_in_a_request(secret: str, message: str) -> str:
        remember_secrets(secret)
        record = logging.LogRecord("t", logging.INFO, "", 0, message, (), None)
        return JsonFormatter().format(record)

    for secret in ('tok"en\\with-quotes', "plain-secret-value", "tab\there-secret"):
        line = contextvars.copy_context().run(format_in_a_request, secret, f"saw {secret}!")
        assert json.loads(line)["message"] == "saw ***!"
        assert json.dumps(secret)[1:-1] not in line


@pytest.fixture
def strict_utf8_log() -> tuple[logging.Logger, io.BytesIO]:
    """A logger writing through JsonFormatter to what a strict UTF-8 pipe accepts.

    logging prints its own plain-text "--- Logging error ---" to stderr when formatting or
    writing a line fails. A logger of its own, outside the hierarchy: pytest's capture
    handlers would format the records their own way first.
    """
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", write_through=True)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.Logger("strict-utf8")
    logger.addHandler(handler)
    return logger, raw


def test_a_lone_surrogate_in_a_logged_value_keeps_the_line_utf8_json(strict_utf8_log, capsys):
    logger, raw = strict_utf8_log
    logger.warning("saw %s", "ab\ud800cd", extra={"field": "x\udfffy", "plain": "é"})
    lines = raw.getvalue().decode("utf-8").splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["message"] == "saw ab\ud800cd"  # the same value, written as JSON's escape
    assert entry["field"] == "x\udfffy"
    assert entry["plain"] == "é"
    assert "é" in lines[0]  # other characters stay as they are
    assert "Logging error" not in capsys.readouterr().err


def test_a_value_that_cannot_be_rendered_still_gives_a_json_line(strict_utf8_log, capsys):
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no text")

    logger, raw = strict_utf8_log
    logger.error("value %s", Unprintable())
    try:
        raise Unprintable()
    except Unprintable:
        logger.exception("failed")
    entries = [json.loads(line) for line in raw.getvalue().decode("utf-8").splitlines()]
    assert [e["message"] for e in entries] == [
        "value %s (could not be formatted with its arguments)",
        "failed",
    ]
    assert "Unprintable" in entries[1]["exception"]
    assert "Logging error" not in capsys.readouterr().err


def test_a_confluence_failure_without_a_row_is_the_json_500(live_settings, body, log_lines):
    from service.confluence.errors import ConfluenceError
    from service.confluence.guarded_adapter import GuardedHTTPAdapter
    from service.mode import live_mode
    from tests.support.servers import serve

    class Unmapped(ConfluenceError):
        """A failure someone added to the client and forgot in the error table."""

    class Failing(GuardedHTTPAdapter):
        def pinned(self, origin):
            raise Unmapped("a new kind of failure")

    mode = live_mode(live_settings)
    with serve(live_settings, mode=replace(mode, adapter=Failing(mode.policy))) as service:
        response = requests.post(
            service.api,
            json=body(),
            headers=auth_headers() | {"x-request-id": "trace-unmapped"},
            timeout=20,
        )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == "trace-unmapped"
    assert response.json() == {"detail": "Internal server error", "code": "internal_error"}
    entries = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    errors = [e for e in entries if e.get("request_id") == "trace-unmapped" and e["level"] == "ERROR"]
    assert errors
    assert "Unmapped" in errors[-1]["exception"]
    access = [e for e in entries if e["logger"] == "spacegate.access"]
    assert access[-1]["status"] == 500


def test_an_error_handler_that_fails_still_gives_the_json_500(live_settings, log_lines):
    # What gets past the error table (here the table failing to build an answer) is answered
    # by the outermost layer, RequestContext, in the contract's shape, request id included.
    from connexion.middleware import MiddlewarePosition

    from service.errors import ApiError
    from service.mode import live_mode
    from tests.support.servers import serve

    class Unanswerable(ApiError):
        @property
        def answer_detail(self):
            raise RuntimeError("the error table could not build this answer")

    class Raising:
        """A layer inside Connexion's exception layer: what it raises goes to the table."""

        def __init__(self, app):
            self.app = app

        async def __call__(self, scope, receive, send):
            if scope["type"] == "http" and scope["path"] == "/boom":
                raise Unanswerable("boom")
            await self.app(scope, receive, send)

    def install(app):
        app.add_middleware(Raising, position=MiddlewarePosition.BEFORE_SWAGGER)

    mode = replace(live_mode(live_settings), install=install)
    with serve(live_settings, mode=mode) as service:
        response = requests.get(
            service.url + "/boom", headers={"x-request-id": "trace-last-resort"}, timeout=10
        )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == "trace-last-resort"
    assert response.json() == {"detail": "Internal server error", "code": "internal_error"}
    entries = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    [logged] = [e for e in entries if e["message"] == "unexpected error outside the error table"]
    assert logged["request_id"] == "trace-last-resort"
    assert "the error table could not build this answer" in logged["exception"]


class _Writes(io.StringIO):
    """A stream that remembers each write it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def _batching() -> tuple[logging.Logger, _Writes, BatchingStreamHandler]:
    stream = _Writes()
    handler = BatchingStreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.batching")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream, handler


def _messages(stream: _Writes) -> list[str]:
    return [json.loads(line)["message"] for line in stream.getvalue().splitlines()]


def test_lines_logged_on_the_event_loop_are_written_together_a_moment_later():
    logger, stream, handler = _batching()

    async def serve() -> list[str]:
        for number in range(50):
            logger.info("request %d", number)
        written_at_once = stream.getvalue()
        await asyncio.sleep(handler.FLUSH_SECONDS * 3)
        return [written_at_once]

    [written_at_once] = asyncio.run(serve())
    assert written_at_once == ""
    assert _messages(stream) == [f"request {n}" for n in range(50)]
    assert len(stream.writes) == 1  # one write for the 50 lines


def test_a_warning_writes_the_lines_before_it_and_itself_at_once_in_order():
    logger, stream, handler = _batching()

    async def serve() -> list[str]:
        logger.info("first")
        logger.warning("second")
        written = _messages(stream)
        logger.info("third")
        await asyncio.sleep(handler.FLUSH_SECONDS * 3)
        return written

    assert asyncio.run(serve()) == ["first", "second"]
    assert _messages(stream) == ["first", "second", "third"]


def test_a_full_batch_is_written_without_waiting():
    logger, stream, handler = _batching()
    line = "x" * 1000

    async def serve() -> int:
        logged = 0
        while not stream.getvalue() and logged < 1000:
            logger.info(line)
            logged += 1
        return logged

    logged = asyncio.run(serve())
    # held until the batch reached its size (each line is over 1000 bytes), then written
    assert 1 < logged <= handler.MAX_BATCH_BYTES // 1000
    assert len(_messages(stream)) == logged


def test_without_a_running_event_loop_a_line_is_written_at_once():
    logger, stream, _handler = _batching()
    logger.info("from a command")
    assert _messages(stream) == ["from a command"]


def test_flush_writes_what_is_held_even_when_its_loop_is_gone():
    logger, stream, handler = _batching()

    async def serve() -> None:
        logger.info("held")

    asyncio.run(serve())  # the loop ends before its timer fires
    assert _messages(stream) == []
    logger.info("after the loop")  # no loop runs now: written at once, in order
    assert _messages(stream) == ["held", "after the loop"]
    handler.flush()
    assert _messages(stream) == ["held", "after the loop"]
