"""What a rule is and what it reports; rules read a plan through `paaskit.plan.PlanIndex`.

A rule is a plain function over one planned resource (`ResourceRecord`, with
wire-format inputs such as `metadataOptions.httpTokens`) and, for rules that
look across resources, an index of the whole plan. It yields one message per
problem; the engine turns each into a `Finding` that names the rule, its
severity, the resource and the sources the rule is drawn from.

Severity says what a finding means for a deploy:

- `error`: a hole or lost data (world-open ports, unencrypted data, public
  buckets, secrets in plain sight) or something AWS would reject. `paaskit
  policy` fails on any error that is not waived; the policy pack makes these
  mandatory.
- `warning`: reliability, cost or hygiene a production rack should fix, but a
  dev stack may choose (Multi-AZ off, deletion protection off, no access logs).
- `info`: worth knowing, nothing to fix by default.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from paaskit.plan import PlanIndex, ResourceRecord

__all__ = [
    "SEVERITIES",
    "Check",
    "Finding",
    "Rule",
    "RuleSet",
    "Scope",
    "Severity",
    "Violation",
    "matches",
]

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
Scope = Literal["resource", "stack"]


@dataclass(frozen=True)
class Violation:
    """One problem a rule found. Limit rules also say the limit and the value."""

    message: str
    limit: int | str | None = None
    value: int | str | None = None


Check = Callable[[ResourceRecord, "PlanIndex"], Iterable["str | Violation"]]
"""A rule's check: the resource, the plan around it, and one message per problem."""


@dataclass(frozen=True)
class Rule:
    """A named check with its severity and the published controls it comes from."""

    id: str
    title: str
    severity: Severity
    sources: tuple[str, ...]
    types: tuple[str, ...]
    """Pulumi type tokens the rule judges; `*` for every AWS resource."""
    check: Check = field(repr=False)
    scope: Scope = "resource"
    """`resource`: reads only the resource's own inputs (a `ResourceValidationPolicy`
    in the policy pack). `stack`: also reads other resources of the plan (a
    `StackValidationPolicy`)."""
    waivable: bool = True
    """False for hard AWS limits: a waiver cannot make AWS accept the request."""
    doc: str = ""
    """Why the rule exists and how to fix a finding (the check's docstring)."""

    def applies_to(self, record: ResourceRecord) -> bool:
        """Managed AWS resources of the rule's types (`*`: every AWS resource)."""
        if not record.custom or record.read:
            return False
        return record.type in self.types or ("*" in self.types and record.type.startswith("aws:"))

    def run(self, record: ResourceRecord, index: PlanIndex) -> list[Violation]:
        return [
            v if isinstance(v, Violation) else Violation(str(v)) for v in self.check(record, index)
        ]


class RuleSet:
    """Rules registered with a decorator, in the order they are written."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def rule(
        self,
        id: str,
        title: str,
        *,
        severity: Severity,
        sources: Sequence[str],
        types: Sequence[str],
        scope: Scope = "resource",
        waivable: bool = True,
    ) -> Callable[[Check], Check]:
        def register(check: Check) -> Check:
            doc = " ".join((check.__doc__ or "").split())
            self.rules.append(
                Rule(
                    id=id,
                    title=title,
                    severity=severity,
                    sources=tuple(sources),
                    types=tuple(types),
                    check=check,
                    scope=scope,
                    waivable=waivable,
                    doc=doc,
                )
            )
            return check

        return register


@dataclass(frozen=True)
class Finding:
    """A rule's verdict on one resource, as `paaskit policy` and `plan --json` show it.

    `rule`, `severity`, `urn` and `message` are the contract; the other fields
    are additions (never renamed or dropped either).
    """

    rule: str
    severity: Severity
    urn: str
    message: str
    title: str = ""
    sources: tuple[str, ...] = ()
    resource: str = ""
    """The resource's logical name."""
    type: str = ""
    waived: bool = False
    reason: str | None = None
    """Why the finding is waived (the waiver's own words)."""
    waiver: str | None = None
    """Where the waiver is written: `paaskit.waivers.yaml:12` or a tag."""
    limit: int | str | None = None
    value: int | str | None = None

    @property
    def blocking(self) -> bool:
        """An error nobody waived: `paaskit policy` fails on it."""
        return self.severity == "error" and not self.waived

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "urn": self.urn,
            "message": self.message,
            "title": self.title,
            "sources": list(self.sources),
            "resource": self.resource,
            "type": self.type,
            "waived": self.waived,
            "reason": self.reason,
            "waiver": self.waiver,
        }
        if self.limit is not None or self.value is not None:
            data["limit"] = self.limit
            data["value"] = self.value
        return data


def matches(pattern: str, record: ResourceRecord) -> bool:
    """A waiver's `resource`: a logical name or a URN, either may be a glob."""
    return fnmatch.fnmatchcase(record.name, pattern) or fnmatch.fnmatchcase(record.urn, pattern)
