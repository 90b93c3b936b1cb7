"""Space `type` and `status`: open sets of lower-case words (docs/contract.md#type-and-status).

A word Confluence writes is passed through, even one nobody has seen; anything else is
normalised to a word, never forwarded, never a reason to fail the listing. Over real HTTP: the
live service against the stand-in's `odd-words` persona in each API flavor, every answer
validated against openapi.yaml (whose pattern is what makes a non-word a contract breach).
"""

from __future__ import annotations

import json
import re

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from service.confluence.spaces import space_word
from tests.support.contract import assert_conforms
from tests.support.tokens import auth_headers

WORD = re.compile(r"[a-z][a-z_]*")

# key -> (type, status) as the service must answer them for the `odd-words` persona.
ODD_WORDS_ANSWERED = {
    "DRAFT": ("global", "draft"),
    "COLLAB": ("collaboration", "current"),
    "HUB": ("team_hub", "current"),
    "LOUD": ("global", "current"),
    "REVIEW": ("global", "in_review"),
    "UMLAUT": ("global", "archived"),
    "BLANK": ("unknown", "current"),
    "UNDER": ("unknown", "current"),
    "MIXED": ("knowledge_base", "current"),
}


@pytest.mark.parametrize(
    ("confluence_wrote", "answered"),
    [
        ("current", "current"),
        ("draft", "draft"),
        ("knowledge_base", "knowledge_base"),
        ("CURRENT", "current"),
        ("in review", "in_review"),
        ("Ärchived", "archived"),
        ("", "unknown"),
        ("__", "unknown"),
        ("---", "unknown"),
        ("Knowledge-Base 2", "knowledge_base"),
        ("ﬁnal", "final"),
        ("Straße", "strasse"),
        ("current\n", "current"),
        ("日本語", "unknown"),
    ],
)
def test_the_normalisation_rule(confluence_wrote, answered):
    assert space_word(confluence_wrote) == answered


@given(st.text())
def test_every_string_becomes_a_word(value):
    assert WORD.fullmatch(space_word(value))


@given(st.from_regex(WORD, fullmatch=True))
def test_every_word_is_passed_through_as_written(word):
    assert space_word(word) == word


def listing(service, body: dict) -> list[dict]:
    response = requests.post(service.api, json=body, headers=auth_headers(), timeout=20)
    assert response.status_code == 200, response.text
    return assert_conforms(response).json()["spaces"]


@pytest.mark.parametrize("root", ["cloud_root", "dc_root"])
def test_odd_words_from_confluence_reach_the_client_as_words(live, body, confluence, root):
    spaces = listing(live, body("odd-words", root=getattr(confluence, root)))
    answered = {space["key"]: (space["type"], space["status"]) for space in spaces}
    assert answered == ODD_WORDS_ANSWERED
    # Nothing else of the space is touched.
    names = {space["key"]: space["name"] for space in spaces}
    assert names["UMLAUT"] == "Umlaut"
    assert names["MIXED"] == "Mixed"


def test_a_space_status_that_is_not_a_word_breaks_the_contract(live, body):
    """The pattern in openapi.yaml is what the service is held to: a raw value would fail."""
    response = requests.post(live.api, json=body("odd-words"), headers=auth_headers(), timeout=20)
    assert_conforms(response)
    spoiled = response.json()
    spoiled["spaces"][0]["status"] = "in review"
    response._content = json.dumps(spoiled).encode("utf-8")  # what a pass-through would send
    with pytest.raises(AssertionError, match=r"breaks openapi\.yaml"):
        assert_conforms(response)
