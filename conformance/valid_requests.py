"""The run's verdict on the 200 path: did any schema-valid request succeed?

Every rule of `conformance.rules` judges one answer; this judges the run. A target that refuses
every valid request with an answer the contract allows for one of them (a business 422 for a
URL it cannot serve, Confluence refusing the credentials) breaks no single answer's rule, and
each success probe then says "not applicable". Without this verdict such a run would pass
having never seen a listing.

A request counts as schema-valid when it is the operation's POST with the run's own token and
tenant, a JSON content-type, the run's `prefer` (none, or `--scenario`'s), and a body valid by
openapi.yaml's schema: generated requests and probes alike, judged by the same test. Of the
probes, only those sending the run's valid body count: the URL probes send schema-valid bodies
that the contract refuses on purpose, which say nothing about the 200 path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from conformance.exchange import Exchange, RunFacts
from conformance.failures import Violation
from conformance.report import Finding, Kind, RuleResult
from conformance.severity import Severity
from conformance.spec import Spec
from conformance.vocabulary import BODY_FIELDS, OPERATION_METHOD, OPERATION_PATH, same_uuid

__all__ = ["RULE_NAME", "ValidRequests"]

RULE_NAME = "valid_requests_succeed"
_DESCRIPTION = (
    "At least one schema-valid request of the run succeeds (200, or the status of --scenario)."
)


class ValidRequests:
    """Counts the run's schema-valid requests and their successes; keeps a refused one."""

    def __init__(
        self, spec: Spec, facts: RunFacts, body: Mapping[str, Any], scenario: str | None = None
    ) -> None:
        self.spec = spec
        self.facts = facts
        self.body = {name: body.get(name) for name in BODY_FIELDS}
        self.prefer = None if scenario is None else f"example={scenario}"
        self.sent = 0
        self.succeeded = 0
        self.refusals: Counter[str] = Counter()
        self.example: Exchange | None = None

    def is_schema_valid(self, exchange: Exchange) -> bool:
        request = exchange.request
        headers = request.headers
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return (
            request.method.upper() == OPERATION_METHOD
            and request.path.rstrip("/").endswith(OPERATION_PATH)
            and bool(self.facts.token)
            and headers.get("authorization") == f"Bearer {self.facts.token}"
            and same_uuid(headers.get("x-tenantid"), self.facts.tenant)
            and content_type == "application/json"
            and headers.get("prefer") == self.prefer
            and self.spec.is_valid_body(request.json)
        )

    def observe_probe(self, exchange: Exchange) -> None:
        """Count a probe's exchange when it sent the run's valid request."""
        sent = exchange.request.json
        if isinstance(sent, dict) and {name: sent.get(name) for name in BODY_FIELDS} == self.body:
            self.observe_generated(exchange)

    def observe_generated(self, exchange: Exchange) -> None:
        """Count a generated exchange when its request is schema-valid."""
        if not self.is_schema_valid(exchange):
            return
        self.sent += 1
        received = exchange.response
        if received.status == self.facts.success_status:
            self.succeeded += 1
            return
        self.refusals[_label(exchange)] += 1
        if self.example is None:
            self.example = exchange

    def result(self) -> RuleResult:
        result = RuleResult(
            RULE_NAME,
            Kind.CONTRACT,
            _DESCRIPTION,
            judges="successful schema-valid requests",
            severity=Severity.CRITICAL,
        )
        if self.succeeded:
            result.applied = self.succeeded
            result.note = f"{self.succeeded} of {self.sent} schema-valid requests succeeded"
            return result
        result.note = f"none of {self.sent} schema-valid requests succeeded"
        result.record_failure(Finding(str(self._violation()), self.example, "the whole run"))
        return result

    def _violation(self) -> Violation:
        wanted = self.facts.success_status
        if not self.sent:
            return Violation(
                "No schema-valid request was sent",
                expected="requests with the run's token, tenant and a body valid by openapi.yaml",
                received="none: check the --body-file values against the request schema",
            )
        seen = ", ".join(f"{label} ({count})" for label, count in self.refusals.most_common())
        if self.facts.body_pinned:
            fix = (
                "check the --body-file values against the target (its Confluence, its host "
                "allow-list) and the run's credentials"
            )
        else:
            fix = (
                "the target refused the spec's example body; if it needs real data, give "
                "--body-file with its instance_url, web_url_instance, username and api_token"
            )
        return Violation(
            "No schema-valid request succeeded",
            expected=f"{wanted} for at least one of the {self.sent} schema-valid requests",
            received=f"{seen}; {fix}",
        )


def _label(exchange: Exchange) -> str:
    """`422 value_error.url.host`, `403 confluence_credentials_rejected`, `502`: what came."""
    status = exchange.response.status
    body = exchange.response.json
    if not isinstance(body, dict):
        return str(status)
    if isinstance(body.get("code"), str):
        return f"{status} {body['code']}"
    detail = body.get("detail")
    if isinstance(detail, list):
        types = sorted({str(item.get("type")) for item in detail if isinstance(item, dict)})
        return f"{status} {', '.join(types)}" if types else str(status)
    return str(status)
