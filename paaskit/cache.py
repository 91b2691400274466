"""Cache: ElastiCache for Valkey (or Redis OSS) and for Memcached, in the private subnets, reachable only by the rack.

`CacheSettings` and `CacheArgs` (what a user sets, and the network a rack wires
in), the `Cache` component, the engine versions ElastiCache offers (dated), and
how a container connects (`CacheConnection`). Why Valkey, and why the AUTH
token is set by the app's deploy runner rather than here: docs/cache.md, with
what it makes, its settings, costs and runbook.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, ValidationInfo, field_validator, model_validator

from paaskit._aws import port_security_group
from paaskit._component import Child, Component, each, one
from paaskit.config import ComponentArgs, Input, RetentionDays, derive
from paaskit.naming import aws_name

__all__ = [
    "CACHE_VERSIONS_AS_OF",
    "DEFAULT_MEMCACHED_VERSION",
    "DEFAULT_REDIS_VERSION",
    "DEFAULT_VALKEY_VERSION",
    "MEMCACHED_PORT",
    "MEMCACHED_VERSIONS",
    "REDIS_PORT",
    "REDIS_RETIRED_MAJORS",
    "REDIS_VERSIONS",
    "VALKEY_VERSIONS",
    "Cache",
    "CacheArgs",
    "CacheConnection",
    "CacheEngine",
    "CacheSettings",
    "CacheVersion",
    "redis_engine_for",
]

CacheEngine = Literal["valkey", "redis", "memcached"]
"""ElastiCache's engine: Valkey, Redis OSS or Memcached, by ElastiCache's name for it."""

REDIS_PORT = 6379
"""Valkey's and Redis OSS's port; the security group admits it only."""

MEMCACHED_PORT = 11211
"""Memcached's port; the security group admits it only."""


@dataclass(frozen=True)
class CacheVersion:
    """One engine version ElastiCache offers for node-based caches."""

    tls: bool = True
    """In-transit encryption (Memcached has it from 1.6.12)."""
    engine_log: bool = True
    """The engine log can be delivered to CloudWatch (Redis OSS from 6.2)."""


CACHE_VERSIONS_AS_OF = "2026-12"
"""When the version tables were last checked against ElastiCache's "Engine versions and
upgrading" and "Supported ElastiCache for Memcached versions" pages."""

VALKEY_VERSIONS: dict[str, CacheVersion] = {
    "9.0": CacheVersion(),
    "8.2": CacheVersion(),
    "8.1": CacheVersion(),
    "8.0": CacheVersion(),
    "7.2": CacheVersion(),
}
"""Valkey versions ElastiCache offers, as of `CACHE_VERSIONS_AS_OF` (no end of support
announced for any). ElastiCache applies patch releases within a version itself."""

DEFAULT_VALKEY_VERSION = "8.2"
"""The default: the newest Valkey whose parameter family (`valkey8`) botocore's models
list too; 9.0 is offered and may be asked for."""

REDIS_VERSIONS: dict[str, CacheVersion] = {
    "7.1": CacheVersion(),
    "7.0": CacheVersion(),
    "6.2": CacheVersion(),
    "6.0": CacheVersion(engine_log=False),
}
"""Redis OSS versions ElastiCache offers in standard support, as of `CACHE_VERSIONS_AS_OF`.
Redis OSS stops at 7.1 on ElastiCache; Valkey 7.2 and later are its successors."""

REDIS_RETIRED_MAJORS: dict[str, str] = {"5": "2026-01-31", "4": "2026-01-31", "3": "2023-07-31"}
"""Redis OSS majors past ElastiCache's end of standard support: a new cache would be billed
ElastiCache Extended Support (4 and 5, to 2029-01-31) or is refused (2 and 3)."""

DEFAULT_REDIS_VERSION = "7.1"
"""The newest Redis OSS on ElastiCache, for who asks for Redis OSS without a version."""

MEMCACHED_VERSIONS: dict[str, CacheVersion] = {
    "1.6.22": CacheVersion(),
    "1.6.17": CacheVersion(),
    "1.6.12": CacheVersion(),
    "1.6.6": CacheVersion(tls=False),
    "1.5.16": CacheVersion(tls=False),
    "1.5.10": CacheVersion(tls=False),
    "1.4.34": CacheVersion(tls=False),
}
"""Memcached versions ElastiCache offers, as of `CACHE_VERSIONS_AS_OF`; in-transit
encryption from 1.6.12. `1.6`, `1.5` and `1.4` mean the newest of each."""

DEFAULT_MEMCACHED_VERSION = "1.6.22"
"""The newest Memcached on ElastiCache (bug fixes since 1.6.18; TLS)."""

_NODE_TYPE = re.compile(
    r"cache\.(?P<family>[a-z][a-z0-9]*)\.(?P<size>micro|small|medium|large|xlarge|\d{1,2}xlarge)"
)
_PREVIOUS_GENERATION = ("t1", "t2", "m1", "m2", "m3", "r3", "c1")
_DAILY_WINDOW = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")
_WEEKLY_WINDOW = re.compile(
    r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-"
    r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)"
)
_KMS_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+")
_DEFAULTS = {
    "valkey": DEFAULT_VALKEY_VERSION,
    "redis": DEFAULT_REDIS_VERSION,
    "memcached": DEFAULT_MEMCACHED_VERSION,
}
_LABELS = {"valkey": "Valkey", "redis": "Redis OSS", "memcached": "Memcached"}


def redis_engine_for(version: str | None) -> Literal["valkey", "redis"]:
    """The engine a `redis` resource runs: Redis OSS for a Redis OSS version (`6.2`, `7.1`,
    an older major), else Valkey."""
    if version is not None and (
        version in REDIS_VERSIONS or version.split(".")[0] in REDIS_RETIRED_MAJORS
    ):
        return "redis"
    return "valkey"


def _versions(engine: str) -> dict[str, CacheVersion]:
    return {"valkey": VALKEY_VERSIONS, "redis": REDIS_VERSIONS}.get(engine, MEMCACHED_VERSIONS)


def _listed(versions: Mapping[str, Any]) -> str:
    return ", ".join(sorted(versions, key=lambda v: tuple(int(p) for p in v.split("."))))


def _window_minutes(window: str, daily: bool) -> int:
    """Length in minutes of `hh:mm-hh:mm` (daily) or `ddd:hh:mm-ddd:hh:mm` (weekly)."""
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    first, second = window.split("-")

    def minute(part: str) -> int:
        bits = part.split(":")
        day = days.index(bits[0]) if not daily else 0
        return day * 1440 + int(bits[-2]) * 60 + int(bits[-1])

    return (minute(second) - minute(first)) % (1440 if daily else 7 * 1440)


class CacheSettings(ComponentArgs):
    """What a user sets on a Cache; `CacheArgs` adds what a rack wires in.

    Every field says its default and why. An app's `redis` and `memcached`
    resources are one of these.
    """

    engine: CacheEngine = "valkey"
    """`valkey`, `redis` (Redis OSS) or `memcached`. Default valkey: the Redis protocol
    at about 20% less per node than Redis OSS on ElastiCache, and the engine AWS
    develops it on."""

    engine_version: str = DEFAULT_VALKEY_VERSION
    """The engine's version: Valkey `9.0` to `7.2`, Redis OSS `7.1` to `6.0`, Memcached
    `1.6.22` (or `1.6`, its newest) and older. Default the engine's newest proven
    version: Valkey 8.2, Redis OSS 7.1, Memcached 1.6.22 (`VALKEY_VERSIONS`...,
    dated). ElastiCache applies patches within a version itself."""

    node_type: str = "cache.t4g.micro"
    """ElastiCache node type, `cache.<family>.<size>`. Default cache.t4g.micro: the
    cheapest current node (Graviton, 2 vCPU, 0.5 GiB), enough for sessions and
    queues of a few small apps; moving up is one setting and a brief failover (or,
    with one node, a restart)."""

    nodes: int | None = Field(None, ge=1, le=40)
    """Nodes: for Valkey and Redis OSS the primary and its replicas, 1 to 6 (replicas
    take over when the primary fails); for Memcached 1 to 40, each holding part of
    the keys. Default 1, or 2 with `multi_az`."""

    multi_az: bool = False
    """Valkey and Redis OSS: keep a replica in another zone that becomes the primary
    within a minute when the primary or its zone fails. Default off (Convox's
    `durable: false`): it doubles the bill, and a cache is usually rebuilt from its
    source; turn it on when the cache holds queues or sessions that matter."""

    transit_encryption: bool = True
    """TLS between clients and nodes. Default on. Valkey and Redis OSS need it (AUTH
    works only over TLS); Memcached has it from 1.6.12, and clients must ask for it
    (pymemcache's `tls_context`, Dalli's `ssl_context`): off for clients that cannot."""

    snapshot_retention_days: int = Field(1, ge=0, le=35)
    """Valkey and Redis OSS: days of daily snapshots, 0 to 35 (0: none). Default 1: one
    snapshot costs nothing (ElastiCache keeps one per cache free), and a restart of a
    single node otherwise loses the data."""

    snapshot_window: str | None = None
    """Daily UTC window for the snapshot, `hh:mm-hh:mm`, at least 60 minutes. Default:
    ElastiCache picks one."""

    maintenance_window: str | None = None
    """Weekly UTC window for patches and pending changes, `ddd:hh:mm-ddd:hh:mm`, at least
    60 minutes. Default: ElastiCache picks one."""

    apply_immediately: bool = False
    """Apply changes (node type, version) at `pulumi up` instead of in the maintenance
    window. Default off: a change restarts or fails over nodes."""

    kms_key_id: str | None = None
    """Valkey and Redis OSS: ARN of a customer KMS key for data at rest (snapshots, swap).
    Default: ElastiCache's own key."""

    log_retention_days: RetentionDays = 30
    """Valkey and Redis OSS: days CloudWatch keeps the slow log and the engine log.
    Default 30."""

    throwaway: bool = False
    """This stack is disposable: `pulumi destroy` deletes the cache without a final
    snapshot. Default off: the cache is protected (`protect`) and a Valkey or Redis
    OSS cache leaves a final snapshot when deleted."""

    @model_validator(mode="before")
    @classmethod
    def _engine_default_version(cls, data: Any) -> Any:
        if isinstance(data, dict) and "engine_version" not in data:
            default = _DEFAULTS.get(str(data.get("engine", "valkey")))
            if default is not None:
                data = {**data, "engine_version": default}
        return data

    @field_validator("engine_version")
    @classmethod
    def _check_version(cls, value: str, info: ValidationInfo) -> str:
        engine = str(info.data.get("engine", "valkey"))
        label = _LABELS.get(engine, engine)
        versions = _versions(engine)
        if engine == "memcached" and value.count(".") == 1:
            # `1.6` (as Convox's examples write it): the newest 1.6.x.
            same = [v for v in versions if v.startswith(value + ".")]
            if same:
                value = max(same, key=lambda v: int(v.split(".")[2]))
        if value in versions:
            return value
        major = value.split(".")[0]
        if engine == "redis" and major in REDIS_RETIRED_MAJORS:
            raise ValueError(
                f"Redis OSS {major} left ElastiCache standard support on "
                f"{REDIS_RETIRED_MAJORS[major]}; a new cache would be billed Extended Support; "
                f"use Valkey ({_listed(VALKEY_VERSIONS)}), a drop-in successor, or Redis OSS "
                f"{_listed(REDIS_VERSIONS)}"
            )
        raise ValueError(
            f"ElastiCache does not offer {label} {value} (as of {CACHE_VERSIONS_AS_OF}); "
            f"use one of {_listed(versions)}"
        )

    @field_validator("node_type")
    @classmethod
    def _check_node_type(cls, value: str) -> str:
        match = _NODE_TYPE.fullmatch(value)
        if not match:
            raise ValueError(
                f"{value!r} is not an ElastiCache node type; use cache.<family>.<size>, like "
                "cache.t4g.micro or cache.m7g.large"
            )
        if match["family"] in _PREVIOUS_GENERATION:
            raise ValueError(
                f"{value}: a previous-generation node type (no in-transit encryption on every "
                "engine, no Valkey); use cache.t4g.micro or a current family"
            )
        return value

    @field_validator("snapshot_window")
    @classmethod
    def _check_snapshot_window(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _DAILY_WINDOW.fullmatch(value):
            raise ValueError(f"{value!r}: use hh:mm-hh:mm in UTC, like 03:00-04:00")
        if _window_minutes(value, daily=True) < 60:
            raise ValueError(f"{value}: ElastiCache needs at least 60 minutes")
        return value

    @field_validator("maintenance_window")
    @classmethod
    def _check_maintenance_window(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.lower()
        if not _WEEKLY_WINDOW.fullmatch(value):
            raise ValueError(
                f"{value!r}: use ddd:hh:mm-ddd:hh:mm in UTC (days mon..sun), like sun:05:00-sun:06:00"
            )
        if _window_minutes(value, daily=False) < 60:
            raise ValueError(f"{value}: ElastiCache needs at least 60 minutes")
        return value

    @field_validator("kms_key_id")
    @classmethod
    def _check_key_arn(cls, value: str | None) -> str | None:
        if value is not None and not _KMS_KEY_ARN.fullmatch(value):
            raise ValueError(
                f"{value!r}: give the key's ARN (arn:aws:kms:<region>:<account>:key/<id>), "
                "not an alias or a bare id"
            )
        return value

    @model_validator(mode="after")
    def _check_combination(self) -> CacheSettings:
        label = _LABELS[self.engine]
        if self.engine == "memcached":
            if self.multi_az:
                raise ValueError(
                    "multi_az: Memcached has no replicas to fail over to; spread its keys over "
                    "nodes in several zones with nodes: 2 or more"
                )
            if self.transit_encryption and not MEMCACHED_VERSIONS[self.engine_version].tls:
                raise ValueError(
                    f"transit_encryption: Memcached {self.engine_version} has no in-transit "
                    "encryption (1.6.12 and later have it); use 1.6.22, or turn it off"
                )
            unsupported = {"snapshot_retention_days", "snapshot_window", "kms_key_id"}
            given = sorted(unsupported & self.model_fields_set)
            if given:
                raise ValueError(
                    f"{given[0]}: Memcached keeps its data in memory only: it has no snapshots "
                    "and nothing at rest to encrypt"
                )
            return self
        if not self.transit_encryption:
            raise ValueError(
                f"transit_encryption: always on for {label}: AUTH works only over TLS, and "
                "without AUTH any process that reaches the nodes reads the data"
            )
        if self.nodes is not None and self.nodes > 6:
            raise ValueError(
                f"nodes: {self.nodes}; a {label} replication group has 1 primary and up to 5 "
                "replicas (1 to 6 nodes)"
            )
        if self.multi_az and self.nodes is not None and self.nodes < 2:
            raise ValueError(
                "nodes: multi_az needs a replica in another zone: 2 nodes or more (or leave "
                "nodes out)"
            )
        return self

    @property
    def node_count(self) -> int:
        """The nodes the cache runs: `nodes`, else 2 with `multi_az`, else 1."""
        return self.nodes or (2 if self.multi_az else 1)

    @property
    def version(self) -> CacheVersion:
        """What ElastiCache offers with the engine's version."""
        return _versions(self.engine)[self.engine_version]


class CacheArgs(CacheSettings):
    """Everything a Cache is made from: the `CacheSettings` and its wiring (all required)."""

    vpc_id: Input
    """The VPC of the subnets (`Network.vpc_id`). Required."""

    subnet_ids: list[Input] | pulumi.Output[Any]
    """Private subnets in at least two zones (`Network.private_subnets`' ids), for the
    subnet group; replicas and Memcached nodes go to other zones. A list of ids, or one
    Output of the list (a rack read from another stack). Required."""

    allowed_security_group_ids: list[Input]
    """Security groups whose members may connect on the engine's port (the rack's nodes).
    May be empty: then nothing can connect until a rule is added. Required."""

    @field_validator("subnet_ids")
    @classmethod
    def _check_subnets(
        cls, value: list[Input] | pulumi.Output[Any]
    ) -> list[Input] | pulumi.Output[Any]:
        if isinstance(value, list) and len(value) < 2:
            raise ValueError(
                f"an ElastiCache subnet group for a rack spans two zones or more; got {len(value)}"
            )
        return value

    @classmethod
    def from_settings(
        cls,
        settings: CacheSettings,
        *,
        vpc_id: Input,
        subnet_ids: Sequence[Input] | pulumi.Output[Any],
        allowed_security_group_ids: Sequence[Input],
    ) -> CacheArgs:
        """The Args of `settings` in a network, open to some security groups."""
        return derive(
            cls,
            settings,
            vpc_id=vpc_id,
            subnet_ids=subnet_ids if isinstance(subnet_ids, pulumi.Output) else list(subnet_ids),
            allowed_security_group_ids=list(allowed_security_group_ids),
        )


@dataclass(frozen=True)
class CacheConnection:
    """What a container needs to reach a cache, without its AUTH token."""

    engine: str
    """`valkey`, `redis` or `memcached`."""
    host: pulumi.Output[str]
    """The primary endpoint (Valkey, Redis OSS) or the configuration endpoint (Memcached)."""
    port: pulumi.Output[int]
    """6379, or 11211 for Memcached."""
    tls: bool
    """Whether clients must speak TLS (`rediss://`; Memcached's clients' TLS option)."""
    replication_group_id: pulumi.Output[str] | None = None
    """The replication group (Valkey, Redis OSS): what the deploy runner sets the token on."""
    replication_group_arn: pulumi.Output[str] | None = None
    """Its ARN, for the runner's IAM policy."""
    servers: pulumi.Output[list[str]] | None = None
    """Memcached: every node as `host:port`, for clients without auto discovery."""

    @property
    def authenticated(self) -> bool:
        """Whether the cache takes an AUTH token (kept in the app's link secret)."""
        return self.engine != "memcached"

    def environment(
        self, prefix: str, url_env: str | None = None
    ) -> pulumi.Output[list[dict[str, str]]]:
        """ECS `environment` entries: `<prefix>_HOST` and `_PORT`; for Memcached also
        `<prefix>_URL` (`memcached://host:port`, or under `url_env`) and `<prefix>_SERVERS`
        (`host:port,...`). Valkey's and Redis OSS's URL carries the token: an ECS secret."""
        engine = self.engine
        servers = self.servers if self.servers is not None else pulumi.Output.from_input([])

        def entries(args: list[Any]) -> list[dict[str, str]]:
            host, port, nodes = str(args[0]), str(args[1]), list(args[2] or [])
            values = {f"{prefix}_HOST": host, f"{prefix}_PORT": port}
            if engine == "memcached":
                values[url_env or f"{prefix}_URL"] = f"memcached://{host}:{port}"
                values[f"{prefix}_SERVERS"] = ",".join(nodes)
            return [{"name": k, "value": v} for k, v in values.items()]

        return pulumi.Output.all(self.host, self.port, servers).apply(entries)


class Cache(Component):
    """An ElastiCache cache in the private subnets, open to the rack's nodes only.

    Creates: a security group with one ingress rule on the engine's port per
    allowed security group (no CIDR, no egress); a subnet group over the given
    subnets; for Valkey and Redis OSS, a log group per delivered log (slow log,
    engine log) with retention and a replication group (encrypted at rest and in
    transit, AUTH set by the app's deploy runner, automatic failover with
    replicas, daily snapshots, a final snapshot); for Memcached, a cluster (TLS,
    nodes across zones).

    Valkey by default: about 20% less per node than Redis OSS on ElastiCache, the same
    protocol. No AUTH token here: ElastiCache takes one only with TLS, and whatever a
    program passes (`auth_token`, and today the write-only `auth_token_wo` too,
    pulumi-terraform-bridge#3201) is kept in Pulumi's state. The app that links the
    cache has its deploy runner generate one into its link secret and apply it
    (ModifyReplicationGroup, ROTATE then SET); the group ignores the token's changes.
    """

    TYPE = "paaskit:cache:Cache"
    CHILDREN: ClassVar[Mapping[str, Child]] = {
        "security_group": one(aws.ec2.SecurityGroup),
        "security_group_ingress": each(aws.vpc.SecurityGroupIngressRule),
        "subnet_group": one(aws.elasticache.SubnetGroup),
        "log_group": each(aws.cloudwatch.LogGroup),
        "replication_group": one(aws.elasticache.ReplicationGroup),
        "cluster": one(aws.elasticache.Cluster),
    }
    """Every child by key (the keys of `nodes` and `transform`): a security group rule
    per allowed group, a log group per delivered log; `replication_group` for Valkey and
    Redis OSS, `cluster` for Memcached."""

    def __init__(
        self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        self.args = args
        self.engine = args.engine
        self.label = _LABELS[args.engine]
        self.port = MEMCACHED_PORT if args.engine == "memcached" else REDIS_PORT
        kind = "elasticache_cluster" if args.engine == "memcached" else "elasticache_group"
        self.identifier = _default_identifier(kind, name)
        self.security_group = self._security_group()
        self.subnet_group = self.child(
            "subnet_group",
            aws.elasticache.SubnetGroup,
            "subnets",
            subnet_ids=args.subnet_ids
            if isinstance(args.subnet_ids, pulumi.Output)
            else list(args.subnet_ids),
            description=f"{name}: private subnets of the {self.label} cache",
        )
        self.replication_group: aws.elasticache.ReplicationGroup | None = None
        self.cluster: aws.elasticache.Cluster | None = None
        self.log_groups: list[aws.cloudwatch.LogGroup] = []
        if args.engine == "memcached":
            self.cluster = self._memcached()
            self.address: pulumi.Output[str] = self.cluster.cluster_address
            self.servers: pulumi.Output[list[str]] = self.cluster.cache_nodes.apply(_servers)
            self.arn: pulumi.Output[str] = self.cluster.arn
        else:
            self.log_groups = self._log_groups()
            self.replication_group = self._replication_group()
            self.address = self.replication_group.primary_endpoint_address
            self.servers = pulumi.Output.from_input([])
            self.arn = self.replication_group.arn
        self.security_group_id: pulumi.Output[str] = self.security_group.id
        self.register_outputs(
            {
                "engine": self.engine,
                "identifier": self.identifier,
                "address": self.address,
                "port": self.port,
                "security_group_id": self.security_group_id,
            }
        )

    # --- what apps use ----------------------------------------------------------

    def connection(self) -> CacheConnection:
        """How a container connects: host, port, TLS, and what the deploy runner needs."""
        group = self.replication_group
        return CacheConnection(
            engine=self.engine,
            host=self.address,
            port=pulumi.Output.from_input(self.port),
            tls=self.args.transit_encryption,
            replication_group_id=group.replication_group_id if group is not None else None,
            replication_group_arn=group.arn if group is not None else None,
            servers=self.servers if self.engine == "memcached" else None,
        )

    # --- children, in the order they are made ----------------------------------

    def _security_group(self) -> aws.ec2.SecurityGroup:
        return port_security_group(
            self,
            vpc_id=self.args.vpc_id,
            sources=self.args.allowed_security_group_ids,
            port=self.port,
            description=f"{self.label}: port {self.port} from the allowed security groups only",
            rule_description=f"{self.label} from an allowed security group",
        )

    def _log_types(self) -> list[str]:
        return ["slow-log"] + (["engine-log"] if self.args.version.engine_log else [])

    def _log_groups(self) -> list[aws.cloudwatch.LogGroup]:
        # Made first, with retention: ElastiCache writes to an existing group only.
        return [
            self.child(
                "log_group",
                aws.cloudwatch.LogGroup,
                f"{kind}-logs",
                name=f"/aws/elasticache/{self.identifier}/{kind}",
                retention_in_days=self.args.log_retention_days,
            )
            for kind in self._log_types()
        ]

    def _replication_group(self) -> aws.elasticache.ReplicationGroup:
        args = self.args
        nodes = args.node_count
        return self.child(
            "replication_group",
            aws.elasticache.ReplicationGroup,
            "group",
            replication_group_id=self.identifier,
            description=f"{self.component_name}: {self.label}, TLS and AUTH, private subnets",
            engine=args.engine,
            engine_version=args.engine_version,
            node_type=args.node_type,
            num_cache_clusters=nodes,
            # A replica is worth having only if it takes over by itself.
            automatic_failover_enabled=nodes > 1,
            multi_az_enabled=args.multi_az,
            port=REDIS_PORT,
            network_type="ipv4",
            subnet_group_name=self.subnet_group.name,
            security_group_ids=[self.security_group.id],
            at_rest_encryption_enabled=True,
            kms_key_id=args.kms_key_id,
            transit_encryption_enabled=True,
            auto_minor_version_upgrade=True,
            snapshot_retention_limit=args.snapshot_retention_days,
            snapshot_window=args.snapshot_window,
            maintenance_window=args.maintenance_window,
            apply_immediately=args.apply_immediately,
            final_snapshot_identifier=None
            if args.throwaway or args.snapshot_retention_days == 0
            else aws_name("elasticache_group", self.identifier, "final"),
            log_delivery_configurations=[
                {
                    "destination": group.name,
                    "destination_type": "cloudwatch-logs",
                    "log_format": "json",
                    "log_type": kind,
                }
                for kind, group in zip(self._log_types(), self.log_groups, strict=True)
            ],
            opts=pulumi.ResourceOptions(
                protect=not args.throwaway,
                # The AUTH token is the deploy runner's (ModifyReplicationGroup): never in the
                # program, and never to be reset by it.
                ignore_changes=["authToken", "authTokenUpdateStrategy", "authTokenWo"],
                depends_on=list(self.log_groups),
            ),
        )

    def _memcached(self) -> aws.elasticache.Cluster:
        args = self.args
        nodes = args.node_count
        return self.child(
            "cluster",
            aws.elasticache.Cluster,
            "cluster",
            cluster_id=self.identifier,
            engine="memcached",
            engine_version=args.engine_version,
            node_type=args.node_type,
            num_cache_nodes=nodes,
            # Each node holds part of the keys: spread them, so a zone takes only its share.
            az_mode="cross-az" if nodes > 1 else "single-az",
            port=MEMCACHED_PORT,
            network_type="ipv4",
            subnet_group_name=self.subnet_group.name,
            security_group_ids=[self.security_group.id],
            transit_encryption_enabled=args.transit_encryption,
            maintenance_window=args.maintenance_window,
            apply_immediately=args.apply_immediately,
            opts=pulumi.ResourceOptions(protect=not args.throwaway),
        )


def _default_identifier(kind: str, name: str) -> str:
    """The component name, the stack, and a hash that keeps projects and stacks apart."""
    project, stack = pulumi.get_project(), pulumi.get_stack()
    digest = hashlib.sha256(f"{project}/{stack}/{name}".encode()).hexdigest()[:6]
    return aws_name(kind, name, stack, digest)


def _servers(nodes: Sequence[Any] | None) -> list[str]:
    """`host:port` of each Memcached node."""
    out = []
    for node in nodes or []:
        address = node.get("address") if isinstance(node, dict) else node.address
        port = node.get("port") if isinstance(node, dict) else node.port
        if address:
            out.append(f"{address}:{port or MEMCACHED_PORT}")
    return out
