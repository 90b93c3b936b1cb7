"""Every document that code and docs cite is in the repository, and so is every section.

A reader who meets `docs/contract.md#order-of-checks` in a comment, a `--help` text or the
README must be able to open that file at that heading. This scans the tracked `*.py`, `*.md`,
`*.yaml`, `*.toml` and `*.ini` files for
- markdown links (`[text](path#anchor)`, relative to the linking file): the target exists,
  whatever its kind, and an anchor into a markdown file names one of its headings;
- mentions of markdown files anywhere else (`docs/design.md#auth` in a comment), relative to
  the repository's top or to the mentioning file: the same;
- the names of documents that live outside the repository, which a clone cannot follow.
URLs to other sites are not citations of this repository and are left alone.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCANNED_SUFFIXES = (".py", ".md", ".yaml", ".toml", ".ini")

# Documents of the people who set the project up, never part of it: nothing may cite them.
_OUTSIDE = re.compile(r"\b(?:CONTRACT|DESIGN)\.md\b|\.\./shared\b")
# Any URL with a scheme (https://…, file://…) names another site, not a file of ours.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s<>()\[\]\"'`]*")
_INLINE_LINK = re.compile(r"\]\(\s*<?([^()\s<>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_MD_MENTION = re.compile(
    r"(?<![\w./-])((?:\.{1,2}/)*(?:[\w.-]+/)*[\w.-]*\w\.md)(?:#([\w-]+))?(?![\w/-]|\.\w)"
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_HTML_ANCHOR = re.compile(r"<a\s+[^>]*?(?:id|name)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)


@dataclass(frozen=True)
class Citation:
    source: str  # repository-relative path of the citing file
    line: int
    target: str  # as written
    path: Path | None  # the file it resolves to; None when it resolves to nothing
    anchor: str | None

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.target}"


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text, lower-cased, punctuation dropped, spaces `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "").replace("*", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors_of(markdown: str) -> set[str]:
    """Every anchor a markdown document offers: its headings' slugs and explicit HTML ids."""
    anchors: set[str] = set(_HTML_ANCHOR.findall(markdown))
    seen: dict[str, int] = {}
    in_fence = False
    previous = ""
    for line in markdown.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            previous = ""
            continue
        if in_fence:
            continue
        heading = None
        atx = _ATX.match(line)
        if atx:
            heading = atx.group(2)
        elif _SETEXT.match(line) and previous.strip() and not previous.lstrip().startswith("|"):
            heading = previous
        if heading is not None:
            slug = github_slug(heading)
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            anchors.add(slug if count == 0 else f"{slug}-{count}")
        previous = line
    return anchors


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    # Keeps offsets, so line numbers stay right for what is scanned afterwards.
    chars = list(text)
    for start, end in spans:
        for index in range(start, end):
            if chars[index] != "\n":
                chars[index] = " "
    return "".join(chars)


def _resolve(root: Path, source: Path, target: str, *, from_top: bool) -> Path | None:
    bases = (root, source.parent) if from_top else (source.parent,)
    for base in bases:
        candidate = (base / target).resolve()
        if candidate.is_relative_to(root) and candidate.exists():
            return candidate
    return None


def citations_in(root: Path, source: Path, text: str) -> Iterator[Citation]:
    """The citations of files of the repository that `text` (the content of `source`) makes."""
    relative = source.relative_to(root).as_posix()
    text = _blank(text, (m.span() for m in _URL.finditer(text)))

    def line_of(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    if source.suffix == ".md":
        links = [*_INLINE_LINK.finditer(text), *_REFERENCE_LINK.finditer(text)]
        for match in links:
            target = match.group(1)
            if _SCHEME.match(target):  # mailto:, and schemes without //
                continue
            path_part, _, anchor = target.partition("#")
            path = _resolve(root, source, path_part, from_top=False) if path_part else source
            yield Citation(relative, line_of(match.start(1)), target, path, anchor or None)
        text = _blank(text, (m.span(1) for m in links))
    for match in _MD_MENTION.finditer(text):
        path = _resolve(root, source, match.group(1), from_top=True)
        yield Citation(relative, line_of(match.start()), match.group(0), path, match.group(2))


def broken(citations: Iterable[Citation]) -> list[str]:
    """What is wrong with each citation that does not lead where it says."""
    problems: list[str] = []
    anchors: dict[Path, set[str]] = {}
    for citation in citations:
        if citation.path is None:
            problems.append(f"{citation}: no such file in the repository")
            continue
        if citation.anchor is None:
            continue
        if citation.path.suffix != ".md":
            problems.append(f"{citation}: an anchor into a file that is not markdown")
            continue
        if citation.path not in anchors:
            anchors[citation.path] = anchors_of(citation.path.read_text(encoding="utf-8"))
        if citation.anchor not in anchors[citation.path]:
            problems.append(f"{citation}: {citation.path.name} has no heading #{citation.anchor}")
    return problems


def outside_mentions(root: Path, source: Path, text: str) -> list[str]:
    relative = source.relative_to(root).as_posix()
    return [
        f"{relative}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
        for m in _OUTSIDE.finditer(text)
    ]


def _scanned_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout.decode()
        names = [name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        # An unpacked sdist has no git: every file outside hidden and build folders.
        names = [
            path.relative_to(ROOT).as_posix()
            for path in ROOT.rglob("*")
            if path.is_file()
            and not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
        ]
    return [ROOT / name for name in names if name.endswith(SCANNED_SUFFIXES)]


SCANNED = {path: path.read_text(encoding="utf-8") for path in _scanned_files() if path.exists()}


def test_cited_files_and_sections_exist() -> None:
    citations = [
        citation
        for path, text in SCANNED.items()
        # this file's samples cite made-up files on purpose
        if path != Path(__file__).resolve()
        for citation in citations_in(ROOT, path, text)
    ]
    problems = broken(citations)
    assert not problems, "citations that lead nowhere:\n" + "\n".join(problems)
    # The scan found what it is there to check: the code does cite the docs by section.
    cited = {(c.path, c.anchor) for c in citations if c.path is not None}
    assert (ROOT / "docs" / "contract.md", "order-of-checks") in cited
    assert any(path == ROOT / "docs" / "design.md" and anchor for path, anchor in cited)


def test_nothing_cites_documents_outside_the_repository() -> None:
    found = [hit for path, text in SCANNED.items() for hit in outside_mentions(ROOT, path, text)]
    assert not found, "documents outside the repository, cited:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("The 200 answer", "the-200-answer"),
        ("`x-tenantid` twice: a 422", "x-tenantid-twice-a-422"),
        ("What's new? (2.0)", "whats-new-20"),
        ("[Links](https://example.com) and *emphasis*", "links-and-emphasis"),
        ("snake_case stays", "snake_case-stays"),
    ],
)
def test_slugs_are_githubs(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


_SAMPLE_DOC = """# Guide

## Order of checks
## Order of checks
Setext heading
--------------
```
## not a heading, inside a fence
```
<a id="custom-anchor"></a>
"""


def test_anchors_follow_github_rules() -> None:
    assert anchors_of(_SAMPLE_DOC) == {
        "guide",
        "order-of-checks",
        "order-of-checks-1",
        "setext-heading",
        "custom-anchor",
    }


# The documents of the sample trees below live in a temporary folder, not in this repository:
# their names are written in parts, so that no scan of this file takes them for citations.
MD = ".md"


def _sample_repo(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / f"guide{MD}").write_text(_SAMPLE_DOC)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "code.py").write_text("")
    return tmp_path


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("pkg/code.py", f"# see docs/guide{MD}#order-of-checks-1 and docs/guide{MD}"),
        ("pkg/code.py", f'"""As docs/guide{MD}#custom-anchor says."""'),
        ("README.md", f"[guide](docs/guide{MD}#setext-heading), [code](pkg/code.py)"),
        (f"docs/other{MD}", f"[up](../pkg/code.py), [guide](guide{MD}#guide), [here](#top)"),
        (f"docs/other{MD}", f"<https://github.com/o/r/blob/main/MISSING{MD}#nowhere>"),
        ("pkg/code.py", f"# https://example.com/docs/missing{MD}#x and [x](mailto:a@b.example)"),
    ],
)
def test_good_citations_pass(tmp_path: Path, source: str, text: str) -> None:
    root = _sample_repo(tmp_path)
    (root / source).write_text("# Top\n" + text)
    assert broken(citations_in(root, root / source, (root / source).read_text())) == []


@pytest.mark.parametrize(
    ("source", "text", "problem"),
    [
        ("pkg/code.py", f"# see docs/missing{MD}", f"docs/missing{MD}: no such file"),
        ("pkg/code.py", f"# docs/guide{MD}#no-such-section", f"guide{MD} has no heading"),
        ("pkg/code.py", f"# docs/guide{MD}#not-a-heading-inside-a-fence", "no heading"),
        ("README.md", f"[guide](guide{MD})", f"guide{MD}: no such file"),
        ("README.md", "[code](pkg/missing.py)", "pkg/missing.py: no such file"),
        ("README.md", "[code](pkg/code.py#section)", "not markdown"),
        (f"docs/other{MD}", "[s](#nowhere)", f"other{MD} has no heading #nowhere"),
        (f"docs/other{MD}", f"the [guide][g]\n\n[g]: ./guid{MD}", f"./guid{MD}: no such file"),
    ],
)
def test_broken_citations_fail(tmp_path: Path, source: str, text: str, problem: str) -> None:
    root = _sample_repo(tmp_path)
    (root / source).write_text(text)
    found = broken(citations_in(root, root / source, (root / source).read_text()))
    assert len(found) == 1
    assert problem in found[0]
    assert found[0].startswith(f"{source}:")


def test_documents_outside_the_repository_are_named(tmp_path: Path) -> None:
    source = tmp_path / "code.py"
    text = "# as " + "CONTRACT" + ".md says\n# and ../" + "shared/DESIGN" + ".md\n# design.md\n"
    found = outside_mentions(tmp_path, source, text)
    contract, shared, design = "CONTRACT" + ".md", "../" + "shared", "DESIGN" + ".md"
    assert found == [f"code.py:1: {contract}", f"code.py:2: {shared}", f"code.py:2: {design}"]
