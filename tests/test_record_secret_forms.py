"""`python -m mocks record` against a server that echoes the credentials in every form.

Each case runs the record command (its `main`, in process, so that dozens of cases stay fast;
`test_a_refusal_from_the_command_line` runs the process) against `EchoConfluence` over real
HTTP, and reads back what was written as replay would. Either the cassette holds no trace of
the echoed form, or nothing was written and the command said where and in what form.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from vcr.cassette import Cassette
from vcr.record_mode import RecordMode

from mocks.__main__ import main as mocks_main
from tests.support.echo_confluence import Echo, EchoConfluence

ROOT = Path(__file__).resolve().parent.parent
# '/', '+', a space and a non-ASCII letter: every encoding below writes this token differently.
TOKEN = "Tök/en+Secret 9f8e7d6c5b4a"
USERNAME = "jöe.doe@echo.example"
SECRETS = {"api_token": TOKEN, "username": USERNAME, "credentials": f"{USERNAME}:{TOKEN}"}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


FORMS: dict[str, Callable[[str], str]] = {
    "raw": lambda s: s,
    "json-escaped": lambda s: json.dumps(s)[1:-1].replace("/", "\\/"),  # \u00f6 and \/
    "json-every-char": lambda s: "".join(f"\\u{ord(c):04x}" for c in s),
    "json-every-char-upper-hex": lambda s: "".join(f"\\u{ord(c):04X}" for c in s),
    "upper-case": str.upper,
    "lower-case": str.lower,
    "percent-every-byte-lower-hex": lambda s: "".join(f"%{b:02x}" for b in s.encode()),
    "percent": lambda s: quote(s, safe=""),
    "percent-plus-for-space": quote_plus,
    "html-references": lambda s: "".join(f"&#{ord(c)};" for c in s),
    "utf8-read-as-latin1": lambda s: s.encode().decode("latin-1"),
    "base64": _b64,
    "base64-unpadded": lambda s: _b64(s).rstrip("="),
    "base64url": lambda s: base64.urlsafe_b64encode(s.encode()).decode(),
    "base64-inside-a-longer-blob": lambda s: base64.b64encode(b"<<" + s.encode() + b">").decode(),
}
# Forms no scrubber rewrites in place: an encoding inside another one.
NESTED: dict[str, Callable[[str], str]] = {
    "percent-encoded-twice": lambda s: quote(quote(s, safe=""), safe=""),
    "percent-then-json-escaped": lambda s: "".join(f"\\u{ord(c):04x}" for c in quote(s, safe="")),
}


@pytest.fixture(scope="module")
def echo_server() -> Iterator[EchoConfluence]:
    with EchoConfluence() as server:
        yield server


@pytest.fixture
def record(echo_server, tmp_path, monkeypatch, capsys):
    """Record against the echo server with `echo`; (exit status, stderr, cassette path)."""
    for name in list(os.environ):
        if name.startswith("SPACEGATE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SPACEGATE_RECORD_API_TOKEN", TOKEN)

    def run(echo: Echo) -> tuple[int, str, Path]:
        echo_server.echo = echo
        status = mocks_main(
            ["record", "--scenario", "echo", "--cassettes", str(tmp_path),
             "--instance-url", echo_server.cloud_root, "--web-url", echo_server.url + "/wiki",
             "--username", USERNAME]
        )  # fmt: skip
        return status, capsys.readouterr().err, tmp_path / "echo.yaml"

    return run


def replayed_text(cassette: Path) -> str:
    """Every part of the cassette as replay reads it, as one text."""
    loaded = Cassette.load(path=str(cassette), record_mode=RecordMode.NONE)
    parts: list[str] = []
    for request, response in loaded.data:
        parts.append(request.uri)
        parts += [f"{name}: {value}" for name, value in request.headers.items()]
        parts.append(request.body_bytes.decode("utf-8", "surrogateescape") if request.body else "")
        parts.append(str(response["status"]["message"]))
        for name, values in response["headers"].items():
            parts += [f"{name}: {value}" for value in values]
        parts.append(response["body"]["string"].decode("utf-8", "surrogateescape"))
    return "\n".join(parts)


def assert_scrubbed(result: tuple[int, str, Path], echoed: str) -> str:
    status, stderr, cassette = result
    assert status == 0, stderr
    text = replayed_text(cassette)
    assert "Echo" in text or "X-Echo" in text or "cursor" in text, "the echo was recorded"
    assert echoed.casefold() not in text.casefold()
    written = cassette.read_bytes().decode("utf-8", "surrogateescape")
    for secret in (TOKEN, USERNAME):
        assert secret.casefold() not in text.casefold()
        assert secret.casefold() not in written.casefold()
    return text


CASES = [(secret, form) for form in FORMS for secret in ("api_token", "username")] + [
    ("credentials", form) for form in FORMS if form.startswith("base64")
]


@pytest.mark.parametrize(("secret", "form"), CASES)
def test_every_form_in_the_body_is_scrubbed(record, secret, form):
    echoed = FORMS[form](SECRETS[secret])
    text = assert_scrubbed(record(Echo("body", secret, FORMS[form])), echoed)
    assert "REDACTED-API-TOKEN" in text or "recorded-user@example.invalid" in text or form.startswith("base64")


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("secret", ["api_token", "username"])
def test_every_form_in_a_header_value_is_scrubbed(record, secret, form):
    echoed = FORMS[form](SECRETS[secret])
    assert_scrubbed(record(Echo("header", secret, FORMS[form])), echoed)


@pytest.mark.parametrize("form", ["base64url", "percent", "percent-every-byte-lower-hex"])  # name chars
def test_a_header_name_holding_the_token_is_scrubbed(record, form):
    echoed = FORMS[form](TOKEN)
    assert_scrubbed(record(Echo("header-name", "api_token", FORMS[form])), echoed)


@pytest.mark.parametrize("form", ["raw", "percent", "base64", "utf8-read-as-latin1"])
def test_the_status_line_is_scrubbed(record, form):
    echoed = FORMS[form](TOKEN)
    assert_scrubbed(record(Echo("reason", "api_token", FORMS[form])), echoed)


@pytest.mark.parametrize("form", ["percent", "percent-plus-for-space", "base64url"])
def test_a_next_link_and_the_request_that_follows_it_are_scrubbed(record, form):
    echoed = FORMS[form](TOKEN)
    text = assert_scrubbed(record(Echo("next", "api_token", FORMS[form])), echoed)
    assert text.count("cursor=") == 2  # in the first answer and in the second request


@pytest.mark.parametrize("form", ["raw", "json-escaped"])
def test_a_next_link_no_url_reader_agrees_on_is_scrubbed_and_not_followed(record, form):
    # The token's space makes the link one the client refuses to follow (its one reading of a
    # URL admits no whitespace), so only the first answer holds it.
    echoed = FORMS[form](TOKEN)
    text = assert_scrubbed(record(Echo("next", "api_token", FORMS[form])), echoed)
    assert text.count("cursor=") == 1


@pytest.mark.parametrize("form", list(NESTED))
@pytest.mark.parametrize("secret", ["api_token", "username"])
def test_a_form_that_cannot_be_scrubbed_is_refused_and_named(record, tmp_path, secret, form):
    status, stderr, cassette = record(Echo("body", secret, NESTED[form]))
    assert status == 1
    assert not cassette.exists()
    assert list(tmp_path.iterdir()) == []  # no scratch file left either
    assert f"interaction 1 of 1, response body: the {secret}" in stderr
    assert "inside" in stderr  # the form, in words
    for value in (TOKEN, USERNAME):
        for shown in (value, quote(value, safe=""), NESTED[form](value)):
            assert shown not in stderr


def test_a_refusal_from_the_command_line(echo_server, tmp_path):
    echo_server.echo = Echo("header", "api_token", NESTED["percent-encoded-twice"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACEGATE_")}
    env |= {"SPACEGATE_RECORD_API_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "mocks", "record", "--scenario", "echo",
         "--cassettes", str(tmp_path), "--instance-url", echo_server.cloud_root,
         "--web-url", echo_server.url + "/wiki", "--username", USERNAME],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 1
    assert "interaction 1 of 1, response header 'X-Echo': the api_token" in result.stderr
    assert "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stderr + result.stdout
    assert list(tmp_path.iterdir()) == []


# -- forms an HTTP echo of this token cannot show -----------------------------------------------


def test_a_character_outside_the_bmp_is_found_as_a_json_surrogate_pair():
    from mocks.secret_forms import SecretForms

    forms = SecretForms({"api_token": ("rocket-\U0001f680-token", "REDACTED")})
    escaped = json.dumps({"t": "rocket-\U0001f680-token"})  # "rocket-\ud83d\ude80-token"
    assert "\\ud83d\\ude80" in escaped
    assert forms.scrub(escaped) == '{"t": "REDACTED"}'


def test_latin1_bytes_in_a_body_are_found_and_scrubbed():
    from mocks.secret_forms import Finding, SecretForms

    forms = SecretForms({"username": (USERNAME, "someone")})
    body = b'{"user": "' + USERNAME.encode("latin-1") + b'"}'  # not UTF-8
    assert forms.find(body) == [Finding("username", "Latin-1 bytes")]
    assert forms.scrub_bytes(body) == b'{"user": "someone"}'
