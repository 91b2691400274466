"""Cache: ElastiCache for Valkey, Redis OSS and Memcached, private, encrypted, open to the nodes only."""

from __future__ import annotations

import pulumi
import pytest
from pydantic import ValidationError

from paaskit.cache import (
    DEFAULT_VALKEY_VERSION,
    REDIS_VERSIONS,
    VALKEY_VERSIONS,
    Cache,
    CacheArgs,
    CacheSettings,
    redis_engine_for,
)
from paaskit.naming import RULES
from paaskit.testing import plan

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CLUSTER = "aws:elasticache/cluster:Cluster"
SUBNETS = "aws:elasticache/subnetGroup:SubnetGroup"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

WIRING = {
    "vpc_id": "vpc-0123456789abcdef0",
    "subnet_ids": ["subnet-0aaa", "subnet-0bbb"],
    "allowed_security_group_ids": ["sg-0nodes"],
}


def plan_cache(name: str = "shop-cache-sessions", **settings):
    return plan(lambda: Cache(name, CacheArgs(**{**WIRING, **settings})))


# --- Valkey (and Redis OSS) -------------------------------------------------------------


def test_the_default_is_a_private_encrypted_valkey_group_with_no_token_in_the_program():
    p = plan_cache()
    group = p.one(GROUP)
    inputs = group.inputs
    assert (inputs["engine"], inputs["engineVersion"]) == ("valkey", DEFAULT_VALKEY_VERSION)
    assert inputs["nodeType"] == "cache.t4g.micro"
    assert inputs["atRestEncryptionEnabled"] is True
    assert inputs["transitEncryptionEnabled"] is True
    # The AUTH token is the app's deploy runner's: never an input, and never reset by Pulumi.
    assert not {"authToken", "authTokenWo", "authTokenUpdateStrategy"} & set(inputs)
    assert {"authToken", "authTokenUpdateStrategy"} <= set(group.ignore_changes)
    # In the given private subnets, behind its own group.
    subnets = p.one(SUBNETS)
    assert subnets.inputs["subnetIds"] == WIRING["subnet_ids"]
    assert subnets.urn in group.dependencies
    (sg,) = p.of_type(SG)
    assert len(inputs["securityGroupIds"]) == 1
    assert sg.urn in group.dependencies
    assert inputs["port"] == 6379
    assert inputs["snapshotRetentionLimit"] == 1
    assert inputs["autoMinorVersionUpgrade"] is True
    # One node: nothing to fail over to.
    assert (inputs["numCacheClusters"], inputs["automaticFailoverEnabled"]) == (1, False)
    assert inputs["multiAzEnabled"] is False
    assert group.protect is True


def test_only_the_allowed_groups_reach_it_on_6379_and_nothing_leaves():
    p = plan_cache(allowed_security_group_ids=["sg-0nodes", "sg-0jobs"])
    rules = p.of_type(INGRESS)
    assert sorted(r.inputs["referencedSecurityGroupId"] for r in rules) == ["sg-0jobs", "sg-0nodes"]
    for rule in rules:
        assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
            "tcp",
            6379,
            6379,
        )
        assert "cidrIpv4" not in rule.inputs
        assert "cidrIpv6" not in rule.inputs
    assert p.of_type(EGRESS) == []


def test_the_slow_and_engine_logs_go_to_log_groups_made_first_with_retention():
    p = plan_cache(log_retention_days=14)
    group = p.one(GROUP)
    logs = {r.inputs["name"]: r for r in p.of_type(LOG_GROUP)}
    identifier = group.inputs["replicationGroupId"]
    assert sorted(logs) == [
        f"/aws/elasticache/{identifier}/engine-log",
        f"/aws/elasticache/{identifier}/slow-log",
    ]
    assert {r.inputs["retentionInDays"] for r in logs.values()} == {14}
    assert all(r.urn in group.dependencies for r in logs.values())
    deliveries = {
        d["logType"]: (d["destination"], d["destinationType"], d["logFormat"])
        for d in group.inputs["logDeliveryConfigurations"]
    }
    assert deliveries == {
        "slow-log": (f"/aws/elasticache/{identifier}/slow-log", "cloudwatch-logs", "json"),
        "engine-log": (f"/aws/elasticache/{identifier}/engine-log", "cloudwatch-logs", "json"),
    }


def test_redis_6_0_has_no_engine_log_to_deliver():
    p = plan_cache(engine="redis", engine_version="6.0")
    assert [d["logType"] for d in p.one(GROUP).inputs["logDeliveryConfigurations"]] == ["slow-log"]


def test_multi_az_keeps_a_replica_in_another_zone_that_takes_over():
    inputs = plan_cache(multi_az=True).one(GROUP).inputs
    assert (inputs["numCacheClusters"], inputs["multiAzEnabled"]) == (2, True)
    assert inputs["automaticFailoverEnabled"] is True
    replicas = plan_cache(nodes=3).one(GROUP).inputs
    assert (replicas["numCacheClusters"], replicas["automaticFailoverEnabled"]) == (3, True)


def test_its_identifier_and_final_snapshot_fit_elasticaches_rules():
    name = "a-rather-long-application-name-cache-sessions"
    group = plan_cache(name=name).one(GROUP)
    for value in (group.inputs["replicationGroupId"], group.inputs["finalSnapshotIdentifier"]):
        assert RULES["elasticache_group"].problems(value) == [], value
    # The same name in the same stack is the same cache: a plan is deterministic.
    assert plan_cache(name=name).one(GROUP).inputs == group.inputs


def test_throwaway_lifts_protection_and_the_final_snapshot():
    group = plan_cache(throwaway=True).one(GROUP)
    assert group.protect is False
    assert "finalSnapshotIdentifier" not in group.inputs
    assert (
        plan_cache(snapshot_retention_days=0).one(GROUP).inputs.get("finalSnapshotIdentifier")
        is None
    )


def test_a_customer_key_windows_and_redis_oss_are_passed_through():
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    inputs = (
        plan_cache(
            engine="redis",
            engine_version="7.1",
            kms_key_id=key,
            snapshot_window="03:00-04:00",
            maintenance_window="Sun:05:00-Sun:06:00",
            node_type="cache.m7g.large",
        )
        .one(GROUP)
        .inputs
    )
    assert (inputs["engine"], inputs["engineVersion"], inputs["kmsKeyId"]) == ("redis", "7.1", key)
    assert inputs["snapshotWindow"] == "03:00-04:00"
    assert inputs["maintenanceWindow"] == "sun:05:00-sun:06:00"
    assert inputs["nodeType"] == "cache.m7g.large"


# --- Memcached ----------------------------------------------------------------------------


def test_memcached_is_a_tls_cluster_across_zones_with_no_group_nor_logs():
    p = plan_cache(engine="memcached", nodes=3)
    cluster = p.one(CLUSTER)
    inputs = cluster.inputs
    assert (inputs["engine"], inputs["engineVersion"]) == ("memcached", "1.6.22")
    assert (inputs["numCacheNodes"], inputs["azMode"]) == (3, "cross-az")
    assert inputs["transitEncryptionEnabled"] is True
    assert inputs["port"] == 11211
    assert p.of_type(GROUP) == []
    assert p.of_type(LOG_GROUP) == []
    assert {r.inputs["fromPort"] for r in p.of_type(INGRESS)} == {11211}
    assert RULES["elasticache_cluster"].problems(inputs["clusterId"]) == []
    single = plan_cache(engine="memcached").one(CLUSTER).inputs
    assert (single["numCacheNodes"], single["azMode"]) == (1, "single-az")


def test_memcached_1_6_means_the_newest_1_6_and_an_old_one_needs_tls_off():
    assert CacheSettings(engine="memcached", engine_version="1.6").engine_version == "1.6.22"
    plain = CacheSettings(engine="memcached", engine_version="1.4", transit_encryption=False)
    assert plain.engine_version == "1.4.34"
    with pytest.raises(ValidationError, match=r"Memcached 1\.4\.34 has no in-transit encryption"):
        CacheSettings(engine="memcached", engine_version="1.4")
    old = CacheSettings(engine="memcached", engine_version="1.5", transit_encryption=False)
    assert old.engine_version == "1.5.16"


# --- how a container connects -------------------------------------------------------------


def _env(settings, connection_of):
    def program():
        pulumi.export("env", connection_of(Cache("c", CacheArgs(**WIRING, **settings))))

    records = plan(program)
    return records, {e["name"]: e["value"] for e in records.outputs["env"]}


def test_a_valkey_connection_gives_host_and_port_and_keeps_the_url_for_the_link_secret():
    records, env = _env({}, lambda c: c.connection().environment("CACHE"))
    group = records.one(GROUP)
    assert set(env) == {"CACHE_HOST", "CACHE_PORT"}
    assert env["CACHE_PORT"] == "6379"
    assert env["CACHE_HOST"].startswith(f"master.{group.inputs['replicationGroupId']}.")


def test_a_memcached_connection_gives_its_url_and_every_node():
    settings = {"engine": "memcached", "nodes": 2}
    _, env = _env(settings, lambda c: c.connection().environment("SESSIONS"))
    assert set(env) == {"SESSIONS_HOST", "SESSIONS_PORT", "SESSIONS_URL", "SESSIONS_SERVERS"}
    assert env["SESSIONS_URL"] == f"memcached://{env['SESSIONS_HOST']}:11211"
    servers = env["SESSIONS_SERVERS"].split(",")
    assert len(servers) == 2
    assert all(s.endswith(":11211") for s in servers)
    _, renamed = _env(settings, lambda c: c.connection().environment("SESSIONS", "MEMCACHE_URL"))
    assert renamed["MEMCACHE_URL"] == env["SESSIONS_URL"]
    assert "SESSIONS_URL" not in renamed


def test_only_valkey_and_redis_take_a_token():
    made = {}

    def program():
        made["valkey"] = Cache("a", CacheArgs(**WIRING)).connection()
        made["memcached"] = Cache("b", CacheArgs(**WIRING, engine="memcached")).connection()

    plan(program)
    assert (made["valkey"].authenticated, made["valkey"].tls) == (True, True)
    assert made["memcached"].authenticated is False
    assert made["memcached"].replication_group_id is None


# --- settings -------------------------------------------------------------------------------


def test_a_redis_resource_runs_valkey_unless_its_version_is_a_redis_oss_one():
    assert redis_engine_for(None) == "valkey"
    assert redis_engine_for("8.1") == "valkey"
    assert redis_engine_for("7.2") == "valkey"  # Valkey 7.2 is Redis OSS 7.2's successor
    assert {redis_engine_for(v) for v in REDIS_VERSIONS} == {"redis"}
    assert redis_engine_for("5.0.6") == "redis"  # refused below, by its engine
    assert not set(VALKEY_VERSIONS) & set(REDIS_VERSIONS)


def test_every_engine_gets_its_own_default_version():
    assert CacheSettings().engine_version == DEFAULT_VALKEY_VERSION
    assert CacheSettings(engine="redis").engine_version == "7.1"
    assert CacheSettings(engine="memcached").engine_version == "1.6.22"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"engine_version": "6.2"},
            r"ElastiCache does not offer Valkey 6\.2 .*use one of 7\.2, 8\.0",
        ),
        (
            {"engine": "redis", "engine_version": "5.0.6"},
            r"Redis OSS 5 left ElastiCache standard support on 2026-01-31.*Valkey",
        ),
        ({"engine": "memcached", "engine_version": "1.3"}, r"does not offer Memcached 1\.3"),
        ({"node_type": "cache.t2.micro"}, r"previous-generation node type"),
        ({"node_type": "db.t4g.micro"}, r"not an ElastiCache node type"),
        ({"transit_encryption": False}, r"transit_encryption: always on for Valkey: AUTH"),
        ({"nodes": 7}, r"nodes: 7; a Valkey replication group has 1 primary and up to 5"),
        ({"multi_az": True, "nodes": 1}, r"nodes: multi_az needs a replica in another zone"),
        ({"engine": "memcached", "multi_az": True}, r"multi_az: Memcached has no replicas"),
        (
            {"engine": "memcached", "snapshot_retention_days": 3},
            r"snapshot_retention_days: Memcached keeps its data in memory only",
        ),
        ({"snapshot_window": "03:00-03:30"}, r"at least 60 minutes"),
        ({"maintenance_window": "sunday"}, r"use ddd:hh:mm-ddd:hh:mm"),
        ({"kms_key_id": "alias/cache"}, r"give the key's ARN"),
        ({"engine": "mongodb"}, r"engine"),
    ],
)
def test_bad_settings_fail_naming_the_key(settings, message):
    with pytest.raises(ValidationError, match="(?s)" + message):
        CacheArgs(**WIRING, **settings)


def test_a_rack_subnet_group_spans_two_zones():
    with pytest.raises(ValidationError, match="two zones or more; got 1"):
        CacheArgs(**{**WIRING, "subnet_ids": ["subnet-0aaa"]})
    # An Output of the list (a rack from another stack) is taken as it is.
    CacheArgs(**{**WIRING, "subnet_ids": pulumi.Output.from_input(["subnet-0aaa"])})
