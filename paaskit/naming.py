"""Physical AWS names: the one table of each service's name rules, and `aws_name` that follows it.

Most paaskit resources let Pulumi generate their physical name (the logical
name plus a random suffix), which keeps two stacks in one account apart and
lets a resource be replaced before the old one is deleted. Where a component
must choose a name itself (an RDS identifier, a final snapshot, a name another
system reads), it goes through `aws_name`, which fits the name to the
service's length and character rules and keeps it unique by ending a cut name
with a hash of the whole.

`RULES` is also what the plan's limit checks (`paaskit.policy.limits`) hold
every planned name against, so a component's names and the check agree by
construction. Where botocore's service models state a name's length or
characters, a test compares the table with them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RULES", "NameRule", "aws_name", "check_name"]


def _not_edges(chars: str, what: str) -> Callable[[str], str | None]:
    def check(name: str) -> str | None:
        if name[:1] in chars or name[-1:] in chars:
            return f"must not begin or end with {what}"
        return None

    return check


def _lb_name(name: str) -> str | None:
    if name.lower().startswith("internal-"):
        return "must not begin with internal-"
    return _not_edges("-", "a hyphen")(name)


def _rds_identifier(name: str) -> str | None:
    if not name[:1].isalpha():
        return "must begin with a letter"
    if "--" in name:
        return "must not contain two consecutive hyphens"
    if name.endswith("-"):
        return "must not end with a hyphen"
    return None


_IP_LIKE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def _bucket_name(name: str) -> str | None:
    if not (name[:1].isalnum() and name[-1:].isalnum()):
        return "must begin and end with a letter or digit"
    if ".." in name:
        return "must not contain two dots in a row"
    if _IP_LIKE.match(name):
        return "must not look like an IP address"
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.startswith(prefix):
            return f"must not begin with {prefix!r} (reserved)"
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if name.endswith(suffix):
            return f"must not end with {suffix!r} (reserved)"
    return None


def _capacity_provider(name: str) -> str | None:
    for prefix in ("aws", "ecs", "fargate"):
        if name.lower().startswith(prefix):
            return f"must not begin with {prefix} (reserved by ECS)"
    return None


def _security_group_name(name: str) -> str | None:
    return "must not begin with sg-" if name.lower().startswith("sg-") else None


_ECR = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")


def _ecr_name(name: str) -> str | None:
    return None if _ECR.match(name) else "must be lowercase words joined by . _ - or /"


@dataclass(frozen=True)
class NameRule:
    """What AWS accepts as one kind of name."""

    what: str
    """The name in words, for messages: `load balancer name`."""
    max_len: int
    allowed: str
    """The characters allowed, as the inside of a regex character class (`a-zA-Z0-9-`);
    one starting with `^` lists the characters refused instead."""
    chars: str
    """The same in words, for messages."""
    min_len: int = 1
    lowercase: bool = False
    """AWS wants it in lower case: `aws_name` lowercases it."""
    must_start_with_letter: bool = False
    also: Callable[[str], str | None] | None = None
    """Rules beyond length and characters (how the name may begin and end): a problem, or None."""
    suffixes: tuple[str, ...] = ()
    """Endings allowed beyond `allowed` (an SQS FIFO queue's `.fifo`)."""
    types: tuple[str, ...] = ()
    """The Pulumi type tokens whose physical name this is."""
    prop: str = "name"
    """The input of those types that holds the name."""
    prefix_max: int | None = None
    """The longest `namePrefix` the provider accepts (it appends 26 characters)."""
    generated_lowercase: bool = False
    """A name Pulumi generates (from a logical name in any case) ends up lowercased."""

    @property
    def refused(self) -> re.Pattern[str]:
        """One character AWS refuses in this name."""
        if self.allowed.startswith("^"):
            return re.compile(f"[{self.allowed[1:]}]")
        return re.compile(f"[^{self.allowed}]")

    def problems(self, name: str) -> list[str]:
        """What is wrong with `name`, in words; empty when AWS accepts it."""
        out = []
        if not self.min_len <= len(name) <= self.max_len:
            out.append(f"{self.what}s are {self.min_len} to {self.max_len} characters")
        body = next((name[: -len(s)] for s in self.suffixes if name.endswith(s)), name)
        bad = sorted(set(self.refused.findall(body)))
        if bad:
            out.append(f"{''.join(bad)!r} not allowed; use only {self.chars}")
        elif self.also is not None and (problem := self.also(name)):
            out.append(problem)
        return out


_LETTERS = "letters, digits and hyphens"
_UNDERSCORES = "letters, digits, hyphens and underscores"
_IAM = "letters, digits and +=,.@_-"
_EVENTS = "letters, digits, periods, hyphens and underscores"

RULES: dict[str, NameRule] = {
    "alb": NameRule("load balancer name", 32, "a-zA-Z0-9-", _LETTERS, also=_lb_name, prefix_max=6,
                    types=("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")),
    "target_group": NameRule("target group name", 32, "a-zA-Z0-9-", _LETTERS, also=_not_edges("-", "a hyphen"), prefix_max=6,
                             types=("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup")),
    "s3_bucket": NameRule("bucket name", 63, "a-z0-9.-", "lowercase letters, digits, periods and hyphens", min_len=3, lowercase=True,
                          also=_bucket_name, prefix_max=37, prop="bucket", generated_lowercase=True,
                          types=("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")),
    "rds_instance": NameRule("RDS instance identifier", 63, "a-z0-9-", "lowercase letters, digits and hyphens", lowercase=True,
                             must_start_with_letter=True, also=_rds_identifier, prefix_max=37, prop="identifier",
                             generated_lowercase=True, types=("aws:rds/instance:Instance",)),
    "rds_snapshot": NameRule("RDS snapshot identifier", 255, "a-z0-9-", "lowercase letters, digits and hyphens", lowercase=True,
                             must_start_with_letter=True, also=_rds_identifier),
    "rds_parameter_group": NameRule("RDS parameter group name", 255, "a-z0-9-", "lowercase letters, digits and hyphens", lowercase=True,
                                    must_start_with_letter=True, also=_rds_identifier, generated_lowercase=True,
                                    types=("aws:rds/parameterGroup:ParameterGroup",)),
    "rds_subnet_group": NameRule("RDS subnet group name", 255, "a-z0-9._ -", "lowercase letters, digits, periods, underscores, spaces and hyphens",
                                 lowercase=True, generated_lowercase=True, types=("aws:rds/subnetGroup:SubnetGroup",)),
    # ElastiCache: "1 to 40 (a cluster's id: 50) alphanumeric characters or hyphens, a letter
    # first, no trailing hyphen, no two hyphens in a row", stored lowercase.
    "elasticache_group": NameRule("ElastiCache replication group id", 40, "a-z0-9-", "lowercase letters, digits and hyphens",
                                  lowercase=True, must_start_with_letter=True, also=_rds_identifier, prop="replicationGroupId",
                                  types=("aws:elasticache/replicationGroup:ReplicationGroup",)),
    "elasticache_cluster": NameRule("ElastiCache cluster id", 50, "a-z0-9-", "lowercase letters, digits and hyphens",
                                    lowercase=True, must_start_with_letter=True, also=_rds_identifier, prop="clusterId",
                                    types=("aws:elasticache/cluster:Cluster",)),
    "elasticache_subnet_group": NameRule("ElastiCache subnet group name", 255, "a-z0-9-", _LETTERS, lowercase=True,
                                         generated_lowercase=True, types=("aws:elasticache/subnetGroup:SubnetGroup",)),
    "iam_role": NameRule("IAM role name", 64, "a-zA-Z0-9_+=,.@-", _IAM, prefix_max=38, types=("aws:iam/role:Role",)),
    "iam_policy": NameRule("IAM policy name", 128, "a-zA-Z0-9_+=,.@-", _IAM, prefix_max=102, types=("aws:iam/policy:Policy",)),
    "iam_role_policy": NameRule("IAM role policy name", 128, "a-zA-Z0-9_+=,.@-", _IAM, prefix_max=102, types=("aws:iam/rolePolicy:RolePolicy",)),
    "iam_instance_profile": NameRule("IAM instance profile name", 128, "a-zA-Z0-9_+=,.@-", _IAM, prefix_max=102,
                                     types=("aws:iam/instanceProfile:InstanceProfile",)),
    "lambda": NameRule("Lambda function name", 64, "a-zA-Z0-9_-", _UNDERSCORES, types=("aws:lambda/function:Function",)),
    # AWS: "alphanumeric characters, hyphens and underscores"; a FIFO queue's name ends in .fifo.
    "sqs": NameRule("SQS queue name", 80, "a-zA-Z0-9_-", f"{_UNDERSCORES} (and a .fifo ending)", suffixes=(".fifo",),
                    prefix_max=54, types=("aws:sqs/queue:Queue",)),
    "event_rule": NameRule("EventBridge rule name", 64, "a-zA-Z0-9._-", _EVENTS, prefix_max=38, types=("aws:cloudwatch/eventRule:EventRule",)),
    "schedule": NameRule("EventBridge schedule name", 64, "a-zA-Z0-9._-", _EVENTS, prefix_max=38, types=("aws:scheduler/schedule:Schedule",)),
    "schedule_group": NameRule("EventBridge schedule group name", 64, "a-zA-Z0-9._-", _EVENTS, prefix_max=38,
                               types=("aws:scheduler/scheduleGroup:ScheduleGroup",)),
    "log_group": NameRule("log group name", 512, "a-zA-Z0-9._/#-", "letters, digits and ._-/#", prefix_max=483,
                          types=("aws:cloudwatch/logGroup:LogGroup",)),
    "ecs_cluster": NameRule("ECS cluster name", 255, "a-zA-Z0-9_-", _UNDERSCORES, types=("aws:ecs/cluster:Cluster",)),
    "ecs_service": NameRule("ECS service name", 255, "a-zA-Z0-9_-", _UNDERSCORES, types=("aws:ecs/service:Service",)),
    "ecs_capacity_provider": NameRule("ECS capacity provider name", 255, "a-zA-Z0-9_-", _UNDERSCORES, also=_capacity_provider,
                                      types=("aws:ecs/capacityProvider:CapacityProvider",)),
    "ecs_family": NameRule("ECS task definition family", 255, "a-zA-Z0-9_-", _UNDERSCORES, prop="family",
                           types=("aws:ecs/taskDefinition:TaskDefinition",)),
    "ecr_repository": NameRule("ECR repository name", 256, "a-z0-9._/-", "lowercase letters, digits and ._-/", min_len=2, lowercase=True,
                               also=_ecr_name, generated_lowercase=True, types=("aws:ecr/repository:Repository",)),
    "security_group": NameRule("security group name", 255, r"a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*", "letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*",
                               also=_security_group_name, prefix_max=229, types=("aws:ec2/securityGroup:SecurityGroup",)),
    "asg": NameRule("autoscaling group name", 255, r"^\x00-\x1f:", "any printable character but :", prefix_max=229,
                    types=("aws:autoscaling/group:Group",)),
    "launch_template": NameRule("launch template name", 128, r"a-zA-Z0-9()./_-", "letters, digits and ()./-_", min_len=3, prefix_max=102,
                                types=("aws:ec2/launchTemplate:LaunchTemplate",)),
    "cache_policy": NameRule("CloudFront cache policy name", 128, "a-zA-Z0-9_-", _UNDERSCORES, types=("aws:cloudfront/cachePolicy:CachePolicy",)),
    "response_headers_policy": NameRule("CloudFront response headers policy name", 128, "a-zA-Z0-9_-", _UNDERSCORES,
                                        types=("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",)),
    "origin_request_policy": NameRule("CloudFront origin request policy name", 128, "a-zA-Z0-9_-", _UNDERSCORES,
                                      types=("aws:cloudfront/originRequestPolicy:OriginRequestPolicy",)),
    "origin_access_control": NameRule("CloudFront origin access control name", 64, r"^\x00-\x1f", "printable characters",
                                      types=("aws:cloudfront/originAccessControl:OriginAccessControl",)),
    "secret": NameRule("secret name", 512, "a-zA-Z0-9/_+=.@-", "letters, digits and /_+=.@-", prefix_max=486,
                       types=("aws:secretsmanager/secret:Secret",)),
}  # fmt: skip
"""Name rules by kind, from each service's API reference."""


def check_name(kind: str, name: str) -> str:
    """`name` if AWS accepts it as a name of `kind` (a key of `RULES`), else a ValueError saying why."""
    problems = RULES[kind].problems(name)
    if problems:
        raise ValueError(f"{name!r}: {'; '.join(problems)}")
    return name


def aws_name(kind: str, *parts: str, separator: str = "-") -> str:
    """`parts` joined and fitted to the rules of `kind` (a key of `RULES`).

    Characters AWS refuses become the separator, runs of separators collapse,
    and a name too long is cut and ends with 7 hex characters of a hash of the
    full name, so two long names that share a beginning stay distinct.
    """
    rule = RULES[kind]
    raw = separator.join(p for p in parts if p)
    name = raw.lower() if rule.lowercase else raw
    name = rule.refused.sub(separator, name)
    name = re.sub(f"{re.escape(separator)}+", separator, name).strip(separator + ".")
    if rule.must_start_with_letter and not name[:1].isalpha():
        name = "p" + separator + name
    if not name:
        raise ValueError(f"{kind} name: nothing usable in {raw!r}")
    if len(name) > rule.max_len:
        digest = hashlib.sha256(raw.encode()).hexdigest()[:7]
        name = name[: rule.max_len - len(digest) - 1].rstrip(separator + ".") + separator + digest
    return name
