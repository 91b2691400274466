"""How the reference rack's Pulumi config keys map onto `RackArgs`.

One line per key: the key as it appears in `Pulumi.yaml` and the stack files
(`paaskit-rack:<key>`), and the field of `RackArgs` it sets. Defaults are the
components' own; `Pulumi.yaml` documents them and a test keeps the two equal.
Fork this file to expose more settings (or fewer) without touching the library.
"""

from __future__ import annotations

import pulumi
from pulumi.runtime.config import get_config

from paaskit import RackArgs
from paaskit.aws_api import region_problem, zone_problem
from paaskit.config import ConfigError, key_path, load_settings

CONFIG_KEYS: dict[str, str] = {
    # the rack
    "domain": "domain",
    "zoneName": "zone_name",
    "throwaway": "throwaway",
    "appLogRetentionDays": "log_retention_days",
    "tags": "tags",
    "legacyEdge": "legacy_edge",
    # network
    "vpcCidr": "network.cidr",
    "zones": "network.zones",
    "availabilityZones": "network.availability_zones",
    "natMode": "network.nat",
    "natInstanceType": "network.nat_instance_type",
    "endpoints": "network.endpoints",
    "ipv6": "network.ipv6",
    "flowLogs": "network.flow_logs",
    "flowLogsRetentionDays": "network.flow_logs_retention_days",
    # cluster
    "instanceType": "cluster.instance_type",
    "instanceTypes": "cluster.instance_types",
    "vcpus": "cluster.vcpus",
    "memoryMib": "cluster.memory_mib",
    "architecture": "cluster.architecture",
    "maxInstanceTypes": "cluster.max_instance_types",
    "minNodes": "cluster.min_size",
    "maxNodes": "cluster.max_size",
    "onDemandBase": "cluster.on_demand_base",
    "onDemandPercentage": "cluster.on_demand_percentage",
    "rootVolumeGib": "cluster.root_volume_gib",
    "amiId": "cluster.ami_id",
    "targetCapacity": "cluster.target_capacity",
    "containerInsights": "cluster.container_insights",
    "ecsConfig": "cluster.ecs_config",
    "spotHandler": "cluster.spot_handler",
    "clusterLogRetentionDays": "cluster.log_retention_days",
    # load balancer
    "certificateArn": "loadbalancer.certificate_arn",
    "cloudfrontOnly": "loadbalancer.cloudfront_only",
    "originSecret": "loadbalancer.origin_secret",
    "lbIdleTimeout": "loadbalancer.idle_timeout",
    "lbSslPolicy": "loadbalancer.ssl_policy",
    "lbDesyncMitigationMode": "loadbalancer.desync_mitigation_mode",
    "lbAccessLogs": "loadbalancer.access_logs",
    "lbAccessLogRetentionDays": "loadbalancer.access_log_retention_days",
    "maxRules": "loadbalancer.max_rules",
    # the edge (every app's distributions)
    "cdnCertificateArn": "edge.certificate_arn",
    "priceClass": "edge.price_class",
    "webAclId": "edge.web_acl_id",
    "edgeLogging": "edge.logging",
    "edgeLogRetentionDays": "edge.log_retention_days",
    "staticVersionRetentionDays": "edge.noncurrent_version_days",
    "originReadTimeout": "edge.origin_read_timeout",
    "hstsMaxAge": "edge.hsts_max_age",
    "hstsPreload": "edge.hsts_preload",
    "frameOptions": "edge.frame_options",
    # the legacy rack distribution (legacyEdge only)
    "staticPaths": "cdn.static_paths",
    "cdnLogging": "cdn.logging",
    "cdnLogRetentionDays": "cdn.log_retention_days",
    "staticBucketName": "cdn.bucket_name",
    # shared database (on with `database: true`)
    "databaseVersion": "database.engine_version",
    "databaseInstanceClass": "database.instance_class",
    "databaseStorageGib": "database.allocated_storage",
    "databaseMaxStorageGib": "database.max_allocated_storage",
    "databaseMultiAz": "database.multi_az",
    "databaseBackupRetentionDays": "database.backup_retention_days",
    "databaseBackupWindow": "database.backup_window",
    "databaseMaintenanceWindow": "database.maintenance_window",
    "databaseName": "database.database_name",
    "databaseUsername": "database.username",
    "databaseReadReplicas": "database.read_replicas",
    "databaseAlarmsTopicArn": "database.alarms_topic_arn",
    "databaseLogRetentionDays": "database.log_retention_days",
    "databasePasswordRotationDays": "database.password_rotation_days",
    "databaseAllowMajorVersionUpgrade": "database.allow_major_version_upgrade",
    "databasePerformanceInsights": "database.performance_insights",
    "databaseIamAuth": "database.iam_auth",
    "databaseExtendedSupport": "database.extended_support",
    "databaseKmsKeyArn": "database.kms_key_id",
    "databaseParameters": "database.parameters",
}

SECTIONS: dict[str, str] = {"database": "database"}
"""Boolean keys that turn an optional part of the rack on (with its defaults)."""


def load(namespace: str | None = None) -> RackArgs:
    """The rack's settings from this stack's config; errors name the config key.

    The stack's region (`aws:region`) must be an AWS region, and zones pinned with
    `availabilityZones` must be zones of it.
    """
    namespace = namespace or pulumi.get_project()
    args = load_settings(RackArgs, namespace, keys=CONFIG_KEYS, sections=SECTIONS)
    region = get_config("aws:region")
    if region is not None:
        problem = region_problem(region)
        if problem is not None:
            raise ConfigError(f"aws:region: {problem}")
        for i, zone in enumerate(args.network.availability_zones or []):
            problem = zone_problem(zone, region)
            if problem is not None:
                raise ConfigError(f"{key_path(namespace + ':availabilityZones', [i])}: {problem}")
    return args
