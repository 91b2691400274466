"""Database: RDS PostgreSQL, MySQL or MariaDB that keeps its data, in the private subnets,
reachable only by the rack.

`DatabaseSettings` and `DatabaseArgs` (`_settings.py`), the `Database`
component (`_database.py`), what differs between the engines (`_engines.py`:
`ENGINES`), RDS PostgreSQL's facts paaskit relies on (`_postgres.py`: majors,
parameter families, reserved names), MySQL's and MariaDB's (`_mysql.py`) and
how a container connects (`_connection.py`: `DatabaseConnection`). What it
makes, its settings, costs and runbook (how to really delete one):
docs/database.md.
"""

from __future__ import annotations

from ._connection import DatabaseConnection
from ._database import CA_CERT, PORT, Database
from ._engines import ENGINES, Engine, EngineFacts, max_connections_estimate
from ._mysql import (
    DEFAULT_MARIADB_MAJOR,
    DEFAULT_MYSQL_MAJOR,
    MARIADB_MAJORS,
    MYSQL_MAJORS,
    MYSQL_MAJORS_AS_OF,
)
from ._postgres import (
    DEFAULT_POSTGRES_MAJOR,
    POSTGRES_MAJORS,
    POSTGRES_MAJORS_AS_OF,
    PostgresMajor,
)
from ._settings import DatabaseArgs, DatabaseSettings

__all__ = [
    "CA_CERT",
    "DEFAULT_MARIADB_MAJOR",
    "DEFAULT_MYSQL_MAJOR",
    "DEFAULT_POSTGRES_MAJOR",
    "ENGINES",
    "MARIADB_MAJORS",
    "MYSQL_MAJORS",
    "MYSQL_MAJORS_AS_OF",
    "PORT",
    "POSTGRES_MAJORS",
    "POSTGRES_MAJORS_AS_OF",
    "Database",
    "DatabaseArgs",
    "DatabaseConnection",
    "DatabaseSettings",
    "Engine",
    "EngineFacts",
    "PostgresMajor",
    "max_connections_estimate",
]
