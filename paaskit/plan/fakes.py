"""Plausible, deterministic answers for the offline plan.

A real deployment gets ids, ARNs and computed attributes from AWS, and answers
to data-source functions (availability zones, caller identity, the ECS AMI) from
the provider. The offline plan has neither, so this module makes them up, in
AWS's own formats, derived from a hash of the resource's URN: the same program
always gets the same values, and a reviewer reading a plan sees ids that look
like the ones AWS would give.

Nothing here is evidence of anything: tests assert on what a program
*registered* (the inputs), never on these values.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from paaskit.naming import RULES

__all__ = [
    "ACCOUNT_ID",
    "AUTONAMED",
    "CLOUDFRONT_ZONE_ID",
    "DEFAULT_REGION",
    "INVOKES",
    "MANAGED_CACHE_POLICIES",
    "MANAGED_ORIGIN_REQUEST_POLICIES",
    "MANAGED_RESPONSE_HEADERS_POLICIES",
    "READ_STATES",
    "SECRET_MARKER",
    "STATES",
    "Context",
    "InvokeFn",
    "Resource",
    "StateFn",
    "autoname",
    "digest",
    "physical_name",
    "read_state",
    "resource_state",
]

ACCOUNT_ID = "123456789012"
"""The account every plan pretends to run in (AWS's own documentation example)."""

DEFAULT_REGION = "us-east-1"

# Zones per region as AWS lists them. Regions not listed get a, b and c.
_ZONE_LETTERS = {"us-east-1": "abcdef", "us-west-2": "abcd", "ap-northeast-1": "acd"}
_ZONE_ID_PREFIX = {
    "us-east-1": "use1",
    "us-east-2": "use2",
    "us-west-1": "usw1",
    "us-west-2": "usw2",
    "eu-west-1": "euw1",
    "eu-central-1": "euc1",
    "ap-northeast-1": "apne1",
}

# Elastic Load Balancing's account per region, for access-log bucket policies in
# regions that predate the log-delivery service principal (AWS ELB user guide).
_ELB_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "eu-west-1": "156460612806",
    "eu-central-1": "054676820928",
    "ap-northeast-1": "582318560864",
}

# Hosted zone ids that AWS publishes for alias records.
_ALB_ZONE_IDS = {
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-east-2": "Z3AADJGX6KTTL2",
    "us-west-2": "Z1H1FL5HABSF5",
    "eu-west-1": "Z32O12XQLNTSW2",
    "eu-central-1": "Z215JYRZR1TBD5",
}
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"

# AWS-managed CloudFront policies: their ids are the same in every account.
MANAGED_CACHE_POLICIES = {
    "Managed-CachingOptimized": "658327ea-f89d-4fab-a63d-7e88639e58f6",
    "Managed-CachingDisabled": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
    "Managed-CachingOptimizedForUncompressedObjects": "b2884449-e4de-46a7-ac36-70bc7f1ddd6d",
}
MANAGED_ORIGIN_REQUEST_POLICIES = {
    "Managed-AllViewer": "216adef6-5c7f-47e4-b989-5492eafa07d3",
    "Managed-AllViewerExceptHostHeader": "b689b0a8-53d0-40ab-baf2-68738e2966ac",
    "Managed-CORS-S3Origin": "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf",
}
MANAGED_RESPONSE_HEADERS_POLICIES = {
    "Managed-SecurityHeadersPolicy": "67f7725c-6f97-4210-82d7-5512b31e9d03",
    "Managed-SimpleCORS": "60669652-455b-4ae9-85a4-c4c02393f86c",
}
# AWS-managed prefix list of CloudFront's origin-facing addresses, by region.
_CLOUDFRONT_PREFIX_LISTS = {"us-east-1": "pl-3b927c52", "us-west-2": "pl-82a045eb"}

SECRET_MARKER = "[secret]"  # noqa: S105 - the mask shown in place of secrets
"""What the plan shows in place of a secret value; the value itself is never kept."""


def digest(*parts: str) -> str:
    """A stable hex digest of the parts, the seed of every fake value."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _uuid(seed: str) -> str:
    return str(uuid.UUID(digest(seed)[:32]))


def _upper_alnum(
    seed: str, length: int, alphabet: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
) -> str:
    number = int(digest(seed), 16)
    out = []
    for _ in range(length):
        number, rem = divmod(number, len(alphabet))
        out.append(alphabet[rem])
    return "".join(out)


@dataclass(frozen=True)
class Context:
    """Where the plan pretends to run: account, region and partition."""

    region: str = DEFAULT_REGION
    account: str = ACCOUNT_ID
    partition: str = "aws"

    def arn(
        self, service: str, resource: str, *, region: str | None = None, account: bool = True
    ) -> str:
        reg = self.region if region is None else region
        acct = self.account if account else ""
        return f"arn:{self.partition}:{service}:{reg}:{acct}:{resource}"

    def zones(self) -> list[str]:
        return [self.region + letter for letter in _ZONE_LETTERS.get(self.region, "abc")]

    def zone_ids(self) -> list[str]:
        prefix = _ZONE_ID_PREFIX.get(self.region, self.region.replace("-", "")[:5])
        return [f"{prefix}-az{i + 1}" for i in range(len(self.zones()))]


# --- physical names -----------------------------------------------------------

_NAME_RULES = {type_: rule for rule in RULES.values() for type_ in rule.types}


def _name_rule(type_: str) -> tuple[str, int]:
    """The input holding a type's name and the longest name AWS takes, from `paaskit.naming`."""
    rule = _NAME_RULES[type_]
    return rule.prop, rule.max_len


# Resource types whose physical name Pulumi generates when the program gives
# none: the property that holds it and the longest name AWS accepts (the
# pulumi-aws provider trims the logical name to fit, then adds a random suffix).
AUTONAMED: dict[str, tuple[str, int]] = {
    **{
        type_: _name_rule(type_)
        for type_ in (
            "aws:s3/bucket:Bucket",
            "aws:s3/bucketV2:BucketV2",
            "aws:lb/loadBalancer:LoadBalancer",
            "aws:lb/targetGroup:TargetGroup",
            "aws:iam/role:Role",
            "aws:iam/policy:Policy",
            "aws:iam/instanceProfile:InstanceProfile",
            "aws:iam/rolePolicy:RolePolicy",
            "aws:lambda/function:Function",
            "aws:sqs/queue:Queue",
            "aws:cloudwatch/eventRule:EventRule",
            "aws:cloudwatch/logGroup:LogGroup",
            "aws:ecs/cluster:Cluster",
            "aws:ecs/service:Service",
            "aws:ecs/capacityProvider:CapacityProvider",
            "aws:ecr/repository:Repository",
            "aws:autoscaling/group:Group",
            "aws:ec2/launchTemplate:LaunchTemplate",
            "aws:ec2/securityGroup:SecurityGroup",
            "aws:rds/instance:Instance",
            "aws:rds/subnetGroup:SubnetGroup",
            "aws:rds/parameterGroup:ParameterGroup",
            "aws:elasticache/subnetGroup:SubnetGroup",
            "aws:elasticache/replicationGroup:ReplicationGroup",
            "aws:elasticache/cluster:Cluster",
            "aws:secretsmanager/secret:Secret",
            "aws:scheduler/schedule:Schedule",
            "aws:scheduler/scheduleGroup:ScheduleGroup",
            "aws:cloudfront/cachePolicy:CachePolicy",
            "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
            "aws:cloudfront/originAccessControl:OriginAccessControl",
            "aws:cloudfront/originRequestPolicy:OriginRequestPolicy",
            "aws:ecs/taskDefinition:TaskDefinition",
        )
    },
    # Types without a name rule in paaskit.naming (no limit check reads their names).
    "aws:sns/topic:Topic": ("name", 256),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", 255),
    "aws:cloudfront/function:Function": ("name", 64),
    "aws:cloudfront/keyValueStore:KeyValueStore": ("name", 64),
    "aws:wafv2/webAcl:WebAcl": ("name", 128),
    "aws:kms/alias:Alias": ("name", 256),
    "aws:appautoscaling/policy:Policy": ("name", 255),
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": ("name", 60),
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": ("name", 60),
}
# CloudFront's VPC origin is named inside its endpoint configuration, never generated.

_LOWERCASE_NAMES = {
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:rds/instance:Instance",
    "aws:rds/subnetGroup:SubnetGroup",
    "aws:rds/parameterGroup:ParameterGroup",
    "aws:elasticache/subnetGroup:SubnetGroup",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:elasticache/cluster:Cluster",
}


def autoname(type_: str, logical: str, urn: str) -> str:
    """The name Pulumi would generate: the logical name, trimmed, plus 7 hex chars."""
    _, max_len = AUTONAMED.get(type_, ("name", 255))
    suffix = digest("autoname", urn)[:7]
    base = logical[: max(1, max_len - len(suffix) - 1)]
    name = f"{base}-{suffix}"
    return name.lower() if type_ in _LOWERCASE_NAMES else name


def physical_name(type_: str, logical: str, urn: str, inputs: Mapping[str, Any]) -> str:
    """The name the resource will have: the program's own, or Pulumi's generated one."""
    prop, _ = AUTONAMED.get(type_, ("name", 255))
    given = inputs.get(prop)
    if isinstance(given, str) and given:
        return given
    prefix = inputs.get("namePrefix") or inputs.get(prop + "Prefix")
    if isinstance(prefix, str) and prefix:
        return prefix + digest("prefix", urn)[:26]
    return autoname(type_, logical, urn)


# --- resource state -----------------------------------------------------------

StateFn = Callable[["Resource", Context], dict[str, Any]]


@dataclass
class Resource:
    """What the fakes know of one resource being registered."""

    type: str
    logical: str
    urn: str
    inputs: dict[str, Any]
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = physical_name(self.type, self.logical, self.urn, self.inputs)

    def hex(self, n: int, salt: str = "") -> str:
        return digest(self.urn, salt)[:n]


def _ec2(prefix: str, kind: str) -> StateFn:
    def state(r: Resource, ctx: Context) -> dict[str, Any]:
        rid = f"{prefix}-0{r.hex(16)}"
        out: dict[str, Any] = {
            "id": rid,
            "arn": ctx.arn("ec2", f"{kind}/{rid}"),
            "ownerId": ctx.account,
        }
        if prefix == "i":
            out["primaryNetworkInterfaceId"] = f"eni-0{r.hex(16, 'eni')}"
            out["privateIp"] = f"10.0.{int(r.hex(2), 16) % 256}.{int(r.hex(2, 'ip'), 16) % 250 + 4}"
        return out

    return state


def _vpc(r: Resource, ctx: Context) -> dict[str, Any]:
    out = _ec2("vpc", "vpc")(r, ctx)
    if r.inputs.get("assignGeneratedIpv6CidrBlock"):
        out["ipv6CidrBlock"] = f"2600:1f18:{r.hex(4)}:{r.hex(2, 'v6')}00::/56"
        out["ipv6AssociationId"] = f"vpc-cidr-assoc-0{r.hex(16, 'v6')}"
    out["mainRouteTableId"] = f"rtb-0{r.hex(16, 'main')}"
    out["defaultSecurityGroupId"] = f"sg-0{r.hex(16, 'default')}"
    return out


def _named(service: str, path: str, *, global_: bool = False) -> StateFn:
    """Resources identified by their name, with an ARN of `path` (`{name}` filled in)."""

    def state(r: Resource, ctx: Context) -> dict[str, Any]:
        arn = ctx.arn(service, path.format(name=r.name), region="" if global_ else None)
        return {"id": r.name, "arn": arn}

    return state


def _elb(kind: str) -> StateFn:
    def state(r: Resource, ctx: Context) -> dict[str, Any]:
        suffix = f"{kind}/{r.name}/{r.hex(16)}"
        arn = ctx.arn("elasticloadbalancing", suffix)
        out: dict[str, Any] = {"id": arn, "arn": arn, "arnSuffix": suffix}
        if kind.startswith("app"):
            number = int(r.hex(8), 16) % 10**10
            out["dnsName"] = f"{r.name}-{number}.{ctx.region}.elb.amazonaws.com"
            out["zoneId"] = _ALB_ZONE_IDS.get(ctx.region, "Z35SXDOTRQ7X7K")
        return out

    return state


def _listener(r: Resource, ctx: Context) -> dict[str, Any]:
    arn = ctx.arn("elasticloadbalancing", f"listener/app/lb/{r.hex(16)}/{r.hex(16, 'l')}")
    return {"id": arn, "arn": arn}


def _listener_rule(r: Resource, ctx: Context) -> dict[str, Any]:
    arn = ctx.arn(
        "elasticloadbalancing",
        f"listener-rule/app/lb/{r.hex(16)}/{r.hex(16, 'l')}/{r.hex(16, 'r')}",
    )
    return {"id": arn, "arn": arn}


def _bucket(r: Resource, ctx: Context) -> dict[str, Any]:
    return {
        "id": r.name,
        "bucket": r.name,
        "arn": f"arn:{ctx.partition}:s3:::{r.name}",
        "bucketDomainName": f"{r.name}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{r.name}.s3.{ctx.region}.amazonaws.com",
        "hostedZoneId": "Z3AQBSTGFYJSTF",
        "region": ctx.region,
    }


def _by_bucket(r: Resource, ctx: Context) -> dict[str, Any]:
    """Bucket sub-resources (policy, encryption, versioning...): their id is the bucket's."""
    return {"id": str(r.inputs.get("bucket", r.name))}


def _s3_object(r: Resource, ctx: Context) -> dict[str, Any]:
    return {
        "id": str(r.inputs.get("key", r.logical)),
        "etag": r.hex(32),
        "versionId": _upper_alnum(r.urn, 32),
    }


def _distribution(r: Resource, ctx: Context) -> dict[str, Any]:
    rid = "E" + _upper_alnum(r.urn, 13)
    return {
        "id": rid,
        "arn": f"arn:{ctx.partition}:cloudfront::{ctx.account}:distribution/{rid}",
        "domainName": f"d{r.hex(13)}.cloudfront.net",
        "hostedZoneId": CLOUDFRONT_ZONE_ID,
        "status": "Deployed",
        "etag": "E" + _upper_alnum(r.urn + "etag", 13),
    }


def _cloudfront_id(kind: str, *, uuid_id: bool) -> StateFn:
    def state(r: Resource, ctx: Context) -> dict[str, Any]:
        rid = _uuid(r.urn) if uuid_id else "E" + _upper_alnum(r.urn, 13)
        return {
            "id": rid,
            "arn": f"arn:{ctx.partition}:cloudfront::{ctx.account}:{kind}/{rid}",
            "etag": "E" + _upper_alnum(r.urn + "etag", 13),
        }

    return state


def _vpc_origin(r: Resource, ctx: Context) -> dict[str, Any]:
    mixed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    rid = "vo_" + _upper_alnum(r.urn, 22, mixed)
    return {
        "id": rid,
        "arn": f"arn:{ctx.partition}:cloudfront::{ctx.account}:vpcorigin/{rid}",
        "etag": "E" + _upper_alnum(r.urn + "etag", 13),
    }


def _log_delivery_source(r: Resource, ctx: Context) -> dict[str, Any]:
    return {"id": r.name, "arn": ctx.arn("logs", f"delivery-source:{r.name}")}


def _log_delivery_destination(r: Resource, ctx: Context) -> dict[str, Any]:
    return {"id": r.name, "arn": ctx.arn("logs", f"delivery-destination:{r.name}")}


def _log_delivery(r: Resource, ctx: Context) -> dict[str, Any]:
    rid = _upper_alnum(r.urn, 16, "abcdefghijklmnopqrstuvwxyz0123456789")
    return {"id": rid, "arn": ctx.arn("logs", f"delivery:{rid}")}


def _certificate(r: Resource, ctx: Context) -> dict[str, Any]:
    region = str(r.inputs.get("region") or ctx.region)
    arn = ctx.arn("acm", f"certificate/{_uuid(r.urn)}", region=region)
    domains = [r.inputs.get("domainName", ""), *(r.inputs.get("subjectAlternativeNames") or [])]
    options = [
        {
            "domainName": d,
            "resourceRecordName": f"_{digest(d)[:32]}.{d.removeprefix('*.')}.",
            "resourceRecordType": "CNAME",
            "resourceRecordValue": f"_{digest(d, 'v')[:32]}.acm-validations.aws.",
        }
        for d in domains
        if d
    ]
    return {"id": arn, "arn": arn, "domainValidationOptions": options, "status": "ISSUED"}


def _rds_instance(r: Resource, ctx: Context) -> dict[str, Any]:
    address = f"{r.name}.c{r.hex(12)}.{ctx.region}.rds.amazonaws.com"
    port = int(r.inputs.get("port") or 5432)
    out: dict[str, Any] = {
        "id": f"db-{_upper_alnum(r.urn, 26)}",
        "identifier": r.name,
        "arn": ctx.arn("rds", f"db:{r.name}"),
        "address": address,
        "endpoint": f"{address}:{port}",
        "port": port,
        "resourceId": f"db-{_upper_alnum(r.urn, 26)}",
        "hostedZoneId": "Z2R2ITUGPM61AM",
    }
    if r.inputs.get("manageMasterUserPassword"):
        secret = ctx.arn("secretsmanager", f"secret:rds!db-{_uuid(r.urn)}-{r.hex(6)}")
        out["masterUserSecrets"] = [
            {
                "secretArn": secret,
                "secretStatus": "active",
                "kmsKeyId": ctx.arn("kms", f"key/{_uuid(r.urn + 'kms')}"),
            }
        ]
    return out


def _cache_zone(ctx: Context) -> str:
    """The region's short name in ElastiCache endpoints (`use1`)."""
    return _ZONE_ID_PREFIX.get(ctx.region, ctx.region.replace("-", "")[:5])


def _replication_group(r: Resource, ctx: Context) -> dict[str, Any]:
    port = int(r.inputs.get("port") or 6379)
    host = f"master.{r.name}.{r.hex(6)}.{_cache_zone(ctx)}.cache.amazonaws.com"
    count = int(r.inputs.get("numCacheClusters") or 1)
    return {
        "id": r.name,
        "arn": ctx.arn("elasticache", f"replicationgroup:{r.name}"),
        "primaryEndpointAddress": host,
        "readerEndpointAddress": host.replace("master.", "replica.", 1),
        "port": port,
        "memberClusters": [f"{r.name}-{i:03d}" for i in range(1, count + 1)],
        "engineVersionActual": str(r.inputs.get("engineVersion") or ""),
    }


def _cache_cluster(r: Resource, ctx: Context) -> dict[str, Any]:
    port = int(r.inputs.get("port") or 11211)
    base = f"{r.name}.{r.hex(6)}"
    address = f"{base}.cfg.{_cache_zone(ctx)}.cache.amazonaws.com"
    zones = ctx.zones()
    nodes = [
        {
            "id": f"{i:04d}",
            "address": f"{base}.{i:04d}.{_cache_zone(ctx)}.cache.amazonaws.com",
            "port": port,
            "availabilityZone": zones[(i - 1) % len(zones)],
        }
        for i in range(1, int(r.inputs.get("numCacheNodes") or 1) + 1)
    ]
    return {
        "id": r.name,
        "arn": ctx.arn("elasticache", f"cluster:{r.name}"),
        "clusterAddress": address,
        "configurationEndpoint": f"{address}:{port}",
        "cacheNodes": nodes,
    }


def _log_group(r: Resource, ctx: Context) -> dict[str, Any]:
    return {"id": r.name, "arn": ctx.arn("logs", f"log-group:{r.name}")}


def _queue(r: Resource, ctx: Context) -> dict[str, Any]:
    url = f"https://sqs.{ctx.region}.amazonaws.com/{ctx.account}/{r.name}"
    return {"id": url, "url": url, "arn": ctx.arn("sqs", r.name)}


def _ecr_repository(r: Resource, ctx: Context) -> dict[str, Any]:
    return {
        "id": r.name,
        "arn": ctx.arn("ecr", f"repository/{r.name}"),
        "registryId": ctx.account,
        "repositoryUrl": f"{ctx.account}.dkr.ecr.{ctx.region}.amazonaws.com/{r.name}",
    }


def _ecs_service(r: Resource, ctx: Context) -> dict[str, Any]:
    cluster = str(r.inputs.get("cluster", "cluster")).rsplit("/", 1)[-1]
    arn = ctx.arn("ecs", f"service/{cluster}/{r.name}")
    return {"id": arn, "arn": arn}


def _task_definition(r: Resource, ctx: Context) -> dict[str, Any]:
    arn = ctx.arn("ecs", f"task-definition/{r.name}:1")
    return {"id": r.name, "arn": arn, "arnWithoutRevision": arn.rsplit(":", 1)[0], "revision": 1}


def _asg(r: Resource, ctx: Context) -> dict[str, Any]:
    arn = ctx.arn("autoscaling", f"autoScalingGroup:{_uuid(r.urn)}:autoScalingGroupName/{r.name}")
    return {"id": r.name, "arn": arn}


def _launch_template(r: Resource, ctx: Context) -> dict[str, Any]:
    rid = f"lt-0{r.hex(16)}"
    return {
        "id": rid,
        "arn": ctx.arn("ec2", f"launch-template/{rid}"),
        "latestVersion": 1,
        "defaultVersion": 1,
    }


def _uuid_arn(service: str, path: str) -> StateFn:
    def state(r: Resource, ctx: Context) -> dict[str, Any]:
        rid = _uuid(r.urn)
        return {"id": rid, "arn": ctx.arn(service, path.format(id=rid, name=r.name))}

    return state


def _docker_image(r: Resource, ctx: Context) -> dict[str, Any]:
    image = str(r.inputs.get("imageName", r.logical))
    repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    return {
        "id": image,
        "imageName": image,
        "repoDigest": f"{repo}@sha256:{digest(r.urn, 'image')}",
    }


def _secret(r: Resource, ctx: Context) -> dict[str, Any]:
    arn = ctx.arn("secretsmanager", f"secret:{r.name}-{_upper_alnum(r.urn, 6)}")
    return {"id": arn, "arn": arn}


def _route53_record(r: Resource, ctx: Context) -> dict[str, Any]:
    rid = f"{r.inputs.get('zoneId', 'Z')}_{r.inputs.get('name', r.logical)}_{r.inputs.get('type', 'A')}"
    return {"id": rid, "fqdn": str(r.inputs.get("name", r.logical)).rstrip(".")}


def _zone(r: Resource, ctx: Context) -> dict[str, Any]:
    zid = "Z" + _upper_alnum(r.urn, 20)
    return {"id": zid, "zoneId": zid, "arn": f"arn:{ctx.partition}:route53:::hostedzone/{zid}"}


def _app_autoscaling_target(r: Resource, ctx: Context) -> dict[str, Any]:
    return {
        "id": str(r.inputs.get("resourceId", r.logical)),
        "arn": ctx.arn("application-autoscaling", f"scalable-target/{r.hex(24)}"),
    }


def _kms_key(r: Resource, ctx: Context) -> dict[str, Any]:
    rid = _uuid(r.urn)
    return {"id": rid, "keyId": rid, "arn": ctx.arn("kms", f"key/{rid}")}


def _ssm_parameter_resource(r: Resource, ctx: Context) -> dict[str, Any]:
    """A parameter as SSM reports it after its first write: version 1."""
    return {**_generic(r, ctx), "version": 1}


def _provider(r: Resource, ctx: Context) -> dict[str, Any]:
    return {"id": _uuid(r.urn)}


STATES: dict[str, StateFn] = {
    # network
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _ec2("subnet", "subnet"),
    "aws:ec2/internetGateway:InternetGateway": _ec2("igw", "internet-gateway"),
    "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway": _ec2(
        "eigw", "egress-only-internet-gateway"
    ),
    "aws:ec2/natGateway:NatGateway": _ec2("nat", "natgateway"),
    "aws:ec2/eip:Eip": _ec2("eipalloc", "elastic-ip"),
    "aws:ec2/routeTable:RouteTable": _ec2("rtb", "route-table"),
    "aws:ec2/route:Route": _ec2("r-rtb", "route"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _ec2(
        "rtbassoc", "route-table-association"
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _ec2("vpce", "vpc-endpoint"),
    "aws:ec2/flowLog:FlowLog": _ec2("fl", "vpc-flow-log"),
    "aws:ec2/securityGroup:SecurityGroup": _ec2("sg", "security-group"),
    "aws:ec2/securityGroupRule:SecurityGroupRule": _ec2("sgrule", "security-group-rule"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _ec2("sgr", "security-group-rule"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _ec2("sgr", "security-group-rule"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _ec2("sg", "security-group"),
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": _ec2("acl", "network-acl"),
    "aws:ec2/networkAcl:NetworkAcl": _ec2("acl", "network-acl"),
    "aws:ec2/instance:Instance": _ec2("i", "instance"),
    "aws:ec2/networkInterface:NetworkInterface": _ec2("eni", "network-interface"),
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    # compute
    "aws:autoscaling/group:Group": _asg,
    "aws:autoscaling/lifecycleHook:LifecycleHook": _named("autoscaling", "lifecycleHook:{name}"),
    "aws:ecs/cluster:Cluster": _named("ecs", "cluster/{name}"),
    "aws:ecs/capacityProvider:CapacityProvider": _named("ecs", "capacity-provider/{name}"),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": lambda r, ctx: {
        "id": str(r.inputs.get("clusterName", r.name))
    },
    "aws:ecs/service:Service": _ecs_service,
    "aws:ecs/taskDefinition:TaskDefinition": _task_definition,
    "aws:ecr/repository:Repository": _ecr_repository,
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": lambda r, ctx: {
        "id": str(r.inputs.get("repository", r.name))
    },
    "aws:lambda/function:Function": _named("lambda", "function:{name}"),
    "aws:lambda/permission:Permission": _named("lambda", "permission:{name}"),
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": _named(
        "lambda", "event-invoke-config:{name}"
    ),
    # No `result`: a plan cannot run the function, so what it returns is unknown.
    "aws:lambda/invocation:Invocation": _uuid_arn("lambda", "invocation:{id}"),
    # iam
    "aws:iam/role:Role": _named("iam", "role/{name}", global_=True),
    "aws:iam/policy:Policy": _named("iam", "policy/{name}", global_=True),
    "aws:iam/instanceProfile:InstanceProfile": _named(
        "iam", "instance-profile/{name}", global_=True
    ),
    "aws:iam/rolePolicy:RolePolicy": _named("iam", "role-policy/{name}", global_=True),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _named(
        "iam", "attachment/{name}", global_=True
    ),
    # logs, events, queues, topics, schedules
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": _log_delivery_source,
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": _log_delivery_destination,
    "aws:cloudwatch/logDelivery:LogDelivery": _log_delivery,
    "aws:cloudwatch/eventRule:EventRule": _named("events", "rule/{name}"),
    "aws:cloudwatch/eventTarget:EventTarget": _named("events", "target/{name}"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _named("cloudwatch", "alarm:{name}"),
    "aws:sqs/queue:Queue": _queue,
    "aws:sqs/queuePolicy:QueuePolicy": lambda r, ctx: {"id": str(r.inputs.get("queueUrl", r.name))},
    "aws:sns/topic:Topic": _named("sns", "{name}"),
    "aws:scheduler/schedule:Schedule": _named("scheduler", "schedule/default/{name}"),
    "aws:scheduler/scheduleGroup:ScheduleGroup": _named("scheduler", "schedule-group/{name}"),
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _named("kms", "{name}"),
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:ssm/parameter:Parameter": _ssm_parameter_resource,
    "aws:appautoscaling/target:Target": _app_autoscaling_target,
    "aws:appautoscaling/policy:Policy": _named("autoscaling", "scalingPolicy:{name}"),
    # load balancing
    "aws:lb/loadBalancer:LoadBalancer": _elb("app"),
    "aws:lb/targetGroup:TargetGroup": _elb("targetgroup"),
    "aws:lb/listener:Listener": _listener,
    "aws:lb/listenerRule:ListenerRule": _listener_rule,
    "aws:acm/certificate:Certificate": _certificate,
    "aws:acm/certificateValidation:CertificateValidation": lambda r, ctx: {
        "id": str(r.inputs.get("certificateArn", ""))
    },
    "aws:route53/record:Record": _route53_record,
    "aws:route53/zone:Zone": _zone,
    # storage and cdn
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:s3/bucketObjectv2:BucketObjectv2": _s3_object,
    "aws:s3/bucketObject:BucketObject": _s3_object,
    "aws:cloudfront/distribution:Distribution": _distribution,
    "aws:cloudfront/vpcOrigin:VpcOrigin": _vpc_origin,
    "aws:cloudfront/originAccessControl:OriginAccessControl": _cloudfront_id(
        "origin-access-control", uuid_id=False
    ),
    "aws:cloudfront/cachePolicy:CachePolicy": _cloudfront_id("cache-policy", uuid_id=True),
    "aws:cloudfront/originRequestPolicy:OriginRequestPolicy": _cloudfront_id(
        "origin-request-policy", uuid_id=True
    ),
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": _cloudfront_id(
        "response-headers-policy", uuid_id=True
    ),
    "aws:cloudfront/function:Function": lambda r, ctx: {
        "id": r.name,
        "arn": f"arn:{ctx.partition}:cloudfront::{ctx.account}:function/{r.name}",
        "etag": "E" + _upper_alnum(r.urn + "etag", 13),
        "status": "DEPLOYED",
    },
    "aws:cloudfront/keyValueStore:KeyValueStore": lambda r, ctx: {
        "id": r.name,
        "arn": f"arn:{ctx.partition}:cloudfront::{ctx.account}:key-value-store/{_uuid(r.urn)}",
        "etag": "E" + _upper_alnum(r.urn + "etag", 13),
    },
    "aws:wafv2/webAcl:WebAcl": _uuid_arn("wafv2", "global/webacl/{name}/{id}"),
    # database
    "aws:rds/instance:Instance": _rds_instance,
    "aws:rds/subnetGroup:SubnetGroup": _named("rds", "subgrp:{name}"),
    "aws:rds/parameterGroup:ParameterGroup": _named("rds", "pg:{name}"),
    "aws:elasticache/replicationGroup:ReplicationGroup": _replication_group,
    "aws:elasticache/cluster:Cluster": _cache_cluster,
    "aws:elasticache/subnetGroup:SubnetGroup": _named("elasticache", "subnetgroup:{name}"),
    # outside AWS
    "docker:index/image:Image": _docker_image,
    "pulumi:providers:aws": _provider,
    "pulumi:providers:docker": _provider,
}


def _generic(r: Resource, ctx: Context) -> dict[str, Any]:
    """Any other type: an id from its name and an ARN built from its type token."""
    package, _, rest = r.type.partition(":")
    if rest.startswith("s3/bucket") and "bucket" in r.inputs:
        return _by_bucket(r, ctx)
    if package != "aws":
        return {"id": r.hex(16)}
    module = rest.split("/", 1)[0].split(":", 1)[0]
    kind = rest.rsplit(":", 1)[-1].lower()
    return {"id": r.name, "arn": ctx.arn(module, f"{kind}/{r.name}")}


def _in_region(inputs: Mapping[str, Any], ctx: Context) -> Context:
    """pulumi-aws v7's per-resource `region` input: the resource lives there, not in the stack's."""
    region = inputs.get("region")
    if isinstance(region, str) and region and region != ctx.region:
        return Context(region=region, account=ctx.account, partition=ctx.partition)
    return ctx


def resource_state(
    type_: str, logical: str, urn: str, inputs: dict[str, Any], ctx: Context
) -> tuple[str, dict[str, Any]]:
    """The id and state AWS would report after creating the resource.

    The state starts from the inputs (a created resource reports what it was
    given) and adds the computed attributes. A resource given a `region` (pulumi-aws
    v7) gets ids and ARNs of that region.
    """
    ctx = _in_region(inputs, ctx)
    res = Resource(type_, logical, urn, inputs)
    computed = STATES.get(type_, _generic)(res, ctx)
    state = dict(inputs)
    prop, _ = AUTONAMED.get(type_, ("", 0))
    if prop and not inputs.get(prop):
        state[prop] = res.name
    state.update(computed)
    if type_.startswith("aws:") and "tags" in inputs:
        state["tagsAll"] = inputs["tags"]
    return str(computed.get("id", res.name)), state


def _certificate_read(r: Resource, ctx: Context, rid: str) -> dict[str, Any]:
    # A certificate the plan reads back was requested, never validated: no DNS record
    # the plan names exists yet, so ACM still waits for it (the first `pulumi up`).
    return {"id": rid, "arn": rid, "status": "PENDING_VALIDATION"}


READ_STATES: dict[str, Callable[[Resource, Context, str], dict[str, Any]]] = {
    "aws:acm/certificate:Certificate": _certificate_read,
}
"""What reading an existing resource (`Resource.get(name, id)`) answers, by type; the
rest answer as if created, under the id they were read by."""


def read_state(
    type_: str, logical: str, urn: str, rid: str, inputs: dict[str, Any], ctx: Context
) -> tuple[str, dict[str, Any]]:
    """The id and state a read of an existing resource (`Resource.get`) returns."""
    ctx = _in_region(inputs, ctx)
    res = Resource(type_, logical, urn, inputs)
    reader = READ_STATES.get(type_)
    if reader is not None:
        return rid, {**inputs, **reader(res, ctx, rid)}
    _, state = resource_state(type_, logical, urn, inputs, ctx)
    state["id"] = rid
    return rid, state


# --- provider functions --------------------------------------------------------

InvokeFn = Callable[[dict[str, Any], Context], dict[str, Any]]


def _availability_zones(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {
        "id": ctx.region,
        "names": ctx.zones(),
        "zoneIds": ctx.zone_ids(),
        "groupNames": [ctx.region] * len(ctx.zones()),
        "state": args.get("state", "available"),
    }


def _caller_identity(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {
        "id": ctx.account,
        "accountId": ctx.account,
        "arn": f"arn:{ctx.partition}:iam::{ctx.account}:user/paaskit-plan",
        "userId": "AIDAPAASKITPLAN00000",
    }


def _region(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    region = args.get("region") or args.get("name") or ctx.region
    return {
        "id": region,
        "name": region,
        "region": region,
        "description": region,
        "endpoint": f"ec2.{region}.amazonaws.com",
    }


def _partition(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {
        "id": ctx.partition,
        "partition": ctx.partition,
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
    }


_RELEASE_RECORD_SUFFIX = "/release-record"
_EMPTY_RELEASE_RECORD = (
    '{"kind":"deploy","rollbackOf":null,"schema":1,"services":{},"time":"2026-01-01T00:00:00Z"}'
)
"""What a paaskit release record (`paaskit.release.records`, schema 1) holds offline: a
deploy of no service. The offline plan has deployed nothing, so it knows no release's
services; a test that needs some answers the read with `invokes`."""


def _ssm_parameter(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    requested = str(args.get("name", ""))
    # `name:3` reads version 3 (`name:label`, a labelled version): SSM answers with the
    # parameter's own name, the version and the selector. Names cannot hold ':' otherwise.
    name, _, selector = requested.partition(":")
    version = int(selector) if selector.isdigit() else 1
    if "/optimized-ami/" in name or "/ami-" in name or name.endswith("image_id"):
        value = f"ami-0{digest(ctx.region, name)[:16]}"
    elif name.endswith(_RELEASE_RECORD_SUFFIX):
        value = _EMPTY_RELEASE_RECORD
    else:
        value = f"plan-value-of-{name.strip('/').replace('/', '-')}"
    return {
        "id": name,
        "name": name,
        "arn": ctx.arn("ssm", f"parameter{name if name.startswith('/') else '/' + name}"),
        "type": "String",
        "value": value,
        "insecureValue": value,
        "version": version,
        "withDecryption": args.get("withDecryption", True),
    }


def _managed_policy(table: Mapping[str, str]) -> InvokeFn:
    def answer(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
        name = str(args.get("name", ""))
        pid = args.get("id") or table.get(name) or _uuid(name)
        return {"id": pid, "name": name, "etag": "E" + _upper_alnum(name, 13)}

    return answer


def _prefix_list(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    name = str(args.get("name", ""))
    pid = args.get("id") or (
        _CLOUDFRONT_PREFIX_LISTS.get(ctx.region, "pl-" + digest(ctx.region)[:8])
        if "cloudfront" in name
        else "pl-" + digest(name)[:8]
    )
    return {
        "id": pid,
        "name": name,
        "arn": ctx.arn("ec2", f"prefix-list/{pid}", account=False),
        "maxEntries": 55,
        "cidrBlocks": [],
    }


def _elb_service_account(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    region = args.get("region") or ctx.region
    acct = _ELB_ACCOUNTS.get(region, "127311923021")
    return {"id": acct, "arn": f"arn:{ctx.partition}:iam::{acct}:root"}


def _route53_zone(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    name = str(args.get("name") or "example.com").rstrip(".")
    zid = args.get("zoneId") or "Z" + _upper_alnum(name, 20)
    return {
        "id": zid,
        "zoneId": zid,
        "name": name + ".",
        "arn": f"arn:{ctx.partition}:route53:::hostedzone/{zid}",
        "privateZone": bool(args.get("privateZone", False)),
        "nameServers": [f"ns-{i}.awsdns-{i:02d}.org" for i in range(1, 5)],
    }


def _ecr_token(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    registry = args.get("registryId") or ctx.account
    return {
        "id": ctx.region,
        "userName": "AWS",
        "password": "plan-token-not-a-credential",
        "authorizationToken": "plan-token-not-a-credential",
        "proxyEndpoint": f"https://{registry}.dkr.ecr.{ctx.region}.amazonaws.com",
        "expiresAt": "2099-01-01T00:00:00Z",
    }


def _certificate_lookup(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    domain = str(args.get("domain", ""))
    arn = ctx.arn("acm", f"certificate/{_uuid(domain)}")
    return {"id": arn, "arn": arn, "domain": domain, "status": "ISSUED"}


def _random_password(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Secrets Manager's GetRandomPassword: a fixed stand-in of the asked length, letters and digits."""
    length = int(args.get("passwordLength") or 32)
    value = (_upper_alnum("random-password", 64).lower() + _upper_alnum("password", 64))[:length]
    return {"id": ctx.region, "randomPassword": value, "passwordLength": length}


def _iam_role(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Every role the program looks up exists (as ECS's service-linked role does in any account
    that has used ECS); service-linked roles at their own path."""
    name = str(args.get("name", ""))
    linked = {"AWSServiceRoleForECS": "ecs.amazonaws.com"}
    path = f"/aws-service-role/{linked[name]}/" if name in linked else "/"
    return {
        "id": name,
        "name": name,
        "arn": f"arn:{ctx.partition}:iam::{ctx.account}:role{path}{name}",
        "path": path,
        "uniqueId": "AROA" + _upper_alnum(name, 17),
        "assumeRolePolicy": "{}",
        "createDate": "2020-01-01T00:00:00Z",
        "maxSessionDuration": 3600,
        "tags": {},
        "description": "",
        "permissionsBoundary": "",
        "roleLastUseds": [],
    }


def _instance_type_offerings(args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Every instance type the program asks about (an `instance-type` filter) is offered."""
    names: list[str] = []
    for item in args.get("filters") or []:
        if isinstance(item, dict) and item.get("name") == "instance-type":
            names.extend(str(v) for v in item.get("values") or [])
    location_type = str(args.get("locationType") or "region")
    return {
        "id": ctx.region,
        "instanceTypes": names,
        "locationTypes": [location_type] * len(names),
        "locations": [ctx.region] * len(names),
    }


INVOKES: dict[str, InvokeFn] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getRegion:getRegion": _region,
    "aws:index/getPartition:getPartition": _partition,
    "aws:ssm/getParameter:getParameter": _ssm_parameter,
    "aws:cloudfront/getCachePolicy:getCachePolicy": _managed_policy(MANAGED_CACHE_POLICIES),
    "aws:cloudfront/getOriginRequestPolicy:getOriginRequestPolicy": _managed_policy(
        MANAGED_ORIGIN_REQUEST_POLICIES
    ),
    "aws:cloudfront/getResponseHeadersPolicy:getResponseHeadersPolicy": _managed_policy(
        MANAGED_RESPONSE_HEADERS_POLICIES
    ),
    "aws:ec2/getManagedPrefixList:getManagedPrefixList": _prefix_list,
    "aws:elb/getServiceAccount:getServiceAccount": _elb_service_account,
    "aws:route53/getZone:getZone": _route53_zone,
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": _ecr_token,
    "aws:acm/getCertificate:getCertificate": _certificate_lookup,
    "aws:secretsmanager/getRandomPassword:getRandomPassword": _random_password,
    "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": _instance_type_offerings,
    "aws:iam/getRole:getRole": _iam_role,
}
