"""What a run found, for people (the summary) and for CI (JUnit XML).

Every rule, built-in check and probe is one `RuleResult`: passed, failed, or not applicable
(never met its kind of answer, or needs something the run was not given). A failure keeps the
request as a curl line, what was expected, and what came back; secrets never reach the text.
Failures are listed most severe first (`conformance.severity`), and the summary ends with how
to set each `$VARIABLE` their curl lines use.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from enum import StrEnum

from conformance.curl import Redactor, render_curl
from conformance.exchange import NOT_JSON, Exchange
from conformance.severity import Severity

__all__ = ["Finding", "Kind", "NonConformance", "Outcome", "Report", "RuleResult", "Severity"]

# Failures kept per rule: enough to see a pattern, few enough to read.
MAX_FINDINGS_PER_RULE = 3
_VARIABLE = re.compile(r"\$\{?([A-Z][A-Z0-9_]*)")


class Kind(StrEnum):
    CONTRACT = "contract check"
    SCHEMATHESIS = "schemathesis check"
    PROBE = "probe"


class Outcome(StrEnum):
    PASSED = "pass"
    FAILED = "FAIL"
    NOT_APPLICABLE = "n/a"


class NonConformance(AssertionError):
    """The target broke the contract; the message is the run's summary."""


@dataclass(frozen=True)
class Finding:
    """One broken expectation: what was expected (`message`) and the exchange that broke it."""

    message: str
    exchange: Exchange | None = None
    origin: str = ""

    def render(self, redactor: Redactor) -> str:
        lines = [redactor(self.message)]
        origin = self.origin or (self.exchange.origin if self.exchange else "")
        if self.exchange is not None:
            received = self.exchange.response
            body = received.text
            if received.json is not NOT_JSON:
                body = body.strip()
            body = body if len(body) <= 300 else body[:300] + "…"
            lines.append(f"  answer:  {received.status} {redactor(body) or '(empty body)'}")
            lines.append(f"  request: {render_curl(self.exchange.request, redactor)}")
        if origin:
            lines.append(f"  from:    {origin}")
        return "\n".join(lines)


@dataclass
class RuleResult:
    name: str
    kind: Kind
    description: str = ""
    applied: int = 0
    failed: int = 0
    findings: list[Finding] = field(default_factory=list)
    # Why a rule did not apply, or a remark on how it was judged.
    note: str = ""
    seconds: float = 0.0
    # What it counts, for the report: "429 answers".
    judges: str = "answers"
    severity: Severity = Severity.MAJOR

    @property
    def outcome(self) -> Outcome:
        if self.failed:
            return Outcome.FAILED
        return Outcome.PASSED if self.applied else Outcome.NOT_APPLICABLE

    @property
    def explanation(self) -> str:
        """One line: why it did not apply, how many answers broke it, or how many it judged."""
        if self.outcome is Outcome.NOT_APPLICABLE:
            return self.note or f"no {self.judges} were seen"
        if self.kind is Kind.PROBE or self.note:
            return self.note
        if self.outcome is Outcome.FAILED:
            return f"{self.failed} of {self.applied} {self.judges} broke it"
        return f"{self.applied} {self.judges}"

    def record_pass(self) -> None:
        self.applied += 1

    def record_failure(self, finding: Finding) -> None:
        self.applied += 1
        self.failed += 1
        # Keep distinct messages first: the same failure 300 times teaches nothing new.
        if len(self.findings) < MAX_FINDINGS_PER_RULE and all(
            kept.message != finding.message for kept in self.findings
        ):
            self.findings.append(finding)

    def merge(self, other: RuleResult) -> None:
        self.applied += other.applied
        self.failed += other.failed
        self.seconds += other.seconds
        for finding in other.findings:
            if len(self.findings) < MAX_FINDINGS_PER_RULE and all(
                kept.message != finding.message for kept in self.findings
            ):
                self.findings.append(finding)
        if other.note and not self.note:
            self.note = other.note
        if not self.description:
            self.description = other.description


@dataclass
class Report:
    target: str
    spec: str
    seed: int | None = None
    started: float = field(default_factory=time.time)
    seconds: float = 0.0
    generated_requests: int = 0
    probe_requests: int = 0
    results: list[RuleResult] = field(default_factory=list)
    # Problems of the run itself (schemathesis could not run, the target stopped answering…).
    errors: list[str] = field(default_factory=list)
    redactor: Redactor = field(default_factory=Redactor, repr=False)
    # What `st run` printed, for -v (redacted when shown).
    schemathesis_output: str = field(default="", repr=False)
    # How to set each $VARIABLE a curl line may use: variable -> a shell line or a sentence.
    replay: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.errors and not self.failed_rules

    @property
    def failures(self) -> list[RuleResult]:
        """The failed results, most severe first (in report order within a severity)."""
        failed = [result for result in self.results if result.outcome is Outcome.FAILED]
        return sorted(failed, key=lambda result: result.severity.rank)

    @property
    def failed_rules(self) -> list[str]:
        return [result.name for result in self.failures]

    def result(self, name: str) -> RuleResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(name)

    def raise_for_failures(self) -> None:
        """Raise NonConformance with the summary unless everything passed (for pytest)."""
        if not self.passed:
            raise NonConformance(self.summary())

    def _counts(self) -> dict[Outcome, int]:
        counts = dict.fromkeys(Outcome, 0)
        for result in self.results:
            counts[result.outcome] += 1
        return counts

    def headline(self) -> str:
        counts = self._counts()
        verdict = "PASSED" if self.passed else "FAILED"
        parts = [
            f"{counts[Outcome.FAILED]} failed",
            f"{counts[Outcome.PASSED]} passed",
            f"{counts[Outcome.NOT_APPLICABLE]} not applicable",
        ]
        if self.errors:
            parts.append(f"{len(self.errors)} run error(s)")
        return f"{verdict}: {', '.join(parts)}"

    def summary(self, *, verbose: bool = False) -> str:
        """The readable report: every rule with its outcome, then every failure in detail."""
        redact = self.redactor
        lines = [
            f"spacegate conformance of {self.target}",
            f"  spec {self.spec}; seed {self.seed}; {self.generated_requests} generated requests "
            f"and {self.probe_requests} probe requests in {self.seconds:.1f} s",
            "",
        ]
        width = max((len(result.name) for result in self.results), default=10)
        for kind in Kind:
            group = [result for result in self.results if result.kind is kind]
            if not group:
                continue
            lines.append(f"{kind.value}s:")
            for result in group:
                if not verbose and result.outcome is Outcome.PASSED and kind is Kind.PROBE:
                    continue
                line = f"  {result.outcome.value:<4}  {result.name:<{width}}  {result.explanation}"
                lines.append(line.rstrip())
            passed = sum(result.outcome is Outcome.PASSED for result in group)
            if not verbose and kind is Kind.PROBE and passed:
                lines.append(f"  pass  {passed} other probes (-v lists them)")
            lines.append("")
        failed = self.failures
        if failed:
            lines.append("Failures, most severe first:")
            shown: list[str] = []
            for number, result in enumerate(failed, 1):
                lines.append("")
                lines.append(
                    f"{number}. [{result.severity.value}] {result.name} ({result.kind.value}): "
                    f"{result.description}"
                )
                for finding in result.findings:
                    rendered = finding.render(redact).splitlines()
                    shown += rendered
                    lines.append("   - " + rendered[0])
                    lines.extend("     " + line for line in rendered[1:])
                hidden = result.failed - len(result.findings)
                if hidden > 0:
                    lines.append(f"   … and {hidden} more answer(s) broke it")
            lines.append("")
            lines += self._replay_lines("\n".join(shown))
        if self.errors:
            lines.append("Run errors:")
            lines.extend(f"  - {redact(error)}" for error in self.errors)
            lines.append("")
        lines.append(self.headline())
        if not self.passed and self.seed is not None:
            lines.append(f"(re-run with --seed {self.seed} to generate the same requests)")
        return "\n".join(lines)

    def _replay_lines(self, text: str) -> list[str]:
        """How to set the variables `text` uses, in order of first use; none: no lines."""
        used = dict.fromkeys(name for name in _VARIABLE.findall(text) if name in self.replay)
        if not used:
            return []
        lines = ["To replay these requests, set the variables their curl lines use:"]
        lines += [f"  {self.replay[name]}" for name in used]
        return [*lines, ""]

    def junit_xml(self) -> str:
        """JUnit XML: one testcase per rule, check or probe; errors of the run as one more."""
        redact = self.redactor
        counts = self._counts()
        suite = ET.Element(
            "testsuite",
            name="spacegate-conformance",
            tests=str(len(self.results) + bool(self.errors)),
            failures=str(counts[Outcome.FAILED]),
            errors=str(int(bool(self.errors))),
            skipped=str(counts[Outcome.NOT_APPLICABLE]),
            time=f"{self.seconds:.3f}",
            timestamp=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.started)),
        )
        properties = ET.SubElement(suite, "properties")
        for name, value in (("target", self.target), ("spec", self.spec), ("seed", self.seed)):
            ET.SubElement(properties, "property", name=name, value=str(value))
        for result in self.results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"conformance.{result.kind.name.lower()}",
                name=result.name,
                time=f"{result.seconds:.3f}",
            )
            if result.outcome is Outcome.FAILED:
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=redact(
                        result.findings[0].message if result.findings else result.description
                    ),
                    type=f"{result.severity.value} {result.kind.value}",
                )
                failure.text = "\n\n".join(finding.render(redact) for finding in result.findings)
            elif result.outcome is Outcome.NOT_APPLICABLE:
                ET.SubElement(case, "skipped", message=redact(result.explanation))
            else:
                out = ET.SubElement(case, "system-out")
                out.text = f"{result.description} ({result.explanation or 'passed'})"
        if self.errors:
            case = ET.SubElement(suite, "testcase", classname="conformance.run", name="run")
            error = ET.SubElement(case, "error", message="the run could not complete")
            error.text = "\n".join(redact(item) for item in self.errors)
        root = ET.Element("testsuites")
        root.append(suite)
        ET.indent(root)
        return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
