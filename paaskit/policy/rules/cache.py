"""ElastiCache rules: snapshots, upgrades, failover, encryption at rest and in transit, AUTH, subnets."""

from __future__ import annotations

import json
from collections.abc import Iterator

from paaskit.plan import PlanIndex, ResourceRecord
from paaskit.plan import types as t
from paaskit.plan.values import flag, known, number
from paaskit.policy.model import RuleSet

__all__ = [
    "auth",
    "automatic_failover",
    "encrypted_at_rest",
    "encrypted_in_transit",
    "memcached_in_transit",
    "minor_upgrades",
    "not_default_subnets",
    "rules",
    "single_node",
    "snapshots",
]

rules = RuleSet()

_GROUPS = [t.CACHE_REPLICATION_GROUP]
_CACHES = [t.CACHE_REPLICATION_GROUP, t.CACHE_CLUSTER]


def _engine(r: ResourceRecord) -> str:
    engine = r.inputs.get("engine")
    if known(engine):
        return str(engine)
    # pulumi-aws's default engine for a replication group
    return "redis" if r.type == t.CACHE_REPLICATION_GROUP else ""


def _redis_like(r: ResourceRecord) -> bool:
    """Valkey or Redis OSS (a replication group, or a single-node Redis cluster)."""
    return _engine(r) in ("redis", "valkey")


def _nodes(r: ResourceRecord) -> int:
    """Nodes of a (cluster-mode disabled) replication group: 1 unless it says more."""
    shards = number(r.inputs.get("numNodeGroups"))
    replicas = number(r.inputs.get("replicasPerNodeGroup"))
    if shards is not None or replicas is not None:
        return int((replicas or 0) + 1)
    return int(number(r.inputs.get("numCacheClusters")) or 1)


@rules.rule(
    "PK-CACHE-001",
    "Valkey and Redis OSS caches keep daily snapshots",
    severity="warning",
    sources=["ElastiCache.1", "REL09-BP01"],
    types=_CACHES,
)
def snapshots(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Without snapshots a restart of a single node, or a bad deploy that flushes keys, loses
    every queue and session in the cache. ElastiCache keeps one snapshot per cache free."""
    if not _redis_like(r):
        return
    days = number(r.inputs.get("snapshotRetentionLimit"))
    if days is None or days < 1:
        yield "snapshotRetentionLimit is 0: no automatic snapshots; a node failure loses the data"


@rules.rule(
    "PK-CACHE-002",
    "Minor engine upgrades are applied automatically",
    severity="warning",
    sources=["ElastiCache.2"],
    types=_CACHES,
)
def minor_upgrades(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Minor versions carry security fixes; ElastiCache applies them in the maintenance window
    (Valkey and Redis OSS; Memcached has no automatic upgrades)."""
    if _redis_like(r) and flag(r.inputs.get("autoMinorVersionUpgrade")) is False:
        yield "autoMinorVersionUpgrade is off: security fixes wait for someone to apply them"


@rules.rule(
    "PK-CACHE-003",
    "Replicas take over automatically",
    severity="error",
    sources=["ElastiCache.3", "REL10-BP01"],
    types=_GROUPS,
)
def automatic_failover(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A replica is worth its price because it becomes the primary when the primary or its zone
    fails; without automatic failover the cache stays down until someone promotes it."""
    multi_az = flag(r.inputs.get("multiAzEnabled")) is True
    if (_nodes(r) > 1 or multi_az) and flag(r.inputs.get("automaticFailoverEnabled")) is not True:
        where = "Multi-AZ" if multi_az else f"{_nodes(r)} nodes"
        yield (
            f"{where} but automaticFailoverEnabled is off: a failed primary stays down until "
            "someone promotes a replica"
        )


@rules.rule(
    "PK-CACHE-004",
    "A cache survives the loss of a node",
    severity="warning",
    sources=["ElastiCache.3", "REL10-BP01"],
    types=_GROUPS,
)
def single_node(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """One node is one failure from losing everything since the last snapshot; a replica in
    another zone (Multi-AZ) takes over within a minute. It doubles the bill, which a cache
    that is rebuilt from its source may rightly skip."""
    if _nodes(r) <= 1:
        yield "one node: a node or zone failure loses the data since the last snapshot"


@rules.rule(
    "PK-CACHE-005",
    "Caches are encrypted at rest",
    severity="error",
    sources=["ElastiCache.4", "CKV_AWS_29"],
    types=_GROUPS,
)
def encrypted_at_rest(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Snapshots and swapped pages are written to disk; encryption at rest can only be chosen
    when the cache is created. (pulumi-aws turns it on by default for Valkey only.)"""
    value = flag(r.inputs.get("atRestEncryptionEnabled"))
    if value is False or (value is None and _engine(r) != "valkey"):
        yield "atRestEncryptionEnabled is off: snapshots are stored in the clear; it cannot be turned on later"


@rules.rule(
    "PK-CACHE-006",
    "Cache connections must use TLS",
    severity="error",
    sources=["ElastiCache.5", "CKV_AWS_30"],
    types=_GROUPS,
)
def encrypted_in_transit(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Without TLS the data, and the AUTH token with it, cross the VPC in clear text; AUTH
    itself needs TLS. `preferred` mode still accepts clear-text clients."""
    if flag(r.inputs.get("transitEncryptionEnabled")) is not True:
        yield "transitEncryptionEnabled is off: clients connect in clear text, and AUTH is impossible"
    elif r.inputs.get("transitEncryptionMode") == "preferred":
        yield "transitEncryptionMode is preferred: clear-text clients are still accepted; use required"


def _runner_sets_token(r: ResourceRecord, index: PlanIndex) -> bool:
    """Whether a paaskit app's deploy runner sets the group's AUTH token (its `link` invocation
    names the group), as the Cache component expects. During a preview the invocation's event
    may be unknown: then one whose input depends on the group counts."""
    group = r.inputs.get("replicationGroupId")
    for invocation in index.of_type(t.LAMBDA_INVOCATION):
        raw = invocation.inputs.get("input")
        if not known(raw):
            # A preview before the first deploy: the event is built from the group's outputs,
            # unknown yet. An invocation fed by the group is taken at its word.
            if r.urn in invocation.dependencies:
                return True
            continue
        try:
            event = json.loads(str(raw))
        except ValueError:
            continue
        if (
            isinstance(event, dict)
            and event.get("action") == "link"
            and event.get("replicationGroup") == group
        ):
            return True
    return False


@rules.rule(
    "PK-CACHE-007",
    "Cache clients must authenticate",
    severity="error",
    sources=["ElastiCache.6", "CKV_AWS_31"],
    types=_GROUPS,
    scope="stack",
)
def auth(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Without AUTH (a token, or RBAC users) any process that reaches the nodes reads and
    writes everything. paaskit's Cache takes no token from the program (Pulumi would keep it
    in its state); the app that links the cache has its deploy runner set one."""
    given = any(
        r.inputs.get(key) not in (None, "", [])
        for key in ("authToken", "authTokenWo", "userGroupIds")
    )
    if not given and not _runner_sets_token(r, index):
        yield (
            "no AUTH token or user group, and no app's deploy runner sets one: any process that "
            "reaches the nodes reads the data"
        )


@rules.rule(
    "PK-CACHE-008",
    "Caches are not in the default subnet group",
    severity="error",
    sources=["ElastiCache.7"],
    types=_CACHES,
)
def not_default_subnets(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """The default subnet group is the default VPC's subnets, public ones included; a cache
    belongs in the rack's private subnets."""
    group = r.inputs.get("subnetGroupName")
    if group is None or group == "default":
        yield "no subnetGroupName: the cache goes to the default subnet group of the default VPC"


@rules.rule(
    "PK-CACHE-009",
    "Memcached traffic is encrypted",
    severity="warning",
    sources=["SEC09-BP02"],
    types=[t.CACHE_CLUSTER],
)
def memcached_in_transit(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Memcached has no authentication at all; TLS (1.6.12 and later) at least keeps the cached
    data off the wire in clear text. Clients must ask for it, which some cannot: waive it then."""
    if _engine(r) == "memcached" and flag(r.inputs.get("transitEncryptionEnabled")) is not True:
        version = r.inputs.get("engineVersion")
        hint = f" (Memcached {version}: 1.6.12 or later has TLS)" if known(version) else ""
        yield f"transitEncryptionEnabled is off: cached data crosses the VPC in clear text{hint}"
