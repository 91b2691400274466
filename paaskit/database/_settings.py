"""What a Database is given: the user's settings and what a rack wires in, checked before anything is made."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import pulumi
from pydantic import Field, ValidationInfo, field_validator, model_validator

from paaskit.config import ComponentArgs, Input, RetentionDays, derive

from ._engines import (
    ENGINES,
    Engine,
    EngineFacts,
    extended_support_price,
    max_connections_estimate,
)
from ._postgres import DEFAULT_POSTGRES_MAJOR, INSTANCE_CLASS

__all__ = [
    "PG_NAME",
    "VERSION",
    "DatabaseArgs",
    "DatabaseSettings",
]

VERSION = re.compile(r"(?P<major>\d{1,2})(?:\.(?P<minor>\d{1,3}))?")
"""A PostgreSQL version as written (`ENGINES[engine].version` for every engine)."""
_BACKUP_WINDOW = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")
_MAINTENANCE_WINDOW = re.compile(
    r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-"
    r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)"
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_KMS_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+")
PG_NAME = re.compile(r"[a-z][a-z0-9_]*")
_PARAMETER_NAME = re.compile(r"[a-z][a-z0-9_.]*")
_WEEK = 7 * 24 * 60
_MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)


def _facts(info: ValidationInfo) -> EngineFacts:
    """The engine of the settings being validated (its field comes first)."""
    return ENGINES[str(info.data.get("engine", "postgres"))]


class DatabaseSettings(ComponentArgs):
    """What a user sets on a Database; `DatabaseArgs` adds what a rack wires in.

    Every field says its default and why. A rack's `database` section, and an
    app's `postgres`, `mysql` and `mariadb` resources, are one of these (nothing
    here comes from another resource but the optional alarm topic).
    """

    engine: Engine = "postgres"
    """The RDS engine: `postgres`, `mysql` or `mariadb`. Default postgres. The engine
    decides the port (5432; 3306 for MySQL and MariaDB), the versions, the logs and
    the parameter that refuses unencrypted connections; everything else is the same."""

    engine_version: str = DEFAULT_POSTGRES_MAJOR
    """The engine's version: a major (PostgreSQL `"17"`, MySQL `"8.4"`, MariaDB `"11.8"`)
    or a pinned minor (`"17.6"`, `"8.4.5"`, which turns automatic minor upgrades off).
    Default the newest major RDS offers for the engine: PostgreSQL "18", MySQL "8.4",
    MariaDB "11.8" (`ENGINES[engine].majors`, dated)."""

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
    """Name of the database created in the instance: a lowercase identifier
    (letter first, then letters, digits, `_`), at most 63 characters (64 for MySQL
    and MariaDB), not a reserved word nor one of the databases RDS already has.
    Default "app"."""

    username: str = "app"
    """Master user: 1 to 16 lowercase letters, digits or `_`, letter first, not a
    reserved word of the engine, nor a name RDS reserves (PostgreSQL: `admin`,
    `public`, `none`, its roles, names starting with `pg_` or `rds`; MySQL and
    MariaDB: `rdsadmin` and names starting with `rds`). Default "app";
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
    the first place to look when the database is slow. RDS has none for MySQL and
    MariaDB on the micro and small burstable classes: there it is off unless asked
    for, and asking is an error."""

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

    password_rotation_days: int = Field(0, ge=0, le=365)
    """Days between scheduled rotations of the master password; 0 turns RDS's
    rotation off. Default 0, as on Heroku and Convox: apps read the password when a
    task starts, and after a rotation an app's deploy runner restarts its tasks
    within minutes, but until then new connections of old tasks fail, an outage for
    apps that connect per request (Django's default). Turn it on (30 is common) for
    apps that keep their connections, or whose tasks tolerate minutes of refused
    connections."""

    allow_major_version_upgrade: bool = False
    """Let a change of `engine_version` upgrade across major versions (in the
    maintenance window, or at once with `apply_immediately`). Default off: a major
    upgrade takes the database down and cannot be undone, so it is opted into;
    without it RDS refuses the change."""

    extended_support: bool = False
    """Stay on a major after RDS's end of standard support (or create one past it, as
    `engine_version` "8.0" of MySQL since 2026-07-31), billed as RDS Extended Support
    per vCPU-hour, several times a small instance's price (PostgreSQL and MySQL; RDS
    offers none for MariaDB). Default off: a retired major is refused, and RDS upgrades
    an instance's major at its end of standard support instead of billing it."""

    slow_query_ms: int = Field(1000, ge=-1)
    """Log every statement slower than this many milliseconds (0 logs all, -1
    none; MySQL's and MariaDB's `long_query_time`, in seconds). Default 1000:
    catches what users notice, without flooding the log."""

    log_connections: bool = True
    """Log each connection (who, from where, how authenticated). Default on: the
    first question after a leaked credential; a busy app that connects per request
    may want it off (CloudWatch Logs bills every GB ingested). PostgreSQL only:
    MySQL and MariaDB log connections only through an audit plugin."""

    log_retention_days: RetentionDays = 30
    """Days CloudWatch keeps the exported database logs. Default 30."""

    parameters: dict[str, str | int] = Field(default_factory=dict)
    """More engine parameters, or overrides of paaskit's (`{"work_mem": "16384"}`,
    `{"innodb_lock_wait_timeout": "20"}`); parameters read only at start wait for a
    reboot. The one that refuses unencrypted connections stays on: `rds.force_ssl`
    (PostgreSQL) or `require_secure_transport` (MySQL, MariaDB) is 1. Default none."""

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

    @model_validator(mode="before")
    @classmethod
    def _engine_default_version(cls, data: Any) -> Any:
        # The version's default is the engine's newest major.
        if isinstance(data, dict) and "engine_version" not in data:
            facts = ENGINES.get(str(data.get("engine", "postgres")))
            if facts is not None:
                data = {**data, "engine_version": facts.default_major}
        return data

    @field_validator("engine_version")
    @classmethod
    def _check_version(cls, value: str, info: ValidationInfo) -> str:
        facts = _facts(info)
        split = facts.split(value)
        if split is None:
            raise ValueError(
                f"{value!r} is not a {facts.label} version; give {facts.version_example}"
            )
        major = split[0]
        if major in facts.retired:
            # A major with Extended Support is accepted when it is paid for: the check is
            # the combination's (`_check_combination`), which sees `extended_support`.
            if facts.extended_until(major) is None:
                ended = facts.retired[major]
                when = f" on {ended}" if ended else ""
                raise ValueError(
                    f"{facts.label} {major} left RDS standard support{when}; RDS no longer "
                    f"creates it (it has no Extended Support); use one of {facts.supported}"
                )
            return value
        if major not in facts.majors:
            raise ValueError(
                f"RDS does not offer {facts.label} {major} (as of {facts.majors_as_of}); "
                f"use one of {facts.supported}"
            )
        return value

    @field_validator("instance_class")
    @classmethod
    def _check_class(cls, value: str, info: ValidationInfo) -> str:
        match = INSTANCE_CLASS.fullmatch(value)
        if not match:
            raise ValueError(
                f"{value!r} is not an RDS instance class; use db.<family>.<size>, like db.t4g.micro or db.m7g.large"
            )
        if match["family"] in ("t1", "t2", "m1", "m2", "m3", "r3"):
            raise ValueError(
                f"{value}: a previous-generation class that RDS for {_facts(info).label} no "
                "longer offers; use db.t4g or db.m7g"
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
    def _check_database_name(cls, value: str, info: ValidationInfo) -> str:
        facts = _facts(info)
        longest = 63 if facts.name == "postgres" else 64
        if not PG_NAME.fullmatch(value) or len(value) > longest:
            raise ValueError(
                f"{value!r}: 1 to {longest} lowercase letters, digits or _, starting with a letter"
            )
        if value in facts.reserved_words:
            raise ValueError(f"{value!r} is a {facts.label} reserved word; choose your app's name")
        if value in facts.existing_databases:
            raise ValueError(
                f"{value!r} already exists on every RDS {facts.label} instance; "
                "choose your app's name"
            )
        return value

    @field_validator("username")
    @classmethod
    def _check_username(cls, value: str, info: ValidationInfo) -> str:
        facts = _facts(info)
        if not PG_NAME.fullmatch(value) or len(value) > 16:
            raise ValueError(
                f"{value!r}: 1 to 16 lowercase letters, digits or _, starting with a letter"
            )
        if value in facts.reserved_words:
            raise ValueError(f"{value!r} is a {facts.label} reserved word; RDS refuses it")
        if value in facts.reserved_usernames:
            raise ValueError(
                f"{value!r} is reserved by RDS for {facts.label} as a master user name; "
                "choose another, like 'app'"
            )
        if value.startswith(facts.reserved_prefixes):
            prefixes = " or ".join(facts.reserved_prefixes)
            raise ValueError(
                f"{value!r}: names starting with {prefixes} belong to {facts.label} and RDS; "
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
    def _check_parameters(
        cls, value: dict[str, str | int], info: ValidationInfo
    ) -> dict[str, str | int]:
        facts = _facts(info)
        tls, on = facts.tls_parameter
        for key, setting in value.items():
            if not _PARAMETER_NAME.fullmatch(key):
                raise ValueError(f"{key!r} is not a {facts.label} parameter name")
            if key == tls and str(setting).lower() not in (on, "on"):
                raise ValueError(
                    f"{tls} is always {on} here: the database accepts encrypted connections only"
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
            and max_connections_estimate(self.engine, self.instance_class) is None
        ):
            raise ValueError(
                f"alarm_connections: paaskit cannot estimate max_connections of "
                f"{self.instance_class}; set the connections alarm threshold"
            )
        facts = ENGINES[self.engine]
        split = facts.split(self.engine_version)
        major = split[0] if split is not None else ""
        if major in facts.retired:
            ended = facts.retired[major]
            until = facts.extended_until(major)
            if until is None or until < date.today().isoformat():
                # Checked in `_check_version` for engines without Extended Support.
                raise ValueError(
                    f"engine_version: {facts.label} {major} left RDS standard support on "
                    f"{ended}, and its Extended Support ended {until}: RDS no longer creates "
                    f"it; use one of {facts.supported}"
                )
            if not self.extended_support:
                raise ValueError(
                    f"engine_version: {facts.label} {major} left RDS standard support on "
                    f"{ended}; a new instance would be billed RDS Extended Support "
                    f"({extended_support_price(self.instance_class)}) until {until}; use one of {facts.supported}, "
                    "or set extended_support: true to pay for it"
                )
        if self.extended_support and not facts.extended_support:
            raise ValueError(
                f"extended_support: RDS offers no Extended Support for {facts.label}; past a "
                "major's end of standard support RDS upgrades the instance"
            )
        if (
            "performance_insights" in self.model_fields_set
            and self.performance_insights
            and self.instance_class in facts.insights_unsupported_classes
        ):
            raise ValueError(
                f"performance_insights: RDS has no Performance Insights for {facts.label} on "
                f"{self.instance_class}; use db.t4g.medium or larger, or turn it off"
            )
        return self

    @property
    def insights(self) -> bool:
        """Whether Performance Insights is on: as set, but off where RDS has none."""
        unsupported = ENGINES[self.engine].insights_unsupported_classes
        return self.performance_insights and self.instance_class not in unsupported

    @property
    def facts(self) -> EngineFacts:
        """What paaskit relies on about the engine (`ENGINES[engine]`)."""
        return ENGINES[self.engine]


class DatabaseArgs(DatabaseSettings):
    """Everything a Database is made from: the `DatabaseSettings` and its wiring.

    The wiring is its network and who may connect, all required; a Rack or an
    App passes its own (`DatabaseArgs.from_settings`).
    """

    vpc_id: Input
    """The VPC of the subnets (`Network.vpc_id`). Required."""

    subnet_ids: list[Input] | pulumi.Output[Any]
    """Private subnets in at least two zones (`Network.private_subnets`' ids), for
    the subnet group; Multi-AZ places the standby in another zone. A list of
    ids, or one Output of the list (a rack read from another stack, whose
    network always spans two zones or more). Required."""

    allowed_security_group_ids: list[Input]
    """Security groups whose members may connect on the engine's port (the rack's
    nodes). May be empty: then nothing can connect until a rule is added. Required."""

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
        """The Args of `settings` in a network, open to some security groups."""
        return derive(
            cls,
            settings,
            vpc_id=vpc_id,
            subnet_ids=subnet_ids if isinstance(subnet_ids, pulumi.Output) else list(subnet_ids),
            allowed_security_group_ids=list(allowed_security_group_ids),
        )


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
