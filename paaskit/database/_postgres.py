"""RDS for PostgreSQL as paaskit relies on it: its majors, parameters, reserved names and classes."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "DEFAULT_POSTGRES_MAJOR",
    "EXISTING_DATABASES",
    "INSTANCE_CLASS",
    "PG_RESERVED_WORDS",
    "POSTGRES_MAJORS",
    "POSTGRES_MAJORS_AS_OF",
    "RDS_ROLES",
    "RESERVED_MASTER_USERNAMES",
    "RETIRED_MAJORS",
    "STATIC_PARAMETERS",
    "PostgresMajor",
    "default_max_connections",
]


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

RETIRED_MAJORS: dict[str, str] = {
    "13": "2026-02-28",
    "12": "2025-02-28",
    "11": "2024-02-29",
}
"""Majors past RDS's end of standard support: a new instance would be billed Extended Support."""

DEFAULT_POSTGRES_MAJOR = "18"
"""The newest major RDS offers: the longest support ahead, no upgrade for years."""


# Parameters PostgreSQL reads only at server start ("postmaster" context): RDS
# refuses to apply them `immediate`, so they wait for the next reboot.
STATIC_PARAMETERS = frozenset(
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
PG_RESERVED_WORDS = frozenset(_PG_RESERVED_TEXT.split())

# Roles RDS itself creates on every PostgreSQL instance.
RDS_ROLES = frozenset(
    {"rdsadmin", "rdsrepladmin", "rdstopmgr", "rds_superuser", "rds_replication", "rds_password"}
)

# Master user names RDS refuses for PostgreSQL though they are not key words:
# `admin` ("MasterUsername admin cannot be used as it is a reserved word used by the
# engine"; cfn-lint's RDS rules verified it against CloudFormation), and the role
# names PostgreSQL reserves itself (CREATE ROLE: 'role name "public" is reserved').
RESERVED_MASTER_USERNAMES = frozenset({"admin", "public", "none"})

# Databases every RDS PostgreSQL instance already has.
EXISTING_DATABASES = frozenset({"postgres", "rdsadmin", "template0", "template1"})


INSTANCE_CLASS = re.compile(
    r"db\.(?P<family>[a-z][a-z0-9]*)\.(?P<size>nano|micro|small|medium|large|xlarge|"
    r"\d{1,2}xlarge|metal(?:-\d{2,3}xl)?)"
)


def default_max_connections(instance_class: str) -> int | None:
    """80% of RDS for PostgreSQL's default max_connections, LEAST(DBInstanceClassMemory/9531392,
    5000), or None for a class whose memory paaskit does not know (`max_connections_estimate`)."""
    from ._engines import max_connections_estimate

    return max_connections_estimate("postgres", instance_class)
