"""IAM rules: no wildcard actions or principals, no AdministratorAccess, scoped resources.

Policies are read from every place a document can be written: role, user and
group policies, managed policies, a role's inline policies and trust policy,
and the resource policies of buckets, queues, topics, keys, secrets and
repositories.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from typing import Any

from paaskit.plan import PlanIndex, ResourceRecord
from paaskit.plan import types as t
from paaskit.plan.values import items, known, principals, statements, strings
from paaskit.policy.model import RuleSet

__all__ = [
    "ADMIN_POLICIES",
    "IDENTITY_POLICIES",
    "RESOURCE_POLICIES",
    "administrator_access",
    "identity_documents",
    "resource_documents",
    "rules",
    "service_wildcards",
    "wildcard_actions",
    "wildcard_principals",
    "wildcard_resources",
]

rules = RuleSet()

IDENTITY_POLICIES = (t.ROLE_POLICY, t.POLICY, t.USER_POLICY, t.GROUP_POLICY, t.ROLE)
RESOURCE_POLICIES = (
    t.BUCKET_POLICY,
    *t.BUCKETS,
    t.QUEUE_POLICY,
    t.QUEUE,
    t.TOPIC_POLICY,
    t.KMS_KEY,
    t.SECRET_POLICY,
    t.ECR_REPOSITORY_POLICY,
    t.ROLE,
)

# Condition keys that narrow "any principal" down to a known caller.
_NARROWING = {
    k.lower()
    for k in (
        "aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "aws:SourceVpc", "aws:SourceVpce",
        "aws:SourceIp", "aws:SourceOrgID", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths",
        "aws:PrincipalAccount", "aws:PrincipalArn", "aws:userid", "kms:CallerAccount", "kms:ViaService",
    )
}  # fmt: skip

# Actions AWS gives no resource-level permissions for, or that only list metadata, where
# "*" is right. Not `Get*`: s3:GetObject or secretsmanager:GetSecretValue on "*" reads everything.
_NO_RESOURCE_LEVEL = (
    "*:Describe*", "*:List*", "ecr:GetAuthorizationToken", "ecs:CreateCluster",
    "ecs:DiscoverPollEndpoint", "ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition",
    "cloudwatch:PutMetricData", "xray:Put*", "ssm:UpdateInstanceInformation", "ssmmessages:*",
    "ec2messages:*", "sts:GetCallerIdentity", "logs:CreateLogGroup",
)  # fmt: skip

ADMIN_POLICIES = ("AdministratorAccess",)


def identity_documents(r: ResourceRecord) -> list[tuple[str, Any]]:
    """(where, document) for the identity policies a resource carries."""
    if r.type == t.ROLE:
        return [
            (f"inline policy {p.get('name', '?')}", p.get("policy"))
            for p in items(r.inputs.get("inlinePolicies"))
            if isinstance(p, Mapping)
        ]
    return [("policy", r.inputs.get("policy"))]


def resource_documents(r: ResourceRecord) -> list[tuple[str, Any]]:
    """(where, document) for the resource (or trust) policy a resource carries."""
    if r.type == t.ROLE:
        return [("trust policy", r.inputs.get("assumeRolePolicy"))]
    if r.inputs.get("policy") is None:
        return []
    return [("policy", r.inputs.get("policy"))]


def _allows(statement: Mapping[str, Any]) -> bool:
    return bool(statement.get("Effect", "Allow") == "Allow")


def _narrowed(statement: Mapping[str, Any]) -> bool:
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return False
    return any(
        isinstance(block, Mapping) and any(str(k).lower() in _NARROWING for k in block)
        for block in condition.values()
    )


@rules.rule(
    "PK-IAM-001",
    "No policy allows every action",
    severity="error",
    sources=["IAM.1", "CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_72"],
    types=[*IDENTITY_POLICIES, *RESOURCE_POLICIES],
)
def wildcard_actions(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """`"Action": "*"` is every permission AWS has, now and in future; name the actions."""
    documents = identity_documents(r) if r.type in IDENTITY_POLICIES else []
    if r.type in RESOURCE_POLICIES:
        documents += resource_documents(r)
    for where, doc in documents:
        for statement in statements(doc):
            if _allows(statement) and any(
                a in ("*", "*:*") for a in strings(statement.get("Action"))
            ):
                yield f'{where}: a statement allows every action ("Action": "*")'


@rules.rule(
    "PK-IAM-002",
    "No policy admits any principal",
    severity="error",
    sources=["CKV_AWS_70", "CKV_AWS_168", "CKV_AWS_33", "CKV_AWS_60", "S3.2"],
    types=list(RESOURCE_POLICIES),
)
def wildcard_principals(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """`"Principal": "*"` with Allow and no condition that narrows it (source ARN or
    account, organization, VPC endpoint) lets anyone on the internet in."""
    for where, doc in resource_documents(r):
        for statement in statements(doc):
            if _allows(statement) and "*" in principals(statement) and not _narrowed(statement):
                actions = ", ".join(strings(statement.get("Action"))) or "actions"
                yield f'{where}: allows {actions} to any principal ("*") with no narrowing condition'


@rules.rule(
    "PK-IAM-003",
    "Nothing gets AdministratorAccess",
    severity="error",
    sources=["IAM.1", "CKV_AWS_274"],
    types=[*t.POLICY_ATTACHMENTS, t.ROLE],
)
def administrator_access(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """No role of a rack needs the whole account; each gets the few actions it uses."""
    arns = (
        strings(r.inputs.get("managedPolicyArns"))
        if r.type == t.ROLE
        else strings(r.inputs.get("policyArn"))
    )
    for arn in arns:
        if known(arn) and arn.rsplit("/", 1)[-1] in ADMIN_POLICIES and ":policy/" in arn:
            yield f"attaches {arn.rsplit('/', 1)[-1]}: grant the actions it needs instead"


@rules.rule(
    "PK-IAM-004",
    "No policy allows every action of a service",
    severity="warning",
    sources=["IAM.21", "CKV_AWS_290"],
    types=list(IDENTITY_POLICIES),
)
def service_wildcards(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """`s3:*` includes deleting every bucket and rewriting its policy; `NotAction` with
    Allow grants everything not listed. Name the actions."""
    for where, doc in identity_documents(r):
        for statement in statements(doc):
            if not _allows(statement):
                continue
            broad = [a for a in strings(statement.get("Action")) if a.endswith(":*")]
            if broad:
                yield f"{where}: allows every action of {', '.join(sorted(broad))}"
            if statement.get("NotAction") is not None:
                yield f"{where}: Allow with NotAction grants everything not listed"


@rules.rule(
    "PK-IAM-005",
    "Statements name their resources",
    severity="info",
    sources=["CKV_AWS_355", "CKV_AWS_290"],
    types=list(IDENTITY_POLICIES),
)
def wildcard_resources(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """`"Resource": "*"` is right only for actions AWS gives no resource-level
    permissions for (listing, `ecr:GetAuthorizationToken`, `cloudwatch:PutMetricData`);
    everything else should name ARNs."""
    for where, doc in identity_documents(r):
        for statement in statements(doc):
            if not _allows(statement) or "*" not in strings(statement.get("Resource")):
                continue
            scoped = [
                a
                for a in strings(statement.get("Action"))
                if not any(fnmatch.fnmatchcase(a.lower(), p.lower()) for p in _NO_RESOURCE_LEVEL)
            ]
            if scoped:
                yield f'{where}: {", ".join(sorted(scoped))} on every resource ("Resource": "*")'
