"""Security, reliability and AWS-limit rules, run offline on a plan or as a Pulumi policy pack.

    from paaskit.policy import evaluate
    report = evaluate(plan)            # a paaskit.plan.Plan
    for finding in report.findings:    # rule, severity, urn, message, sources, waived...
        ...
    report.passed                      # no error-level finding without a waiver

The rules (`paaskit.policy.rules`) are drawn from AWS Foundational Security
Best Practices (Security Hub control ids like `EC2.8`), checkov's AWS checks
(`CKV_AWS_79`) and the Well-Architected reliability and security pillars
(`REL10-BP01`). AWS's own limits (`paaskit.policy.limits`) are rules too. They
read plan records only: wire-format inputs, never paaskit's components, so the
same rules judge any Pulumi program and power the policy pack in
`paaskit/policy/pack` (`pulumi preview --policy-pack paaskit/policy/pack`).

Waivers (`paaskit.waivers.yaml` or a `paaskit:waive:<RULE>` tag) are described
in `paaskit.policy.waivers`.
"""

from paaskit.plan import PlanIndex

from .engine import (
    ALL_RULES,
    RULES_BY_ID,
    Report,
    evaluate,
    evaluate_project,
    rule_table,
    run_rules,
)
from .model import SEVERITIES, Finding, Rule, Severity, Violation
from .waivers import TAG_PREFIX, WAIVER_FILE, Waiver, WaiverError, WaiverUse, load_waivers

__all__ = [
    "ALL_RULES",
    "RULES_BY_ID",
    "SEVERITIES",
    "TAG_PREFIX",
    "WAIVER_FILE",
    "Finding",
    "PlanIndex",
    "Report",
    "Rule",
    "Severity",
    "Violation",
    "Waiver",
    "WaiverError",
    "WaiverUse",
    "evaluate",
    "evaluate_project",
    "load_waivers",
    "rule_table",
    "run_rules",
]
