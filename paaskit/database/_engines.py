"""The three RDS engines a Database runs, side by side: what differs between them, in one place.

`ENGINES[engine]` answers every engine-specific question the settings and the
component ask: the majors RDS offers and their parameter families, how a
version is written (PostgreSQL's `17` and `17.6`, MySQL's `8.4` and `8.4.5`),
the port, the logs RDS can export, the parameter that refuses clear-text
connections, the names RDS refuses, and the URL scheme clients expect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from paaskit.prices import load_prices

from ._mysql import (
    DEFAULT_MARIADB_MAJOR,
    DEFAULT_MYSQL_MAJOR,
    MARIADB_EXISTING_DATABASES,
    MARIADB_MAJORS,
    MARIADB_RETIRED_MAJORS,
    MYSQL_EXISTING_DATABASES,
    MYSQL_MAJORS,
    MYSQL_MAJORS_AS_OF,
    MYSQL_RESERVED_MASTER_USERNAMES,
    MYSQL_RESERVED_WORDS,
    MYSQL_RETIRED_MAJORS,
    MYSQL_STATIC_PARAMETERS,
)
from ._postgres import (
    DEFAULT_POSTGRES_MAJOR,
    EXISTING_DATABASES,
    INSTANCE_CLASS,
    PG_RESERVED_WORDS,
    POSTGRES_MAJORS,
    POSTGRES_MAJORS_AS_OF,
    RESERVED_MASTER_USERNAMES,
    RETIRED_MAJORS,
    STATIC_PARAMETERS,
    PostgresMajor,
)

__all__ = [
    "ENGINES",
    "Engine",
    "EngineFacts",
    "extended_support_price",
    "max_connections_estimate",
]

Engine = Literal["postgres", "mysql", "mariadb"]
"""An RDS engine paaskit runs, by RDS's own name for it."""


@dataclass(frozen=True)
class EngineFacts:
    """What paaskit relies on about one RDS engine."""

    name: Engine
    """RDS's name for the engine (`engine` of the instance)."""
    label: str
    """Its name in messages: PostgreSQL, MySQL, MariaDB."""
    port: int
    """The port it listens on, the one its security group admits."""
    majors: dict[str, PostgresMajor]
    """Majors RDS offers in standard support, with their parameter group families."""
    majors_as_of: str
    """When `majors` was last checked."""
    retired: dict[str, str | None]
    """Majors past RDS's end of standard support, with that date (None: long before)."""
    default_major: str
    """The newest major: the longest support ahead."""
    version: re.Pattern[str]
    """A version as written: a major, or a pinned minor (group `minor`)."""
    version_example: str
    """How a major and a minor look, for messages."""
    log_exports: tuple[str, ...]
    """The logs exported to CloudWatch (beside `iam-db-auth-error` with IAM authentication)."""
    main_log: str
    """The log with the engine's errors."""
    tls_parameter: tuple[str, str]
    """The parameter (and value) that makes the server refuse unencrypted connections."""
    reserved_words: frozenset[str]
    """Key words RDS refuses as a database or master user name."""
    reserved_usernames: frozenset[str]
    """Master user names RDS refuses though they are not key words."""
    reserved_prefixes: tuple[str, ...]
    """Master user name prefixes RDS and the engine keep for themselves."""
    existing_databases: frozenset[str]
    """Databases every instance already has."""
    static_parameters: frozenset[str]
    """Parameters read only at start: applied `pending-reboot`."""
    extended_support: bool
    """Whether RDS offers paid Extended Support past the end of standard support (and takes
    the instance's `engine_lifecycle_support`)."""
    insights_unsupported_classes: frozenset[str]
    """Instance classes without Performance Insights (Database Insights) for this engine."""
    max_connections_divisor: int
    """RDS's default `max_connections` is DBInstanceClassMemory divided by this."""
    max_connections_cap: int | None
    """And at most this (PostgreSQL's LEAST(..., 5000)); None: no cap."""
    url_scheme: str
    """The scheme of the `<NAME>_URL` an app gets (what Convox gives, and clients read)."""

    def split(self, version: str) -> tuple[str, bool] | None:
        """(major, whether a minor is pinned) of a version as written, or None if it is none."""
        match = self.version.fullmatch(version)
        if not match:
            return None
        return match["major"], match["minor"] is not None

    def family(self, major: str) -> str:
        """The DB parameter group family of `major`: its row's, or for a retired major RDS's
        naming of it (`postgres13`, `mysql8.0`)."""
        row = self.majors.get(major)
        return row.family if row is not None else f"{self.name}{major}"

    def extended_until(self, major: str) -> str | None:
        """The last day RDS runs a retired `major` in Extended Support (three years past its
        end of standard support, as RDS's User Guide says), or None if RDS offers none for
        it (MariaDB, or a major retired before Extended Support existed)."""
        ended = self.retired.get(major)
        if not self.extended_support or not ended:
            return None
        year, month, day = ended.split("-")
        if (month, day) == ("02", "29"):
            day = "28"  # three years on is no leap year
        return f"{int(year) + 3}-{month}-{day}"

    @property
    def supported(self) -> str:
        """The majors offered, oldest first, for messages."""
        return ", ".join(sorted(self.majors, key=lambda m: tuple(int(p) for p in m.split("."))))


# MySQL and MariaDB on the smallest burstable classes have no Performance Insights
# (RDS User Guide, "DB engine, Region, and instance class support for Database Insights").
_NO_INSIGHTS_MYSQL = frozenset(
    {"db.t2.micro", "db.t2.small", "db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"}
)

POSTGRES = EngineFacts(
    name="postgres",
    label="PostgreSQL",
    port=5432,
    majors=POSTGRES_MAJORS,
    majors_as_of=POSTGRES_MAJORS_AS_OF,
    retired=dict(RETIRED_MAJORS),
    default_major=DEFAULT_POSTGRES_MAJOR,
    version=re.compile(r"(?P<major>\d{1,2})(?:\.(?P<minor>\d{1,3}))?"),
    version_example="a major like '18' or a minor like '17.6'",
    log_exports=("postgresql", "upgrade"),
    main_log="postgresql",
    tls_parameter=("rds.force_ssl", "1"),
    reserved_words=PG_RESERVED_WORDS,
    reserved_usernames=RESERVED_MASTER_USERNAMES,
    reserved_prefixes=("pg_", "rds"),
    existing_databases=EXISTING_DATABASES,
    static_parameters=STATIC_PARAMETERS,
    extended_support=True,
    insights_unsupported_classes=frozenset(),
    max_connections_divisor=9531392,
    max_connections_cap=5000,
    url_scheme="postgres",
)

_MYSQL_VERSION = re.compile(r"(?P<major>\d{1,2}\.\d{1,2})(?:\.(?P<minor>\d{1,3}))?")

MYSQL = EngineFacts(
    name="mysql",
    label="MySQL",
    port=3306,
    majors=MYSQL_MAJORS,
    majors_as_of=MYSQL_MAJORS_AS_OF,
    retired=MYSQL_RETIRED_MAJORS,
    default_major=DEFAULT_MYSQL_MAJOR,
    version=_MYSQL_VERSION,
    version_example="a major like '8.4' or a minor like '8.4.5'",
    log_exports=("error", "slowquery"),
    main_log="error",
    tls_parameter=("require_secure_transport", "1"),
    reserved_words=MYSQL_RESERVED_WORDS,
    reserved_usernames=MYSQL_RESERVED_MASTER_USERNAMES,
    reserved_prefixes=("rds", "mysql."),
    existing_databases=MYSQL_EXISTING_DATABASES,
    static_parameters=MYSQL_STATIC_PARAMETERS,
    extended_support=True,
    insights_unsupported_classes=_NO_INSIGHTS_MYSQL,
    max_connections_divisor=12582880,
    max_connections_cap=None,
    # Convox's URL for mysql and mariadb; Django's dj-database-url, Rails 7.1+ (which maps
    # mysql to its mysql2 adapter) and Node's mysql2 all read it.
    url_scheme="mysql",
)

MARIADB = EngineFacts(
    name="mariadb",
    label="MariaDB",
    port=3306,
    majors=MARIADB_MAJORS,
    majors_as_of=MYSQL_MAJORS_AS_OF,
    retired=MARIADB_RETIRED_MAJORS,
    default_major=DEFAULT_MARIADB_MAJOR,
    version=_MYSQL_VERSION,
    version_example="a major like '11.8' or a minor like '11.8.3'",
    log_exports=("error", "slowquery"),
    main_log="error",
    tls_parameter=("require_secure_transport", "1"),
    reserved_words=MYSQL_RESERVED_WORDS,
    reserved_usernames=MYSQL_RESERVED_MASTER_USERNAMES,
    reserved_prefixes=("rds", "mysql."),
    existing_databases=MARIADB_EXISTING_DATABASES,
    static_parameters=MYSQL_STATIC_PARAMETERS,
    extended_support=False,
    insights_unsupported_classes=_NO_INSIGHTS_MYSQL,
    max_connections_divisor=12582880,
    max_connections_cap=None,
    # dj-database-url knows no mariadb:// scheme; Convox gives mysql:// for MariaDB too.
    url_scheme="mysql",
)

ENGINES: dict[str, EngineFacts] = {e.name: e for e in (POSTGRES, MYSQL, MARIADB)}
"""Every engine a Database runs, by RDS's name for it."""


# Burstable classes do not follow their family's GiB-per-vCPU ratio.
_T_CLASS_MEMORY_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}
_MEMORY_GIB_PER_VCPU = {"m": 4, "r": 8, "x": 16, "z": 8, "c": 2}


def _memory_gib(instance_class: str) -> float | None:
    match = INSTANCE_CLASS.fullmatch(instance_class)
    if not match:
        return None
    family, size = match["family"], match["size"]
    if family.startswith("t"):
        return _T_CLASS_MEMORY_GIB.get(size)
    vcpus = {"medium": 1, "large": 2, "xlarge": 4}.get(size)
    if vcpus is None and size.endswith("xlarge") and size[:-6].isdigit():
        vcpus = 4 * int(size[:-6])
    per_vcpu = 32 if family.startswith("x2i") else _MEMORY_GIB_PER_VCPU.get(family[0])
    return vcpus * per_vcpu if vcpus and per_vcpu else None


def max_connections_estimate(engine: str, instance_class: str) -> int | None:
    """80% of RDS's default `max_connections` for the engine on the class, or None if the
    class's memory is unknown.

    DBInstanceClassMemory is the class's memory less what RDS keeps for the OS and
    itself; taken here as 80% of the nominal memory.
    """
    facts = ENGINES[engine]
    gib = _memory_gib(instance_class)
    if gib is None:
        return None
    default = int(gib * 1024**3 * 0.8 / facts.max_connections_divisor)
    if facts.max_connections_cap is not None:
        default = min(default, facts.max_connections_cap)
    return max(1, int(default * 0.8))


def extended_support_price(instance_class: str) -> str:
    """RDS Extended Support's surcharge, for messages, from paaskit's price table (never a
    figure written here): per vCPU-hour, and a month of `instance_class` when the table
    knows its vCPUs."""
    table = load_prices()
    prices = table["rds_extended_support"]
    first, third = float(prices["vcpu_hourly_years_1_2"]), float(prices["vcpu_hourly_year_3"])
    said = (
        f"${first:.2f} per vCPU-hour in its first two years and ${third:.2f} in the third "
        f"(us-east-1 list prices of {prices['as_of']}), for the instance and any standby"
    )
    vcpus = prices["vcpus"].get(instance_class)
    if vcpus is not None:
        monthly = first * int(vcpus) * int(table["hours_per_month"])
        said += f": about ${monthly:,.0f} a month for a {vcpus}-vCPU {instance_class}"
    return said
