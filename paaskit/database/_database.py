"""The Database component: RDS PostgreSQL, MySQL or MariaDB with its network, parameters, logs,
replicas and alarms."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from paaskit._aws import assume_role_policy, policy_document, port_security_group
from paaskit._component import Child, Component, each, named, one
from paaskit.config import ConfigError
from paaskit.naming import aws_name

from ._connection import DatabaseConnection
from ._engines import ENGINES, extended_support_price, max_connections_estimate
from ._settings import PG_NAME, DatabaseArgs

__all__ = [
    "CA_CERT",
    "PORT",
    "Database",
]

PORT = 5432
"""PostgreSQL's port; the security group admits the engine's port only
(`ENGINES[engine].port`: 3306 for MySQL and MariaDB)."""

CA_CERT = "rds-ca-rsa2048-g1"
"""The RDS certificate authority the instance's TLS certificate is signed by (valid to 2061)."""


class Database(Component):
    """A PostgreSQL, MySQL or MariaDB database on RDS that keeps its data and admits only the rack.

    Creates: a security group with one ingress rule on the engine's port (5432,
    or 3306) per allowed security group; a subnet group over the given subnets;
    a parameter group (TLS only; PostgreSQL: slow-query, lock-wait, connection
    and DDL logging, pg_stat_statements; MySQL and MariaDB: the slow query log);
    a log group per exported log with retention; the instance (encrypted gp3
    with autoscaling, Multi-AZ, backups, deletion protection, final snapshot,
    Performance Insights where RDS has it, IAM auth, RDS-managed master
    password); the password's rotation schedule; optionally an Enhanced
    Monitoring role, read replicas with their log groups, and CloudWatch alarms.
    """

    TYPE = "paaskit:database:Database"
    CHILDREN: ClassVar[Mapping[str, Child]] = {
        "security_group": one(aws.ec2.SecurityGroup),
        "security_group_ingress": each(aws.vpc.SecurityGroupIngressRule),
        "subnet_group": one(aws.rds.SubnetGroup),
        "parameter_group": one(aws.rds.ParameterGroup),
        "monitoring_role": one(aws.iam.Role),
        "monitoring_role_policy": one(aws.iam.RolePolicy),
        "log_group": each(aws.cloudwatch.LogGroup),
        "instance": one(aws.rds.Instance),
        "secret_rotation": one(aws.secretsmanager.SecretRotation),
        "replica": each(aws.rds.Instance),
        "alarm": named(aws.cloudwatch.MetricAlarm),
    }
    """Every child by key (the keys of `nodes` and `transform`): a security group
    rule per allowed group, a log group per exported log (the primary's, then each
    replica's), alarms by name (`cpu`, `replica-1-lag`)."""

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        self.args = args
        self.engine = args.engine
        self.facts = ENGINES[args.engine]
        split = self.facts.split(args.engine_version)
        assert split is not None  # DatabaseSettings checked it
        self.major, self.minor_pinned = split
        self.family = self.facts.family(self.major)
        if self.major in self.facts.retired:
            # DatabaseSettings let it through only with extended_support: say what it costs.
            pinned = (
                f" RDS creates it at the minor versions it keeps in Extended Support: a "
                f"pinned {args.engine_version} may be refused; give {self.major!r}."
                if self.minor_pinned
                else ""
            )
            pulumi.log.warn(
                f"{name}: {self.facts.label} {self.major} is past RDS's end of standard "
                f"support ({self.facts.retired[self.major]}): it runs in RDS Extended Support, "
                f"billed {extended_support_price(args.instance_class)}, until "
                f"{self.facts.extended_until(self.major)}, when RDS upgrades it; upgrade to one "
                f"of {self.facts.supported} before then.{pinned}",
                resource=self,
            )
        self.identifier = args.identifier or _default_identifier(name)
        self.final_snapshot_identifier = aws_name("rds_snapshot", self.identifier, "final")
        self.database_name = args.database_name
        self.username = args.username
        self.log_exports = list(self.facts.log_exports) + (
            ["iam-db-auth-error"] if args.iam_auth else []
        )

        self.security_group = self._security_group()
        self.subnet_group = self.child(
            "subnet_group",
            aws.rds.SubnetGroup,
            "subnets",
            subnet_ids=args.subnet_ids
            if isinstance(args.subnet_ids, pulumi.Output)
            else list(args.subnet_ids),
            description=f"{name}: private subnets of the {self.facts.label} database",
        )
        self.parameter_group = self._parameter_group()
        self.monitoring_role: aws.iam.Role | None = None
        self.monitoring_policy: aws.iam.RolePolicy | None = None
        if args.enhanced_monitoring_interval:
            self.monitoring_role, self.monitoring_policy = self._monitoring_role()
        self.log_groups = self._log_groups(self.identifier, "")
        self.instance = self._instance()
        self.master_user_secret_arn: pulumi.Output[str] = self.instance.master_user_secrets.apply(
            _secret_arn
        )
        self.password_rotation = self._password_rotation()
        self.replica_identifiers = [
            aws_name("rds_instance", self.identifier, f"replica-{i}")
            for i in range(1, args.read_replicas + 1)
        ]
        self.replicas = [
            self._replica(i, identifier) for i, identifier in enumerate(self.replica_identifiers, 1)
        ]
        self.alarms = self._alarms() if args.alarms_topic_arn is not None else []

        self.address: pulumi.Output[str] = self.instance.address
        self.port: pulumi.Output[int] = self.instance.port
        self.endpoint: pulumi.Output[str] = self.instance.endpoint
        self.arn: pulumi.Output[str] = self.instance.arn
        self.resource_id: pulumi.Output[str] = self.instance.resource_id
        self.security_group_id: pulumi.Output[str] = self.security_group.id
        self.replica_addresses: pulumi.Output[list[str]] = pulumi.Output.all(
            *(r.address for r in self.replicas)
        )
        self.register_outputs(
            {
                "engine": self.engine,
                "identifier": self.identifier,
                "address": self.address,
                "port": self.port,
                "database_name": self.database_name,
                "username": self.username,
                "master_user_secret_arn": self.master_user_secret_arn,
                "security_group_id": self.security_group_id,
                "replica_addresses": self.replica_addresses,
            }
        )

    # --- what apps use ----------------------------------------------------------

    def connection(self, replica: int | None = None) -> DatabaseConnection:
        """How a container connects: to the primary, or to read replica `replica` (1-based)."""
        if replica is None:
            host = self.address
        else:
            if not 1 <= replica <= len(self.replicas):
                raise ConfigError(
                    f"replica: {replica}; this database has {len(self.replicas)} read replicas "
                    "(numbered from 1)"
                )
            host = self.replicas[replica - 1].address
        return DatabaseConnection(
            host=host,
            port=self.port,
            database=self.database_name,
            username=self.username,
            secret_arn=self.master_user_secret_arn,
            secret_kms_key_arn=self.args.master_user_secret_kms_key_id,
            engine=self.engine,
        )

    def iam_connect_statement(self, db_user: str) -> pulumi.Output[dict[str, Any]]:
        """The IAM statement letting a role log in as `db_user` with an IAM token (`iam_auth`)."""
        if not self.args.iam_auth:
            raise ConfigError("iam_auth: off for this database; turn it on to log in with IAM")
        if not PG_NAME.fullmatch(db_user):
            raise ConfigError(f"db_user: {db_user!r} is not a {self.facts.label} user name")

        def statement(args: list[Any]) -> dict[str, Any]:
            arn, resource_id = str(args[0]), str(args[1])
            partition, region, account = arn.split(":")[1], arn.split(":")[3], arn.split(":")[4]
            return {
                "Effect": "Allow",
                "Action": "rds-db:connect",
                "Resource": f"arn:{partition}:rds-db:{region}:{account}:dbuser:{resource_id}/{db_user}",
            }

        return pulumi.Output.all(self.arn, self.resource_id).apply(statement)

    # --- children, in the order they are made ----------------------------------

    def _security_group(self) -> aws.ec2.SecurityGroup:
        label, port = self.facts.label, self.facts.port
        return port_security_group(
            self,
            vpc_id=self.args.vpc_id,
            sources=self.args.allowed_security_group_ids,
            port=port,
            description=f"{label}: port {port} from the allowed security groups only",
            rule_description=f"{label} from an allowed security group",
        )

    def _parameter_group(self) -> aws.rds.ParameterGroup:
        args = self.args
        values = (
            self._postgres_parameters() if self.engine == "postgres" else self._mysql_parameters()
        )
        values.update({k: str(v) for k, v in args.parameters.items()})
        static = self.facts.static_parameters
        return self.child(
            "parameter_group",
            aws.rds.ParameterGroup,
            "params",
            family=self.family,
            description=f"{self.component_name}: TLS only, slow-query and audit logging",
            parameters=[
                {
                    "name": key,
                    "value": value,
                    "apply_method": "pending-reboot" if key in static else "immediate",
                }
                for key, value in sorted(values.items())
            ],
        )

    def _mysql_parameters(self) -> dict[str, str]:
        """MySQL's and MariaDB's: TLS only, the slow query log to the exported file."""
        args = self.args
        values = {
            # Clients that do not negotiate TLS are refused ("Connections using insecure
            # transport are prohibited"): libmysqlclient's default (Django's mysqlclient,
            # Ruby's mysql2) does negotiate it; Node's mysql2 needs `ssl` set.
            "require_secure_transport": "1",
            # The slow query log is what `slowquery` exports; FILE is what RDS exports.
            "slow_query_log": "0" if args.slow_query_ms < 0 else "1",
            "log_output": "FILE",
        }
        if args.slow_query_ms >= 0:
            values["long_query_time"] = f"{args.slow_query_ms / 1000:g}"
        if self.engine == "mariadb":
            # MariaDB before 11.6 defaults to latin1, which cannot hold what users type.
            values["character_set_server"] = "utf8mb4"
        return values

    def _postgres_parameters(self) -> dict[str, str]:
        args = self.args
        values: dict[str, str] = {
            "rds.force_ssl": "1",
            "log_min_duration_statement": str(args.slow_query_ms),
            "log_lock_waits": "1",
            # Schema changes are rare and are what an incident review asks about.
            # Their text is logged: set role passwords with psql's \password, never
            # with a literal in CREATE/ALTER ROLE.
            "log_statement": "ddl",
            "shared_preload_libraries": "pg_stat_statements",
        }
        # Off is PostgreSQL's default, so "off" is no entry. PostgreSQL 18 made
        # log_connections a list of aspects; these three are what `on` meant before.
        # log_disconnections stays off: it adds only the session's length, and
        # doubles the volume.
        if args.log_connections:
            values["log_connections"] = (
                "receipt,authentication,authorization" if int(self.major) >= 18 else "1"
            )
        return values

    def _monitoring_role(self) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        invoke = pulumi.InvokeOutputOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=invoke)
        region = aws.get_region_output(opts=invoke).region
        partition = aws.get_partition_output(opts=invoke).partition
        role = self.child(
            "monitoring_role",
            aws.iam.Role,
            "monitoring-role",
            assume_role_policy=caller.account_id.apply(
                lambda account: assume_role_policy(
                    "monitoring.rds.amazonaws.com", source_account=account
                )
            ),
            description="RDS Enhanced Monitoring: write OS metrics to RDSOSMetrics only",
        )
        policy = self.child(
            "monitoring_role_policy",
            aws.iam.RolePolicy,
            "monitoring-write",
            role=role.id,
            policy=pulumi.Output.all(partition, region, caller.account_id).apply(
                lambda a: _monitoring_policy(str(a[0]), str(a[1]), str(a[2]))
            ),
        )
        return role, policy

    def _log_groups(self, identifier: str, prefix: str) -> list[aws.cloudwatch.LogGroup]:
        # RDS creates a missing group itself, without retention; making them first
        # (the identifier is known before the instance exists) keeps the retention.
        return [
            self.child(
                "log_group",
                aws.cloudwatch.LogGroup,
                f"{prefix}{kind}-logs",
                name=f"/aws/rds/instance/{identifier}/{kind}",
                retention_in_days=self.args.log_retention_days,
            )
            for kind in self.log_exports
        ]

    def _common(self) -> dict[str, Any]:
        """Settings the primary and its replicas share."""
        args = self.args
        insights = args.insights
        common: dict[str, Any] = {
            "instance_class": args.instance_class,
            "storage_type": "gp3",
            "max_allocated_storage": args.max_allocated_storage,
            "publicly_accessible": False,
            "network_type": "IPV4",
            "vpc_security_group_ids": [self.security_group.id],
            "db_subnet_group_name": self.subnet_group.name,
            "parameter_group_name": self.parameter_group.name,
            "ca_cert_identifier": CA_CERT,
            "auto_minor_version_upgrade": not self.minor_pinned,
            "apply_immediately": args.apply_immediately,
            "copy_tags_to_snapshot": True,
            "deletion_protection": not args.throwaway,
            "iam_database_authentication_enabled": args.iam_auth,
            "enabled_cloudwatch_logs_exports": list(self.log_exports),
            "performance_insights_enabled": insights,
            "performance_insights_retention_period": 7 if insights else None,
            "performance_insights_kms_key_id": args.kms_key_id if insights else None,
            "monitoring_interval": args.enhanced_monitoring_interval,
            "monitoring_role_arn": self.monitoring_role.arn if self.monitoring_role else None,
        }
        if self.facts.extended_support:
            # RDS takes it for PostgreSQL and MySQL only (and has no Extended Support for
            # MariaDB, which it upgrades past the end of standard support).
            common["engine_lifecycle_support"] = (
                "open-source-rds-extended-support"
                if args.extended_support
                else "open-source-rds-extended-support-disabled"
            )
        if args.maintenance_window:
            common["maintenance_window"] = args.maintenance_window
        return common

    def _instance(self) -> aws.rds.Instance:
        args = self.args
        return self.child(
            "instance",
            aws.rds.Instance,
            "instance",
            identifier=self.identifier,
            engine=self.engine,
            engine_version=args.engine_version,
            port=self.facts.port,
            # Whether a change of `engine_version` to a newer major may go through (in the
            # maintenance window, with the new parameter group family).
            allow_major_version_upgrade=args.allow_major_version_upgrade,
            db_name=args.database_name,
            username=args.username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.master_user_secret_kms_key_id,
            allocated_storage=args.allocated_storage,
            storage_encrypted=True,
            kms_key_id=args.kms_key_id,
            multi_az=args.multi_az,
            backup_retention_period=args.backup_retention_days,
            backup_window=args.backup_window,
            skip_final_snapshot=args.throwaway,
            final_snapshot_identifier=None if args.throwaway else self.final_snapshot_identifier,
            delete_automated_backups=args.throwaway,
            **self._common(),
            opts=pulumi.ResourceOptions(
                protect=not args.throwaway,
                # Its log groups before RDS would make them; its monitoring role
                # able to write before RDS starts sending.
                depends_on=[*self.log_groups, *self._monitoring_resources()],
            ),
        )

    def _monitoring_resources(self) -> list[pulumi.Resource]:
        return [r for r in (self.monitoring_role, self.monitoring_policy) if r is not None]

    def _password_rotation(self) -> aws.secretsmanager.SecretRotation:
        days = self.args.password_rotation_days
        if days == 0:
            return self.child(
                "secret_rotation",
                aws.secretsmanager.SecretRotation,
                "password-rotation",
                secret_id=self.master_user_secret_arn,
                rotation_enabled=False,
            )
        return self.child(
            "secret_rotation",
            aws.secretsmanager.SecretRotation,
            "password-rotation",
            secret_id=self.master_user_secret_arn,
            rotation_enabled=True,
            # RDS rotates its own secret: no Lambda; just the schedule, from now on.
            rotation_rules={"schedule_expression": f"rate({days} days)"},
            rotate_immediately=False,
        )

    def _replica(self, index: int, identifier: str) -> aws.rds.Instance:
        args = self.args
        log_groups = self._log_groups(identifier, f"replica-{index}-")
        return self.child(
            "replica",
            aws.rds.Instance,
            f"replica-{index}",
            identifier=identifier,
            # With a subnet group given, RDS wants the source's ARN, not its identifier.
            replicate_source_db=self.instance.arn,
            # A replica serves reads; the primary's standby is what survives a zone.
            multi_az=False,
            # Its data is the primary's, which is backed up; a replica keeps none.
            backup_retention_period=0,
            skip_final_snapshot=True,
            **self._common(),
            opts=pulumi.ResourceOptions(
                protect=not args.throwaway,
                depends_on=[*log_groups, *self._monitoring_resources()],
            ),
        )

    def _alarms(self) -> list[aws.cloudwatch.MetricAlarm]:
        args = self.args
        # DatabaseSettings made sure one of the two is there.
        connections = (
            args.alarm_connections
            or max_connections_estimate(self.engine, args.instance_class)
            or 1
        )
        label = self.facts.label
        free_bytes = int(args.allocated_storage * 1024**3 * args.alarm_free_storage_percent / 100)
        targets = [("", self.identifier)] + [
            (f"replica-{i}-", identifier)
            for i, identifier in enumerate(self.replica_identifiers, 1)
        ]
        made = []
        for prefix, identifier in targets:
            made.append(
                self._alarm(
                    f"{prefix}cpu",
                    identifier,
                    "CPUUtilization",
                    "GreaterThanThreshold",
                    args.alarm_cpu_percent,
                    f"{label} {identifier}: CPU above {args.alarm_cpu_percent:g}% for 15 minutes",
                    statistic="Average",
                )
            )
            made.append(
                self._alarm(
                    f"{prefix}storage",
                    identifier,
                    "FreeStorageSpace",
                    "LessThanThreshold",
                    free_bytes,
                    f"{label} {identifier}: free storage under "
                    f"{args.alarm_free_storage_percent:g}% of {args.allocated_storage} GiB for "
                    "15 minutes; autoscaling could not keep up or reached max_allocated_storage",
                    statistic="Minimum",
                    # No data says nothing about the disk: keep the last state.
                    missing="missing",
                )
            )
            made.append(
                self._alarm(
                    f"{prefix}connections",
                    identifier,
                    "DatabaseConnections",
                    "GreaterThanThreshold",
                    connections,
                    f"{label} {identifier}: more than {connections} connections for 15 minutes",
                    statistic="Maximum",
                )
            )
            if prefix:
                made.append(
                    self._alarm(
                        f"{prefix}lag",
                        identifier,
                        "ReplicaLag",
                        "GreaterThanThreshold",
                        args.alarm_replica_lag_seconds,
                        f"{label} {identifier}: more than {args.alarm_replica_lag_seconds} s "
                        "behind the primary for 15 minutes",
                        statistic="Maximum",
                    )
                )
        return made

    def _alarm(
        self,
        role: str,
        identifier: str,
        metric: str,
        comparison: str,
        threshold: float,
        description: str,
        *,
        statistic: str,
        missing: str = "notBreaching",
    ) -> aws.cloudwatch.MetricAlarm:
        """Three 5-minute periods in a row past the threshold; notify on alarm and on recovery."""
        topic = self.args.alarms_topic_arn
        return self.child(
            "alarm",
            aws.cloudwatch.MetricAlarm,
            f"{role}-alarm",
            at=role,
            namespace="AWS/RDS",
            metric_name=metric,
            dimensions={"DBInstanceIdentifier": identifier},
            statistic=statistic,
            period=300,
            evaluation_periods=3,
            datapoints_to_alarm=3,
            comparison_operator=comparison,
            threshold=threshold,
            # Missing CPU or connection data (a reboot, a stopped instance) is no overload.
            treat_missing_data=missing,
            alarm_description=description,
            alarm_actions=[topic],
            ok_actions=[topic],
        )


def _default_identifier(name: str) -> str:
    """The component name, the stack, and a hash that keeps projects and stacks apart."""
    project, stack = pulumi.get_project(), pulumi.get_stack()
    digest = hashlib.sha256(f"{project}/{stack}/{name}".encode()).hexdigest()[:6]
    return aws_name("rds_instance", name, stack, digest)


def _secret_arn(secrets: Sequence[Any] | None) -> str:
    if not secrets:
        raise ValueError("RDS reported no master user secret; manage_master_user_password is on")
    first = secrets[0]
    if isinstance(first, dict):
        return str(first.get("secret_arn") or first.get("secretArn"))
    return str(first.secret_arn)


def _monitoring_policy(partition: str, region: str, account: str) -> str:
    group = f"arn:{partition}:logs:{region}:{account}:log-group:RDSOSMetrics"
    return policy_document(
        [
            {
                "Sid": "MetricsGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
                "Resource": group,
            },
            {
                "Sid": "MetricsStreams",
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                    "logs:GetLogEvents",
                ],
                "Resource": f"{group}:log-stream:*",
            },
        ]
    )
