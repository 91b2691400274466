"""The same rules as a Pulumi policy pack, for `pulumi preview --policy-pack`.

`policies()` turns every rule into a `pulumi_policy` policy named by the rule's
id: a `ResourceValidationPolicy` for a rule that reads only its resource, a
`StackValidationPolicy` for one that reads other resources too (a bucket's
public access block, a listener's rules). Error rules are `mandatory` (they
block `pulumi up`), warnings and notes `advisory`.

What the engine hands a policy: the resource's properties under the engine's
own names, camelCase as on the wire (`metadataOptions.httpTokens`), the same
names the offline plan records; values not known during a preview come as
Pulumi's unknown sentinels. This module converts both to what the offline plan
holds (plain data, `[unknown]`), builds a `ResourceRecord` and runs the rule's
own check, so a policy reports exactly what `paaskit policy` reports.

Differences from the offline check, both from what the engine sends:
- `retain_on_delete` is not among the options a policy sees; the versioning
  rule (PK-S3-006) therefore only knows a bucket holds data when it is protected;
- resource properties are the provider-checked inputs, so generated names are
  already filled in and checked as given.

Waivers: `paaskit:waive:<RULE>` tags work as offline. A waiver file is read
from the path in the `PAASKIT_WAIVERS` environment variable (the pack does not
know where the previewed project lives):
`PAASKIT_WAIVERS=$PWD/paaskit.waivers.yaml pulumi preview --policy-pack ...`.
Waived findings are never dropped: the advisory policy `paaskit-waived` reports
each one with its reason, and every file waiver that matched nothing.

Building the policies does not serve them: `PolicyPack(...)` (in
`pack/__main__.py`) starts the analyzer server and never returns.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

from paaskit.plan import ResourceRecord
from paaskit.plan.values import UNKNOWN

from .engine import ALL_RULES, RULES_BY_ID, run_rules
from .model import Finding, Rule
from .waivers import Waiver, apply_waivers, load_waivers

__all__ = [
    "PACK_NAME",
    "WAIVED_POLICY",
    "WAIVERS_ENV",
    "plain",
    "policies",
    "record_of",
    "stack_record_of",
    "waivers_from_environment",
]

PACK_NAME = "paaskit"
WAIVED_POLICY = "paaskit-waived"
WAIVERS_ENV = "PAASKIT_WAIVERS"

_UNKNOWNS = {
    UNKNOWN_STRING_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_ARCHIVE_VALUE,
}
_LEVELS = {
    "error": EnforcementLevel.MANDATORY,
    "warning": EnforcementLevel.ADVISORY,
    "info": EnforcementLevel.ADVISORY,
}
_SEVERITIES = {"error": Severity.HIGH, "warning": Severity.MEDIUM, "info": Severity.LOW}


def _target(value: Any) -> Any:
    """The plain container behind pulumi-policy's unknown-checking proxies."""
    try:
        return value["__target"]
    except (KeyError, TypeError, IndexError):
        return value


def plain(value: Any) -> Any:
    """Engine props as the offline plan records them: plain data, unknowns as `[unknown]`."""
    if isinstance(value, str):
        return UNKNOWN if value in _UNKNOWNS else value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in _target(value).items()}
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [plain(v) for v in _target(value)]
    if isinstance(value, pulumi.Archive):
        return {"@archive": {}}
    if isinstance(value, pulumi.Asset):
        return {"@asset": {}}
    return value


def record_of(args: ResourceValidationArgs) -> ResourceRecord:
    """The record a resource policy's arguments describe."""
    return ResourceRecord(
        urn=args.urn,
        type=args.resource_type,
        name=args.name,
        parent=args.opts.parent,
        custom=True,
        protect=bool(args.opts.protect),
        retain_on_delete=False,
        dependencies=(),
        provider=None,
        inputs=plain(args.props),
    )


def stack_record_of(resource: PolicyResource) -> ResourceRecord:
    """The record of one resource of a stack policy's arguments."""
    dependencies = {d.urn for d in resource.dependencies}
    for deps in resource.property_dependencies.values():
        dependencies.update(d.urn for d in deps)
    return ResourceRecord(
        urn=resource.urn,
        type=resource.resource_type,
        name=resource.name,
        parent=resource.parent.urn if resource.parent is not None else None,
        custom=not resource.resource_type.startswith(("pulumi:", "paaskit:")),
        protect=bool(resource.opts.protect),
        retain_on_delete=False,
        dependencies=tuple(sorted(dependencies)),
        provider=None,
        inputs=plain(resource.props),
    )


def waivers_from_environment() -> list[Waiver]:
    """The waiver file named by `PAASKIT_WAIVERS`, if set (an error if it is wrong)."""
    path = os.environ.get(WAIVERS_ENV)
    return load_waivers(path, RULES_BY_ID) if path else []


def _check(
    rule: Rule, records: Sequence[ResourceRecord], waivers: Sequence[Waiver]
) -> list[Finding]:
    findings = run_rules(records, [rule])
    checked, _ = apply_waivers(findings, {r.urn: r for r in records}, waivers, RULES_BY_ID)
    return checked


def _report(
    findings: Iterable[Finding], report_violation: ReportViolation, urn: str | None
) -> None:
    for finding in findings:
        if not finding.waived:
            report_violation(finding.message, urn or finding.urn)


def _resource_validation(
    rule: Rule, waivers: Sequence[Waiver]
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        record = record_of(args)
        if rule.applies_to(record):
            _report(_check(rule, [record], waivers), report_violation, None)

    return validate


def _stack_validation(
    rule: Rule, waivers: Sequence[Waiver]
) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        records = [stack_record_of(r) for r in args.resources]
        _report(_check(rule, records, waivers), report_violation, None)

    return validate


def _waived_validation(
    rules: Sequence[Rule], waivers: Sequence[Waiver]
) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        records = [stack_record_of(r) for r in args.resources]
        findings = run_rules(records, rules)
        checked, uses = apply_waivers(findings, {r.urn: r for r in records}, waivers, RULES_BY_ID)
        for finding in checked:
            if finding.waived:
                report_violation(
                    f"{finding.rule} ({finding.severity}) waived by {finding.waiver}: "
                    f"{finding.reason} -- finding: {finding.message}",
                    finding.urn,
                )
        for use in uses:
            if use.findings == 0:
                report_violation(
                    f"waiver {use.waiver.source} for {use.waiver.rule} on {use.waiver.resource} matches nothing",
                    None,
                )

    return validate


def policies(
    rules: Sequence[Rule] = ALL_RULES, waivers: Sequence[Waiver] | None = None
) -> list[Policy]:
    """One pulumi-policy policy per rule, plus `paaskit-waived` (advisory) listing waived findings."""
    if waivers is None:
        waivers = waivers_from_environment()
    out: list[Policy] = []
    for rule in rules:
        common: dict[str, Any] = {
            "name": rule.id,
            "description": f"{rule.title} ({', '.join(rule.sources)})",
            "enforcement_level": _LEVELS[rule.severity],
            "severity": _SEVERITIES[rule.severity],
            "remediation_steps": rule.doc or None,
            "tags": [rule.severity, *rule.sources],
        }
        if rule.scope == "resource":
            out.append(
                ResourceValidationPolicy(validate=_resource_validation(rule, waivers), **common)
            )
        else:
            out.append(StackValidationPolicy(validate=_stack_validation(rule, waivers), **common))
    out.append(
        StackValidationPolicy(
            name=WAIVED_POLICY,
            description="Findings a paaskit waiver accepts, with the waiver's reason (never silent)",
            validate=_waived_validation(rules, waivers),
            enforcement_level=EnforcementLevel.ADVISORY,
            severity=Severity.LOW,
        )
    )
    return out
