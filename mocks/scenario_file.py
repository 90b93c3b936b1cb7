"""Scenarios written by hand: a few lines of YAML instead of a recording.

A listing, with Confluence failing first if `upstream` says so:

    description: Three spaces of our own
    flavour: cloud          # cloud (v2, v1 on 404) | cloud-v1 | data-center
    page_size: 2
    latency_ms: 0
    spaces:
      - {key: ENG, name: Engineering, type: global, status: current}
    upstream: {status: 429, retry_after: 2, times: 1}

or a sequence of scenarios, one step per API request:

    description: Down once, then fine
    sequence: [confluence-down, default]

`read_document` keeps the line of every value, so that a refusal names the file, the line and
the field; `parse_scenario_file` checks the document against `LISTING_SCHEMA` or
`SEQUENCE_SCHEMA` (JSON Schema), then the rules between fields a schema cannot say. What the
listing becomes on the wire is `mocks.confluence_pages`' job; the folder, and which file is
which kind, `mocks.scenario_folder`'s.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from mocks.scenarios import MAX_LATENCY_MS, SCENARIO_NAME, ScenarioError

__all__ = [
    "FAILURES",
    "FLAVOURS",
    "LISTING_SCHEMA",
    "SEQUENCE_SCHEMA",
    "Document",
    "Flavour",
    "ListingFile",
    "SequenceScenario",
    "UpstreamFailure",
    "WrittenSpace",
    "parse_scenario_file",
    "read_document",
]

Flavour = Literal["cloud", "cloud-v1", "data-center"]
FLAVOURS: tuple[Flavour, ...] = ("cloud", "cloud-v1", "data-center")
# What `upstream.status` may say: Confluence's own statuses, its HTML login page, and the
# transport failures the adapter raises (mocks.scenarios.FAULTS).
FAILURES = ("403", "404", "429", "503", "html", "timeout", "connection-refused", "error")
_RETRY_AFTER_STATUSES = ("429", "503")

_ONE_LINE = r"^[^\r\n]+[\r\n]*$"  # YAML's block scalars end in a newline
_SPACE_KEY = r"^~?[A-Za-z0-9][A-Za-z0-9._@-]*$"

_DESCRIPTION = {"type": "string", "minLength": 1, "pattern": _ONE_LINE}
SPACE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["key", "name"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "pattern": _SPACE_KEY, "maxLength": 255},
        "name": {"type": "string", "minLength": 1},
        "type": {"type": "string"},
        "status": {"type": "string"},
        # v1 writes ids as numbers, v2 as strings of digits; either is accepted here.
        "id": {
            "type": ["integer", "string"],
            "minimum": 1,
            "maximum": 2**53 - 1,
            "pattern": r"^[1-9][0-9]{0,15}$",
        },
    },
}
LISTING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["description"],
    "additionalProperties": False,
    "properties": {
        "description": _DESCRIPTION,
        "flavour": {"enum": list(FLAVOURS)},
        "page_size": {"type": "integer", "minimum": 1, "maximum": 1000},
        "latency_ms": {"type": "integer", "minimum": 0, "maximum": MAX_LATENCY_MS},
        "spaces": {"type": "array", "items": SPACE_SCHEMA},
        "upstream": {
            "type": "object",
            "required": ["status"],
            "additionalProperties": False,
            "properties": {
                # 403 and "403" alike: YAML makes a number of one and a string of the other.
                "status": {"enum": [*(int(f) for f in FAILURES if f.isdigit()), *FAILURES]},
                # Confluence has sent values up to 2^63 - 1; spacegate clamps what it passes on.
                "retry_after": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
                "times": {"type": "integer", "minimum": 1, "maximum": 100},
            },
        },
    },
}
SEQUENCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["description", "sequence"],
    "additionalProperties": False,
    "properties": {
        "description": _DESCRIPTION,
        "sequence": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "pattern": f"^{SCENARIO_NAME.pattern}$"},
        },
    },
}
_VALIDATORS = {
    "listing": Draft202012Validator(LISTING_SCHEMA),
    "sequence": Draft202012Validator(SEQUENCE_SCHEMA),
}


@dataclass(frozen=True)
class WrittenSpace:
    key: str
    name: str
    type: str
    status: str
    id: int | None  # None: the file gave none, one is made up


@dataclass(frozen=True)
class UpstreamFailure:
    status: str  # one of FAILURES
    retry_after: int | None
    times: int | None  # None: every time


@dataclass(frozen=True)
class ListingFile:
    """A hand-written listing, checked; `lines` gives the line of each top-level field."""

    description: str
    flavour: Flavour
    page_size: int | None  # None: the flavour's own page size
    latency_ms: int | None
    spaces: tuple[WrittenSpace, ...] | None
    upstream: UpstreamFailure | None
    file: Path = field(default=Path(), compare=False, repr=False)
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class SequenceScenario:
    """`sequence: [a, b, …]`: each API request that picks it plays the next step's scenario.

    Steps name scenarios (recorded or hand-written), never other sequences;
    `mocks.scenario_folder` checks that they exist. Playing and rewinding is the mock's state.
    """

    name: str
    description: str
    steps: tuple[str, ...]
    step_lines: tuple[int, ...] = field(default=(), compare=False, repr=False)


# -- a YAML document that knows its lines ------------------------------------------------------

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Document:
    file: Path
    node: yaml.Node | None
    data: object

    @property
    def is_cassette(self) -> bool:
        """A recorded cassette has `interactions:`; a file written by hand does not."""
        return isinstance(self.data, dict) and "interactions" in self.data

    def line(self, path: Sequence[str | int]) -> int:
        """The 1-based line where the field at `path` is written: its key's line, an item's own
        line; the nearest enclosing field's when it is absent."""
        node = self.node
        line = node.start_mark.line + 1 if node is not None else 1
        for part in path:
            found = _child(node, part) if node is not None else None
            if found is None:
                break
            key, node = found
            line = (key or node).start_mark.line + 1
        return line

    def problem(
        self, path: Sequence[str | int], message: str, line: int | None = None
    ) -> tuple[int, str]:
        """(line, "FILE, line N, FIELD: message"): sortable, and naming all three."""
        line = line or self.line(path)
        return line, f"{self.file}, line {line}, {_field(path)}: {message}"


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    """(key node or None, value node) of `part` in a mapping or a sequence node."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        return next(((k, v) for k, v in node.value if str(k.value) == part), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        return (None, node.value[part]) if 0 <= part < len(node.value) else None
    return None


def _field(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(the file)"


def read_document(file: Path) -> Document:
    """The file's YAML with its node tree; ScenarioError naming the line if it is not YAML."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{file}: cannot be read ({exc})") from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ScenarioError(f"{file}, line {line}: not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{file}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    return Document(file=file, node=node, data=data)


def _duplicate_keys(document: Document) -> Iterator[tuple[int, str]]:
    # PyYAML keeps the last of two equal keys without a word: a second `spaces:` would
    # silently replace the first.
    def walk(node: yaml.Node, path: list[str | int]) -> Iterator[tuple[int, str]]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value in node.value:
                key = str(key_node.value)
                line = key_node.start_mark.line + 1
                if key in seen:
                    yield document.problem(
                        [*path, key], f"given twice (first on line {seen[key]})", line
                    )
                seen.setdefault(key, line)
                yield from walk(value, [*path, key])
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                yield from walk(item, [*path, index])

    if document.node is not None:
        yield from walk(document.node, [])


# -- checking ------------------------------------------------------------------------------------


def _schema_problems(document: Document, kind: str) -> Iterator[tuple[int, str]]:
    reported: set[tuple[tuple[str | int, ...], str]] = set()
    for error in _VALIDATORS[kind].iter_errors(document.data):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = sorted(error.schema.get("properties", {}))
            for key in sorted(set(map(str, error.instance)) - set(known)):
                message = f"not a field here (known: {', '.join(known)})"
                yield document.problem([*path, key], message)
            continue
        if error.validator == "required" and isinstance(error.instance, dict):
            # one error per missing field, each naming it only in its message: find them again
            for missing in error.validator_value:
                if missing not in error.instance and (tuple(path), missing) not in reported:
                    reported.add((tuple(path), missing))
                    yield document.problem([*path, missing], "missing", document.line(path))
            continue
        yield document.problem(path, _message(error))


def _message(error: ValidationError) -> str:
    value = error.instance
    rule: Any = error.validator_value  # what the schema says: a list, a number, a pattern...
    match error.validator:
        case "enum":
            choices = list(dict.fromkeys(str(choice) for choice in rule))
            return f"must be one of {', '.join(choices)}, not {value!r}"
        case "type":
            wanted = " or ".join(rule) if isinstance(rule, list) else str(rule)
            hint = ""
            if "string" in wanted and isinstance(value, bool | int | float):
                # YAML 1.1 reads NO, ON, Yes... as booleans and 1e3 as a number.
                hint = " (put it in quotes: YAML read it as something else)"
            return f"must be a {wanted}, not {value!r}{hint}"
        case "minimum" | "maximum" | "minItems":
            bound = "at least" if error.validator != "maximum" else "at most"
            return f"must be {bound} {rule}, not {value!r}"
        case "minLength":
            return "must not be empty"
        case "maxLength":
            return f"must be at most {rule} characters"
        case "pattern":
            return f"{value!r} is not {_PATTERNS.get(rule, f'of the form {rule}')}"
    return str(error.message)


_PATTERNS = {
    _ONE_LINE: "one line of text",
    _SPACE_KEY: "a Confluence space key (letters and digits; a personal space: ~ and a name)",
    SPACE_SCHEMA["properties"]["id"]["pattern"]: "a Confluence space id (a positive number)",
    f"^{SCENARIO_NAME.pattern}$": "a scenario's name (lower-case letters, digits and dashes)",
}


def _relation_problems(document: Document, data: Mapping[str, Any]) -> Iterator[tuple[int, str]]:
    spaces = data.get("spaces")
    upstream = data.get("upstream")
    if spaces is None and upstream is None:
        yield document.problem([], "give spaces (the listing), upstream (a failure), or both")
    if upstream is not None:
        status = str(upstream["status"])
        times = upstream.get("times")
        if times is not None and spaces is None:
            yield document.problem(
                ["upstream", "times"],
                "needs spaces, the listing Confluence gives after failing "
                "(leave times out to fail every time)",
            )
        if times is None and spaces is not None:
            yield document.problem(
                ["upstream", "times"],
                "missing: with spaces, say how many times Confluence fails before listing them",
            )
        if "retry_after" in upstream and status not in _RETRY_AFTER_STATUSES:
            yield document.problem(
                ["upstream", "retry_after"],
                f"only a {' or a '.join(_RETRY_AFTER_STATUSES)} carries Retry-After, not {status}",
            )
    for name in ("key", "id"):
        seen: dict[str, int] = {}
        for index, space in enumerate(spaces or ()):
            if name not in space:
                continue
            value = str(space[name])
            if value in seen:
                yield document.problem(
                    ["spaces", index, name],
                    f"{value!r} is already the {name} of spaces[{seen[value]}]",
                )
            seen.setdefault(value, index)


def parse_scenario_file(document: Document, name: str) -> ListingFile | SequenceScenario:
    """A hand-written file, checked; ScenarioError listing every problem, line by line."""
    data = document.data
    kind = "sequence" if isinstance(data, dict) and "sequence" in data else "listing"
    found = list(_duplicate_keys(document))
    if not isinstance(data, dict):
        found.append(
            document.problem(
                [],
                "a scenario is a mapping: description, then spaces and/or upstream "
                "(or sequence); `python -m mocks new NAME` writes one to start from",
            )
        )
    else:
        problems = list(_schema_problems(document, kind))
        if not problems and kind == "listing":
            problems = list(_relation_problems(document, data))
        found += problems
    if found:
        raise ScenarioError("\n".join(message for _line, message in sorted(found)))
    assert isinstance(data, dict)
    description = str(data["description"]).strip()
    if kind == "sequence":
        steps = tuple(data["sequence"])
        return SequenceScenario(
            name=name,
            description=description,
            steps=steps,
            step_lines=tuple(document.line(["sequence", i]) for i in range(len(steps))),
        )
    return _listing(document, data, description)


def _listing(document: Document, data: Mapping[str, Any], description: str) -> ListingFile:
    spaces = data.get("spaces")
    upstream = data.get("upstream")
    return ListingFile(
        description=description,
        flavour=data.get("flavour", "cloud"),
        page_size=data.get("page_size"),
        latency_ms=data.get("latency_ms"),
        spaces=None
        if spaces is None
        else tuple(
            WrittenSpace(
                key=space["key"],
                name=space["name"],
                type=space.get("type", "global"),
                status=space.get("status", "current"),
                id=int(space["id"]) if "id" in space else None,
            )
            for space in spaces
        ),
        upstream=None
        if upstream is None
        else UpstreamFailure(
            status=str(upstream["status"]),
            retry_after=upstream.get("retry_after"),
            times=upstream.get("times"),
        ),
        file=document.file,
        lines={key: document.line([key]) for key in data},
    )
