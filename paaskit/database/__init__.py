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
