"""The OpenAPI document a run judges against: where it is, what it offers, how it judges.

The harness reads the contract; it never imports the service's code to learn it, so it judges
another implementation exactly as it judges ours.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from conformance.exchange import NOT_JSON, Exchange
from conformance.failures import Violation
from conformance.vocabulary import BODY_FIELDS, OPERATION_METHOD, OPERATION_PATH

__all__ = ["Scenario", "Spec", "default_spec_path", "first_paragraph", "without_prefer"]


def first_paragraph(text: str) -> str:
    """Schemathesis' messages lead with a sentence, then dump schemas: keep the sentence."""
    return str(text).strip().split("\n\n", 1)[0].strip()


def default_spec_path() -> Path:
    """The project's openapi.yaml: in `service/` when installed, beside the packages otherwise."""
    root = Path(__file__).resolve().parent.parent
    candidates = (root / "service" / "openapi.yaml", root / "openapi.yaml")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"openapi.yaml is in none of {', '.join(map(str, candidates))}")


def _resolve(document: dict[str, Any], node: Any) -> Any:
    # Local references only: the contract is one self-contained file.
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _is_prefer(document: dict[str, Any], parameter: Any) -> bool:
    resolved = _resolve(document, parameter)
    return (
        isinstance(resolved, dict)
        and resolved.get("in") == "header"
        and str(resolved.get("name", "")).lower() == "prefer"
    )


def without_prefer(document: dict[str, Any]) -> dict[str, Any]:
    """The document without the optional `prefer` header, changed in place and returned.

    Generated requests must not pick mock scenarios on their own: `prefer` is left out unless
    the run names one, which it then sends on every request
    (docs/contract.md#what-conformance-checks). Leaving an optional parameter out changes no
    rule about the others.
    """
    for path_item in (document.get("paths") or {}).values():
        if not isinstance(path_item, dict):
            continue
        holders = [path_item, *(op for op in path_item.values() if isinstance(op, dict))]
        for holder in holders:
            parameters = holder.get("parameters")
            if isinstance(parameters, list):
                holder["parameters"] = [p for p in parameters if not _is_prefer(document, p)]
    return document


@dataclass(frozen=True)
class Scenario:
    """A mock scenario the contract documents as a `prefer` example, and the status it yields."""

    name: str
    prefer: str
    status: int


_STATUS_IN_SUMMARY = re.compile(r"\((\d{3})\)")
_CODE_PREFERENCE = re.compile(r"^code=(\d{3})$")


class Spec:
    """The loaded contract: the raw document and schemathesis' view of the operation."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # libyaml's loader when present: five times faster on this document.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        with path.open(encoding="utf-8") as stream:
            try:
                document = yaml.load(stream, Loader=loader)  # noqa: S506 - a safe loader
            except yaml.YAMLError as exc:
                raise ValueError(f"{path} is not YAML: {exc}") from exc
        if not isinstance(document, dict) or OPERATION_PATH not in document.get("paths", {}):
            raise ValueError(f"{path} does not document {OPERATION_METHOD} {OPERATION_PATH}")
        self.document: dict[str, Any] = document

    @cached_property
    def _operation_document(self) -> dict[str, Any]:
        operation: dict[str, Any] = self.document["paths"][OPERATION_PATH][OPERATION_METHOD.lower()]
        return operation

    @cached_property
    def _operation(self) -> Any:
        import schemathesis  # heavy: only when a probe's answer is judged
        from schemathesis.config import SchemathesisConfig

        # schemathesis' defaults, not a schemathesis.toml found from the working directory:
        # the project's own names a token variable that a harness run need not set.
        config = SchemathesisConfig()
        schema = schemathesis.openapi.from_dict(copy.deepcopy(self.document), config=config)
        return schema[OPERATION_PATH][OPERATION_METHOD]

    @cached_property
    def documented_statuses(self) -> tuple[int, ...]:
        return tuple(int(code) for code in self._operation_document["responses"] if code.isdigit())

    def example_bodies(self) -> dict[str, dict[str, Any]]:
        """The request body's documented examples by name (`example` alone: "example")."""
        content = _resolve(self.document, self._operation_document["requestBody"])["content"]
        media = content["application/json"]
        bodies: dict[str, dict[str, Any]] = {}
        for name, example in (media.get("examples") or {}).items():
            value = _resolve(self.document, example).get("value")
            if isinstance(value, dict):
                bodies[name] = dict(value)
        if isinstance(media.get("example"), dict):
            bodies.setdefault("example", dict(media["example"]))
        return bodies

    @cached_property
    def _body_validator(self) -> Any:
        import jsonschema_rs  # schemathesis' own validator: its idea of a valid body is ours

        content = _resolve(self.document, self._operation_document["requestBody"])["content"]
        schema = content["application/json"]["schema"]
        # `$ref`s point into the document's components: give the validator the same root.
        return jsonschema_rs.Draft4Validator(
            {**schema, "components": self.document.get("components", {})}
        )

    def is_valid_body(self, body: Any) -> bool:
        """Whether `body` (decoded JSON; NOT_JSON: not JSON) is valid by the body's schema."""
        if body is NOT_JSON:
            return False
        try:
            return bool(self._body_validator.is_valid(body))
        except ValueError:  # a value JSON Schema cannot judge (1e400 decodes to inf)
            return False

    def example_body_for(self, scenario: str | None) -> dict[str, Any] | None:
        """The documented body named like a mock scenario (recorded at that body's root), if any."""
        return self.example_bodies().get(scenario) if scenario is not None else None

    def example_body(self) -> dict[str, Any]:
        """The first documented example: the body of valid probes when no body file is given."""
        for body in self.example_bodies().values():
            return body
        return {name: f"conformance-{name}" for name in BODY_FIELDS}

    def scenarios(self) -> list[Scenario]:
        """The `prefer` examples, each with the status it yields.

        The status is the `code=N` of the preference, else the one the summary names in
        parentheses ("Confluence keeps rate-limiting (429)"), else 200.
        """
        found: list[Scenario] = []
        parameters = self._operation_document.get("parameters", [])
        for parameter in parameters:
            resolved = _resolve(self.document, parameter)
            if not _is_prefer(self.document, resolved):
                continue
            for name, example in (resolved.get("examples") or {}).items():
                example = _resolve(self.document, example)
                value = example.get("value")
                if not isinstance(value, str) or not value:
                    continue
                by_code = _CODE_PREFERENCE.match(value)
                in_summary = _STATUS_IN_SUMMARY.search(str(example.get("summary", "")))
                status = by_code or in_summary
                found.append(Scenario(name, value, int(status.group(1)) if status else 200))
        return found

    def success_status(self, scenario: str | None) -> int:
        """What a valid request yields: 200, or the status documented for the run's scenario."""
        by_name = {documented.name: documented.status for documented in self.scenarios()}
        return by_name.get(scenario, 200) if scenario is not None else 200

    def check(self, exchange: Exchange) -> None:
        """Raise Violation unless the answer is one openapi.yaml documents for its status."""
        status = exchange.response.status
        if status not in self.documented_statuses:
            documented = ", ".join(map(str, self.documented_statuses))
            raise Violation(
                "Undocumented status",
                expected=f"a status openapi.yaml documents ({documented})",
                received=str(status),
            )
        if exchange.raw is None or exchange.request.method.upper() == "HEAD":
            return
        from schemathesis.core.failures import Failure, FailureGroup

        try:
            self._operation.validate_response(exchange.raw)
        except FailureGroup as group:
            parts: list[Failure] = list(group.exceptions)
        except Failure as failure:
            parts = [failure]
        else:
            return
        messages = [f"{part.title}: {first_paragraph(part.message)}" for part in parts]
        raise Violation(
            "Undocumented answer",
            expected=f"the {status} body openapi.yaml documents",
            received="; ".join(messages),
        )
