"""Scenarios written by hand: served over HTTP through the real handler and client, shaped as
Confluence shapes its pages (the stand-in is the judge), refused with file, line and field."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from mocks.scenario_file import SequenceScenario
from mocks.scenario_folder import load_folder
from mocks.scenarios import RECORDED_ORIGIN, Interaction
from service.resources import default_cassettes_dir
from service.settings import DEV_JWT_SECRET, Settings
from tests.confluence_standin import VALID_TOKEN
from tests.confluence_standin.datasets import ordered_spaces
from tests.support.bodies import EXAMPLE_BODY
from tests.support.contract import assert_conforms
from tests.support.processes import ROOT, environment
from tests.support.servers import RunningService, serve
from tests.support.tokens import auth_headers, mint

# Seven spaces, some with their own id, one with type and status left to their defaults.
SPACES: list[dict[str, Any]] = [
    {"key": "ENG", "name": "Engineering", "type": "global", "status": "current"},
    {"key": "~jane", "name": "Jane Doe", "type": "personal", "status": "current"},
    {"key": "OLD", "name": "Old Stuff", "type": "global", "status": "archived", "id": 4242},
    {"key": "TEAM", "name": 'Équipe — 開発 🚀 "quoted"', "type": "collaboration"},
    {"key": "KB", "name": "Knowledge Base", "type": "knowledge_base", "id": "98307"},
    {
        "key": "~5b10ac8d82e05b22cc7d4ef5",
        "name": "Former",
        "type": "personal",
        "status": "archived",
    },
    {"key": "DOCS", "name": "Docs"},
]
FLAVOURS = {
    # flavour: (instance_url, web_url_instance, web link prefix)
    "cloud": (
        "https://acme.atlassian.net/wiki/rest/api",
        "https://acme.atlassian.net/wiki",
        "/spaces/",
    ),
    "cloud-v1": (
        "https://acme.atlassian.net/wiki/rest/api",
        "https://acme.atlassian.net/wiki",
        "/spaces/",
    ),
    "data-center": (
        "https://confluence.acme.example/rest/api",
        "https://confluence.acme.example",
        "/display/",
    ),
}
PAGE_SIZES = (1, 2, 250)

# upstream failure -> what spacegate answers (status, code or 422 type)
FAILURES: dict[str, tuple[dict[str, Any], int, str]] = {
    "fails-403": ({"status": 403}, 403, "confluence_credentials_rejected"),
    "fails-404": ({"status": 404}, 422, "value_error.confluence_not_found"),
    "fails-429": ({"status": 429, "retry_after": 7}, 429, "confluence_rate_limited"),
    "fails-429-huge": ({"status": 429, "retry_after": 2**63 - 1}, 429, "confluence_rate_limited"),
    "fails-503": ({"status": 503}, 502, "confluence_bad_gateway"),
    "fails-html": ({"status": "html"}, 502, "confluence_bad_gateway"),
    "fails-timeout": ({"status": "timeout"}, 504, "confluence_timeout"),
    "fails-refused": ({"status": "connection-refused"}, 502, "confluence_bad_gateway"),
    "fails-error": ({"status": "error"}, 500, "internal_error"),
}
# failures spacegate retries, then the listing
RECOVERS: dict[str, dict[str, Any]] = {
    "recovers-429": {"status": 429, "retry_after": 1, "times": 2},
    "recovers-503": {"status": "503", "times": 1},
    "recovers-refused": {"status": "connection-refused", "times": 3},
}


def write(folder: Path, name: str, content: dict[str, Any] | str) -> Path:
    path = folder / (name if "." in name else f"{name}.yaml")
    text = content if isinstance(content, str) else yaml.safe_dump(content, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def headers(prefer: str | None = None) -> dict[str, str]:
    sent = auth_headers(mint(secret=DEV_JWT_SECRET))
    return sent if prefer is None else sent | {"prefer": prefer}


def call(service: RunningService, name: str | None, flavour: str = "cloud") -> requests.Response:
    instance_url, web_url, _prefix = FLAVOURS[flavour]
    body = EXAMPLE_BODY | {"instance_url": instance_url, "web_url_instance": web_url}
    prefer = None if name is None else f"example={name}"
    return assert_conforms(
        requests.post(service.api, json=body, headers=headers(prefer), timeout=10)
    )


def expected(spaces: list[dict[str, Any]], flavour: str) -> list[dict[str, str]]:
    """What the file says, as spacegate lists it (ids compared separately: some are made up)."""
    _url, web_url, prefix = FLAVOURS[flavour]
    return [
        {
            "key": s["key"],
            "name": s["name"],
            "type": s.get("type", "global"),
            "status": s.get("status", "current"),
            "url": web_url + prefix + s["key"],
        }
        for s in spaces
    ]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scenarios")
    shutil.copy(default_cassettes_dir() / "default.yaml", folder)
    for flavour in FLAVOURS:
        for size in PAGE_SIZES:
            write(
                folder,
                f"{flavour}-{size}",
                {
                    "description": f"Seven spaces, {flavour}, pages of {size}",
                    "flavour": flavour,
                    "page_size": size,
                    "spaces": SPACES,
                },
            )
    for name, (upstream, _status, _code) in FAILURES.items():
        write(folder, name, {"description": f"Confluence fails: {upstream}", "upstream": upstream})
    write(
        folder,
        "fails-403-dc",
        {
            "description": "Data Center refuses basic auth",
            "flavour": "data-center",
            "upstream": {"status": 403},
        },
    )
    for name, upstream in RECOVERS.items():
        write(
            folder,
            name,
            {
                "description": "fails, then lists",
                "flavour": "cloud-v1",
                "page_size": 3,
                "spaces": SPACES,
                "upstream": upstream,
            },
        )
    write(
        folder, "slow.yml", {"description": "Slow pages", "latency_ms": 250, "spaces": SPACES[:1]}
    )
    write(folder, "none-at-all", {"description": "No space at all", "spaces": []})
    return folder


@pytest.fixture(scope="module")
def mock(folder: Path) -> Iterator[RunningService]:
    with serve(Settings(mode="mock", cassettes=folder).validated()) as service:
        yield service


@pytest.mark.parametrize("size", PAGE_SIZES)
@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_the_real_client_pages_through_a_hand_written_listing(mock, folder, flavour, size):
    response = call(mock, f"{flavour}-{size}", flavour)
    assert response.status_code == 200, response.text
    listed = response.json()["spaces"]
    assert [{k: v for k, v in s.items() if k != "id"} for s in listed] == expected(SPACES, flavour)
    ids = [s["id"] for s in listed]
    assert all(i.isdigit() for i in ids)
    assert len(set(ids)) == len(ids)
    assert [ids[2], ids[4]] == ["4242", "98307"]  # the file's own ids
    # Paging really happened: one Confluence page per page_size spaces (and v2's 404 first).
    scenario = load_folder(folder).scenarios[f"{flavour}-{size}"]
    pages = math.ceil(len(SPACES) / size) + (flavour == "cloud-v1")
    assert len(scenario.interactions) == pages


def test_any_host_gets_links_to_itself(mock):
    body = EXAMPLE_BODY | {
        "instance_url": "https://wiki.internal.example:8443/wiki/rest/api",
        "web_url_instance": "https://wiki.internal.example:8443/wiki",
    }
    response = requests.post(mock.api, json=body, headers=headers("example=cloud-2"), timeout=10)
    assert [s["key"] for s in assert_conforms(response).json()["spaces"]] == [
        s["key"] for s in SPACES
    ]


def test_the_flavours_root_is_the_one_to_call(mock):
    # A data-center scenario at a Cloud root is Confluence's 404: a 422 naming the root.
    [item] = call(mock, "data-center-2", "cloud").json()["detail"]
    assert item["type"] == "value_error.confluence_not_found"
    assert "/rest/api" in item["msg"]


def test_an_empty_listing(mock):
    assert call(mock, "none-at-all").json() == {"spaces": []}


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_an_upstream_failure_gets_spacegates_answer(mock, name):
    upstream, status, code = FAILURES[name]
    response = call(mock, name)
    assert response.status_code == status, response.text
    answer = response.json()
    if status == 422:
        assert answer["detail"][0]["type"] == code
    else:
        assert answer["code"] == code
    if status == 429:
        wanted = min(upstream["retry_after"], 3600)
        assert response.headers["retry-after"] == str(wanted)


def test_data_center_refuses_in_its_own_words(mock):
    assert (
        call(mock, "fails-403-dc", "data-center").json()["code"]
        == "confluence_credentials_rejected"
    )


@pytest.mark.parametrize("name", sorted(RECOVERS))
def test_a_failure_retried_then_the_listing(mock, name):
    response = call(mock, name)
    assert response.status_code == 200, response.text
    assert [s["key"] for s in response.json()["spaces"]] == [s["key"] for s in SPACES]


def test_the_catalogue_lists_hand_written_scenarios_with_the_status_they_get(mock):
    listed = {
        s["name"]: s
        for s in requests.get(mock.url + "/mock/scenarios", timeout=5).json()["scenarios"]
    }
    assert listed["default"]["source"] == "recorded"
    assert listed["cloud-2"] == {
        "name": "cloud-2",
        "description": "Seven spaces, cloud, pages of 2",
        "root": "/wiki/rest/api",
        "status": 200,
        "recorded": False,
        "source": "hand-written",
    }
    assert listed["data-center-1"]["root"] == "/rest/api"
    assert listed["slow"]["latency_ms"] == 250  # a .yml file, served under its stem
    for name, (_upstream, status, _code) in FAILURES.items():
        assert listed[name]["status"] == status
        assert call(mock, name).status_code == status
    for name in RECOVERS:
        assert listed[name]["status"] == 200


def test_code_picks_a_hand_written_scenario_too(mock):
    # The only scenario of this folder that ends in 504 is written by hand.
    assert call(mock, None).status_code == 200
    response = requests.post(mock.api, json=EXAMPLE_BODY, headers=headers("code=504"), timeout=10)
    assert assert_conforms(response).json()["code"] == "confluence_timeout"


def test_a_folder_of_hand_written_files_alone(tmp_path):
    """No recording at all: a team's own default."""
    write(tmp_path, "default", {"description": "Ours", "spaces": SPACES[:3]})
    with serve(Settings(mode="mock", cassettes=tmp_path).validated()) as service:
        response = call(service, None)
    assert [s["key"] for s in response.json()["spaces"]] == ["ENG", "~jane", "OLD"]


# -- the pages are Confluence's: the stand-in answers each generated request the same way -------


def _same_answer(
    interaction: Interaction, confluence, persona: str, token: str = VALID_TOKEN
) -> None:
    url = interaction.request.uri.replace(RECORDED_ORIGIN, confluence.url)
    real = requests.get(url, auth=(persona, token), timeout=10)
    ours = dict(interaction.headers)
    assert interaction.status == real.status_code, url
    assert ours.get("Content-Type") == real.headers.get("Content-Type"), url
    body = interaction.body.replace(RECORDED_ORIGIN.encode(), confluence.url.encode())
    if "json" in real.headers["Content-Type"]:
        assert json.loads(body) == real.json(), url
    else:
        assert body == real.content, url
    for name in ("Link", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining"):
        assert ours.get(name, "").replace(RECORDED_ORIGIN, confluence.url) == real.headers.get(
            name, ""
        ), name


def _persona_file(persona: str, standin_flavour: str, **fields: Any) -> dict[str, Any]:
    spaces = [
        {"key": s.key, "name": s.name, "type": s.type, "status": s.status, "id": s.id}
        for s in ordered_spaces(persona, standin_flavour)
    ]
    return {"description": f"{persona} as written by hand", "spaces": spaces, **fields}


@pytest.mark.parametrize(
    ("flavour", "persona", "standin_flavour", "page_size"),
    [
        ("cloud", "over-a-thousand", "v2", 250),  # five cursor pages
        ("cloud-v1", "over-a-thousand", "v1", 250),  # v2's 404, then five v1 pages
        ("cloud-v1", "personal-and-archived", "v1", None),
        ("data-center", "over-a-thousand", "dc", 25),  # fifty pages, the stand-in's cap
        ("data-center", "personal-and-archived", "dc", None),  # ~keys, the default page size
    ],
)
def test_generated_pages_are_what_confluence_serves(
    tmp_path, confluence, flavour, persona, standin_flavour, page_size
):
    fields = {"flavour": flavour} | ({"page_size": page_size} if page_size else {})
    write(tmp_path, "ours", _persona_file(persona, standin_flavour, **fields))
    interactions = load_folder(tmp_path).scenarios["ours"].interactions
    assert len(interactions) > 1 or flavour == "data-center"
    for interaction in interactions:
        # the v2 probe that makes cloud-v1 fall back: the stand-in's persona whose v2 is gone
        probe = interaction.request.path.startswith("/wiki/api/v2/")
        _same_answer(
            interaction, confluence, "v2-gone" if probe and flavour == "cloud-v1" else persona
        )


@pytest.mark.parametrize(
    ("upstream", "flavour", "persona", "token"),
    [
        ({"status": 403}, "cloud", "three", "not-the-token"),
        ({"status": 403}, "data-center", "basic-disabled", VALID_TOKEN),
        ({"status": 429, "retry_after": 2**63 - 1}, "cloud", "rate-limited", VALID_TOKEN),
        ({"status": 503}, "cloud", "unavailable", VALID_TOKEN),
        ({"status": "html"}, "cloud", "html", VALID_TOKEN),
    ],
)
def test_generated_failures_are_what_confluence_sends(
    tmp_path, confluence, upstream, flavour, persona, token
):
    write(tmp_path, "ours", {"description": "fails", "flavour": flavour, "upstream": upstream})
    [interaction] = load_folder(tmp_path).scenarios["ours"].interactions
    _same_answer(interaction, confluence, persona, token)


def test_a_wrong_root_is_confluences_xml_404_wherever_the_client_looks(tmp_path):
    write(tmp_path, "ours", {"description": "wrong root", "upstream": {"status": 404}})
    interactions = load_folder(tmp_path).scenarios["ours"].interactions
    assert [i.request.path for i in interactions] == ["/wiki/api/v2/spaces", "/wiki/rest/api/space"]
    for interaction in interactions:
        assert (interaction.status, dict(interaction.headers)["Content-Type"]) == (
            404,
            "application/xml",
        )
        assert f"null for uri: {interaction.request.uri}".encode() in interaction.body


# -- bad files: refused, naming the file, the line and the field ---------------------------------

BAD = {
    "unknown flavour": (
        "description: x\nflavour: clod\nspaces: []\n",
        2,
        "flavour",
        "cloud, cloud-v1, data-center",
    ),
    "page size 0": ("description: x\npage_size: 0\nspaces: []\n", 2, "page_size", "at least 1"),
    "missing name": (
        "description: x\nspaces:\n  - {key: A, name: a}\n  - {key: B}\n",
        4,
        "spaces[1].name",
        "missing",
    ),
    "a YAML boolean": (
        "description: x\nspaces:\n  - {key: NO, name: Norway}\n",
        3,
        "spaces[0].key",
        "quotes",
    ),
    "unknown field": (
        "description: x\nspaces: []\nspace_size: 3\n",
        3,
        "space_size",
        "not a field",
    ),
    "field of a space": (
        "description: x\nspaces:\n  - key: A\n    name: a\n    kind: global\n",
        5,
        "spaces[0].kind",
        "not a field",
    ),
    "no description": ("spaces: []\n", 1, "description", "missing"),
    "two lines": ("description: |\n  one\n  two\nspaces: []\n", 1, "description", "one line"),
    "nothing to serve": ("description: x\nflavour: cloud\n", 1, "(the file)", "spaces"),
    "unknown failure": (
        "description: x\nupstream: {status: 500}\n",
        2,
        "upstream.status",
        "403, 404, 429",
    ),
    "retry after a 403": (
        "description: x\nupstream:\n  status: 403\n  retry_after: 3\n",
        4,
        "upstream.retry_after",
        "429",
    ),
    "times alone": (
        "description: x\nupstream:\n  status: 429\n  times: 2\n",
        4,
        "upstream.times",
        "needs spaces",
    ),
    "spaces never reached": (
        "description: x\nspaces: []\nupstream: {status: 429}\n",
        3,
        "upstream.times",
        "how many times",
    ),
    "same key twice": (
        "description: x\nspaces:\n  - {key: A, name: a}\n  - {key: A, name: b}\n",
        4,
        "spaces[1].key",
        "spaces[0]",
    ),
    "same id twice": (
        "description: x\nspaces:\n  - {key: A, name: a, id: 7}\n  - {key: B, name: b, id: '7'}\n",
        4,
        "spaces[1].id",
        "spaces[0]",
    ),
    "key given twice": (
        "description: x\nspaces: []\ndescription: y\n",
        3,
        "description",
        "given twice",
    ),
    "bad key": (
        "description: x\nspaces:\n  - {key: 'a b', name: a}\n",
        3,
        "spaces[0].key",
        "space key",
    ),
    "not YAML": ("description: x\nspaces: [\n", 3, None, "not valid YAML"),
    "not a mapping": ("- a\n- b\n", 1, "(the file)", "mapping"),
    "not retried": (
        "description: x\nspaces: []\nupstream: {status: 403, times: 1}\n",
        3,
        "upstream",
        "answers 403",
    ),
    "too many pages": (
        "description: x\npage_size: 1\nspaces:\n"
        + "".join(f"  - {{key: K{i}, name: n}}\n" for i in range(3)),
        3,
        "spaces",
        "SPACEGATE_MAX_PAGES",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_file_is_refused_naming_file_line_and_field(tmp_path, case):
    from service.confluence.client import ClientOptions

    text, line, field, words = BAD[case]
    path = write(tmp_path, "bad", text)
    options = ClientOptions.from_settings(Settings(max_pages=2))  # for "too many pages"
    catalogue = load_folder(tmp_path, options)
    assert "bad" not in catalogue.scenarios
    message = catalogue.errors["bad.yaml"]
    expected_start = f"{path}, line {line}" + (f", {field}:" if field else "")
    assert any(m.startswith(expected_start) and words in m for m in message.splitlines()), message


def test_every_problem_of_a_file_at_once(tmp_path):
    write(tmp_path, "bad", "description: x\nflavour: clod\npage_size: -1\nspaces:\n  - {name: a}\n")
    lines = load_folder(tmp_path).errors["bad.yaml"].splitlines()
    assert [m.split(":")[0].split(", ")[1:] for m in lines] == [
        ["line 2", "flavour"],
        ["line 3", "page_size"],
        ["line 5", "spaces[0].key"],
    ]


def test_one_name_is_one_file_whatever_its_kind_or_suffix(tmp_path):
    shutil.copy(default_cassettes_dir() / "empty.yaml", tmp_path / "ours.yaml")
    write(tmp_path, "ours.yml", {"description": "ours", "spaces": []})
    write(tmp_path, "Bad_Name", {"description": "ours", "spaces": []})
    catalogue = load_folder(tmp_path)
    assert "ours" not in catalogue.scenarios
    assert "ours.yml" in catalogue.errors["ours.yaml"]
    assert "ours.yaml" in catalogue.errors["ours.yml"]
    assert "lower-case letters" in catalogue.errors["Bad_Name.yaml"]


# -- sequences: parsed and checked here, played by the mock's state ------------------------------


def test_a_sequence_names_scenarios_of_the_folder(tmp_path):
    shutil.copy(default_cassettes_dir() / "confluence-down.yaml", tmp_path)
    write(tmp_path, "default", {"description": "ours", "spaces": SPACES[:1]})
    write(
        tmp_path,
        "retry",
        "description: Down once, then fine\nsequence: [confluence-down, default]\n",
    )
    write(tmp_path, "loop", "description: x\nsequence:\n  - retry\n")
    write(tmp_path, "typo", "description: x\nsequence:\n  - default\n  - confluence-dwn\n")
    write(tmp_path, "broken", "description: x\nspaces: nope\n")
    write(tmp_path, "uses-broken", "description: x\nsequence: [broken]\n")
    write(tmp_path, "empty-seq", "description: x\nsequence: []\n")
    catalogue = load_folder(tmp_path)
    assert catalogue.sequences == {
        "retry": SequenceScenario("retry", "Down once, then fine", ("confluence-down", "default"))
    }
    assert "retry" not in catalogue.scenarios
    assert "line 3, sequence[0]: 'retry' is a sequence" in catalogue.errors["loop.yaml"]
    assert "line 4, sequence[1]: 'confluence-dwn' is no scenario" in catalogue.errors["typo.yaml"]
    assert "'broken' is a scenario that was refused" in catalogue.errors["uses-broken.yaml"]
    assert "line 2, sequence: must be at least 1" in catalogue.errors["empty-seq.yaml"]


# -- python -m mocks new / list --------------------------------------------------------------------


def mocks_cli(*args: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mocks", *args],
        env=environment(SPACEGATE_CASSETTES=str(folder)),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_new_writes_a_commented_template_that_serves_as_it_is(tmp_path):
    shutil.copy(default_cassettes_dir() / "default.yaml", tmp_path)
    made = mocks_cli("new", "team-demo", folder=tmp_path)
    assert made.returncode == 0, made.stderr
    path = tmp_path / "team-demo.yaml"
    text = path.read_text()
    assert "Prefer: example=team-demo" in text
    assert sum(line.lstrip().startswith("#") for line in text.splitlines()) >= 10
    again = mocks_cli("new", "team-demo", folder=tmp_path)
    assert again.returncode == 1
    assert "exists" in again.stderr
    assert path.read_text() == text
    assert mocks_cli("new", "Team_Demo", folder=tmp_path).returncode == 2
    with serve(Settings(mode="mock", cassettes=tmp_path).validated()) as service:
        response = call(service, "team-demo")
    written = yaml.safe_load(text)["spaces"]
    assert [(s["key"], s["name"], s["status"]) for s in response.json()["spaces"]] == [
        (s["key"], s["name"], s["status"]) for s in written
    ]


def test_list_shows_both_kinds_and_the_refused_files(tmp_path):
    shutil.copy(default_cassettes_dir() / "default.yaml", tmp_path)
    write(tmp_path, "ours", {"description": "Ours, by hand", "upstream": {"status": 429}})
    write(tmp_path, "bad", "description: x\n")
    listed = mocks_cli("list", folder=tmp_path)
    assert listed.returncode == 1
    rows = {line.split()[0]: line.split() for line in listed.stdout.splitlines()}
    assert rows["default"][1:4] == ["200", "/wiki/rest/api", "recorded"]
    assert rows["ours"][1:4] == ["429", "/wiki/rest/api", "hand-written"]
    assert f"{tmp_path / 'bad.yaml'}, line 1, (the file): give spaces" in listed.stderr


def test_the_readmes_worked_example_serves_as_it_says(tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Scenarios written by hand") :]
    example = section[
        section.index("```yaml\n") + 8 : section.index("```\n", section.index("```yaml"))
    ]
    shutil.copy(default_cassettes_dir() / "default.yaml", tmp_path)
    write(tmp_path, "three-of-ours", example)
    assert len(load_folder(tmp_path).scenarios["three-of-ours"].interactions) == 2  # two pages
    with serve(Settings(mode="mock", cassettes=tmp_path).validated()) as service:
        response = call(service, "three-of-ours")
    spaces = response.json()["spaces"]
    assert [s["key"] for s in spaces] == ["ENG", "~jane", "OLD"]
    assert spaces[0]["url"] == "https://acme.atlassian.net/wiki/spaces/ENG"
