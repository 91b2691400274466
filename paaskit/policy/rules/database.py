"""RDS rules: encryption, privacy, Multi-AZ, deletion, backups, upgrades, logs, TLS, secrets."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from paaskit.plan import PlanIndex, ResourceRecord
from paaskit.plan import types as t
from paaskit.plan.values import UNKNOWN, flag, items, known, number, strings
from paaskit.policy.model import RuleSet

__all__ = [
    "backup_retention",
    "backups_on",
    "copy_tags",
    "deletion_protection",
    "final_snapshot",
    "force_tls",
    "log_exports",
    "managed_password",
    "minor_upgrades",
    "multi_az",
    "private",
    "rules",
    "storage_encrypted",
]

rules = RuleSet()

_MAIN_LOG = {"postgres": "postgresql", "mysql": "error", "mariadb": "error"}


def _engine(r: ResourceRecord) -> str:
    engine = r.inputs.get("engine")
    return str(engine) if known(engine) else ""


def _replica(r: ResourceRecord) -> bool:
    return bool(r.inputs.get("replicateSourceDb"))


def _major_version(r: ResourceRecord) -> int | None:
    version = r.inputs.get("engineVersion")
    if not known(version):
        return None
    try:
        return int(str(version).split(".")[0])
    except ValueError:
        return None


@rules.rule(
    "PK-RDS-001",
    "Databases are encrypted at rest",
    severity="error",
    sources=["RDS.3", "CKV_AWS_16"],
    types=[t.DB_INSTANCE],
)
def storage_encrypted(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Storage, automated backups, snapshots and replicas are encrypted with it. It can
    only be chosen when the database is created."""
    if not _replica(r) and flag(r.inputs.get("storageEncrypted")) is not True:
        yield "storageEncrypted is off: data, backups and snapshots are stored in the clear; it cannot be turned on later"


@rules.rule(
    "PK-RDS-002",
    "Databases are not publicly accessible",
    severity="error",
    sources=["RDS.2", "CKV_AWS_17"],
    types=[t.DB_INSTANCE],
)
def private(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A publicly accessible database gets a public DNS answer; only the security group
    then stands between it and the internet."""
    if flag(r.inputs.get("publiclyAccessible")):
        yield "publiclyAccessible is true: the database resolves to a public address"


@rules.rule(
    "PK-RDS-003",
    "Databases survive a zone outage (Multi-AZ)",
    severity="warning",
    sources=["RDS.5", "CKV_AWS_157", "REL10-BP01"],
    types=[t.DB_INSTANCE],
)
def multi_az(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A standby in another zone takes over in a minute or two; without it a zone
    outage or a host failure is downtime until a restore. It doubles the instance price,
    which a dev database may rightly skip."""
    if not _replica(r) and flag(r.inputs.get("multiAz")) is not True:
        yield "multiAz is off: a zone or host failure is downtime until a restore"


@rules.rule(
    "PK-RDS-004",
    "Databases are protected from deletion",
    severity="warning",
    sources=["RDS.8", "CKV_AWS_293"],
    types=[t.DB_INSTANCE],
)
def deletion_protection(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Deletion protection makes AWS refuse to delete the database, whatever a program,
    a replacement or a person asks. Throwaway stacks turn it off on purpose."""
    if flag(r.inputs.get("deletionProtection")) is not True:
        yield "deletionProtection is off: a destroy or a replacement deletes the database"


@rules.rule(
    "PK-RDS-005",
    "A final snapshot is taken before deletion",
    severity="warning",
    sources=["REL09-BP01"],
    types=[t.DB_INSTANCE],
)
def final_snapshot(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Automated backups are deleted with the database; the final snapshot is what is left."""
    if not _replica(r) and flag(r.inputs.get("skipFinalSnapshot")):
        yield "skipFinalSnapshot is true: deleting the database leaves nothing to restore"


@rules.rule(
    "PK-RDS-006",
    "Automated backups are on",
    severity="error",
    sources=["RDS.11", "CKV_AWS_133", "REL09-BP01"],
    types=[t.DB_INSTANCE],
)
def backups_on(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A retention of 0 turns off automated backups and point-in-time recovery: a bad
    migration or a dropped table cannot be undone."""
    days = number(r.inputs.get("backupRetentionPeriod"))
    if not _replica(r) and days == 0:
        yield "backupRetentionPeriod is 0: no automated backups, no point-in-time recovery"


@rules.rule(
    "PK-RDS-007",
    "Backups are kept at least 7 days",
    severity="warning",
    sources=["RDS.11", "REL09-BP01"],
    types=[t.DB_INSTANCE],
)
def backup_retention(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A week covers a bad deploy found after the weekend. AWS's own default is 1 day
    when a program does not say."""
    if _replica(r):
        return
    value = r.inputs.get("backupRetentionPeriod")
    days = number(value)
    if value is None:
        yield "backupRetentionPeriod is not set (AWS keeps 1 day); keep at least 7"
    elif days is not None and 0 < days < 7:
        yield f"backupRetentionPeriod is {int(days)} days; keep at least 7"


@rules.rule(
    "PK-RDS-008",
    "Minor engine upgrades are applied automatically",
    severity="warning",
    sources=["RDS.13", "CKV_AWS_226"],
    types=[t.DB_INSTANCE],
)
def minor_upgrades(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Minor versions carry security fixes; RDS applies them in the maintenance window."""
    if flag(r.inputs.get("autoMinorVersionUpgrade")) is False:
        yield "autoMinorVersionUpgrade is off: security fixes wait for someone to apply them"


@rules.rule(
    "PK-RDS-009",
    "Database logs go to CloudWatch",
    severity="warning",
    sources=["RDS.9", "CKV_AWS_129"],
    types=[t.DB_INSTANCE],
)
def log_exports(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Engine logs in CloudWatch outlive the instance and can be searched and alarmed on."""
    wanted = _MAIN_LOG.get(_engine(r))
    exports = r.inputs.get("enabledCloudwatchLogsExports")
    if wanted and exports != UNKNOWN and wanted not in strings(exports):
        yield f"enabledCloudwatchLogsExports does not include {wanted}: engine logs stay on the instance"


@rules.rule(
    "PK-RDS-010",
    "Database connections must use TLS",
    severity="error",
    sources=["CKV2_AWS_69"],
    types=[t.DB_INSTANCE],
    scope="stack",
)
def force_tls(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Without it a client may connect in clear text and send the password with it.
    PostgreSQL 15 and later force TLS by default (`rds.force_ssl = 1`); older
    versions and MySQL need a parameter group that says so."""
    engine = _engine(r)
    if engine not in ("postgres", "mysql", "mariadb"):
        return
    name = "rds.force_ssl" if engine == "postgres" else "require_secure_transport"
    value: str | None = None
    for group in index.dependencies(r, t.DB_PARAMETER_GROUP):
        for p in items(group.inputs.get("parameters")):
            if isinstance(p, Mapping) and p.get("name") == name:
                value = str(p.get("value")).lower()
    if value in ("1", "on", "true"):
        return
    if value is not None:
        yield f"the parameter group sets {name} = {value}: clients may connect without TLS"
        return
    major = _major_version(r)
    if engine == "postgres" and (major is None or major >= 15):
        return
    if r.inputs.get("parameterGroupName") and not index.dependencies(r, t.DB_PARAMETER_GROUP):
        return  # a parameter group made elsewhere: the plan cannot see inside it
    yield f"{name} is not set to 1 in the instance's parameter group: clients may connect without TLS"


@rules.rule(
    "PK-RDS-011",
    "Snapshots carry the database's tags",
    severity="warning",
    sources=["RDS.17", "CKV2_AWS_60"],
    types=[t.DB_INSTANCE],
)
def copy_tags(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Untagged snapshots cannot be traced to their rack or billed to their team."""
    if flag(r.inputs.get("copyTagsToSnapshot")) is not True:
        yield "copyTagsToSnapshot is off: snapshots lose the rack's tags"


@rules.rule(
    "PK-RDS-012",
    "The master password is managed by RDS in Secrets Manager",
    severity="warning",
    sources=["SEC02-BP03"],
    types=[t.DB_INSTANCE],
)
def managed_password(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A password given to Pulumi lives in its config and state; with
    `manage_master_user_password` RDS generates it, keeps it in Secrets Manager and
    rotates it, and apps read it from there."""
    if _replica(r) or r.inputs.get("snapshotIdentifier"):
        return
    if flag(r.inputs.get("manageMasterUserPassword")) is not True and (
        r.inputs.get("password") is not None or r.inputs.get("passwordWo") is not None
    ):
        yield "the master password is set by the program: it lives in Pulumi config and state; let RDS manage it"
