"""paaskit's rule set, drawn from AWS Foundational Security Best Practices (Security Hub
control ids such as `EC2.8`), checkov's AWS checks (`CKV_AWS_79`) and the
Well-Architected reliability and security pillars (`REL10-BP01`, `SEC02-BP03`).

One module per area; `RULES` is every rule, in the order of the modules below.
"""

from __future__ import annotations

from paaskit.policy.model import Rule

from . import (
    cache,
    cdn,
    compute,
    containers,
    database,
    files,
    iam,
    loadbalancer,
    network,
    serverless,
    storage,
)

RULES: tuple[Rule, ...] = tuple(
    rule
    for module in (
        network,
        compute,
        containers,
        loadbalancer,
        storage,
        files,
        cdn,
        database,
        cache,
        iam,
        serverless,
    )
    for rule in module.rules
)

__all__ = ["RULES"]
