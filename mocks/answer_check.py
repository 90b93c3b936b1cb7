"""Whether an answer of one operation is one `openapi.yaml` documents: status, headers, body.

    check = AnswerCheck(spec_path(), "listSpaces")
    check.problems(status, headers, body)   # [] when the answer conforms; else sentences

Judged with jsonschema, which Connexion already brings, so the running mock needs none of the
test tools (openapi-core). Connexion's own response validation would not do: it sees only
what the handler returns, not the error table's answers, and checks no header's value.
`openapi.yaml`'s schemas are OpenAPI 3.0 Schema Objects, JSON Schema draft 4 plus keywords
jsonschema passes over (`example`, `x-extensible-enum`); `$ref`s resolve within the document.
Headers the document does not name are allowed, as OpenAPI allows them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

__all__ = ["AnswerCheck"]

_URI = "urn:spacegate:openapi"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_INTEGER = re.compile(r"-?[0-9]+")
_SHOWN_ERRORS = 3


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class AnswerCheck:
    def __init__(self, spec: Path, operation_id: str) -> None:
        document = yaml.safe_load(spec.read_text(encoding="utf-8"))
        resource = Resource.from_contents(document, default_specification=DRAFT4)
        self._registry: Registry[Any] = Registry().with_resource(_URI, resource)
        self._resolver = self._registry.resolver(_URI)
        found = [
            (path, method)
            for path, item in document["paths"].items()
            for method in _METHODS
            if item.get(method, {}).get("operationId") == operation_id
        ]
        if len(found) != 1:
            raise ValueError(f"{spec} has {len(found)} operations named {operation_id}")
        self.path, self.method = found[0]
        self._responses = f"/paths/{_escape(self.path)}/{self.method}/responses"

    def _lookup(self, pointer: str) -> tuple[str, Mapping[str, Any]]:
        """The object at `pointer`, its `$ref`s followed, and the pointer it was found at."""
        contents = self._resolver.lookup(f"{_URI}#{pointer}").contents
        while isinstance(contents, Mapping) and isinstance(contents.get("$ref"), str):
            pointer = contents["$ref"].removeprefix("#")
            contents = self._resolver.lookup(f"{_URI}#{pointer}").contents
        return pointer, contents

    @cache  # noqa: B019 - one check lives as long as the process, and its schemas are few
    def _validator(self, pointer: str) -> Draft4Validator:
        return Draft4Validator({"$ref": f"{_URI}#{pointer}"}, registry=self._registry)

    def _schema_problems(self, pointer: str, value: object, what: str) -> Iterator[str]:
        errors = sorted(self._validator(pointer).iter_errors(value), key=lambda e: e.path)
        for error in errors[:_SHOWN_ERRORS]:
            where = "".join(f"[{part!r}]" for part in error.absolute_path)
            yield f"{what}{where}: {error.message[:200]}"

    def problems(self, status: int, headers: Mapping[str, str], body: bytes) -> list[str]:
        responses = self._lookup(self._responses)[1]
        key = str(status) if str(status) in responses else "default"
        if key not in responses:
            return [f"status {status} is not documented ({', '.join(responses)})"]
        pointer, response = self._lookup(f"{self._responses}/{_escape(key)}")
        found = [*self._header_problems(pointer, response, headers)]
        content = response.get("content") or {}
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if not content:
            return found + (["a body, where none is documented"] if body else [])
        documented = {name.lower(): name for name in content}
        if media not in documented:
            return [*found, f"content-type {media or '(none)'} is not {', '.join(content)}"]
        schema = f"{pointer}/content/{_escape(documented[media])}/schema"
        if "json" not in media or "schema" not in content[documented[media]]:
            return found
        try:
            value = json.loads(body)
        except ValueError:
            return [*found, "a body that is not JSON"]
        return found + list(self._schema_problems(schema, value, "body"))

    def _header_problems(
        self, pointer: str, response: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Iterator[str]:
        for name in response.get("headers") or {}:
            at, header = self._lookup(f"{pointer}/headers/{_escape(name)}")
            value = headers.get(name.lower())
            if value is None:
                if header.get("required"):
                    yield f"header {name} is missing"
                continue
            if "schema" in header:
                typed = _typed(value, self._lookup(f"{at}/schema")[1])
                yield from self._schema_problems(f"{at}/schema", typed, f"header {name}")


def _typed(value: str, schema: Mapping[str, Any]) -> object:
    """A header's text as the type its schema names (OpenAPI's `simple` style)."""
    match schema.get("type"):
        case "integer" if _INTEGER.fullmatch(value.strip()):
            return int(value)
        case "number":
            try:
                return float(value)
            except ValueError:
                return value
        case "boolean" if value in ("true", "false"):
            return value == "true"
    return value
