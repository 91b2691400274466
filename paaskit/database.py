"""Database: RDS PostgreSQL that keeps its data, in the private subnets, reachable only by the rack.

What it makes: a PostgreSQL instance (Multi-AZ, encrypted gp3 storage that grows
by itself up to a ceiling), its subnet group over the private subnets, its own
security group admitting port 5432 only from the security groups the caller
names (no CIDR rule, no egress rule: RDS needs none), a parameter group that
refuses unencrypted connections and logs slow queries, lock waits, connections
and schema changes, a CloudWatch log group with retention for each exported log,
the rotation schedule of its master password, and optionally read replicas,
an Enhanced Monitoring role and CloudWatch alarms.

Nothing is ever lost by accident. By default the instance has RDS deletion
protection and Pulumi's `protect` (so `pulumi destroy` stops before it), keeps
automated backups for 7 days (and keeps them after a delete), takes a final
snapshot named `<identifier>-final` when deleted, and copies its tags to its
snapshots. `throwaway: true` turns all of that off for disposable stacks.

To really delete a database:

- disposable stack: set `throwaway: true`, `pulumi up` (this lifts `protect`,
  turns off deletion protection and skips the final snapshot), then
  `pulumi destroy`;
- keeping a final snapshot: `pulumi state unprotect <urn of the instance>`,
  `aws rds modify-db-instance --db-instance-identifier <id>
  --no-deletion-protection --apply-immediately`, then `pulumi destroy`. RDS
  takes the snapshot `<id>-final` and keeps the automated backups for their
  retention period. Snapshot names are unique per account and region: if a
  database of the same identifier was deleted before, its `<id>-final` still
  exists and the delete stops with `DBSnapshotAlreadyExists` (nothing is lost);
  rename or delete the old snapshot (`aws rds copy-db-snapshot`, then
  `delete-db-snapshot`) and run `pulumi destroy` again.

The master password. RDS generates it and keeps it in Secrets Manager
(`manage_master_user_password`): it is in no Pulumi input, state, code or task
definition. Apps get it as an ECS secret (`Database.connection().secrets()`,
which names the secret's `password` key), so ECS's agent reads it at task start
and hands it to the container only. `DATABASE_URL` is composed *inside* the
container at start, from `<NAME>_USER`, `<NAME>_PASS`, `<NAME>_HOST`,
`<NAME>_PORT` and `<NAME>_NAME` (`paaskit.buildpack.url_env_snippet`, which also
percent-encodes the password: RDS's generated passwords exclude `/ @ "` and
spaces but may hold other characters a URL reserves), so the URL with its
password never exists outside the running container.

Apps on a shared rack database all log in as the master user unless the team
gives each app its own role and database (`CREATE ROLE`, then
`Database.iam_connect_statement(role)` for an IAM-authenticated login): the
master user is the simple default, not the least-privileged one.

Rotation. Secrets Manager rotates the password on a schedule
(`password_rotation_days`, default 30; RDS's own default is 7). ECS resolves
secrets when a task starts: after a rotation, connections a task already holds
keep working but new ones fail until the task is replaced. A rack should
replace its app tasks when the secret's rotation succeeds (an EventBridge rule
on Secrets Manager's `RotationSucceeded` event for `master_user_secret_arn`), or
apps should use IAM authentication (`iam_auth`, on by default) instead.

Versions. `engine_version` takes a major (`"18"`, RDS picks the newest minor
and upgrades minors by itself in the maintenance window) or a minor (`"17.6"`,
which pins it: automatic minor upgrades are then off, or RDS would move past the
pin and every later `pulumi up` would try to go back). `POSTGRES_MAJORS` below
lists the majors RDS offers in standard support, with their parameter group
families. A major upgrade (`"17"` to `"18"`) changes the parameter group
family too, and takes the database down for its duration (RDS snapshots it
first): run it deliberately, in a quiet hour, with `apply_immediately: true`,
after trying it on a restored snapshot. When standard support of a major ends, RDS upgrades it to a newer
major in the maintenance window instead of enrolling it in paid Extended Support
(`extended_support`, off by default: Extended Support costs ~$0.10 per vCPU-hour
in its first two years, ~$146 a month for a 2-vCPU db.t4g.micro, six times the
instance).

Changes wait for the maintenance window (`apply_immediately: false`): a class
change, a storage change or a parameter needing a reboot means a restart or a
Multi-AZ failover (30 s to 2 min of refused connections), which should happen
in the weekly window the team chose, not in the middle of a `pulumi up` on a
busy afternoon. Until then `pulumi up` keeps showing the pending change.

Cost (us-east-1 list prices of 2026, 730 hours a month; prices change):

====================================  ============  ===========
what                                   single-AZ     Multi-AZ
====================================  ============  ===========
db.t4g.micro (2 vCPU, 1 GiB)           $11.68        $23.36
db.t4g.small (2 vCPU, 2 GiB)           $23.36        $46.72
gp3 storage, per GiB-month             $0.115        $0.23
20 GiB (the default)                   $2.30         $4.60
====================================  ============  ===========

The default (db.t4g.micro, Multi-AZ, 20 GiB) is about $28 a month, plus the
secret ($0.40), CloudWatch Logs ($0.50 per GB ingested, $0.03 per GB-month
kept), and alarms if asked ($0.10 each a month). Backups up to the size of the
provisioned storage are free; beyond, $0.095 per GB-month. Performance Insights
with 7 days of history is free. Each read replica costs another instance and its
storage. Burstable classes on RDS run in unlimited mode: CPU above the baseline
for hours is billed as extra credits, which the CPU alarm catches.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from ._aws import assume_role_policy, policy_document
from ._component import Component
from .config import ComponentArgs, ConfigError, Input, RetentionDays
from .naming import aws_name

__all__ = [
    "DEFAULT_POSTGRES_MAJOR",
    "POSTGRES_MAJORS",
    "POSTGRES_MAJORS_AS_OF",
    "Database",
    "DatabaseArgs",
    "DatabaseConnection",
    "DatabaseSettings",
    "PostgresMajor",
]

PORT = 5432
"""PostgreSQL's port; the security group admits this port only."""

CA_CERT = "rds-ca-rsa2048-g1"
"""The RDS certificate authority the instance's TLS certificate is signed by (valid to 2061)."""


@dataclass(frozen=True)
class PostgresMajor:
    """One major version of RDS for PostgreSQL."""

    family: str
    """Its DB parameter group family."""
    rds_release: str
    """When RDS first offered it (year-month)."""
    end_of_standard_support: str
    """RDS's end of standard support; after it, paid Extended Support or an upgrade."""


POSTGRES_MAJORS_AS_OF = "2026-11"
"""When `POSTGRES_MAJORS` was last checked against RDS's release calendar."""

POSTGRES_MAJORS: dict[str, PostgresMajor] = {
    "18": PostgresMajor("postgres18", "2025-11", "2031-02-28"),
    "17": PostgresMajor("postgres17", "2024-11", "2030-02-28"),
    "16": PostgresMajor("postgres16", "2023-11", "2029-02-28"),
    "15": PostgresMajor("postgres15", "2023-02", "2028-02-29"),
    "14": PostgresMajor("postgres14", "2022-02", "2027-02-28"),
}
"""Majors RDS for PostgreSQL offers in standard support, as of `POSTGRES_MAJORS_AS_OF`.

Source: Amazon RDS for PostgreSQL release calendar. PostgreSQL 19 was in beta
and not yet offered by RDS outside its preview environment; add its row when
RDS releases it, and move `DEFAULT_POSTGRES_MAJOR`.
"""

_RETIRED_MAJORS: dict[str, str] = {
    "13": "2026-02-28",
    "12": "2025-02-28",
    "11": "2024-02-29",
}
"""Majors past RDS's end of standard support: a new instance would be billed Extended Support."""

DEFAULT_POSTGRES_MAJOR = "18"
"""The newest major RDS offers: the longest support ahead, no upgrade for years."""

# Parameters PostgreSQL reads only at server start ("postmaster" context): RDS
# refuses to apply them `immediate`, so they wait for the next reboot.
_STATIC_PARAMETERS = frozenset(
    {
        "autovacuum_max_workers",
        "huge_pages",
        "max_connections",
        "max_locks_per_transaction",
        "max_logical_replication_workers",
        "max_pred_locks_per_transaction",
        "max_prepared_transactions",
        "max_replication_slots",
        "max_wal_senders",
        "max_worker_processes",
        "rds.logical_replication",
        "shared_buffers",
        "shared_preload_libraries",
        "track_activity_query_size",
        "track_commit_timestamp",
        "wal_buffers",
    }
)

# PostgreSQL's reserved key words (categories "reserved" and "reserved, can be
# function or type", src/include/parser/kwlist.h): RDS refuses them as the
# master user or database name.
_PG_RESERVED_TEXT = """
    all analyse analyze and any array as asc asymmetric authorization binary both case
    cast check collate collation column concurrently constraint create cross
    current_catalog current_date current_role current_schema current_time
    current_timestamp current_user default deferrable desc distinct do else end except
    false fetch for foreign freeze from full grant group having ilike in initially
    inner intersect into is isnull join lateral leading left like limit localtime
    localtimestamp natural not notnull null offset on only or order outer overlaps
    placing primary references returning right select session_user similar some
    symmetric system_user table tablesample then to trailing true union unique user
    using variadic verbose when where window with
"""
_PG_RESERVED_WORDS = frozenset(_PG_RESERVED_TEXT.split())

# Roles RDS itself creates on every PostgreSQL instance.
_RDS_ROLES = frozenset(
    {"rdsadmin", "rdsrepladmin", "rdstopmgr", "rds_superuser", "rds_replication", "rds_password"}
)

# Databases every RDS PostgreSQL instance already has.
_EXISTING_DATABASES = frozenset({"postgres", "rdsadmin", "template0", "template1"})

_INSTANCE_CLASS = re.compile(
    r"db\.(?P<family>[a-z][a-z0-9]*)\.(?P<size>nano|micro|small|medium|large|xlarge|"
    r"\d{1,2}xlarge|metal(?:-\d{2,3}xl)?)"
)
_VERSION = re.compile(r"(?P<major>\d{1,2})(?:\.(?P<minor>\d{1,3}))?")
_BACKUP_WINDOW = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")
_MAINTENANCE_WINDOW = re.compile(
    r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-"
    r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)"
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_KMS_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+")
_PG_NAME = re.compile(r"[a-z][a-z0-9_]*")
_PARAMETER_NAME = re.compile(r"[a-z][a-z0-9_.]*")
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_WEEK = 7 * 24 * 60
_MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)

# Burstable classes do not follow their family's GiB-per-vCPU ratio.
_T_CLASS_MEMORY_GIB = {
    "micro": 1,
    "small": 2,
    "medium": 4,
    "large": 8,
    "xlarge": 16,
    "2xlarge": 32,
}
_MEMORY_GIB_PER_VCPU = {"m": 4, "r": 8, "x": 16, "z": 8, "c": 2}


class DatabaseSettings(ComponentArgs):
    """Every setting of a Database a user chooses; `DatabaseArgs` adds what the rack wires in.

    A rack reads these from Pulumi config (nothing here comes from another
    resource but the optional alarm topic), then makes
    `DatabaseArgs.from_settings(...)` with its network and nodes.
    """

    engine_version: str = DEFAULT_POSTGRES_MAJOR
    """PostgreSQL version: a major (`"17"`) or a pinned minor (`"17.6"`, which turns
    automatic minor upgrades off). Default the newest major RDS offers, "18"."""

    instance_class: str = "db.t4g.micro"
    """RDS instance class, `db.<family>.<size>`. Default db.t4g.micro: the cheapest
    current class (Graviton, 2 vCPU, 1 GiB, ~90 connections), enough for a few small
    apps; moving up is one setting and a brief failover."""

    allocated_storage: int = Field(20, ge=20, le=65536)
    """Initial storage in GiB: 20 (gp3's minimum) to 65536. Default 20; storage
    autoscaling grows it, so start small."""

    max_allocated_storage: int = Field(100, ge=21, le=65536)
    """Ceiling in GiB to which RDS grows the storage by itself when free space runs
    under 10%; must be larger than `allocated_storage`. Default 100: room to grow
    five-fold, billed only once used."""

    multi_az: bool = True
    """Keep a synchronous standby in a second zone that takes over in one to two
    minutes when the primary or its zone fails. Default on; switch off for dev
    stacks to halve the bill."""

    backup_retention_days: int = Field(7, ge=1, le=35)
    """Days of automated backups (point-in-time restore to any second within
    them): 7 to 35. Default 7, paaskit's floor; a throwaway stack may go down to 1
    (AWS's own minimum). Backups up to the storage size are free."""

    backup_window: str | None = None
    """Daily UTC window for the backup, `hh:mm-hh:mm`, at least 30 minutes, not
    overlapping the maintenance window. Default: RDS picks a 30-minute window in
    the region's night."""

    maintenance_window: str | None = None
    """Weekly UTC window for upgrades and pending changes, `ddd:hh:mm-ddd:hh:mm`
    (days mon..sun), at least 30 minutes. Default: RDS picks 30 minutes in the
    region's night, on a random day."""

    apply_immediately: bool = False
    """Apply changes (class, storage, parameters) at `pulumi up` instead of in the
    maintenance window. Default off: a change may restart or fail over the
    database, which should happen in the window the team chose."""

    database_name: str = "app"
    """Name of the database created in the instance: a lowercase PostgreSQL
    identifier (letter first, then letters, digits, `_`), at most 63, not a
    reserved word nor one of the databases RDS already has. Default "app"."""

    username: str = "app"
    """Master user: 1 to 16 lowercase letters, digits or `_`, letter first, not a
    reserved word, nor an RDS role, nor starting with `pg_` or `rds`. Default "app";
    the password is RDS's, in Secrets Manager."""

    identifier: str | None = None
    """RDS instance identifier: 1 to 63 lowercase letters, digits and hyphens,
    letter first, no `--`, no trailing hyphen, unique in the account and region.
    Default: the component name, the stack and a hash of project, stack and name
    (`rack-db-dev-1a2b3c`), so stacks never collide and log groups can be named
    before the instance exists. Changing it would replace the database, which
    `protect` refuses."""

    performance_insights: bool = True
    """Record load by query and wait event, kept 7 days (the free tier). Default on:
    the first place to look when the database is slow."""

    iam_auth: bool = True
    """Let IAM roles log in with short-lived tokens (`rds-db:connect`) as well as
    with passwords. Default on: it costs nothing and needs no password at all."""

    enhanced_monitoring_interval: int = 0
    """Seconds between Enhanced Monitoring samples (OS metrics per process, through
    a role paaskit makes): 0 (off), 1, 5, 10, 15, 30 or 60. Default off: CloudWatch metrics and
    Performance Insights cover most needs; 60 costs cents a month."""

    kms_key_id: str | None = None
    """ARN of a customer KMS key for storage, snapshots and Performance Insights.
    Default: the account's AWS-managed `aws/rds` key (free, but snapshots made with
    it cannot be shared with other accounts)."""

    master_user_secret_kms_key_id: str | None = None
    """ARN of a customer KMS key for the master password's secret. Default the
    AWS-managed `aws/secretsmanager` key, which needs no grant to read."""

    password_rotation_days: int = Field(30, ge=0, le=365)
    """Days between rotations of the master password; 0 turns rotation off (not
    recommended). Default 30: within the 90 days common standards ask for, while
    app tasks (which read the password at start) are replaced only monthly."""

    extended_support: bool = False
    """Stay on a major after RDS's end of standard support, billed as RDS Extended
    Support (~$0.10 per vCPU-hour). Default off: RDS upgrades the major instead."""

    slow_query_ms: int = Field(1000, ge=-1)
    """Log every statement slower than this many milliseconds (0 logs all, -1
    none). Default 1000: catches what users notice, without flooding the log."""

    log_connections: bool = True
    """Log each connection (who, from where, how authenticated). Default on: the
    first question after a leaked credential; a busy app that connects per request
    may want it off (CloudWatch Logs costs $0.50 per GB)."""

    log_retention_days: RetentionDays = 30
    """Days CloudWatch keeps the exported PostgreSQL logs. Default 30."""

    parameters: dict[str, str | int] = Field(default_factory=dict)
    """More PostgreSQL parameters, or overrides of paaskit's (`{"work_mem": "16384"}`);
    parameters read only at start wait for a reboot. `rds.force_ssl` stays 1.
    Default none."""

    read_replicas: int = Field(0, ge=0, le=5)
    """Read replicas (same class, asynchronous, in the same subnets), 0 to 5, each
    billed like another instance. Default 0."""

    alarms_topic_arn: Input | None = None
    """SNS topic for CloudWatch alarms (CPU, free storage, connections, replica lag),
    notified on alarm and on recovery. Default none: no alarms."""

    alarm_cpu_percent: float = Field(80, gt=0, le=100)
    """CPU alarm: average above this for 15 minutes. Default 80."""

    alarm_free_storage_percent: float = Field(10, gt=0, lt=100)
    """Storage alarm: free space under this percentage of `allocated_storage` for
    15 minutes, i.e. autoscaling could not keep up or hit its ceiling. Default 10."""

    alarm_connections: int | None = Field(None, ge=1)
    """Connections alarm: more than this for 15 minutes. Default: 80% of RDS's
    default `max_connections` for the class, estimated from its memory."""

    alarm_replica_lag_seconds: int = Field(300, ge=1)
    """Replica alarm: a replica this many seconds behind for 15 minutes. Default 300."""

    throwaway: bool = False
    """This stack is disposable: let `pulumi destroy` delete the database, its
    automated backups and skip the final snapshot; no deletion protection. Default
    off: the database is protected."""

    @field_validator("engine_version")
    @classmethod
    def _check_version(cls, value: str) -> str:
        match = _VERSION.fullmatch(value)
        if not match:
            raise ValueError(
                f"{value!r} is not a PostgreSQL version; give a major like '18' or a minor like '17.6'"
            )
        major = match["major"]
        supported = ", ".join(sorted(POSTGRES_MAJORS, key=int))
        if major in _RETIRED_MAJORS:
            raise ValueError(
                f"PostgreSQL {major} left RDS standard support on {_RETIRED_MAJORS[major]}; "
                f"a new instance would be billed Extended Support; use one of {supported}"
            )
        if major not in POSTGRES_MAJORS:
            raise ValueError(
                f"RDS does not offer PostgreSQL {major} (as of {POSTGRES_MAJORS_AS_OF}); "
                f"use one of {supported}"
            )
        return value

    @field_validator("instance_class")
    @classmethod
    def _check_class(cls, value: str) -> str:
        match = _INSTANCE_CLASS.fullmatch(value)
        if not match:
            raise ValueError(
                f"{value!r} is not an RDS instance class; use db.<family>.<size>, like db.t4g.micro or db.m7g.large"
            )
        if match["family"] in ("t1", "t2", "m1", "m2", "m3", "r3"):
            raise ValueError(
                f"{value}: a previous-generation class that RDS for PostgreSQL no longer offers; "
                "use db.t4g or db.m7g"
            )
        return value

    @field_validator("backup_window")
    @classmethod
    def _check_backup_window(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _BACKUP_WINDOW.fullmatch(value):
            raise ValueError(f"{value!r}: use hh:mm-hh:mm in UTC, like 03:00-03:30")
        if _daily_span(value)[1] < 30:
            raise ValueError(f"{value}: RDS needs at least 30 minutes")
        return value

    @field_validator("maintenance_window")
    @classmethod
    def _check_maintenance_window(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.lower()
        if not _MAINTENANCE_WINDOW.fullmatch(value):
            raise ValueError(
                f"{value!r}: use ddd:hh:mm-ddd:hh:mm in UTC (days mon..sun), like sun:04:00-sun:05:00"
            )
        if _weekly_span(value)[1] < 30:
            raise ValueError(f"{value}: RDS needs at least 30 minutes")
        return value

    @field_validator("enhanced_monitoring_interval")
    @classmethod
    def _check_monitoring_interval(cls, value: int) -> int:
        if value not in _MONITORING_INTERVALS:
            raise ValueError(
                f"{value}: RDS samples every {', '.join(map(str, _MONITORING_INTERVALS[1:]))} "
                "seconds, or 0 for off"
            )
        return value

    @field_validator("database_name")
    @classmethod
    def _check_database_name(cls, value: str) -> str:
        if not _PG_NAME.fullmatch(value) or len(value) > 63:
            raise ValueError(
                f"{value!r}: 1 to 63 lowercase letters, digits or _, starting with a letter"
            )
        if value in _PG_RESERVED_WORDS:
            raise ValueError(f"{value!r} is a PostgreSQL reserved word; choose your app's name")
        if value in _EXISTING_DATABASES:
            raise ValueError(
                f"{value!r} already exists on every RDS PostgreSQL instance; choose your app's name"
            )
        return value

    @field_validator("username")
    @classmethod
    def _check_username(cls, value: str) -> str:
        if not _PG_NAME.fullmatch(value) or len(value) > 16:
            raise ValueError(
                f"{value!r}: 1 to 16 lowercase letters, digits or _, starting with a letter"
            )
        if value in _PG_RESERVED_WORDS:
            raise ValueError(f"{value!r} is a PostgreSQL reserved word; RDS refuses it")
        if value in _RDS_ROLES or value.startswith(("pg_", "rds")):
            raise ValueError(
                f"{value!r}: names starting with pg_ or rds belong to PostgreSQL and RDS; "
                "choose another, like 'app'"
            )
        return value

    @field_validator("identifier")
    @classmethod
    def _check_identifier(cls, value: str | None) -> str | None:
        if value is None:
            return None
        problems = []
        if not 1 <= len(value) <= 63:
            problems.append("1 to 63 characters")
        if not re.fullmatch(r"[a-z0-9-]*", value):
            problems.append("only lowercase letters, digits and hyphens")
        if not value[:1].isalpha():
            problems.append("a letter first")
        if "--" in value:
            problems.append("no two hyphens in a row")
        if value.endswith("-"):
            problems.append("no hyphen at the end")
        if problems:
            raise ValueError(f"{value!r}: AWS needs {', '.join(problems)}")
        return value

    @field_validator("kms_key_id", "master_user_secret_kms_key_id")
    @classmethod
    def _check_key_arn(cls, value: str | None) -> str | None:
        if value is not None and not _KMS_KEY_ARN.fullmatch(value):
            raise ValueError(
                f"{value!r}: give the key's ARN (arn:aws:kms:<region>:<account>:key/<id>), "
                "not an alias or a bare id, so that policies can name it"
            )
        return value

    @field_validator("parameters")
    @classmethod
    def _check_parameters(cls, value: dict[str, str | int]) -> dict[str, str | int]:
        for key, setting in value.items():
            if not _PARAMETER_NAME.fullmatch(key):
                raise ValueError(f"{key!r} is not a PostgreSQL parameter name")
            if key == "rds.force_ssl" and str(setting) != "1":
                raise ValueError(
                    "rds.force_ssl is always 1 here: the database accepts encrypted connections only"
                )
        return value

    @model_validator(mode="after")
    def _check_combination(self) -> DatabaseSettings:
        if self.max_allocated_storage <= self.allocated_storage:
            raise ValueError(
                f"max_allocated_storage: {self.max_allocated_storage} GiB is not above "
                f"allocated_storage ({self.allocated_storage} GiB); the autoscaling ceiling "
                "must be larger than the initial size"
            )
        if self.backup_retention_days < 7 and not self.throwaway:
            raise ValueError(
                f"backup_retention_days: {self.backup_retention_days} days is below paaskit's "
                "floor of 7 (allowed 7 to 35); only a throwaway stack may keep fewer"
            )
        if self.backup_window and self.maintenance_window:
            backup = _daily_minutes(self.backup_window)
            if backup & _weekly_minutes(self.maintenance_window):
                raise ValueError(
                    f"backup_window: {self.backup_window} overlaps maintenance_window "
                    f"{self.maintenance_window}; RDS needs them apart"
                )
        if (
            self.alarms_topic_arn is not None
            and self.alarm_connections is None
            and _default_max_connections(self.instance_class) is None
        ):
            raise ValueError(
                f"alarm_connections: paaskit cannot estimate max_connections of "
                f"{self.instance_class}; set the connections alarm threshold"
            )
        return self


class DatabaseArgs(DatabaseSettings):
    """Settings of a Database: the user's `DatabaseSettings` and what the rack wires in."""

    vpc_id: Input
    """The VPC of the subnets (`Network.vpc_id`). Required."""

    subnet_ids: list[Input] | pulumi.Output[Any]
    """Private subnets in at least two zones (`Network.private_subnets`' ids), for
    the subnet group; Multi-AZ places the standby in another zone. A list of
    ids, or one Output of the list (a rack read from another stack, whose
    network always spans two zones or more). Required."""

    allowed_security_group_ids: list[Input]
    """Security groups whose members may connect on 5432 (the rack's nodes). May be
    empty: then nothing can connect until a rule is added. Required."""

    @field_validator("subnet_ids")
    @classmethod
    def _check_subnets(
        cls, value: list[Input] | pulumi.Output[Any]
    ) -> list[Input] | pulumi.Output[Any]:
        if isinstance(value, list) and len(value) < 2:
            raise ValueError(
                f"an RDS subnet group needs subnets in at least two zones; got {len(value)}"
            )
        return value

    @classmethod
    def from_settings(
        cls,
        settings: DatabaseSettings,
        *,
        vpc_id: Input,
        subnet_ids: Sequence[Input] | pulumi.Output[Any],
        allowed_security_group_ids: Sequence[Input],
    ) -> DatabaseArgs:
        """The Args for `settings` placed in a network and opened to some security groups."""
        values = {name: getattr(settings, name) for name in DatabaseSettings.model_fields}
        return cls(
            **values,
            vpc_id=vpc_id,
            subnet_ids=subnet_ids if isinstance(subnet_ids, pulumi.Output) else list(subnet_ids),
            allowed_security_group_ids=list(allowed_security_group_ids),
        )


@dataclass(frozen=True)
class DatabaseConnection:
    """What a container needs to connect to a database, without the password itself."""

    host: pulumi.Output[str]
    """The instance's DNS name."""
    port: pulumi.Output[int]
    """The port, 5432."""
    database: str
    """The database name."""
    username: str
    """The master user."""
    secret_arn: pulumi.Output[str]
    """ARN of the Secrets Manager secret (JSON with `username` and `password`)."""
    secret_kms_key_arn: str | None = None
    """The customer KMS key of the secret, if any (reading it needs kms:Decrypt)."""

    def environment(
        self, prefix: str = "DATABASE", *, sslmode: str = "require"
    ) -> pulumi.Output[list[dict[str, str]]]:
        """ECS `environment` entries: `<prefix>_HOST/_PORT/_NAME/_USER` and libpq's `PG*`.

        `PGSSLMODE` is `require` (encrypted; the server refuses anything else).
        `verify-full` also checks the server's certificate, and needs the RDS CA
        bundle in the image with `PGSSLROOTCERT` pointing at it.
        """
        _check_env_prefix(prefix)
        if sslmode not in ("require", "verify-ca", "verify-full"):
            raise ConfigError(
                f"sslmode: {sslmode!r}; the database accepts encrypted connections only: "
                "require, verify-ca or verify-full"
            )
        database, username = self.database, self.username

        def entries(args: list[Any]) -> list[dict[str, str]]:
            host, port = str(args[0]), str(args[1])
            values = {
                f"{prefix}_HOST": host,
                f"{prefix}_PORT": port,
                f"{prefix}_NAME": database,
                f"{prefix}_USER": username,
                "PGHOST": host,
                "PGPORT": port,
                "PGDATABASE": database,
                "PGUSER": username,
                "PGSSLMODE": sslmode,
            }
            return [{"name": k, "value": v} for k, v in values.items()]

        return pulumi.Output.all(self.host, self.port).apply(entries)

    def secrets(self, prefix: str = "DATABASE") -> pulumi.Output[list[dict[str, str]]]:
        """ECS `secrets` entries: `<prefix>_PASS` and libpq's `PGPASSWORD`, from the secret's `password` key.

        `<prefix>_PASS` is the name `paaskit.buildpack.url_env_snippet` (and
        Convox) reads to compose `<prefix>_URL` inside the container.
        """
        _check_env_prefix(prefix)
        return self.secret_arn.apply(
            lambda arn: [
                {"name": f"{prefix}_PASS", "valueFrom": f"{arn}:password::"},
                {"name": "PGPASSWORD", "valueFrom": f"{arn}:password::"},
            ]
        )

    def read_secret_statements(self) -> pulumi.Output[list[dict[str, Any]]]:
        """IAM statements an ECS task execution role needs to inject the password."""
        key = self.secret_kms_key_arn

        def statements(arn: str) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = [
                {
                    "Sid": "ReadDatabaseSecret",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": arn,
                }
            ]
            if key:
                region = arn.split(":")[3]
                out.append(
                    {
                        "Sid": "DecryptDatabaseSecret",
                        "Effect": "Allow",
                        "Action": "kms:Decrypt",
                        "Resource": key,
                        "Condition": {
                            "StringEquals": {
                                "kms:ViaService": f"secretsmanager.{region}.amazonaws.com"
                            }
                        },
                    }
                )
            return out

        return self.secret_arn.apply(statements)

    def read_secret_policy(self) -> pulumi.Output[str]:
        """The statements of `read_secret_statements` as a policy document (JSON)."""
        return self.read_secret_statements().apply(policy_document)


class Database(Component):
    """A PostgreSQL database on RDS that keeps its data and admits only the rack.

    Creates: a security group with one ingress rule on 5432 per allowed security
    group; a subnet group over the given subnets; a parameter group (TLS only,
    slow-query, lock-wait, connection and DDL logging, pg_stat_statements); a log
    group per exported log with retention; the instance (encrypted gp3 with
    autoscaling, Multi-AZ, backups, deletion protection, final snapshot,
    Performance Insights, IAM auth, RDS-managed master password); the password's
    rotation schedule; optionally an Enhanced Monitoring role, read replicas with
    their log groups, and CloudWatch alarms.
    """

    TYPE = "paaskit:database:Database"
    CHILD_KINDS: ClassVar[frozenset[str]] = frozenset(
        {
            "security_group", "security_group_rule", "subnet_group", "parameter_group",
            "log_group", "monitoring_role", "instance", "secret_rotation", "replica", "alarm",
        }
    )  # fmt: skip

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        self.args = args
        self.major = args.engine_version.split(".")[0]
        self.family = POSTGRES_MAJORS[self.major].family
        self.identifier = args.identifier or _default_identifier(name)
        self.final_snapshot_identifier = aws_name("rds_snapshot", self.identifier, "final")
        self.database_name = args.database_name
        self.username = args.username
        self.log_exports = ["postgresql", "upgrade"] + (
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
            description=f"{name}: private subnets of the PostgreSQL database",
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
        )

    def iam_connect_statement(self, db_user: str) -> pulumi.Output[dict[str, Any]]:
        """The IAM statement letting a role log in as `db_user` with an IAM token (`iam_auth`)."""
        if not self.args.iam_auth:
            raise ConfigError("iam_auth: off for this database; turn it on to log in with IAM")
        if not _PG_NAME.fullmatch(db_user):
            raise ConfigError(f"db_user: {db_user!r} is not a PostgreSQL role name")

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
        sg = self.child(
            "security_group",
            aws.ec2.SecurityGroup,
            "sg",
            vpc_id=self.args.vpc_id,
            description="PostgreSQL: port 5432 from the allowed security groups only",
        )
        for i, source in enumerate(self.args.allowed_security_group_ids):
            # A literal id names its rule, so reordering the list replaces nothing.
            role = f"sg-from-{source}" if isinstance(source, str) else f"sg-from-{i}"
            self.child(
                "security_group_rule",
                aws.vpc.SecurityGroupIngressRule,
                role,
                security_group_id=sg.id,
                referenced_security_group_id=source,
                ip_protocol="tcp",
                from_port=PORT,
                to_port=PORT,
                description="PostgreSQL from an allowed security group",
            )
        return sg

    def _parameter_group(self) -> aws.rds.ParameterGroup:
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
        values.update({k: str(v) for k, v in args.parameters.items()})
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
                    "apply_method": "pending-reboot" if key in _STATIC_PARAMETERS else "immediate",
                }
                for key, value in sorted(values.items())
            ],
        )

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
            "monitoring_role",
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
        pinned = _VERSION.fullmatch(args.engine_version)
        minor_pinned = bool(pinned and pinned["minor"])
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
            "auto_minor_version_upgrade": not minor_pinned,
            "apply_immediately": args.apply_immediately,
            "copy_tags_to_snapshot": True,
            "deletion_protection": not args.throwaway,
            "iam_database_authentication_enabled": args.iam_auth,
            "enabled_cloudwatch_logs_exports": list(self.log_exports),
            "performance_insights_enabled": args.performance_insights,
            "performance_insights_retention_period": 7 if args.performance_insights else None,
            "performance_insights_kms_key_id": args.kms_key_id
            if args.performance_insights
            else None,
            "monitoring_interval": args.enhanced_monitoring_interval,
            "monitoring_role_arn": self.monitoring_role.arn if self.monitoring_role else None,
            "engine_lifecycle_support": "open-source-rds-extended-support"
            if args.extended_support
            else "open-source-rds-extended-support-disabled",
        }
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
            engine="postgres",
            engine_version=args.engine_version,
            # Lets a change of `engine_version` to a newer major go through (in the
            # maintenance window, with the new parameter group family).
            allow_major_version_upgrade=True,
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
        connections = args.alarm_connections or _default_max_connections(args.instance_class) or 1
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
                    f"PostgreSQL {identifier}: CPU above {args.alarm_cpu_percent:g}% for 15 minutes",
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
                    f"PostgreSQL {identifier}: free storage under "
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
                    f"PostgreSQL {identifier}: more than {connections} connections for 15 minutes",
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
                        f"PostgreSQL {identifier}: more than {args.alarm_replica_lag_seconds} s "
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


# --- helpers -------------------------------------------------------------------


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


def _daily_span(window: str) -> tuple[int, int]:
    """Start (minute of the day) and length in minutes of a daily `hh:mm-hh:mm` window."""
    h1, m1, h2, m2 = (int(x) for x in window.replace("-", ":").split(":"))
    start, end = h1 * 60 + m1, h2 * 60 + m2
    return start, (end - start) % (24 * 60)


def _weekly_span(window: str) -> tuple[int, int]:
    """Start (minute of the week) and length in minutes of a `ddd:hh:mm-ddd:hh:mm` window."""
    first, second = window.split("-")
    d1, h1, m1 = first.split(":")
    d2, h2, m2 = second.split(":")
    start = _DAYS.index(d1) * 24 * 60 + int(h1) * 60 + int(m1)
    end = _DAYS.index(d2) * 24 * 60 + int(h2) * 60 + int(m2)
    return start, (end - start) % _WEEK


def _daily_minutes(window: str) -> set[int]:
    """Minutes of the week a daily window covers, every day."""
    start, length = _daily_span(window)
    return {(day * 24 * 60 + start + i) % _WEEK for day in range(7) for i in range(length)}


def _weekly_minutes(window: str) -> set[int]:
    """Minutes of the week a weekly window covers (it may run over Sunday midnight)."""
    start, length = _weekly_span(window)
    return {(start + i) % _WEEK for i in range(length)}


def _default_max_connections(instance_class: str) -> int | None:
    """80% of RDS's default max_connections, LEAST(DBInstanceClassMemory/9531392, 5000).

    DBInstanceClassMemory is the class's memory less what RDS keeps for the OS
    and itself; taken here as 80% of the nominal memory. None for a class whose
    memory paaskit does not know.
    """
    match = _INSTANCE_CLASS.fullmatch(instance_class)
    if not match:
        return None
    family, size = match["family"], match["size"]
    if family.startswith("t"):
        gib = _T_CLASS_MEMORY_GIB.get(size)
    else:
        vcpus = {"medium": 1, "large": 2, "xlarge": 4}.get(size)
        if vcpus is None and size.endswith("xlarge") and size[:-6].isdigit():
            vcpus = 4 * int(size[:-6])
        per_vcpu = 32 if family.startswith("x2i") else _MEMORY_GIB_PER_VCPU.get(family[0])
        gib = vcpus * per_vcpu if vcpus and per_vcpu else None
    if gib is None:
        return None
    default = min(int(gib * 1024**3 * 0.8 / 9531392), 5000)
    return max(1, int(default * 0.8))


def _check_env_prefix(prefix: str) -> None:
    if not _ENV_NAME.fullmatch(prefix):
        raise ConfigError(
            f"prefix: {prefix!r} is not an environment variable name (A-Z, 0-9, _; not a digit first)"
        )


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
