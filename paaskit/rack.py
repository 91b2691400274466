"""Rack: the platform apps run on, composed from paaskit's components; RackRef: one read from another stack.

`RackArgs` (a few rack-wide settings and a section per component), `Rack`,
`RackInfo` (what an app needs from a rack, and the stack outputs that carry
it) and `RackRef`. What it makes, its settings, costs and runbook: docs/rack.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
from pydantic import Field, field_validator, model_validator

from ._component import Child, Component, merged, one
from .cdn import Cdn, CdnArgs, CdnSettings
from .cluster import SpotCluster, SpotClusterArgs, SpotClusterSettings
from .config import ComponentArgs, Input, RetentionDays, Transform, derive
from .database import Database, DatabaseArgs, DatabaseSettings
from .loadbalancer import LoadBalancer, LoadBalancerArgs, LoadBalancerSettings
from .network import Network, NetworkArgs
from .tags import RACK_TAG

__all__ = [
    "HTTP_ORIGIN_REASON",
    "Rack",
    "RackArgs",
    "RackInfo",
    "RackRef",
    "SharedDatabase",
]

_NAT_FREE_ENDPOINTS = {"ecs", "ecr", "logs"}


class RackArgs(ComponentArgs):
    """Settings of a Rack: a few rack-wide ones, then one section per component."""

    domain: str | None = None
    """The rack's domain (`apps.example.com`, taken in lowercase and without a final dot,
    as AWS stores it): the load balancer and the CDN get
    certificates for it and `*.` it, and each web service is served at
    `<app>-<service>.<domain>`. Needs `zone_name` (or certificates of your own
    in `loadbalancer` and `cdn`). Default none: CloudFront's own domain, one app."""

    zone_name: str | None = None
    """The public Route 53 zone that holds `domain`, for DNS validation and alias
    records. Default none."""

    throwaway: bool = False
    """This rack is disposable: `pulumi destroy` may delete its data (database,
    buckets, log buckets) and deletion protection is off. Default off: data
    survives a destroy unless you ask."""

    log_retention_days: RetentionDays = 30
    """Days to keep the logs of apps deployed on this rack. Default 30."""

    network: NetworkArgs = Field(default_factory=lambda: NetworkArgs())
    """The VPC, subnets and NAT. Default: 10.0.0.0/16 over two zones, one NAT gateway."""

    cluster: SpotClusterSettings = Field(default_factory=lambda: SpotClusterSettings())
    """The ECS cluster on spot. Default: t3.medium and its equivalents, 2 to 10
    nodes, one of them on-demand."""

    loadbalancer: LoadBalancerSettings = Field(default_factory=lambda: LoadBalancerSettings())
    """The load balancer: TLS policy, logs, quotas. Its network, nodes and domain
    come from the rack, and so do its `ipv6` and `throwaway` (the rack's)."""

    cdn: CdnSettings = Field(default_factory=lambda: CdnSettings())
    """The CDN: price class, WAF, logging, headers. Its origin and domains come
    from the rack, and so does its `throwaway` (the rack's)."""

    database: DatabaseSettings | None = None
    """A database shared by the apps on this rack. Default none: apps declare
    their own `postgres` resources, each its own database."""

    @field_validator("domain", "zone_name")
    @classmethod
    def _normalise_domain(cls, value: str | None) -> str | None:
        # As AWS stores names: DNS is case-insensitive (ACM, CloudFront and Route 53 keep
        # them lowercase) and a fully qualified name's final dot (`apps.example.com.`)
        # is not part of it.
        if value is None:
            return None
        name = value.strip().lower()
        return name[:-1] if name.endswith(".") else name

    @model_validator(mode="after")
    def _check_rack(self) -> RackArgs:
        if self.domain is not None:
            has_lb_cert = self.loadbalancer.certificate_arn is not None
            has_cdn_cert = self.cdn.certificate_arn is not None
            if self.zone_name is None and not (has_lb_cert and has_cdn_cert):
                raise ValueError(
                    "domain: needs its Route 53 zone (zone_name) to issue certificates, or a "
                    "certificate of your own for both loadbalancer.certificate_arn and "
                    "cdn.certificate_arn (in us-east-1)"
                )
            if self.zone_name is not None and not (
                self.domain == self.zone_name or self.domain.endswith("." + self.zone_name)
            ):
                raise ValueError(f"domain: {self.domain!r} is not in the zone {self.zone_name!r}")
        elif self.zone_name is not None:
            raise ValueError("zone_name: only used with a domain; set domain too")
        else:
            for section in ("loadbalancer", "cdn"):
                if getattr(self, section).certificate_arn is not None:
                    raise ValueError(
                        f"{section}.certificate_arn: only used with a domain; set domain too"
                    )
            if not self.loadbalancer.cloudfront_only:
                raise ValueError(
                    "loadbalancer.cloudfront_only: without a domain the load balancer serves "
                    "plain HTTP, which must only face CloudFront; set a domain or leave "
                    "cloudfront_only on"
                )
        if self.database is not None and not self.network.private_subnets:
            raise ValueError(
                "database: lives in the private subnets, but network.private_subnets is off"
            )
        if self.network.nat == "none" and not set(self.network.endpoints) >= _NAT_FREE_ENDPOINTS:
            missing = ", ".join(sorted(_NAT_FREE_ENDPOINTS - set(self.network.endpoints)))
            raise ValueError(
                f"network.nat: with 'none', nodes reach ECS, ECR and CloudWatch Logs only "
                f"through endpoints; add {missing} to network.endpoints, or choose a NAT"
            )
        return self


class Rack(Component):
    """A self-contained platform: network, spot cluster, load balancer, CDN, and a shared database.

    Creates: a `Network`; a `SpotCluster` in its private subnets; a
    `LoadBalancer` in its public subnets that admits CloudFront only and
    reaches the nodes on their dynamic ports; a `Cdn` in front of it that
    serves each host's static files from a private bucket; and, when
    `database` is set, a `Database` that admits the nodes only.

    `outputs` holds everything an app needs, by the names `RackRef` reads; a
    stack exports them all.
    """

    TYPE = "paaskit:rack:Rack"
    CHILDREN: ClassVar[Mapping[str, Child]] = {
        "network": one(Network),
        "cluster": one(SpotCluster),
        "loadbalancer": one(LoadBalancer),
        "cdn": one(Cdn),
        "database": one(Database),
    }
    """Its components by key (the keys of `nodes` and `transform`)."""

    def __init__(
        self, name: str, args: RackArgs | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = args or RackArgs()
        super().__init__(name, args, opts)
        self.args = args
        # Every resource of the rack carries its name, whichever component made it.
        shared_tags = {**args.tags, RACK_TAG: name}

        self.network = self.child(
            "network",
            Network,
            "network",
            args=derive(NetworkArgs, args.network, tags={**shared_tags, **args.network.tags}),
        )
        private_subnets = [s.id for s in self.network.private_subnets]
        # Nodes boot and register with ECS at once: their subnets must have routes out.
        routed_subnets = self.network.routed_private_subnet_ids
        cluster_settings = derive(
            SpotClusterSettings, args.cluster, tags={**shared_tags, **args.cluster.tags}
        )
        self.cluster = self.child(
            "cluster",
            SpotCluster,
            "cluster",
            args=SpotClusterArgs.from_settings(
                cluster_settings, vpc_id=self.network.vpc_id, subnet_ids=routed_subnets
            ),
        )
        lb_settings = derive(
            LoadBalancerSettings,
            args.loadbalancer,
            tags={**shared_tags, **args.loadbalancer.tags},
            ipv6=args.network.ipv6,
            throwaway=args.throwaway,
        )
        self.loadbalancer = self.child(
            "loadbalancer",
            LoadBalancer,
            "lb",
            args=LoadBalancerArgs.from_settings(
                lb_settings,
                vpc_id=self.network.vpc_id,
                public_subnet_ids=[s.id for s in self.network.public_subnets],
                node_security_group_id=self.cluster.node_security_group_id,
                domain=args.domain,
                zone_name=args.zone_name,
            ),
        )
        lb = self.loadbalancer
        cdn_transforms = dict(args.cdn.transform)
        if not args.domain:
            cdn_transforms["distribution"] = _waive_http_origin(cdn_transforms.get("distribution"))
        cdn_settings = derive(
            CdnSettings,
            args.cdn,
            tags={**shared_tags, **args.cdn.tags},
            transform=cdn_transforms,
            throwaway=args.throwaway,
        )
        self.cdn = self.child(
            "cdn",
            Cdn,
            "cdn",
            args=CdnArgs.from_settings(
                cdn_settings,
                origin_domain=lb.dns_name,
                origin_protocol=lb.origin_protocol,
                origin_secret=lb.origin_secret,
                origin_header_name=lb.origin_header_name,
                domains=[args.domain, f"*.{args.domain}"] if args.domain else [],
                zone_name=args.zone_name,
                # The load balancer's certificate already makes the (identical) validation records.
                dns_validation_records=not (
                    args.domain and args.zone_name and args.loadbalancer.certificate_arn is None
                ),
                static_by_host=True,
            ),
        )
        self.database: Database | None = None
        if args.database is not None:
            db_settings = derive(
                DatabaseSettings,
                args.database,
                tags={**shared_tags, **args.database.tags},
                throwaway=args.throwaway or args.database.throwaway,
            )
            self.database = self.child(
                "database",
                Database,
                "db",
                args=DatabaseArgs.from_settings(
                    db_settings,
                    vpc_id=self.network.vpc_id,
                    subnet_ids=private_subnets,
                    allowed_security_group_ids=[self.cluster.node_security_group_id],
                ),
            )

        self.info = RackInfo(
            name=name,
            vpc_id=self.network.vpc_id,
            private_subnet_ids=self.network.private_subnet_ids,
            cluster_name=self.cluster.cluster_name,
            cluster_arn=self.cluster.cluster_arn,
            capacity_provider=self.cluster.capacity_provider_name,
            docker_platform=self.cluster.docker_platform,
            node_security_group_id=self.cluster.node_security_group_id,
            listener_arn=lb.listener_arn,
            load_balancer_arn_suffix=lb.arn_suffix,
            origin_header_name=lb.origin_header_name,
            origin_secret=lb.origin_secret,
            domain=args.domain or "",
            cdn_domain_name=self.cdn.domain_name,
            static_bucket=self.cdn.bucket_name,
            static_paths=list(self.cdn.static_paths),
            static_hosts_arn=self.cdn.static_hosts_arn or "",
            log_retention_days=args.log_retention_days,
            database=_shared_database(self.database),
        )
        """What an app needs from this rack, for `App(..., rack=rack)`."""
        self.outputs = self.info.to_outputs()
        """Everything an app needs, by the names `RackRef` reads: export them all."""
        self.register_outputs(self.outputs)


HTTP_ORIGIN_REASON = (
    "No domain: CloudFront reaches the load balancer over HTTP. Viewers still get HTTPS "
    "and the load balancer admits only CloudFront with the secret header. "
    "Set domain for TLS end to end"
)
"""Why a rack without a domain accepts policy rule PK-CF-007 (HTTPS to the origin)."""


def _waive_http_origin(then: Transform | None) -> Transform:
    """A transform that marks the distribution's HTTP origin as a deliberate, explained choice,
    then applies the user's own transform of the distribution (`then`), if any."""

    def transform(kwargs: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        kwargs["tags"] = {
            **(kwargs.get("tags") or {}),
            "paaskit:waive:PK-CF-007": HTTP_ORIGIN_REASON,
        }
        if isinstance(then, Mapping):
            kwargs.update(merged(kwargs, then))
        elif then is not None:
            then(kwargs, opts)

    return transform


@dataclass(frozen=True)
class SharedDatabase:
    """The rack's shared database, as an app connects to it."""

    host: Input
    port: pulumi.Input[int]
    name: Input
    username: Input
    secret_arn: Input
    security_group_id: Input
    secret_kms_key_arn: Input | None = None
    """The customer KMS key that encrypts the secret, or None for Secrets Manager's own
    (`aws/secretsmanager`). Apps linked to the database decrypt with it."""


def _shared_database(db: Database | None) -> SharedDatabase | None:
    if db is None:
        return None
    return SharedDatabase(
        host=db.address,
        port=db.port,
        name=db.database_name,
        username=db.username,
        secret_arn=db.master_user_secret_arn,
        security_group_id=db.security_group_id,
        secret_kms_key_arn=db.args.master_user_secret_kms_key_id,
    )


@dataclass(frozen=True)
class RackInfo:
    """What an app needs from a rack: the same whether the rack is in this stack or another.

    Every value may be a `pulumi.Output`. `Rack.info` makes one from a rack in
    this program; `RackRef(stack).info` reads one from another stack's outputs.
    """

    name: pulumi.Input[str]
    vpc_id: Input
    private_subnet_ids: pulumi.Input[list[str]]
    cluster_name: Input
    cluster_arn: Input
    capacity_provider: Input
    docker_platform: pulumi.Input[str]
    node_security_group_id: Input
    listener_arn: Input
    load_balancer_arn_suffix: Input
    origin_header_name: pulumi.Input[str]
    origin_secret: Input | None
    domain: pulumi.Input[str]
    """The rack's domain, or "" when it has none."""
    cdn_domain_name: Input
    static_bucket: Input
    static_paths: pulumi.Input[list[str]]
    static_hosts_arn: Input
    """The CDN's key value store of host -> static files prefix (see `Cdn.static_by_host`)."""
    log_retention_days: pulumi.Input[int]
    database: SharedDatabase | None = None

    OUTPUT_NAMES: ClassVar[dict[str, str]] = {
        "name": "rackName",
        "vpc_id": "vpcId",
        "private_subnet_ids": "privateSubnetIds",
        "cluster_name": "clusterName",
        "cluster_arn": "clusterArn",
        "capacity_provider": "capacityProviderName",
        "docker_platform": "dockerPlatform",
        "node_security_group_id": "nodeSecurityGroupId",
        "listener_arn": "listenerArn",
        "load_balancer_arn_suffix": "loadBalancerArnSuffix",
        "origin_header_name": "originHeaderName",
        "origin_secret": "originSecret",
        "domain": "domain",
        "cdn_domain_name": "cdnDomainName",
        "static_bucket": "staticBucketName",
        "static_paths": "staticPaths",
        "static_hosts_arn": "staticHostsArn",
        "log_retention_days": "logRetentionDays",
    }
    """The stack output that carries each field (the names are a contract between stacks)."""

    DATABASE_OUTPUTS: ClassVar[dict[str, str]] = {
        "host": "databaseHost",
        "port": "databasePort",
        "name": "databaseName",
        "username": "databaseUsername",
        "secret_arn": "databaseSecretArn",
        "security_group_id": "databaseSecurityGroupId",
        "secret_kms_key_arn": "databaseSecretKmsKeyArn",
    }

    def to_outputs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field, output in self.OUTPUT_NAMES.items():
            value = getattr(self, field)
            if value is not None:
                out[output] = pulumi.Output.secret(value) if field == "origin_secret" else value
        if self.database is not None:
            for field, output in self.DATABASE_OUTPUTS.items():
                value = getattr(self.database, field)
                if value is not None:
                    out[output] = value
        return out


class RackRef:
    """A rack made by another stack, read through its outputs (a Pulumi StackReference).

    `RackRef("organization/paaskit-rack/prod").info` is what `App` needs, so
    apps can live in their own stacks and repositories, owned by other teams.
    The offline plan answers the reference by planning the rack's project too
    (or from `--ref STACK=FILE`).
    """

    def __init__(self, stack: str, opts: pulumi.ResourceOptions | None = None) -> None:
        self.stack = stack
        self.reference = pulumi.StackReference(stack, opts=opts)
        ref = self.reference
        values: dict[str, Any] = {
            field: ref.require_output(output)
            for field, output in RackInfo.OUTPUT_NAMES.items()
            if field != "origin_secret"
        }
        values["origin_secret"] = ref.get_output("originSecret")
        database = SharedDatabase(
            **{field: ref.get_output(output) for field, output in RackInfo.DATABASE_OUTPUTS.items()}
        )
        self.info = RackInfo(**values, database=database)
        """What `App` needs; `database` holds Outputs that are None when the rack has none."""
