"""AWS building blocks that several components make the same way.

Why this module exists: the Cdn and the LoadBalancer each keep private
buckets and issue DNS-validated ACM certificates for the rack's names, and
every component with an IAM role writes a trust policy and policy documents.
Each of these was written out in more than one module; kept once here, a fix
(a new guard on buckets, a tighter trust condition) reaches every component,
and the components cannot drift apart.

What it holds:

- IAM: `policy_document` and `assume_role_policy`, the JSON of policies and
  of trust policies with their confused-deputy conditions;
- Lambda: `lambda_code`, the zip of a function that runs one paaskit
  subpackage;
- VPC: `port_security_group`, a security group that admits listed groups on
  one port (a database's, a cache's, a file system's);
- S3: `private_bucket` (ACLs disabled, public access blocked, SSE-S3, kept
  on `pulumi destroy` unless throwaway), `expire_objects` (its lifecycle)
  and `deny_insecure_transport` (the TLS-only statement of bucket policies);
- DNS and ACM: `DNS_NAME`, `within_zone`, `public_zone_id`, `alias_records`
  and `dns_validation_record`.

Private: components are the product, and these helpers change with them.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from ._component import Component
from .config import Input

__all__ = [
    "DNS_NAME",
    "ECS_DYNAMIC_PORTS",
    "ORIGIN_HEADER",
    "ORIGIN_HEADER_NAME",
    "alias_records",
    "assume_role_policy",
    "check_origin_header_name",
    "deny_insecure_transport",
    "dns_validation_record",
    "expire_objects",
    "lambda_code",
    "policy_document",
    "port_security_group",
    "private_bucket",
    "public_zone_id",
    "within_zone",
]

# --- VPC ---------------------------------------------------------------------------


def port_security_group(
    owner: Component,
    *,
    vpc_id: Input,
    sources: Sequence[Input],
    port: int,
    description: str,
    rule_description: str,
) -> aws.ec2.SecurityGroup:
    """A security group of `owner` (child `security_group`, `sg`) that admits each of
    `sources` (security group ids) on TCP `port` and nothing else, a rule each (children
    `security_group_ingress`). A literal id names its rule (`sg-from-<id>`), so reordering
    the list replaces nothing; an Output is named by its place. No egress rule: the
    resource behind it (a database, a cache, a file system) opens no connections.
    `description` is the group's, which AWS cannot change in place: a new one replaces it.
    """
    sg = owner.child(
        "security_group", aws.ec2.SecurityGroup, "sg", vpc_id=vpc_id, description=description
    )
    for i, source in enumerate(sources):
        owner.child(
            "security_group_ingress",
            aws.vpc.SecurityGroupIngressRule,
            f"sg-from-{source}" if isinstance(source, str) else f"sg-from-{i}",
            security_group_id=sg.id,
            referenced_security_group_id=source,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=rule_description,
        )
    return sg


# --- IAM ---------------------------------------------------------------------------


def policy_document(statements: Sequence[Mapping[str, Any]], *, sort_keys: bool = False) -> str:
    """An IAM policy document (JSON, version 2012-10-17) holding `statements`.

    `sort_keys` sorts every object's keys. A document is compared as text, so
    each caller keeps the order it has always had: changing it would show
    every role and bucket policy as changed on the next `pulumi up`.
    """
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=sort_keys)


def assume_role_policy(
    service: str,
    *,
    source_account: str | None = None,
    source_arn: str | None = None,
    sort_keys: bool = False,
) -> str:
    """A trust policy letting the AWS service `service` (`lambda.amazonaws.com`) assume a role.

    `source_account` and `source_arn` are the confused-deputy guard: the
    service may assume the role only when acting for that account
    (`aws:SourceAccount`) or that resource (`aws:SourceArn`, ARN wildcards
    allowed). Give them wherever the service sets those keys.
    """
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    conditions: dict[str, Any] = {}
    if source_account is not None:
        conditions["StringEquals"] = {"aws:SourceAccount": source_account}
    if source_arn is not None:
        conditions["ArnLike"] = {"aws:SourceArn": source_arn}
    if conditions:
        statement["Condition"] = conditions
    return policy_document([statement], sort_keys=sort_keys)


# --- Lambda ------------------------------------------------------------------------


def lambda_code(package: Path) -> pulumi.AssetArchive:
    """A function's zip: the subpackage `package`'s `*.py` and an empty `paaskit/__init__.py`, nothing else.

    The function imports `paaskit.<package name>` without the rest of paaskit
    or its dependencies, so the subpackage may use only the standard library
    and what the Lambda runtime provides.
    """
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {
        "paaskit/__init__.py": pulumi.StringAsset("")
    }
    for path in sorted(package.glob("*.py")):
        assets[f"paaskit/{package.name}/{path.name}"] = pulumi.FileAsset(str(path))
    return pulumi.AssetArchive(assets)


# --- S3 ----------------------------------------------------------------------------


def private_bucket(
    owner: Component,
    kind: str,
    role: str,
    *,
    throwaway: bool,
    versioned: bool = False,
    **bucket_args: Any,
) -> tuple[aws.s3.Bucket, list[pulumi.Resource]]:
    """A bucket of `owner` with ACLs disabled, public access blocked, SSE-S3 and, optionally, versioning.

    Returns the bucket (child `kind`, `<role>`) and its guards (children
    `<kind>_ownership`, `<kind>_public_access`, `<kind>_encryption` and
    `<kind>_versioning`, named `<role>-ownership`, `-public-access`,
    `-encryption`, `-versioning`), in that order: a bucket policy should wait for them, as S3
    refuses concurrent changes to one bucket's settings. SSE-S3, not KMS: it is
    the only encryption ALB log delivery can write to. `bucket_args` go to the
    bucket as they are (`bucket=` to name it).

    All of them are kept on `pulumi destroy` unless `throwaway` (which also
    lets the bucket be deleted with its objects): deleting the public access
    block or the ownership setting of a kept bucket would loosen it.
    """
    retain = pulumi.ResourceOptions(retain_on_delete=not throwaway)
    bucket = owner.child(
        kind, aws.s3.Bucket, role, **bucket_args, force_destroy=throwaway, opts=retain
    )
    guards: list[pulumi.Resource] = [
        owner.child(
            f"{kind}_ownership",
            aws.s3.BucketOwnershipControls,
            f"{role}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=retain,
        ),
        owner.child(
            f"{kind}_public_access",
            aws.s3.BucketPublicAccessBlock,
            f"{role}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=retain,
        ),
        owner.child(
            f"{kind}_encryption",
            aws.s3.BucketServerSideEncryptionConfiguration,
            f"{role}-encryption",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=retain,
        ),
    ]
    if versioned:
        guards.append(
            owner.child(
                f"{kind}_versioning",
                aws.s3.BucketVersioning,
                f"{role}-versioning",
                bucket=bucket.id,
                versioning_configuration={"status": "Enabled"},
                opts=retain,
            )
        )
    return bucket, guards


def expire_objects(
    owner: Component,
    kind: str,
    role: str,
    bucket: aws.s3.Bucket,
    *,
    rule_id: str,
    days: int,
    noncurrent: bool = False,
    throwaway: bool,
    depends_on: Sequence[pulumi.Resource] = (),
) -> aws.s3.BucketLifecycleConfiguration:
    """The lifecycle of a `private_bucket(owner, kind, role, ...)`: child `<kind>_lifecycle`, `<role>-lifecycle`.

    One rule over the whole bucket: objects expire `days` after they are
    written, or, with `noncurrent`, `days` after a newer version replaces
    them; unfinished multipart uploads are dropped after a week. Kept with the
    bucket unless `throwaway`.
    """
    rule: dict[str, Any] = {
        "id": rule_id,
        "status": "Enabled",
        "filter": {"prefix": ""},
        "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
    }
    if noncurrent:
        rule["noncurrent_version_expiration"] = {"noncurrent_days": days}
    else:
        rule["expiration"] = {"days": days}
    return owner.child(
        f"{kind}_lifecycle",
        aws.s3.BucketLifecycleConfiguration,
        f"{role}-lifecycle",
        bucket=bucket.id,
        rules=[rule],
        opts=pulumi.ResourceOptions(retain_on_delete=not throwaway, depends_on=list(depends_on)),
    )


def deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    """The bucket policy statement that refuses every request not made over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


# --- DNS and ACM -------------------------------------------------------------------

DNS_NAME = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
"""A lowercase, fully qualified domain name without a trailing dot (`www.example.com`)."""


def within_zone(domain: str, zone: str) -> bool:
    """Whether `domain` (or, for `*.domain`, the names it covers) is in the zone named `zone`."""
    domain = domain.removeprefix("*.")
    zone = zone.rstrip(".")
    return domain == zone or domain.endswith("." + zone)


def public_zone_id(
    owner: pulumi.Resource, zone_id: Input | None, zone_name: str | None
) -> pulumi.Output[str] | None:
    """The Route 53 zone's id: `zone_id` as given, else the public zone named `zone_name`, else None."""
    if zone_id is not None:
        return pulumi.Output.from_input(zone_id)
    if zone_name is not None:
        return aws.route53.get_zone_output(
            name=zone_name,
            private_zone=False,
            opts=pulumi.InvokeOutputOptions(parent=owner),
        ).zone_id
    return None


def _validation_option(options: Sequence[Any], domain: str) -> Any:
    """The certificate's DNS validation option (record name, type and value) for `domain`."""
    for option in options or ():
        if option.domain_name == domain:
            return option
    raise ValueError(f"ACM gave no DNS validation record for {domain}")


def alias_records(
    owner: Component,
    *,
    hosts: Sequence[tuple[str, str]],
    zone_id: Input,
    target: tuple[Input, Input],
    evaluate_target_health: bool,
    kinds: Sequence[str] = ("A", "AAAA"),
    prefix: str = "",
    allow_overwrite: bool = False,
) -> list[aws.route53.Record]:
    """Route 53 alias records of `owner` (children `dns_record`), one per (host, slug) of
    `hosts` and per record type of `kinds`, named `<prefix>dns-<slug>-<a|aaaa>`, pointing at
    `target`: a (DNS name, hosted zone id) pair, a distribution's or a load balancer's.
    CloudFront aliases cannot evaluate target health; a load balancer's can.
    `allow_overwrite` lets them take over names that records of another stack hold."""
    name, target_zone = target
    extra: dict[str, Any] = {"allow_overwrite": True} if allow_overwrite else {}
    return [
        owner.child(
            "dns_record",
            aws.route53.Record,
            f"{prefix}dns-{slug}-{kind.lower()}",
            zone_id=zone_id,
            name=host,
            type=kind,
            aliases=[
                {
                    "name": name,
                    "zone_id": target_zone,
                    "evaluate_target_health": evaluate_target_health,
                }
            ],
            **extra,
        )
        for host, slug in hosts
        for kind in kinds
    ]


def dns_validation_record(
    owner: Component,
    role: str,
    certificate: aws.acm.Certificate,
    domain: str,
    zone_id: Input | None,
) -> aws.route53.Record:
    """The record ACM asks for to validate `domain` on `certificate`: child `validation_record`, `<role>`.

    ACM derives the record from the name and the account alone, so the Cdn's
    certificate in us-east-1 and the load balancer's regional one for the
    same names need the very same record: each may overwrite it.
    """
    option = certificate.domain_validation_options.apply(
        functools.partial(_validation_option, domain=domain)
    )
    return owner.child(
        "validation_record",
        aws.route53.Record,
        role,
        zone_id=zone_id,
        name=option.apply(lambda o: o.resource_record_name),
        type=option.apply(lambda o: o.resource_record_type),
        records=[option.apply(lambda o: o.resource_record_value)],
        ttl=300,
        allow_overwrite=True,
    )


# --- ECS ---------------------------------------------------------------------------

ECS_DYNAMIC_PORTS: tuple[int, int] = (32768, 65535)
"""The host ports ECS gives bridge-networked containers: the kernel's ephemeral
range starts at 32768 (32768-60999 on Amazon Linux 2023), Docker's ends at
65535; this covers both. The node security group's own rule and the load
balancer's rules to the nodes must open the same range."""


# --- the origin header --------------------------------------------------------------

ORIGIN_HEADER = "X-Origin-Verify"
"""The default name of the header CloudFront adds to requests to the load balancer,
holding the origin secret; the load balancer's rules require it."""

ORIGIN_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,40}$")


def check_origin_header_name(value: str) -> str:
    """The name of the secret header CloudFront adds and the load balancer requires, checked.

    Both ends must accept it: a name CloudFront or the load balancer reserves
    for itself never reaches the other.
    """
    lowered = value.lower()
    if not ORIGIN_HEADER_NAME.match(value):
        raise ValueError(f"{value!r}: use 1 to 40 letters, digits or hyphens")
    if lowered.startswith(("x-amz-", "x-amzn-", "x-edge-")) or lowered in {
        "host",
        "authorization",
        "cookie",
        "connection",
        "content-length",
        "transfer-encoding",
        "x-forwarded-for",
    }:
        raise ValueError(f"{value!r}: CloudFront or the load balancer reserves that header")
    return value
