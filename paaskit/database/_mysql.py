"""RDS for MySQL and for MariaDB as paaskit relies on them: majors, parameter families, names.

Both engines speak the MySQL protocol (port 3306, `mysql://` URLs) and take the
same TLS parameter (`require_secure_transport`), but RDS dates and names them
apart: MySQL's majors are `X.Y` (8.4), MariaDB's `X.Y` too (11.8), and only
MySQL has paid RDS Extended Support past its end of standard support.
"""

from __future__ import annotations

from ._postgres import PostgresMajor

__all__ = [
    "DEFAULT_MARIADB_MAJOR",
    "DEFAULT_MYSQL_MAJOR",
    "MARIADB_EXISTING_DATABASES",
    "MARIADB_MAJORS",
    "MARIADB_RETIRED_MAJORS",
    "MYSQL_EXISTING_DATABASES",
    "MYSQL_MAJORS",
    "MYSQL_MAJORS_AS_OF",
    "MYSQL_RESERVED_MASTER_USERNAMES",
    "MYSQL_RESERVED_WORDS",
    "MYSQL_RETIRED_MAJORS",
    "MYSQL_STATIC_PARAMETERS",
]

MYSQL_MAJORS_AS_OF = "2026-12"
"""When `MYSQL_MAJORS` and `MARIADB_MAJORS` were last checked against RDS's calendars."""

MYSQL_MAJORS: dict[str, PostgresMajor] = {
    "8.4": PostgresMajor("mysql8.4", "2024-11", "2029-07-31"),
}
"""Majors RDS for MySQL offers in standard support, as of `MYSQL_MAJORS_AS_OF`.

Source: "Supported MySQL major versions on Amazon RDS" (RDS User Guide). RDS
follows Oracle's long-term-support releases only; 9.x innovation releases are
in RDS's Database Preview environment, not offered for instances. (The row's
type is the PostgreSQL one: a family, a release month, an end of standard
support.)
"""

MYSQL_RETIRED_MAJORS: dict[str, str | None] = {
    "8.0": "2026-07-31",
    "5.7": "2024-02-29",
    "5.6": None,
    "5.5": None,
}
"""MySQL majors past RDS's end of standard support (None: long before): a new instance
would be billed RDS Extended Support, or refused without it."""

DEFAULT_MYSQL_MAJOR = "8.4"
"""The only MySQL major in RDS standard support: 8.4, Oracle's LTS release."""

MARIADB_MAJORS: dict[str, PostgresMajor] = {
    "11.8": PostgresMajor("mariadb11.8", "2025-08", "2030-06-30"),
    "11.4": PostgresMajor("mariadb11.4", "2024-10", "2029-05-31"),
    "10.11": PostgresMajor("mariadb10.11", "2023-08", "2028-02-29"),
}
"""Majors RDS for MariaDB offers in standard support, as of `MYSQL_MAJORS_AS_OF`.

Source: "MariaDB on Amazon RDS versions" (RDS User Guide), the release dates
and ends of support it lists. RDS has no Extended Support for MariaDB: past
its end of standard support RDS upgrades an instance itself.
"""

MARIADB_RETIRED_MAJORS: dict[str, str | None] = {
    "10.6": "2026-08-31",
    "10.5": None,
    "10.4": None,
    "10.3": None,
    "10.2": None,
}
"""MariaDB majors past RDS's end of standard support (None: long before)."""

DEFAULT_MARIADB_MAJOR = "11.8"
"""The newest MariaDB major on RDS, the longest supported (to 2030)."""


# Variables MySQL and MariaDB read only at server start: RDS refuses to apply them
# `immediate`, so they wait for the next reboot.
MYSQL_STATIC_PARAMETERS = frozenset(
    {
        "innodb_buffer_pool_instances",
        "innodb_flush_method",
        "innodb_open_files",
        "innodb_page_size",
        "innodb_read_io_threads",
        "innodb_write_io_threads",
        "lower_case_table_names",
        "performance_schema",
        "skip_name_resolve",
        "thread_stack",
    }
)

# The commonest of MySQL's reserved key words (the "(R)" entries of MySQL's keyword
# list, which MariaDB shares): a database named one of them needs quoting in every
# statement, and RDS refuses them as database names. RDS checks its own, complete,
# list too; this one only fails the usual mistakes before anything is made.
_MYSQL_RESERVED_TEXT = """
    accessible add all alter analyze and as asc before between bigint binary blob both
    by call cascade case change char character check collate column condition
    constraint continue convert create cross current_date current_time
    current_timestamp current_user cursor database databases default delayed delete
    desc describe distinct distinctrow div double drop each else elseif enclosed
    escaped exists exit explain false fetch float for force foreign from fulltext
    function grant group having if ignore in index inner insert int integer interval
    into is join key keys kill leading leave left like limit lines load localtime
    lock long loop match mod modifies natural not null numeric on optimize option
    or order out outer partition precision primary procedure purge range read reads
    real references regexp release rename repeat replace require restrict return
    revoke right rlike schema schemas select set show signal smallint spatial sql
    ssl starting table terminated then to trailing trigger true union unique unlock
    unsigned update usage use using values varchar when where while with write xor
"""
MYSQL_RESERVED_WORDS = frozenset(_MYSQL_RESERVED_TEXT.split())

# Accounts RDS itself creates on MySQL and MariaDB instances.
MYSQL_RESERVED_MASTER_USERNAMES = frozenset({"rdsadmin", "rdsrepladmin", "rdsproxyadmin"})

# Databases (schemas) every instance already has.
MYSQL_EXISTING_DATABASES = frozenset({"mysql", "sys", "information_schema", "performance_schema"})
MARIADB_EXISTING_DATABASES = frozenset({"mysql", "sys", "information_schema", "performance_schema"})
