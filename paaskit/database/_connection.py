"""How a container connects to a database: environment, ECS secrets and IAM statements, never the password."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi

from paaskit._aws import policy_document
from paaskit.config import ConfigError

__all__ = [
    "DatabaseConnection",
]

_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


@dataclass(frozen=True)
class DatabaseConnection:
    """What a container needs to connect to a database, without the password itself."""

    host: pulumi.Output[str]
    """The instance's DNS name."""
    port: pulumi.Output[int]
    """The port: 5432, or 3306 for MySQL and MariaDB."""
    database: str
    """The database name."""
    username: str
    """The master user."""
    secret_arn: pulumi.Output[str]
    """ARN of the Secrets Manager secret (JSON with `username` and `password`)."""
    secret_kms_key_arn: pulumi.Input[str] | None = None
    """The customer KMS key of the secret, if any (reading it needs kms:Decrypt); may be an
    Output that resolves to None (a rack read from another stack)."""
    engine: str = "postgres"
    """The RDS engine: `postgres`, `mysql` or `mariadb` (libpq's `PG*` variables are for
    PostgreSQL only)."""

    def environment(
        self, prefix: str = "DATABASE", *, sslmode: str = "require"
    ) -> pulumi.Output[list[dict[str, str]]]:
        """ECS `environment` entries: `<prefix>_HOST/_PORT/_NAME/_USER`, and for PostgreSQL
        libpq's `PG*`.

        `PGSSLMODE` is `require` (encrypted; the server refuses anything else).
        `verify-full` also checks the server's certificate, and needs the RDS CA
        bundle in the image with `PGSSLROOTCERT` pointing at it. MySQL and MariaDB
        have no such variables: their clients negotiate TLS themselves.
        """
        _check_env_prefix(prefix)
        if sslmode not in ("require", "verify-ca", "verify-full"):
            raise ConfigError(
                f"sslmode: {sslmode!r}; the database accepts encrypted connections only: "
                "require, verify-ca or verify-full"
            )
        database, username = self.database, self.username
        libpq = self.engine == "postgres"

        def entries(args: list[Any]) -> list[dict[str, str]]:
            host, port = str(args[0]), str(args[1])
            values = {
                f"{prefix}_HOST": host,
                f"{prefix}_PORT": port,
                f"{prefix}_NAME": database,
                f"{prefix}_USER": username,
            }
            if libpq:
                values.update(
                    PGHOST=host,
                    PGPORT=port,
                    PGDATABASE=database,
                    PGUSER=username,
                    PGSSLMODE=sslmode,
                )
            return [{"name": k, "value": v} for k, v in values.items()]

        return pulumi.Output.all(self.host, self.port).apply(entries)

    def secrets(self, prefix: str = "DATABASE") -> pulumi.Output[list[dict[str, str]]]:
        """ECS `secrets` entries: `<prefix>_PASS` (and for PostgreSQL libpq's `PGPASSWORD`), from
        the secret's `password` key.

        For a container of your own that reads the database's secret directly. An App
        links its services through a link secret instead (`<NAME>_URL` too), which its
        deploy runner rewrites when the password changes.
        """
        _check_env_prefix(prefix)
        names = [f"{prefix}_PASS"] + (["PGPASSWORD"] if self.engine == "postgres" else [])
        return self.secret_arn.apply(
            lambda arn: [{"name": name, "valueFrom": f"{arn}:password::"} for name in names]
        )

    def read_secret_statements(self) -> pulumi.Output[list[dict[str, Any]]]:
        """IAM statements an ECS task execution role needs to inject the password."""

        def statements(args: list[Any]) -> list[dict[str, Any]]:
            arn, key = str(args[0]), args[1]
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

        return pulumi.Output.all(self.secret_arn, self.secret_kms_key_arn).apply(statements)

    def read_secret_policy(self) -> pulumi.Output[str]:
        """The statements of `read_secret_statements` as a policy document (JSON)."""
        return self.read_secret_statements().apply(policy_document)


def _check_env_prefix(prefix: str) -> None:
    if not _ENV_NAME.fullmatch(prefix):
        raise ConfigError(
            f"prefix: {prefix!r} is not an environment variable name (A-Z, 0-9, _; not a digit first)"
        )
