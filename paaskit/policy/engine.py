"""Running the rules over a plan: findings, waivers, and the verdict."""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paaskit.plan import Plan, PlanIndex, ResourceRecord

from . import limits
from .model import SEVERITIES, Finding, Rule
from .rules import RULES
from .waivers import WaiverUse, apply_waivers, find_waiver_file, load_waivers

__all__ = [
    "ALL_RULES",
    "RULES_BY_ID",
    "Report",
    "count",
    "evaluate",
    "evaluate_project",
    "rule_table",
    "run_rules",
]

ALL_RULES: tuple[Rule, ...] = (*RULES, *limits.rules)
"""Every rule: the policy rules, then AWS's limits."""

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in ALL_RULES}


def count(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings by severity (waived ones apart): `{"error": 2, ..., "waived": 1}`."""
    listed = list(findings)
    out: dict[str, int] = {
        s: sum(f.severity == s and not f.waived for f in listed) for s in SEVERITIES
    }
    out["waived"] = sum(f.waived for f in listed)
    return out


@dataclass
class Report:
    """The findings of one check of one plan."""

    findings: list[Finding]
    waivers: list[WaiverUse] = field(default_factory=list)
    rules: int = len(ALL_RULES)

    @property
    def blocking(self) -> list[Finding]:
        """Errors that no waiver covers: `paaskit policy` fails on any."""
        return [f for f in self.findings if f.blocking]

    @property
    def passed(self) -> bool:
        return not self.blocking

    def counts(self) -> dict[str, int]:
        return count(self.findings)

    def policy_findings(self) -> list[Finding]:
        return [f for f in self.findings if not f.rule.startswith("PK-LIMIT-")]

    def limit_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.rule.startswith("PK-LIMIT-")]

    def to_json(self) -> list[dict[str, Any]]:
        return [f.to_json() for f in self.findings]

    def summary_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "rules": self.rules,
            "counts": self.counts(),
            "waivers": [w.to_json() for w in self.waivers],
        }


def _finding(rule: Rule, record: ResourceRecord, message: str, **extra: Any) -> Finding:
    return Finding(
        rule=rule.id,
        severity=rule.severity,
        urn=record.urn,
        message=message,
        title=rule.title,
        sources=rule.sources,
        resource=record.name,
        type=record.type,
        **extra,
    )


def run_rules(
    records: Iterable[ResourceRecord], rules: Sequence[Rule] = ALL_RULES
) -> list[Finding]:
    """Every rule over every record it applies to, waivers not yet applied."""
    index = PlanIndex(records)
    findings = []
    for rule in rules:
        for record in index.records:
            if not rule.applies_to(record):
                continue
            try:
                violations = rule.run(record, index)
            except Exception as exc:
                findings.append(
                    _finding(
                        rule,
                        record,
                        f"could not be checked ({type(exc).__name__}: {exc}); a paaskit bug, please report it",
                    )
                )
                continue
            findings.extend(
                _finding(rule, record, v.message, limit=v.limit, value=v.value) for v in violations
            )
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (order[f.severity], f.rule, f.urn, f.message))


def evaluate(
    plan: Plan,
    *,
    rules: Sequence[Rule] = ALL_RULES,
    waiver_file: str | os.PathLike[str] | None = None,
    today: datetime.date | None = None,
) -> Report:
    """Check a plan: every rule, then the waivers of `waiver_file` and of the resources' tags."""
    findings = run_rules(plan.resources, rules)
    waivers = load_waivers(waiver_file, RULES_BY_ID) if waiver_file else []
    records = {r.urn: r for r in plan.resources}
    findings, uses = apply_waivers(findings, records, waivers, RULES_BY_ID, today=today)
    return Report(findings=findings, waivers=uses, rules=len(rules))


def evaluate_project(
    plan: Plan,
    project_dir: str | os.PathLike[str],
    *,
    waiver_file: str | os.PathLike[str] | None = None,
) -> Report:
    """Check a planned project with the waiver file beside its `Pulumi.yaml` (or the one given)."""
    found = Path(waiver_file) if waiver_file else find_waiver_file(project_dir)
    return evaluate(plan, waiver_file=found)


def rule_table(rules: Sequence[Rule] = ALL_RULES) -> list[dict[str, Any]]:
    """Every rule as a row: id, severity, sources, title, what it judges."""
    return [
        {
            "id": r.id,
            "severity": r.severity,
            "sources": list(r.sources),
            "title": r.title,
            "types": list(r.types),
            "scope": r.scope,
            "waivable": r.waivable,
            "doc": r.doc,
        }
        for r in rules
    ]
