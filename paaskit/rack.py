"""Rack: the platform apps run on, composed from paaskit's components; RackRef: one read from another stack.

`RackArgs` (a few rack-wide settings and a section per component), `Rack`,
`RackInfo` (what an app needs from a rack, and the stack outputs that carry
it) and `RackRef`. What it makes, its settings, costs and runbook: docs/rack.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import pulumi
from pydantic import Field, field_validator, model_validator

from ._component import Child, Component, merged, one
from .cdn import Cdn, CdnArgs, CdnSettings, Edge, EdgeArgs, EdgeSettings
from .cluster import ECS_CONFIG, SpotCluster, SpotClusterArgs, SpotClusterSettings
from .config import ComponentArgs, ConfigError, Input, RetentionDays, Transform, derive
from .database import Database, DatabaseArgs, DatabaseSettings
from .instance_types import instance_type
from .loadbalancer import LoadBalancer, LoadBalancerArgs, LoadBalancerSettings
from .network import ENDPOINT_SERVICES, Network, NetworkArgs, endpoint_services
from .tags import RACK_TAG

__all__ = [
    "HTTP_ORIGIN_REASON",
    "EdgeInfo",
    "LegacyEdge",
    "Rack",
    "RackArgs",
    "RackInfo",
    "RackRef",
    "SharedDatabase",
]

_NAT_FREE_ENDPOINTS = ("ecr", "ecs", "logs", "ssmmessages")
"""The interface endpoints a rack without NAT needs (`ssm` covers `ssmmessages` too)."""

LegacyEdge = Literal["keep", "retire"]
"""What a rack does with the public load balancer and shared distribution of racks
deployed before the edge (docs/rack.md, "Moving a rack to the internal load balancer"):
`keep` them as they were, serving apps not yet moved; `retire` them (unprotected, and
the domain's names handed to the new edge) so that turning the setting off deletes them."""

_SHARED_CDN_FIELDS = (
    "price_class",
    "web_acl_id",
    "origin_read_timeout",
    "certificate_arn",
    "noncurrent_version_days",
    "hsts_max_age",
    "hsts_include_subdomains",
    "hsts_preload",
    "frame_options",
)
"""Settings the new edge and a legacy rack distribution share: set once, in `edge`."""


class RackArgs(ComponentArgs):
    """Settings of a Rack: a few rack-wide ones, then one section per component."""

    domain: str | None = None
    """The rack's domain (`apps.example.com`, taken in lowercase and without a final dot,
    as AWS stores it): a certificate for it and `*.domain` in us-east-1, and each web
    service without a domain of its own is also served at `<app>-<service>.<domain>`.
    Needs `zone_name` (or a certificate of your own in `edge.certificate_arn`). Default
    none: every web service at its own `*.cloudfront.net` name."""

    zone_name: str | None = None
    """The public Route 53 zone that holds `domain`, for DNS validation and alias
    records; apps in the same program may also make their own domains' records in
    it. Default none."""

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
    """The load balancer: internal, reached by CloudFront only; logs, quotas, the
    origin secret. Its network and nodes come from the rack, and so do its `ipv6`
    and `throwaway` (the rack's)."""

    edge: EdgeSettings = Field(default_factory=lambda: EdgeSettings())
    """What every app's distributions share: price class, WAF, timeout, headers,
    CloudFront logs, the domain's certificate. Its `throwaway` is the rack's."""

    cdn: CdnSettings = Field(default_factory=lambda: CdnSettings())
    """The legacy rack distribution's own settings (`static_paths`, `bucket_name`,
    `logging` to S3): used only with `legacy_edge`. What it shares with the new
    edge is set in `edge`."""

    legacy_edge: LegacyEdge | None = None
    """Keep the public load balancer and shared distribution of a rack deployed before
    the edge beside the new one, while its apps move (`keep`), then let them go
    (`retire`, then unset). Default none: a rack deployed now has no legacy."""

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
        legacy = self.legacy_edge is not None
        for key in sorted(self.cdn.model_fields_set - {"tags", "transform"}):
            if key in _SHARED_CDN_FIELDS:
                raise ValueError(
                    f"cdn.{key}: the new edge and a legacy distribution share it: set edge.{key}"
                )
            if not legacy:
                raise ValueError(
                    f"cdn.{key}: only the legacy rack distribution uses it (legacy_edge); "
                    "apps have distributions and buckets of their own now"
                )
        if not legacy:
            if self.loadbalancer.certificate_arn is not None:
                raise ValueError(
                    "loadbalancer.certificate_arn: the load balancer is internal and serves "
                    "HTTP to CloudFront's VPC origin; certificates belong to CloudFront "
                    "(edge.certificate_arn)"
                )
            if not self.loadbalancer.cloudfront_only:
                raise ValueError(
                    "loadbalancer.cloudfront_only: the rack's load balancer is internal, "
                    "reached through CloudFront only; leave cloudfront_only on"
                )
        if self.domain is not None:
            has_edge_cert = self.edge.certificate_arn is not None
            has_lb_cert = self.loadbalancer.certificate_arn is not None
            if self.zone_name is None and not has_edge_cert:
                raise ValueError(
                    "domain: needs its Route 53 zone (zone_name) to issue certificates, or a "
                    "certificate of your own in edge.certificate_arn (in us-east-1)"
                )
            if self.zone_name is None and legacy and not has_lb_cert:
                raise ValueError(
                    "domain: the legacy load balancer needs the zone (zone_name) or "
                    "loadbalancer.certificate_arn"
                )
            if self.zone_name is not None and not (
                self.domain == self.zone_name or self.domain.endswith("." + self.zone_name)
            ):
                raise ValueError(f"domain: {self.domain!r} is not in the zone {self.zone_name!r}")
        elif self.zone_name is not None:
            raise ValueError("zone_name: only used with a domain; set domain too")
        else:
            for key in ("loadbalancer.certificate_arn", "edge.certificate_arn"):
                section, field = key.split(".")
                if getattr(getattr(self, section), field) is not None:
                    raise ValueError(f"{key}: only used with a domain; set domain too")
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
        if self.database is not None and self.database.engine != "postgres":
            raise ValueError(
                f"database.engine: {self.database.engine!r}; the rack's shared database is "
                "PostgreSQL (apps link it as such); give an app its own mysql or mariadb resource"
            )
        if self.network.nat == "none":
            covered = set(endpoint_services(self.network.endpoints))
            missing = [
                name for name in _NAT_FREE_ENDPOINTS if not set(ENDPOINT_SERVICES[name]) <= covered
            ]
            if missing:
                raise ValueError(
                    "network.nat: with 'none', nodes reach ECS, ECR and CloudWatch Logs, and "
                    "ECS Exec's sessions reach Systems Manager (paaskit exec), only through "
                    f"interface endpoints; add {', '.join(missing)} to network.endpoints, or "
                    "choose a NAT"
                )
        return self


class Rack(Component):
    """A self-contained platform: network, spot cluster, internal load balancer, edge, and a shared database.

    Creates: a `Network`; a `SpotCluster` in its private subnets; an internal
    `LoadBalancer` in the private subnets that reaches the nodes on their
    dynamic ports and admits only CloudFront's VPC origin; the `Edge` every
    app's distributions share (the VPC origin, policies, CloudFront's log
    destination, the domain's certificate and distribution, the claims
    registry); and, when `database` is set, a `Database` that admits the
    nodes only. With `legacy_edge`, also the public load balancer and shared
    `Cdn` of a rack deployed before the edge, exactly as they were.

    `outputs` holds everything an app needs, by the names `RackRef` reads; a
    stack exports them all.
    """

    TYPE = "paaskit:rack:Rack"
    CHILDREN: ClassVar[Mapping[str, Child]] = {
        "network": one(Network),
        "cluster": one(SpotCluster),
        "legacy_loadbalancer": one(LoadBalancer),
        "loadbalancer": one(LoadBalancer),
        "edge": one(Edge),
        "cdn": one(Cdn),
        "database": one(Database),
    }
    """Its components by key (the keys of `nodes` and `transform`); `legacy_loadbalancer`
    and `cdn` exist only with `legacy_edge`."""

    def __init__(
        self, name: str, args: RackArgs | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = args or RackArgs()
        super().__init__(name, args, opts)
        self.args = args
        # Every resource of the rack carries its name, whichever component made it.
        self._shared_tags = {**args.tags, RACK_TAG: name}

        self.network = self.child(
            "network",
            Network,
            "network",
            args=derive(NetworkArgs, args.network, tags=self._section_tags(args.network)),
        )
        private_subnets = [s.id for s in self.network.private_subnets]
        # Nodes boot and register with ECS at once: their subnets must have routes out.
        routed_subnets = self.network.routed_private_subnet_ids
        cluster_settings = derive(
            SpotClusterSettings, args.cluster, tags=self._section_tags(args.cluster)
        )
        self.cluster = self.child(
            "cluster",
            SpotCluster,
            "cluster",
            args=SpotClusterArgs.from_settings(
                cluster_settings, vpc_id=self.network.vpc_id, subnet_ids=routed_subnets
            ),
        )
        self.legacy_loadbalancer: LoadBalancer | None = None
        self.cdn: Cdn | None = None
        if args.legacy_edge is not None:
            self.legacy_loadbalancer = self._legacy_loadbalancer()
        lb_settings = derive(
            LoadBalancerSettings,
            args.loadbalancer,
            tags=self._section_tags(args.loadbalancer),
            ipv6=args.network.ipv6,
            throwaway=args.throwaway,
            cloudfront_only=True,
            certificate_arn=None,
        )
        self.loadbalancer = self.child(
            "loadbalancer",
            LoadBalancer,
            "ilb",
            args=LoadBalancerArgs.from_settings(
                lb_settings,
                vpc_id=self.network.vpc_id,
                internal=True,
                private_subnet_ids=private_subnets,
                node_security_group_id=self.cluster.node_security_group_id,
            ),
        )
        if args.legacy_edge is not None:
            self.cdn = self._legacy_cdn()
        lb = self.loadbalancer
        edge_settings = derive(
            EdgeSettings,
            args.edge,
            tags=self._section_tags(args.edge),
            throwaway=args.throwaway,
        )
        self.edge = self.child(
            "edge",
            Edge,
            "edge",
            args=EdgeArgs.from_settings(
                edge_settings,
                load_balancer_arn=lb.arn,
                load_balancer_dns_name=lb.dns_name,
                rack_name=name,
                domain=args.domain,
                zone_name=args.zone_name,
                # While the legacy distribution holds the domain's names, it keeps them;
                # retiring it hands them over (it lets them go first).
                serve_domain=args.legacy_edge != "keep",
                after=[self.cdn.distribution] if self.cdn is not None else [],
            ),
        )
        self.database: Database | None = None
        if args.database is not None:
            db_settings = derive(
                DatabaseSettings,
                args.database,
                tags=self._section_tags(args.database),
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

        # Apps built before the edge read these; while a legacy edge serves, they are its.
        served_by = self.legacy_loadbalancer or lb
        cdn_domain: Input | None = (
            self.cdn.domain_name if self.cdn is not None else self.edge.domain_name
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
            domain=args.domain or "",
            log_retention_days=args.log_retention_days,
            edge=EdgeInfo(
                listener_arn=lb.listener_arn,
                load_balancer_arn_suffix=lb.arn_suffix,
                origin_domain_name=self.edge.origin_domain_name,
                vpc_origin_id=self.edge.vpc_origin_id,
                origin_access_control_id=self.edge.origin_access_control_id,
                response_headers_policy_id=self.edge.response_headers_policy_id,
                log_destination_arn=self.edge.log_destination_arn or "",
                certificate_arn=self.edge.certificate_arn or "",
                zone_name=args.zone_name or "",
                zone_id=self.edge.zone_id or "",
                registry_function_name=self.edge.registry_function_name,
                price_class=args.edge.price_class,
                web_acl_id=args.edge.web_acl_id or "",
                origin_read_timeout=args.edge.origin_read_timeout,
                static_version_days=args.edge.noncurrent_version_days,
                origin_header_name=lb.origin_header_name,
                origin_secret=lb.origin_secret,
                max_rules=args.loadbalancer.max_rules,
                idle_timeout=args.loadbalancer.idle_timeout,
            ),
            nodes=self._nodes(),
            listener_arn=served_by.listener_arn,
            load_balancer_arn_suffix=served_by.arn_suffix,
            origin_header_name=served_by.origin_header_name,
            origin_secret=served_by.origin_secret,
            cdn_domain_name=cdn_domain,
            static_bucket=self.cdn.bucket_name if self.cdn is not None else None,
            static_paths=list(self.cdn.static_paths) if self.cdn is not None else None,
            static_hosts_arn=(self.cdn.static_hosts_arn or "") if self.cdn is not None else None,
            database=_shared_database(self.database),
        )
        """What an app needs from this rack, for `App(..., rack=rack)`."""
        self.outputs = self.info.to_outputs()
        """Everything an app needs, by the names `RackRef` reads: export them all."""
        self.register_outputs(self.outputs)

    def _section_tags(self, section: ComponentArgs) -> dict[str, str]:
        return {**self._shared_tags, **section.tags}

    def _nodes(self) -> pulumi.Output[dict[str, Any]]:
        """What the rack's nodes are, for the cost of an app read from its own plan: its
        share of them, by the CPU and memory its tasks reserve (`paaskit cost`); and for an
        app's checks, the memory of each node the ECS agent keeps from tasks."""
        settings = self.args.cluster
        reserved = {**ECS_CONFIG, **settings.ecs_config}.get("ECS_RESERVED_MEMORY", "0").strip()

        def describe(types: list[str]) -> dict[str, Any]:
            first = instance_type(types[0]) if types else None
            return {
                "instanceType": types[0] if types else "",
                "instanceTypes": list(types),
                "vcpus": first.vcpus if first else 0,
                "memoryMib": first.memory_mib if first else 0,
                "minNodes": settings.min_size,
                "maxNodes": settings.max_size,
                "onDemandBase": settings.on_demand_base,
                "onDemandPercentage": settings.on_demand_percentage,
                "reservedMemoryMib": int(reserved) if reserved.isdigit() else 0,
            }

        return self.cluster.instance_types.apply(describe)

    # --- a rack deployed before the edge ----------------------------------------

    def _legacy_loadbalancer(self) -> LoadBalancer:
        """The public load balancer as it was (same names, same inputs), while apps move."""
        args = self.args
        settings = derive(
            LoadBalancerSettings,
            args.loadbalancer,
            tags=self._section_tags(args.loadbalancer),
            ipv6=args.network.ipv6,
            throwaway=args.throwaway,
            transform=_keep_records(args.loadbalancer.transform, "validation_record"),
        )
        if args.legacy_edge == "retire":
            settings = derive(LoadBalancerSettings, settings, deletion_protection=False)
        return self.child(
            "legacy_loadbalancer",
            LoadBalancer,
            "lb",
            args=LoadBalancerArgs.from_settings(
                settings,
                vpc_id=self.network.vpc_id,
                public_subnet_ids=[s.id for s in self.network.public_subnets],
                node_security_group_id=self.cluster.node_security_group_id,
                domain=args.domain,
                zone_name=args.zone_name,
            ),
        )

    def _legacy_cdn(self) -> Cdn:
        """The shared distribution as it was (same names, same inputs), while apps move.

        Retiring, it lets the domain's names go, for the new edge to take.
        """
        args = self.args
        lb = self.legacy_loadbalancer
        assert lb is not None
        transforms = _keep_records(args.cdn.transform, "validation_record", "dns_record")
        if not args.domain:
            transforms["distribution"] = _waive_http_origin(transforms.get("distribution"))
        shared = {
            f: getattr(args.edge, f) for f in _SHARED_CDN_FIELDS if f in args.edge.model_fields_set
        }
        settings = derive(
            CdnSettings,
            args.cdn,
            tags=self._section_tags(args.cdn),
            transform=transforms,
            throwaway=args.throwaway,
            **shared,
        )
        with_names = args.domain is not None and args.legacy_edge == "keep"
        return self.child(
            "cdn",
            Cdn,
            "cdn",
            args=CdnArgs.from_settings(
                settings,
                origin_domain=lb.dns_name,
                origin_protocol=lb.origin_protocol,
                origin_secret=lb.origin_secret,
                origin_header_name=lb.origin_header_name,
                domains=[args.domain, f"*.{args.domain}"] if with_names and args.domain else [],
                zone_name=args.zone_name if with_names else None,
                # The load balancer's certificate already makes the (identical) validation records.
                dns_validation_records=not (
                    args.domain and args.zone_name and args.loadbalancer.certificate_arn is None
                ),
                static_by_host=True,
                # Its certificate stays with the provider it was made with.
                own_us_east_1_provider=True,
            ),
        )


def _keep_records(then: Mapping[str, Transform], *keys: str) -> dict[str, Transform]:
    """The user's transforms, with DNS records kept in the zone when their resources go.

    A legacy component's validation and alias records name what the new edge
    writes too (the same certificate validation record, `*.domain`): when the
    legacy component is deleted, its records must stay, owned by the edge.
    """
    transforms = dict(then)

    def keep(hook: Transform | None) -> Transform:
        def transform(kwargs: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
            opts.retain_on_delete = True
            if isinstance(hook, Mapping):
                kwargs.update(merged(kwargs, hook))
            elif hook is not None:
                hook(kwargs, opts)

        return transform

    for key in keys:
        transforms[key] = keep(transforms.get(key))
    return transforms


HTTP_ORIGIN_REASON = (
    "No domain: CloudFront reaches the load balancer over HTTP. Viewers still get HTTPS "
    "and the load balancer admits only CloudFront with the secret header. "
    "Set domain for TLS end to end"
)
"""Why a legacy rack distribution without a domain accepts policy rule PK-CF-007
(HTTPS to a custom origin). The new edge needs no waiver: its origin is a VPC origin."""


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
class EdgeInfo:
    """What an app's distributions and routes need from the rack's edge.

    Every value may be a `pulumi.Output` (read from another stack). Strings that
    may be absent are "" (no log destination, no domain's certificate, no zone).
    """

    listener_arn: Input
    """The internal load balancer's listener, which never changes: every route's rule."""
    load_balancer_arn_suffix: Input
    """The internal load balancer, as CloudWatch names it (request-count autoscaling)."""
    origin_domain_name: Input
    """The internal load balancer's DNS name: the domain of every distribution's VPC origin."""
    vpc_origin_id: Input
    origin_access_control_id: Input
    response_headers_policy_id: Input
    log_destination_arn: Input
    """CloudFront's log delivery destination (us-east-1), or "" with logging off."""
    certificate_arn: Input
    """The rack domain's certificate in us-east-1 (`domain`, `*.domain`), or ""."""
    zone_name: pulumi.Input[str]
    """The rack's Route 53 zone, or ""."""
    zone_id: Input
    registry_function_name: Input
    """The claims registry every app invokes while it deploys."""
    price_class: pulumi.Input[str]
    web_acl_id: Input
    """A WAFv2 web ACL for every distribution, or ""."""
    origin_read_timeout: pulumi.Input[int]
    static_version_days: pulumi.Input[int]
    origin_header_name: pulumi.Input[str]
    origin_secret: Input | None
    """The secret header value the load balancer's rules require (a Pulumi secret)."""
    max_rules: pulumi.Input[int] = 100
    """Listener rules the load balancer may have: the claims registry refuses more."""
    idle_timeout: pulumi.Input[int | str] = 60
    """Seconds the load balancer keeps a connection without traffic: it cuts a request
    waiting longer, so no web service's `timeout` goes beyond it. "" from a rack deployed
    before it was an output (then AWS's default, 60, is assumed)."""

    KEYS: ClassVar[dict[str, str]] = {
        "listener_arn": "listenerArn",
        "load_balancer_arn_suffix": "loadBalancerArnSuffix",
        "origin_domain_name": "originDomainName",
        "vpc_origin_id": "vpcOriginId",
        "origin_access_control_id": "originAccessControlId",
        "response_headers_policy_id": "responseHeadersPolicyId",
        "log_destination_arn": "logDestinationArn",
        "certificate_arn": "certificateArn",
        "zone_name": "zoneName",
        "zone_id": "zoneId",
        "registry_function_name": "registryFunctionName",
        "price_class": "priceClass",
        "web_acl_id": "webAclId",
        "origin_read_timeout": "originReadTimeout",
        "static_version_days": "staticVersionRetentionDays",
        "origin_header_name": "originHeaderName",
        "max_rules": "maxRules",
        "idle_timeout": "loadBalancerIdleTimeout",
    }
    """The keys of the rack's `edge` output (a contract between stacks); the secret is
    the separate output `edgeOriginSecret`."""

    def to_output(self) -> pulumi.Output[dict[str, Any]]:
        return pulumi.Output.all(**{key: getattr(self, field) for field, key in self.KEYS.items()})


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
    domain: pulumi.Input[str]
    """The rack's domain, or "" when it has none."""
    log_retention_days: pulumi.Input[int]
    edge: EdgeInfo
    """The internal load balancer and the edge: what an app's routes and distributions use."""
    nodes: pulumi.Input[dict[str, Any]] | None = None
    """The rack's nodes (`instanceType`, `instanceTypes`, `maxNodes`, `reservedMemoryMib`,
    ...), for an app's share of their cost and its check that its tasks fit them."""
    listener_arn: Input | None = None
    """The listener apps built before the edge attach their rules to: a legacy load
    balancer's while the rack keeps one (`legacy_edge`), else the internal one's."""
    load_balancer_arn_suffix: Input | None = None
    origin_header_name: pulumi.Input[str] | None = None
    origin_secret: Input | None = None
    cdn_domain_name: Input | None = None
    """A legacy rack distribution's domain, or the distribution `*.domain` points at."""
    static_bucket: Input | None = None
    """A legacy rack distribution's shared bucket (apps have their own now)."""
    static_paths: pulumi.Input[list[str]] | None = None
    static_hosts_arn: Input | None = None
    """A legacy rack distribution's key value store of host -> static files prefix."""
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
        "nodes": "nodes",
    }
    """The stack output that carries each field (the names are a contract between stacks);
    the edge is the output `edge` (`EdgeInfo.KEYS`) and its secret `edgeOriginSecret`."""

    REQUIRED: ClassVar[tuple[str, ...]] = (
        "name",
        "vpc_id",
        "private_subnet_ids",
        "cluster_name",
        "cluster_arn",
        "capacity_provider",
        "docker_platform",
        "node_security_group_id",
        "domain",
        "log_retention_days",
    )
    """The outputs every rack has; the others may be absent (a rack without a legacy edge)."""

    SECRET_OUTPUTS: ClassVar[frozenset[str]] = frozenset({"originSecret", "edgeOriginSecret"})

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
                out[output] = (
                    pulumi.Output.secret(value) if output in self.SECRET_OUTPUTS else value
                )
        out["edge"] = self.edge.to_output()
        if self.edge.origin_secret is not None:
            out["edgeOriginSecret"] = pulumi.Output.secret(self.edge.origin_secret)
        if self.database is not None:
            for field, output in self.DATABASE_OUTPUTS.items():
                value = getattr(self.database, field)
                if value is not None:
                    out[output] = value
        return out


def _require_edge(stack: str) -> Any:
    def check(edge: Any) -> dict[str, Any]:
        if not isinstance(edge, dict):
            raise ConfigError(
                f"rack: the stack {stack} has no `edge` output: it was deployed before the edge. "
                "Upgrade the rack first, keeping its public load balancer while apps move "
                '(legacy_edge: keep; docs/rack.md, "Moving a rack to the internal load balancer")'
            )
        return edge

    return check


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
            if field in RackInfo.REQUIRED
            else ref.get_output(output)
            for field, output in RackInfo.OUTPUT_NAMES.items()
        }
        edge = ref.get_output("edge").apply(_require_edge(stack))
        edge_values: dict[str, Any] = {
            field: edge.apply(lambda e, key=key: e.get(key, ""))  # type: ignore[misc]
            for field, key in EdgeInfo.KEYS.items()
        }
        values["edge"] = EdgeInfo(**edge_values, origin_secret=ref.get_output("edgeOriginSecret"))
        database = SharedDatabase(
            **{field: ref.get_output(output) for field, output in RackInfo.DATABASE_OUTPUTS.items()}
        )
        self.info = RackInfo(**values, database=database)
        """What `App` needs; `database` holds Outputs that are None when the rack has none."""
