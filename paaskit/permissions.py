"""`paaskit permissions DIR`: the IAM policy a deployer needs for a planned stack.

Generated from the plan, never kept by hand: every resource type the program
registers maps to the AWS service behind it, and the actions are derived from
that service's operations (AWS's own list, from botocore's models, shipped as
`paaskit/data/aws_operations.json`):

- reads, per service used: `<prefix>:Describe*`, `Get*` and `List*`. The
  Pulumi provider reads far more attributes than it sets (an S3 bucket's
  refresh alone calls a dozen Get operations), and reads change nothing;
- changes, per resource type: the operations named after the resource (its
  Pulumi name, or the names AWS uses for it in `NOUNS`): a changing verb
  (Create, Delete, Update, Modify, Put, Tag, Register, Attach, Authorize...),
  the name, and nothing else or a suffix that still speaks of the resource
  (ModifyVpcAttribute, UpdateFunctionCode; not CreateVpcEndpoint); plus the
  service's own tagging operations (TagResource, AddTagsToResource,
  CreateTags...);
- a small explicit table (`EXTRA`) for what a name cannot say: S3, whose IAM
  action names differ from its API's (PutBucketEncryption is
  `s3:PutEncryptionConfiguration`); `iam:PassRole` for roles handed to ECS,
  Lambda, EC2 or the scheduler; pushing images for a docker build; invoking a
  function for `aws:lambda/invocation:Invocation`; and the calls every stack
  makes (`sts:GetCallerIdentity`, `iam:CreateServiceLinkedRole` for the
  service-linked roles ECS, ELB, Auto Scaling and RDS create on first use,
  `ssm:GetParameter` for a pinned app's release record).

Resources are `*`: the actions are as narrow as the types, and the policy is
a starting point to scope further with `paaskit:*` tag conditions. IAM allows
6,144 characters (whitespace excluded) in a managed policy, so the statements
are split into as many policies as needed.

A type this module cannot map is reported as uncovered, never silently
skipped; the test suite checks that every type in the plans of the stacks and
examples is covered.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .plan import Plan

__all__ = [
    "CHANGING_VERBS",
    "EXTRA",
    "MANAGED_POLICY_MAX_CHARS",
    "NOUNS",
    "SERVICES",
    "Permissions",
    "actions_for_type",
    "permissions",
]

MANAGED_POLICY_MAX_CHARS = 6144
"""IAM's limit for a managed policy document, whitespace excluded."""

CHANGING_VERBS = (
    "Add",
    "Allocate",
    "Associate",
    "Attach",
    "Authorize",
    "CancelRotate",
    "Change",
    "Create",
    "Delete",
    "Deregister",
    "Detach",
    "Disable",
    "Disassociate",
    "Enable",
    "Modify",
    "Publish",
    "Put",
    "Register",
    "Release",
    "Remove",
    "Replace",
    "Request",
    "Reset",
    "Revoke",
    "Rotate",
    "Set",
    "Tag",
    "Untag",
    "Update",
)
"""Verbs of operations that change something (an operation's name starts with one)."""

SERVICES: dict[str, str] = {
    "acm": "acm",
    "alb": "elbv2",
    "appautoscaling": "application-autoscaling",
    "autoscaling": "autoscaling",
    "cloudfront": "cloudfront",
    "cloudfront-keyvaluestore": "cloudfront-keyvaluestore",
    "cloudwatch": "cloudwatch",
    "ec2": "ec2",
    "ecr": "ecr",
    "ecs": "ecs",
    "efs": "efs",
    "elasticache": "elasticache",
    "events": "events",
    "iam": "iam",
    "kms": "kms",
    "lambda": "lambda",
    "lb": "elbv2",
    "logs": "logs",
    "rds": "rds",
    "route53": "route53",
    "s3": "s3",
    "scheduler": "scheduler",
    "secretsmanager": "secretsmanager",
    "servicediscovery": "servicediscovery",
    "sns": "sns",
    "sqs": "sqs",
    "ssm": "ssm",
    "sts": "sts",
    "vpc": "ec2",
}
"""pulumi-aws module (the `<module>` of `aws:<module>/...`) -> botocore service."""

_SERVICE_OF_TYPE = {
    # pulumi-aws keeps CloudWatch Logs and EventBridge under `cloudwatch`.
    "aws:cloudwatch/logGroup:LogGroup": "logs",
    "aws:cloudwatch/logStream:LogStream": "logs",
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": "logs",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "logs",
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": "logs",
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": "logs",
    "aws:cloudwatch/logDeliveryDestinationPolicy:LogDeliveryDestinationPolicy": "logs",
    "aws:cloudwatch/logDelivery:LogDelivery": "logs",
    "aws:cloudwatch/eventRule:EventRule": "events",
    "aws:cloudwatch/eventTarget:EventTarget": "events",
    "aws:cloudwatch/eventBus:EventBus": "events",
    "aws:cloudfront/keyvaluestoreKey:KeyvaluestoreKey": "cloudfront-keyvaluestore",
}

NOUNS: dict[str, tuple[str, ...]] = {
    "aws:acm/certificate:Certificate": ("Certificate",),
    "aws:appautoscaling/policy:Policy": ("ScalingPolicy",),
    "aws:appautoscaling/target:Target": ("ScalableTarget",),
    "aws:autoscaling/group:Group": ("AutoScalingGroup", "MetricsCollection"),
    "aws:cloudfront/keyvaluestoreKey:KeyvaluestoreKey": ("Key", "Keys"),
    "aws:cloudwatch/eventRule:EventRule": ("Rule",),
    "aws:cloudwatch/eventTarget:EventTarget": ("Targets",),
    "aws:cloudwatch/logDelivery:LogDelivery": ("Delivery",),
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": ("DeliveryDestination",),
    "aws:cloudwatch/logDeliveryDestinationPolicy:LogDeliveryDestinationPolicy": (
        "DeliveryDestinationPolicy",
    ),
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": ("DeliverySource",),
    "aws:cloudwatch/logGroup:LogGroup": ("LogGroup", "RetentionPolicy"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ("SecurityGroup",),
    "aws:ec2/eip:Eip": ("Address",),
    "aws:ec2/flowLog:FlowLog": ("FlowLogs",),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("RouteTable",),
    "aws:elasticache/cluster:Cluster": ("CacheCluster",),
    "aws:elasticache/subnetGroup:SubnetGroup": ("CacheSubnetGroup",),
    "aws:ecr/repository:Repository": (
        "Repository",
        "ImageScanningConfiguration",
        "ImageTagMutability",
        "RepositoryPolicy",
    ),
    "aws:iam/instanceProfile:InstanceProfile": (
        "InstanceProfile",
        "RoleToInstanceProfile",
        "RoleFromInstanceProfile",
    ),
    "aws:iam/role:Role": ("Role", "AssumeRolePolicy"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("RolePolicy",),
    "aws:lambda/permission:Permission": ("Permission",),
    "aws:lb/listener:Listener": ("Listener", "ListenerAttributes", "ListenerCertificates"),
    "aws:lb/listenerCertificate:ListenerCertificate": ("ListenerCertificates",),
    "aws:lb/listenerRule:ListenerRule": ("Rule", "RulePriorities"),
    "aws:lb/loadBalancer:LoadBalancer": (
        "LoadBalancer",
        "SecurityGroups",
        "Subnets",
        "IpAddressType",
    ),
    "aws:rds/instance:Instance": ("DBInstance",),
    "aws:rds/parameterGroup:ParameterGroup": ("DBParameterGroup",),
    "aws:rds/subnetGroup:SubnetGroup": ("DBSubnetGroup",),
    "aws:route53/record:Record": ("ResourceRecordSets",),
    "aws:secretsmanager/secretRotation:SecretRotation": ("Secret",),
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": (
        "PrivateDnsNamespace",
        "Namespace",
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": ("SecretValue",),
    "aws:sqs/queuePolicy:QueuePolicy": ("QueueAttributes",),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (
        "SecurityGroupEgress",
        "SecurityGroupRules",
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        "SecurityGroupIngress",
        "SecurityGroupRules",
    ),
}
"""The names AWS's operations use for a Pulumi type, where they are not its Pulumi name."""

_ECR_PUSH = (
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)

_S3_BUCKET_SETTINGS = ("s3:GetBucket*", "s3:GetAccelerateConfiguration", "s3:GetEncryptionConfiguration",
                       "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration", "s3:ListBucket")  # fmt: skip

EXTRA: dict[str, tuple[str, ...]] = {
    "aws:iam/role:Role": ("iam:PassRole",),
    "aws:lambda/invocation:Invocation": ("lambda:InvokeFunction",),
    "aws:acm/certificateValidation:CertificateValidation": (),
    # Cloud Map makes the namespace's private hosted zone with the caller's permissions.
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": (
        "route53:CreateHostedZone", "route53:DeleteHostedZone", "route53:GetHostedZone",
        "route53:ListHostedZonesByName", "route53:ChangeResourceRecordSets", "ec2:DescribeVpcs",
        "ec2:DescribeVpcAttribute"),
    # `force_destroy`: a service's leftover instances are deregistered before it goes.
    "aws:servicediscovery/service:Service": ("servicediscovery:DeregisterInstance",),
    # EFS makes a mount target's network interface with the caller's permissions.
    "aws:efs/mountTarget:MountTarget": (
        "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"),
    "docker:index/image:Image": _ECR_PUSH,
    # Slow and engine logs to CloudWatch Logs (ElastiCache's "Logging destinations" page).
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"),
    # S3's IAM action names differ from its API's operation names: listed, not derived.
    "aws:s3/bucket:Bucket": ("s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging", *_S3_BUCKET_SETTINGS),
    "aws:s3/bucketV2:BucketV2": ("s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging", *_S3_BUCKET_SETTINGS),
    "aws:s3/bucketPolicy:BucketPolicy": ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:GetBucketPolicy"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"),
    "aws:s3/bucketVersioning:BucketVersioning": ("s3:PutBucketVersioning", "s3:GetBucketVersioning"),
    "aws:s3/bucketVersioningV2:BucketVersioningV2": ("s3:PutBucketVersioning", "s3:GetBucketVersioning"),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"),
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": (
        "s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"),
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": (
        "s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"),
    "aws:s3/bucketObjectv2:BucketObjectv2": ("s3:PutObject", "s3:GetObject", "s3:DeleteObject",
                                             "s3:GetObjectTagging", "s3:PutObjectTagging", "s3:ListBucket"),
    "aws:s3/bucketObject:BucketObject": ("s3:PutObject", "s3:GetObject", "s3:DeleteObject",
                                         "s3:GetObjectTagging", "s3:PutObjectTagging", "s3:ListBucket"),
}  # fmt: skip
"""Actions a type needs that its operations' names cannot say."""

BASE = ("sts:GetCallerIdentity", "iam:CreateServiceLinkedRole", "ssm:GetParameter")
"""What every stack needs: who am I (account id in ARNs), AWS's service-linked roles, and
reading one SSM parameter (an app pinned by `paaskit rollback` reads its release record
while planning, whether or not it has settings of its own)."""

NOT_AWS = re.compile(r"^(pulumi:|paaskit:)")
"""Types that make no AWS call of their own: the stack, stack references, providers, components."""

_TAGGING = (
    "TagResource",
    "UntagResource",
    "TagResources",
    "UntagResources",
    "AddTagsToResource",
    "RemoveTagsFromResource",
    "AddTags",
    "RemoveTags",
    "CreateTags",
    "DeleteTags",
    "CreateOrUpdateTags",
)
_SUFFIXES = (
    "",
    "s",
    "es",
    "Attribute",
    "Attributes",
    "Association",
    "Code",
    "Concurrency",
    "Configuration",
    "Egress",
    "Ingress",
    "Policy",
    "ReadReplica",
    "Settings",
    "Version",
    "Versions",
    "WithTags",
)
"""What may follow a resource's name in an operation on it (ModifyVpcAttribute,
UpdateFunctionCode, CreateDBInstanceReadReplica), but not another resource's
name (CreateVpcEndpoint is not an operation on a VPC)."""
_TYPE = re.compile(r"^aws:(?P<module>[^/]+)/[^:]+:(?P<name>.+)$")
_DATA = Path(__file__).resolve().parent / "data" / "aws_operations.json"


@cache
def _operations() -> dict[str, Any]:
    services: dict[str, Any] = json.loads(_DATA.read_text(encoding="utf-8"))["services"]
    return services


def _named_after(operation: str, noun: str) -> bool:
    """`operation` is a changing verb, then `noun`, then nothing or one of `_SUFFIXES`."""
    for verb in CHANGING_VERBS:
        if operation.startswith(verb + noun) and operation[len(verb) + len(noun) :] in _SUFFIXES:
            return True
    return False


def _service(type_: str) -> str | None:
    if type_ in _SERVICE_OF_TYPE:
        return _SERVICE_OF_TYPE[type_]
    match = _TYPE.match(type_)
    return SERVICES.get(match.group("module")) if match else None


def actions_for_type(type_: str) -> tuple[str, ...] | None:
    """The IAM actions `type_` needs beyond reads; None when paaskit cannot map it.

    Reads (`Describe*`, `Get*`, `List*`) come per service, from `services_for_type`.
    """
    if NOT_AWS.match(type_):
        return ()
    extra = EXTRA.get(type_, ())
    service = _service(type_)
    if service is None or service == "s3":
        return extra if type_ in EXTRA else None
    table = _operations()[service]
    match = _TYPE.match(type_)
    name = match.group("name") if match else ""
    nouns = NOUNS.get(type_, (name,))
    operations = table["operations"]
    derived = {op for op in operations for noun in nouns if _named_after(op, noun)}
    derived |= {op for op in operations if op in _TAGGING}
    derived |= {
        op
        for op in operations
        for noun in nouns
        if op in (f"AddTagsTo{noun}", f"RemoveTagsFrom{noun}")
    }
    if not derived - set(_TAGGING) and type_ not in EXTRA:
        return None  # nothing named after the resource: the map is wrong, say so
    prefix = table["prefix"]
    return tuple(sorted({f"{prefix}:{op}" for op in derived} | set(extra)))


def _read_prefixes(type_: str) -> set[str]:
    service = _service(type_)
    if service is None or service == "s3":
        return set()
    return {_operations()[service]["prefix"]}


@dataclass(frozen=True)
class Permissions:
    """What a deployer needs for a plan."""

    actions: dict[str, tuple[str, ...]]
    """Resource type -> its actions beyond reads."""
    reads: tuple[str, ...]
    """IAM prefixes granted Describe*/Get*/List*."""
    uncovered: tuple[str, ...]
    """Types paaskit cannot map (their actions are missing from the policy)."""
    statements: list[dict[str, Any]] = field(default_factory=list)

    def policies(self, limit: int = MANAGED_POLICY_MAX_CHARS) -> list[dict[str, Any]]:
        """The statements as managed policy documents, each within IAM's size limit."""
        documents: list[dict[str, Any]] = []
        current: list[dict[str, Any]] = []
        for statement in self.statements:
            trial = {"Version": "2012-10-17", "Statement": [*current, statement]}
            if current and _size(trial) > limit:
                documents.append({"Version": "2012-10-17", "Statement": current})
                current = []
            current.append(statement)
        if current:
            documents.append({"Version": "2012-10-17", "Statement": current})
        return documents

    def to_json(self) -> dict[str, Any]:
        documents = self.policies()
        return {
            "policies": documents,
            "sizes": [_size(d) for d in documents],
            "limit": MANAGED_POLICY_MAX_CHARS,
            "types": {t: list(a) for t, a in sorted(self.actions.items())},
            "reads": list(self.reads),
            "uncovered": list(self.uncovered),
        }


def _size(document: dict[str, Any]) -> int:
    """Characters IAM counts: the JSON without whitespace."""
    return len(json.dumps(document, separators=(",", ":")))


def _statements(actions: Iterable[str], reads: Iterable[str]) -> list[dict[str, Any]]:
    by_prefix: dict[str, set[str]] = defaultdict(set)
    for action in actions:
        by_prefix[action.split(":", 1)[0]].add(action)
    for prefix in reads:
        by_prefix[prefix] |= {f"{prefix}:Describe*", f"{prefix}:Get*", f"{prefix}:List*"}
    statements = []
    for prefix in sorted(by_prefix):
        sid = "".join(part.capitalize() for part in re.split(r"[^a-zA-Z0-9]", prefix))
        statements.append(
            {"Sid": sid, "Effect": "Allow", "Action": sorted(by_prefix[prefix]), "Resource": "*"}
        )
    return statements


def permissions(plans: Iterable[Plan]) -> Permissions:
    """The deployer's permissions for everything the `plans` register."""
    types = sorted({record.type for plan in plans for record in plan})
    actions: dict[str, tuple[str, ...]] = {}
    uncovered = []
    reads: set[str] = set()
    for type_ in types:
        found = actions_for_type(type_)
        if found is None:
            uncovered.append(type_)
            continue
        actions[type_] = found
        reads |= _read_prefixes(type_)
    every = {a for found in actions.values() for a in found} | set(BASE)
    return Permissions(
        actions=actions,
        reads=tuple(sorted(reads)),
        uncovered=tuple(uncovered),
        statements=_statements(every, sorted(reads)),
    )
