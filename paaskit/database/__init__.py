"""Database: RDS PostgreSQL that keeps its data, in the private subnets, reachable only by the rack.

`DatabaseSettings` and `DatabaseArgs` (`_settings.py`), the `Database`
component (`_database.py`), RDS PostgreSQL's facts paaskit relies on
(`_postgres.py`: majors, parameter families, reserved names) and how a
container connects (`_connection.py`: `DatabaseConnection`). What it makes,
its settings, costs and runbook (how to really delete one): docs/database.md.
"""

from __future__ import annotations

from ._connection import DatabaseConnection
from ._database import CA_CERT, PORT, Database
from ._postgres import (
    DEFAULT_POSTGRES_MAJOR,
    POSTGRES_MAJORS,
    POSTGRES_MAJORS_AS_OF,
    PostgresMajor,
)
from ._settings import DatabaseArgs, DatabaseSettings

__all__ = [
    "CA_CERT",
    "DEFAULT_POSTGRES_MAJOR",
    "PORT",
    "POSTGRES_MAJORS",
    "POSTGRES_MAJORS_AS_OF",
    "Database",
    "DatabaseArgs",
    "DatabaseConnection",
    "DatabaseSettings",
    "PostgresMajor",
]
