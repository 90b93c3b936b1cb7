"""The URL patterns of openapi.yaml mean the same in Python's `re` and in ECMAScript.

The service validates with Python's `re`; browsers, ajv and generated TypeScript validators use
ECMAScript's RegExp, with the `u` flag (ajv) or without. Both compile the pattern, and a corpus
of strings gets the same verdict from each: every code point of the Basic Multilingual Plane
in the path, the host, and the end; the anchors' edge cases; some astral characters.

The service's first verdict on a field comes from jsonschema-rs (Rust's regex engine), and
Python's jsonschema is asked only when that verdict is no: every schema'd field of the request
must get the same verdict from the service as from Python's jsonschema alone.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml
from jsonschema import Draft4Validator

from service.resources import spec_path
from service.validation import schema_problems

DOCUMENT = yaml.safe_load(spec_path().read_text())
SCHEMA = DOCUMENT["components"]["schemas"]["SpaceListingRequest"]
PATTERNS = {
    name: SCHEMA["properties"][name]["pattern"] for name in ("instance_url", "web_url_instance")
}
# Reads the pattern and the corpus as JSON on stdin; writes one verdict list per flag set.
VERDICTS_IN_NODE = """
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const verdicts = {};
for (const flags of ["", "u"]) {
  const pattern = new RegExp(input.pattern, flags);
  verdicts[flags || "none"] = input.corpus.map((text) => pattern.test(text));
}
process.stdout.write(JSON.stringify(verdicts));
"""


def corpus() -> list[str]:
    texts = [
        "https://acme.atlassian.net/wiki/rest/api",
        "HTTP://Acme.Example:8443/rest/api?x=1#f",
        "https://[2001:db8::1]:443/wiki",
        "https://[::ffff:192.0.2.1]/",
        "https://10.0.0.1:65535/",
        "https://host:65536/",
        "https://host:0/",
        "https://a.b.",
        "https://-a.b/",
        "https://a_b.example/",
        "https://u:p@host/",
        "ftp://host/",
        "https://",
        "",
        "https://host/\n",
        "https://host\n",
        "\nhttps://host",
        "https://host/\r\n",
        "https://host/a\\b",
        "https://host/\U0001f600",
        "https://host/\U00010000x",
        "https://host/\ud800",
        "https://host/\udc00\ud800",
    ]
    for code_point in range(0x10000):
        if 0xD800 <= code_point <= 0xDFFF:
            continue  # lone surrogates: a few above; JSON carries them, text files do not
        character = chr(code_point)
        texts += [
            f"https://acme.example/wiki{character}x",
            f"https://acme.example/{character}",
            f"https://acme{character}example/",
        ]
    return texts


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.fail("node is not on PATH: the tools of tools/package.json and this test need it")
    return path


@pytest.mark.parametrize("field", sorted(PATTERNS))
def test_python_and_ecmascript_agree_on_every_string(node, field):
    pattern = PATTERNS[field]
    texts = corpus()
    in_python = [re.search(pattern, text) is not None for text in texts]
    result = subprocess.run(
        [node, "-e", VERDICTS_IN_NODE],
        input=json.dumps({"pattern": pattern, "corpus": texts}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for flags, in_ecmascript in json.loads(result.stdout).items():
        differing = [
            (text, python)
            for text, python, ecmascript in zip(texts, in_python, in_ecmascript, strict=True)
            if python != ecmascript
        ]
        assert not differing, f"flags {flags!r}: Python's verdict differs on {differing[:10]}"
    # The corpus holds both verdicts, so agreement is not "everything refused".
    assert 1000 < sum(in_python) < len(texts) - 1000


def test_the_pattern_refuses_whitespace_controls_and_backslashes_in_the_path():
    pattern = PATTERNS["instance_url"]
    for character in "\x00\x1c\x1f \t\x7f\x85\xa0\u2028\u3000\ufeff\\":
        assert not re.search(pattern, f"https://acme.example/wiki{character}x"), repr(character)
    assert not re.search(pattern, "https://acme.example/wiki\n")
    assert re.search(pattern, "https://acme.example/wiki/ä/\U0001f600?q=1#top")


@pytest.mark.parametrize("field", [*sorted(SCHEMA["properties"]), "x-tenantid"])
def test_the_compiled_verdict_is_python_jsonschemas_on_every_string(field):
    if field == "x-tenantid":
        schema = DOCUMENT["components"]["parameters"]["TenantId"]["schema"]
    else:
        schema = SCHEMA["properties"][field]
    uuids = ["3fa85f64-5717-4562-b3fc-2c963f66afa6", "3FA85F64-5717-4562-B3FC-2C963F66AFA6"]
    uuids += [u + "\n" for u in uuids] + [u[:-1] + "\u0661" for u in uuids] + ["", "x"]
    # Lone surrogates are refused before any schema is asked (service/validation.py).
    texts = [t for t in corpus() + uuids if not any("\ud800" <= c <= "\udfff" for c in t)]
    python = Draft4Validator(schema)
    whole = {"properties": {field: schema}}
    differing = [
        text
        for text in texts
        if (not schema_problems(whole, {field: text}, ("body",))) != python.is_valid(text)
    ]
    assert not differing, f"the service's verdict differs from Python's on {differing[:10]}"
