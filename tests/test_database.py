"""Database: RDS PostgreSQL that keeps its data, admits only the rack, and never shows its password."""

from __future__ import annotations

import json
import re

import pulumi
import pytest
from pydantic import ValidationError

from paaskit.config import ConfigError
from paaskit.database import (
    DEFAULT_POSTGRES_MAJOR,
    POSTGRES_MAJORS,
    Database,
    DatabaseArgs,
    DatabaseSettings,
)
from paaskit.naming import RULES
from paaskit.testing import plan

INSTANCE = "aws:rds/instance:Instance"
PARAMS = "aws:rds/parameterGroup:ParameterGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
TOPIC = "arn:aws:sns:us-east-1:123456789012:ops"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

WIRING = {
    "vpc_id": "vpc-0123456789abcdef0",
    "subnet_ids": ["subnet-0aaa", "subnet-0bbb"],
    "allowed_security_group_ids": ["sg-0nodes"],
}


def args(**settings):
    return DatabaseArgs(**{**WIRING, **settings})


def plan_db(**settings):
    return plan(lambda: Database("db", args(**settings)))


def primary(p):
    return p.one(INSTANCE, "db-instance")


def parameters(p):
    return {x["name"]: (x["value"], x["applyMethod"]) for x in p.one(PARAMS).inputs["parameters"]}


def walk(value, path=""):
    """Every (key path, key, value) in nested inputs."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield f"{path}.{key}", key, inner
            yield from walk(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from walk(inner, f"{path}[{i}]")


# --- the instance ----------------------------------------------------------------


def test_default_is_private_multi_az_postgres_of_the_current_major():
    db = primary(plan_db())
    assert db.inputs["engine"] == "postgres"
    assert db.inputs["engineVersion"] == DEFAULT_POSTGRES_MAJOR == "18"
    assert db.inputs["instanceClass"] == "db.t4g.micro"
    assert db.inputs["publiclyAccessible"] is False
    assert db.inputs["multiAz"] is True
    assert db.inputs["networkType"] == "IPV4"
    assert db.inputs["caCertIdentifier"] == "rds-ca-rsa2048-g1"
    assert db.inputs["dbName"] == "app"
    assert db.inputs["username"] == "app"


def test_storage_is_encrypted_gp3_and_grows_to_a_ceiling():
    db = primary(plan_db(allocated_storage=50, max_allocated_storage=500))
    assert db.inputs["storageEncrypted"] is True
    assert db.inputs["storageType"] == "gp3"
    assert db.inputs["allocatedStorage"] == 50
    assert db.inputs["maxAllocatedStorage"] == 500
    assert "kmsKeyId" not in db.inputs  # the account's aws/rds key


def test_backups_final_snapshot_and_deletion_protection_keep_the_data():
    db = primary(plan_db(backup_retention_days=14))
    assert db.inputs["backupRetentionPeriod"] == 14
    assert db.inputs["deletionProtection"] is True
    assert db.inputs["skipFinalSnapshot"] is False
    assert db.inputs["finalSnapshotIdentifier"] == db.inputs["identifier"] + "-final"
    assert db.inputs["deleteAutomatedBackups"] is False
    assert db.inputs["copyTagsToSnapshot"] is True


def test_pulumi_refuses_to_destroy_the_instance():
    p = plan_db(read_replicas=1)
    assert primary(p).protect is True
    assert p.one(INSTANCE, "db-replica-1").protect is True


def test_throwaway_lets_destroy_delete_everything():
    p = plan_db(throwaway=True, backup_retention_days=1, read_replicas=1)
    for db in p.of_type(INSTANCE):
        assert db.protect is False
        assert db.inputs["deletionProtection"] is False
        assert db.inputs["skipFinalSnapshot"] is True
        assert "finalSnapshotIdentifier" not in db.inputs
    assert primary(p).inputs["deleteAutomatedBackups"] is True
    assert primary(p).inputs["backupRetentionPeriod"] == 1


def test_upgrades_are_automatic_for_minors_and_wait_for_the_maintenance_window():
    db = primary(plan_db(maintenance_window="Sun:04:00-Sun:05:00", backup_window="02:00-02:30"))
    assert db.inputs["autoMinorVersionUpgrade"] is True
    assert db.inputs["applyImmediately"] is False
    # A major upgrade is opted into (allow_major_version_upgrade).
    assert db.inputs["allowMajorVersionUpgrade"] is False
    assert primary(plan_db(allow_major_version_upgrade=True)).inputs["allowMajorVersionUpgrade"]
    assert db.inputs["maintenanceWindow"] == "sun:04:00-sun:05:00"
    assert db.inputs["backupWindow"] == "02:00-02:30"


def test_a_pinned_minor_turns_automatic_minor_upgrades_off():
    db = primary(plan_db(engine_version="17.6"))
    assert db.inputs["engineVersion"] == "17.6"
    assert db.inputs["autoMinorVersionUpgrade"] is False


def test_extended_support_is_off_unless_asked():
    assert (
        primary(plan_db()).inputs["engineLifecycleSupport"]
        == "open-source-rds-extended-support-disabled"
    )
    assert (
        primary(plan_db(extended_support=True)).inputs["engineLifecycleSupport"]
        == "open-source-rds-extended-support"
    )


def test_performance_insights_free_tier_and_iam_auth_are_on_by_default():
    db = primary(plan_db())
    assert db.inputs["performanceInsightsEnabled"] is True
    assert db.inputs["performanceInsightsRetentionPeriod"] == 7
    assert db.inputs["iamDatabaseAuthenticationEnabled"] is True
    assert db.inputs["monitoringInterval"] == 0
    off = primary(plan_db(performance_insights=False, iam_auth=False))
    assert off.inputs["performanceInsightsEnabled"] is False
    assert "performanceInsightsRetentionPeriod" not in off.inputs
    assert off.inputs["iamDatabaseAuthenticationEnabled"] is False
    assert "iam-db-auth-error" not in off.inputs["enabledCloudwatchLogsExports"]


def test_customer_keys_encrypt_storage_insights_and_the_secret():
    db = primary(plan_db(kms_key_id=KEY, master_user_secret_kms_key_id=KEY))
    assert db.inputs["kmsKeyId"] == KEY
    assert db.inputs["performanceInsightsKmsKeyId"] == KEY
    assert db.inputs["masterUserSecretKmsKeyId"] == KEY


# --- the password ------------------------------------------------------------------


def test_master_password_is_managed_by_rds_and_is_no_input_anywhere():
    p = plan_db(read_replicas=1, alarms_topic_arn=TOPIC, enhanced_monitoring_interval=60)
    assert primary(p).inputs["manageMasterUserPassword"] is True
    for record in p:
        for path, key, value in walk(record.inputs):
            if "password" in key.lower():
                assert key == "manageMasterUserPassword", f"{record.name}{path}"
            if isinstance(value, str):
                assert "password" not in value.lower(), f"{record.name}{path}"


def test_password_rotation_is_off_by_default():
    # RDS turns rotation on for its managed secrets: paaskit turns it off, explicitly.
    rotation = plan_db().one(ROTATION)
    assert rotation.inputs["rotationEnabled"] is False
    assert "rotationRules" not in rotation.inputs


def test_password_rotates_on_the_schedule_asked_for_from_now_on():
    rotation = plan_db(password_rotation_days=30).one(ROTATION)
    assert rotation.inputs["rotationEnabled"] is True
    assert rotation.inputs["rotationRules"] == {"scheduleExpression": "rate(30 days)"}
    assert rotation.inputs["rotateImmediately"] is False
    assert "rotationLambdaArn" not in rotation.inputs  # RDS rotates its own secret


def test_password_rotation_can_be_switched_off():
    rotation = plan_db(password_rotation_days=0).one(ROTATION)
    assert rotation.inputs["rotationEnabled"] is False
    assert "rotationRules" not in rotation.inputs


# --- the network -------------------------------------------------------------------


def test_only_the_named_security_groups_reach_port_5432():
    def program():
        late = pulumi.Output.from_input("sg-0late")
        Database(
            "db",
            DatabaseArgs(**{**WIRING, "allowed_security_group_ids": ["sg-0nodes", late]}),
        )

    p = plan(program)
    sg = p.one("aws:ec2/securityGroup:SecurityGroup")
    assert sg.inputs["vpcId"] == WIRING["vpc_id"]
    assert "ingress" not in sg.inputs
    assert "egress" not in sg.inputs
    rules = p.of_type(INGRESS)
    assert sorted(r.inputs["referencedSecurityGroupId"] for r in rules) == ["sg-0late", "sg-0nodes"]
    for rule in rules:
        assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
            "tcp",
            5432,
            5432,
        )
        assert not {"cidrIpv4", "cidrIpv6", "prefixListId"} & set(rule.inputs)
        assert sg.urn in rule.dependencies
    assert p.of_type(EGRESS) == []
    assert sg.urn in primary(p).dependencies


def test_with_no_allowed_groups_nothing_can_connect():
    p = plan_db(allowed_security_group_ids=[])
    assert p.of_type(INGRESS) == []
    assert p.of_type(EGRESS) == []


def test_subnet_group_spans_the_given_private_subnets():
    p = plan_db(subnet_ids=["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"])
    group = p.one("aws:rds/subnetGroup:SubnetGroup")
    assert group.inputs["subnetIds"] == ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"]
    assert group.urn in primary(p).dependencies


# --- parameters and logs ---------------------------------------------------------------


def test_parameter_group_forces_tls_and_logs_slow_queries_locks_connections_and_ddl():
    p = plan_db()
    assert p.one(PARAMS).inputs["family"] == "postgres18"
    assert parameters(p) == {
        "rds.force_ssl": ("1", "immediate"),
        "log_min_duration_statement": ("1000", "immediate"),
        "log_lock_waits": ("1", "immediate"),
        "log_statement": ("ddl", "immediate"),
        "log_connections": ("receipt,authentication,authorization", "immediate"),
        "shared_preload_libraries": ("pg_stat_statements", "pending-reboot"),
    }
    assert p.one(PARAMS).urn in primary(p).dependencies


def test_an_older_major_gets_its_own_family_and_boolean_connection_logging():
    p = plan_db(engine_version="16", slow_query_ms=250)
    assert p.one(PARAMS).inputs["family"] == "postgres16"
    assert primary(p).inputs["engineVersion"] == "16"
    assert parameters(p)["log_connections"] == ("1", "immediate")
    assert parameters(p)["log_min_duration_statement"] == ("250", "immediate")


def test_parameter_overrides_merge_and_static_ones_wait_for_a_reboot():
    p = plan_db(
        parameters={"work_mem": 16384, "max_connections": "200", "log_statement": "mod"},
        log_connections=False,
    )
    values = parameters(p)
    assert values["work_mem"] == ("16384", "immediate")
    assert values["max_connections"] == ("200", "pending-reboot")
    assert values["log_statement"] == ("mod", "immediate")
    assert values["rds.force_ssl"] == ("1", "immediate")
    assert "log_connections" not in values


def test_logs_go_to_groups_made_first_with_retention():
    p = plan_db(log_retention_days=90)
    db = primary(p)
    identifier = db.inputs["identifier"]
    assert db.inputs["enabledCloudwatchLogsExports"] == [
        "postgresql",
        "upgrade",
        "iam-db-auth-error",
    ]
    groups = p.of_type(LOG_GROUP)
    assert sorted(g.inputs["name"] for g in groups) == sorted(
        f"/aws/rds/instance/{identifier}/{kind}"
        for kind in ("postgresql", "upgrade", "iam-db-auth-error")
    )
    for group in groups:
        assert group.inputs["retentionInDays"] == 90
        assert group.urn in db.dependencies


# --- names -----------------------------------------------------------------------------


def test_default_identifier_is_valid_stable_and_apart_per_stack():
    first = primary(plan_db()).inputs["identifier"]
    assert first == primary(plan_db()).inputs["identifier"]
    other = primary(plan(lambda: Database("db", args()), stack="prod")).inputs["identifier"]
    assert first.startswith("db-test-")
    assert other.startswith("db-prod-")
    for identifier in (first, other):
        assert re.fullmatch(r"[a-z][a-z0-9-]{0,62}", identifier)
        assert "--" not in identifier
        assert not identifier.endswith("-")


def test_a_long_component_name_still_gives_an_identifier_aws_accepts():
    p = plan(lambda: Database("x" * 80, args(read_replicas=1)))
    for db in p.of_type(INSTANCE):
        assert len(db.inputs["identifier"]) <= RULES["rds_instance"].max_len
        assert re.fullmatch(r"[a-z][a-z0-9-]*[a-z0-9]", db.inputs["identifier"])


def test_an_explicit_identifier_names_the_instance_its_logs_and_final_snapshot():
    p = plan_db(identifier="orders-prod", read_replicas=1)
    db = primary(p)
    assert db.inputs["identifier"] == "orders-prod"
    assert db.inputs["finalSnapshotIdentifier"] == "orders-prod-final"
    assert p.one(INSTANCE, "db-replica-1").inputs["identifier"] == "orders-prod-replica-1"
    names = {g.inputs["name"] for g in p.of_type(LOG_GROUP)}
    assert "/aws/rds/instance/orders-prod/postgresql" in names
    assert "/aws/rds/instance/orders-prod-replica-1/postgresql" in names


# --- read replicas -------------------------------------------------------------------


def test_read_replicas_follow_the_primary_with_its_safeguards_and_their_own_logs():
    p = plan_db(read_replicas=2)
    db = primary(p)
    replicas = [p.one(INSTANCE, f"db-replica-{i}") for i in (1, 2)]
    for i, replica in enumerate(replicas, 1):
        inputs = replica.inputs
        assert db.urn in replica.dependencies  # replicateSourceDb is the primary's ARN
        assert inputs["replicateSourceDb"].startswith("arn:aws:rds:")
        assert inputs["identifier"] == f"{db.inputs['identifier']}-replica-{i}"
        for key in ("username", "dbName", "manageMasterUserPassword", "allocatedStorage", "engine"):
            assert key not in inputs
        assert inputs["skipFinalSnapshot"] is True
        assert inputs["backupRetentionPeriod"] == 0
        assert inputs["multiAz"] is False
        for key in (
            "instanceClass",
            "vpcSecurityGroupIds",
            "dbSubnetGroupName",
            "parameterGroupName",
            "publiclyAccessible",
            "deletionProtection",
            "iamDatabaseAuthenticationEnabled",
            "enabledCloudwatchLogsExports",
            "caCertIdentifier",
            "maxAllocatedStorage",
        ):
            assert inputs[key] == db.inputs[key], key
        logs = [g for g in p.of_type(LOG_GROUP) if inputs["identifier"] in g.inputs["name"]]
        assert len(logs) == 3
        assert all(g.urn in replica.dependencies for g in logs)


# --- what apps get ---------------------------------------------------------------------


def plan_connection(prefix="DATABASE", replica=None, **settings):
    def program():
        db = Database("db", args(**settings))
        conn = db.connection(replica)
        pulumi.export("environment", conn.environment(prefix))
        pulumi.export("secrets", conn.secrets(prefix))
        pulumi.export("policy", conn.read_secret_policy())
        pulumi.export("address", db.address)
        pulumi.export("replicas", db.replica_addresses)

    return plan(program)


def test_connection_gives_containers_everything_but_the_password_in_plain_text():
    out = plan_connection().outputs
    env = {e["name"]: e["value"] for e in out["environment"]}
    assert env == {
        "DATABASE_HOST": out["address"],
        "DATABASE_PORT": "5432",
        "DATABASE_NAME": "app",
        "DATABASE_USER": "app",
        "PGHOST": out["address"],
        "PGPORT": "5432",
        "PGDATABASE": "app",
        "PGUSER": "app",
        "PGSSLMODE": "require",
    }
    secrets = {s["name"]: s["valueFrom"] for s in out["secrets"]}
    assert set(secrets) == {"DATABASE_PASS", "PGPASSWORD"}
    for value_from in secrets.values():
        assert value_from.startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:")
        assert value_from.endswith(":password::")


def test_connection_names_variables_after_the_prefix_and_can_target_a_replica():
    out = plan_connection("ORDERS_DB", replica=2, read_replicas=2).outputs
    env = {e["name"]: e["value"] for e in out["environment"]}
    assert env["ORDERS_DB_HOST"] == out["replicas"][1]
    assert env["ORDERS_DB_HOST"] != out["address"]
    assert {s["name"] for s in out["secrets"]} == {"ORDERS_DB_PASS", "PGPASSWORD"}


def test_connection_refuses_a_replica_it_does_not_have_and_bad_names():
    def program():
        db = Database("db", args(read_replicas=1))
        with pytest.raises(ConfigError, match="replica: 2; this database has 1"):
            db.connection(2)
        with pytest.raises(ConfigError, match="prefix"):
            db.connection().environment("database-url")
        with pytest.raises(ConfigError, match="sslmode"):
            db.connection().environment(sslmode="disable")

    plan(program)


def test_execution_role_may_read_that_one_secret_only():
    out = plan_connection().outputs
    secret = out["secrets"][0]["valueFrom"].removesuffix(":password::")
    policy = json.loads(out["policy"])
    assert policy["Statement"] == [
        {
            "Sid": "ReadDatabaseSecret",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": secret,
        }
    ]


def test_a_customer_key_on_the_secret_adds_decrypt_through_secrets_manager_only():
    policy = json.loads(plan_connection(master_user_secret_kms_key_id=KEY).outputs["policy"])
    decrypt = policy["Statement"][1]
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Resource"] == KEY
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
    }


def test_iam_connect_statement_names_the_instance_and_user():
    def program():
        db = Database("db", args())
        pulumi.export("statement", db.iam_connect_statement("reporting"))
        pulumi.export("resource_id", db.resource_id)

    out = plan(program).outputs
    assert out["statement"] == {
        "Effect": "Allow",
        "Action": "rds-db:connect",
        "Resource": f"arn:aws:rds-db:us-east-1:123456789012:dbuser:{out['resource_id']}/reporting",
    }


def test_iam_connect_statement_needs_iam_auth():
    def program():
        db = Database("db", args(iam_auth=False))
        with pytest.raises(ConfigError, match="iam_auth"):
            db.iam_connect_statement("app")

    plan(program)


# --- monitoring ----------------------------------------------------------------------


def test_no_alarms_without_a_topic():
    assert plan_db(read_replicas=1).of_type(ALARM) == []


def test_alarms_watch_cpu_storage_and_connections_and_notify_both_ways():
    p = plan_db(alarms_topic_arn=TOPIC, allocated_storage=40, max_allocated_storage=200)
    identifier = primary(p).inputs["identifier"]
    alarms = {a.name: a.inputs for a in p.of_type(ALARM)}
    assert set(alarms) == {"db-cpu-alarm", "db-storage-alarm", "db-connections-alarm"}
    for alarm in alarms.values():
        assert alarm["namespace"] == "AWS/RDS"
        assert alarm["dimensions"] == {"DBInstanceIdentifier": identifier}
        assert alarm["alarmActions"] == [TOPIC]
        assert alarm["okActions"] == [TOPIC]
        assert (alarm["period"], alarm["evaluationPeriods"]) == (300, 3)
    cpu, storage, conns = (
        alarms["db-cpu-alarm"],
        alarms["db-storage-alarm"],
        alarms["db-connections-alarm"],
    )
    assert (cpu["metricName"], cpu["comparisonOperator"], cpu["threshold"]) == (
        "CPUUtilization",
        "GreaterThanThreshold",
        80,
    )
    assert (storage["metricName"], storage["comparisonOperator"], storage["threshold"]) == (
        "FreeStorageSpace",
        "LessThanThreshold",
        40 * 1024**3 // 10,
    )
    assert storage["treatMissingData"] == "missing"
    # db.t4g.micro: 1 GiB less RDS's share, /9531392 = 90 connections; alarm at 80%.
    assert (conns["metricName"], conns["threshold"]) == ("DatabaseConnections", 72)
    assert cpu["treatMissingData"] == "notBreaching"


def test_alarm_thresholds_follow_the_settings_and_replicas_get_a_lag_alarm():
    p = plan_db(
        alarms_topic_arn=TOPIC,
        alarm_cpu_percent=90,
        alarm_connections=400,
        instance_class="db.m7g.large",
        read_replicas=1,
        alarm_replica_lag_seconds=60,
    )
    alarms = {a.name: a.inputs for a in p.of_type(ALARM)}
    assert alarms["db-cpu-alarm"]["threshold"] == 90
    assert alarms["db-connections-alarm"]["threshold"] == 400
    assert alarms["db-replica-1-lag-alarm"]["metricName"] == "ReplicaLag"
    assert alarms["db-replica-1-lag-alarm"]["threshold"] == 60
    replica_id = p.one(INSTANCE, "db-replica-1").inputs["identifier"]
    assert alarms["db-replica-1-cpu-alarm"]["dimensions"] == {"DBInstanceIdentifier": replica_id}
    assert len(alarms) == 7


def test_connection_alarm_scales_with_the_class_memory():
    def threshold(instance_class):
        p = plan_db(alarms_topic_arn=TOPIC, instance_class=instance_class)
        return p.one(ALARM, "db-connections-alarm").inputs["threshold"]

    assert threshold("db.t4g.small") == 144
    assert threshold("db.m7g.large") == 576  # 8 GiB
    assert threshold("db.r7g.16xlarge") == 4000  # RDS caps max_connections at 5000


def test_enhanced_monitoring_gets_a_role_that_only_writes_os_metrics():
    p = plan_db(enhanced_monitoring_interval=60)
    db = primary(p)
    role = p.one("aws:iam/role:Role")
    assert db.inputs["monitoringInterval"] == 60
    assert role.urn in db.dependencies
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    policy = p.one("aws:iam/rolePolicy:RolePolicy")
    assert policy.urn in db.dependencies
    group = "arn:aws:logs:us-east-1:123456789012:log-group:RDSOSMetrics"
    for statement in json.loads(policy.inputs["policy"])["Statement"]:
        assert statement["Resource"] in (group, group + ":log-stream:*")
        assert all(not action.endswith("*") for action in statement["Action"])


def test_no_monitoring_role_by_default():
    p = plan_db()
    assert p.of_type("aws:iam/role:Role") == []
    assert "monitoringRoleArn" not in primary(p).inputs


# --- conventions ------------------------------------------------------------------------


def test_every_child_is_parented_named_after_the_database_and_tagged():
    p = plan(
        lambda: Database(
            "db",
            args(
                tags={"team": "data"},
                read_replicas=1,
                alarms_topic_arn=TOPIC,
                enhanced_monitoring_interval=60,
            ),
        )
    )
    component = p.one("paaskit:database:Database")
    for record in p.descendants(component.urn):
        assert record.parent == component.urn
        assert record.name.startswith("db-")
        if "tags" in record.inputs:
            assert record.inputs["tags"]["paaskit:component"] == "db"
            assert record.inputs["tags"]["team"] == "data"


def test_a_transform_changes_a_child_before_it_is_created():
    def bigger_gp3(kwargs, opts):
        kwargs["storage_throughput"] = 500

    p = plan_db(transform={"instance": bigger_gp3})
    assert primary(p).inputs["storageThroughput"] == 500


def test_every_supported_major_names_its_parameter_group_family():
    assert DEFAULT_POSTGRES_MAJOR in POSTGRES_MAJORS
    for major, info in POSTGRES_MAJORS.items():
        assert info.family == f"postgres{major}"
        assert primary(plan_db(engine_version=major)).inputs["engineVersion"] == major


def test_args_can_be_made_from_settings_read_from_config():
    settings = DatabaseSettings(multi_az=False, read_replicas=1, tags={"env": "dev"})
    made = DatabaseArgs.from_settings(
        settings,
        vpc_id="vpc-0123456789abcdef0",
        subnet_ids=["subnet-0aaa", "subnet-0bbb"],
        allowed_security_group_ids=["sg-0nodes"],
    )
    assert made.multi_az is False
    assert made.read_replicas == 1
    assert made.tags == {"env": "dev"}
    assert made.subnet_ids == WIRING["subnet_ids"]


# --- bad settings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"instance_class": "t4g.micro"}, "instance_class.*db.<family>.<size>"),
        ({"instance_class": "db.t4g.huge"}, "instance_class"),
        ({"instance_class": "db.t2.micro"}, "instance_class.*previous-generation"),
        ({"engine_version": "19"}, "engine_version.*does not offer PostgreSQL 19"),
        ({"engine_version": "13"}, "engine_version.*left RDS standard support"),
        ({"engine_version": "17.x"}, "engine_version.*not a PostgreSQL version"),
        ({"allocated_storage": 10}, "allocated_storage"),
        (
            {"allocated_storage": 100, "max_allocated_storage": 100},
            "max_allocated_storage.*100 GiB",
        ),
        ({"backup_retention_days": 3}, "backup_retention_days: 3 days is below"),
        ({"backup_retention_days": 36}, "backup_retention_days"),
        ({"backup_retention_days": 0, "throwaway": True}, "backup_retention_days"),
        ({"backup_window": "3:00-03:30"}, "backup_window.*hh:mm-hh:mm"),
        ({"backup_window": "03:00-03:10"}, "backup_window.*30 minutes"),
        ({"maintenance_window": "sunday:04:00-sunday:05:00"}, "maintenance_window"),
        ({"maintenance_window": "sun:04:00-sun:04:15"}, "maintenance_window.*30 minutes"),
        (
            {"backup_window": "04:30-05:30", "maintenance_window": "sun:05:00-sun:06:00"},
            "backup_window: 04:30-05:30 overlaps maintenance_window",
        ),
        (
            {"backup_window": "23:45-00:15", "maintenance_window": "mon:00:00-mon:00:30"},
            "overlaps",
        ),
        ({"database_name": "postgres"}, "database_name.*already exists"),
        ({"database_name": "select"}, "database_name.*reserved word"),
        ({"database_name": "1app"}, "database_name"),
        ({"database_name": "App"}, "database_name"),
        ({"database_name": "a" * 64}, "database_name"),
        ({"username": "rdsadmin"}, "username.*pg_ or rds"),
        ({"username": "pg_app"}, "username.*pg_ or rds"),
        ({"username": "user"}, "username.*reserved word"),
        ({"username": "admin"}, "username.*'admin' is reserved by RDS for PostgreSQL"),
        ({"username": "public"}, "username.*'public' is reserved"),
        ({"username": "a" * 17}, "username.*1 to 16"),
        ({"identifier": "1db"}, "identifier.*a letter first"),
        ({"identifier": "db--x"}, "identifier.*no two hyphens"),
        ({"identifier": "db-"}, "identifier.*no hyphen at the end"),
        ({"identifier": "Orders"}, "identifier.*lowercase"),
        ({"identifier": "a" * 64}, "identifier.*1 to 63"),
        ({"subnet_ids": ["subnet-0aaa"]}, "subnet_ids.*at least two zones"),
        ({"kms_key_id": "alias/aws/rds"}, "kms_key_id.*key's ARN"),
        ({"master_user_secret_kms_key_id": "1234abcd"}, "master_user_secret_kms_key_id"),
        ({"parameters": {"rds.force_ssl": 0}}, "parameters.*rds.force_ssl is always 1"),
        ({"parameters": {"Work Mem": "4"}}, "parameters.*not a PostgreSQL parameter"),
        ({"read_replicas": 6}, "read_replicas"),
        ({"log_retention_days": 10}, "log_retention_days"),
        ({"password_rotation_days": 400}, "password_rotation_days"),
        ({"enhanced_monitoring_interval": 20}, "enhanced_monitoring_interval"),
        (
            {"instance_class": "db.m7g.metal-48xl", "alarms_topic_arn": TOPIC},
            "alarm_connections: paaskit cannot estimate",
        ),
        ({"multiaz": False}, "multiaz"),
    ],
)
def test_bad_settings_fail_naming_the_key(settings, message):
    with pytest.raises(ValidationError, match="(?s)" + message):
        args(**settings)


def test_good_edge_settings_pass():
    assert args(backup_retention_days=1, throwaway=True).backup_retention_days == 1
    assert args(backup_window="23:45-00:15", maintenance_window="mon:01:00-mon:01:30")
    assert (
        args(maintenance_window="sun:23:30-mon:00:30").maintenance_window == "sun:23:30-mon:00:30"
    )
    assert args(username="postgres").username == "postgres"
    assert args(instance_class="db.m7g.metal-48xl", alarm_connections=2000)
    assert args(allowed_security_group_ids=[]).allowed_security_group_ids == []


def test_an_unknown_transform_kind_is_an_error():
    with pytest.raises(ConfigError, match=r"transform\.db: no such child of Database"):
        Database("x", args(transform={"db": lambda kwargs, opts: None}))
