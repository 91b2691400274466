"""EFS rules: encryption at rest and in transit, backups, access points, where mount targets are.

A file system's settings are separate resources (`FileSystemPolicy`,
`BackupPolicy`, `MountTarget`, `AccessPoint`) whose `fileSystemId` input is
the file system's id, so the stack-scope rules find them through the plan.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from paaskit.plan import PlanIndex, ResourceRecord
from paaskit.plan import types as t
from paaskit.plan.values import dig, flag, known, statements
from paaskit.policy.model import RuleSet

from .storage import denies_plain_transport

__all__ = [
    "access_point_identity",
    "access_point_root",
    "backups",
    "encrypted",
    "mount_target_subnet",
    "policy_tls_only",
    "rules",
]

rules = RuleSet()


@rules.rule(
    "PK-EFS-001",
    "File systems are encrypted at rest",
    severity="error",
    sources=["EFS.1", "EFS.8", "CKV_AWS_42"],
    types=[t.EFS_FILE_SYSTEM],
)
def encrypted(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Encryption at rest costs nothing and can only be chosen when the file system is
    made: an unencrypted one must be copied to a new one to be encrypted."""
    if flag(r.inputs.get("encrypted")) is not True:
        yield "encrypted is off: files, and their backups, are stored in the clear"


@rules.rule(
    "PK-EFS-002",
    "File systems are backed up",
    severity="warning",
    sources=["EFS.2", "EFS.7", "CKV2_AWS_18", "REL09-BP01"],
    types=[t.EFS_FILE_SYSTEM],
    scope="stack",
)
def backups(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """EFS's automatic backups (AWS Backup's daily plan, kept 35 days) are the way back
    from a deleted or overwritten file. A disposable file system may go without."""
    policies = index.attached(r, t.EFS_BACKUP_POLICY, "fileSystemId")
    if any(dig(p.inputs, "backupPolicy", "status") == "ENABLED" for p in policies):
        return
    if policies and not (r.protect or r.retain_on_delete):
        return  # a disposable file system that chose no backups
    yield "automatic backups are off: a deleted or overwritten file is gone for good"


@rules.rule(
    "PK-EFS-003",
    "File systems refuse clients without TLS, and anonymous ones",
    severity="warning",
    sources=["SEC09-BP02"],
    types=[t.EFS_FILE_SYSTEM],
    scope="stack",
)
def policy_tls_only(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Without a file system policy EFS applies its default one: any client that reaches
    a mount target may mount, read and write, anonymously and without TLS. A policy
    that denies `aws:SecureTransport = false` keeps clients on TLS, and, being a policy,
    leaves anonymous clients nothing."""
    policies = index.attached(r, t.EFS_FILE_SYSTEM_POLICY, "fileSystemId")
    if not policies:
        yield "no file system policy: EFS's default lets any client that reaches a mount target in, anonymously and without TLS"
        return
    docs = [p.inputs.get("policy") for p in policies]
    if not any(denies_plain_transport(s) for doc in docs for s in statements(doc)):
        yield "the file system policy does not deny clients without TLS (aws:SecureTransport = false)"


@rules.rule(
    "PK-EFS-004",
    "Access points confine clients to a directory",
    severity="warning",
    sources=["EFS.3"],
    types=[t.EFS_ACCESS_POINT],
)
def access_point_root(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """An access point whose root directory is the file system's root hands every
    client all the files of every other volume."""
    path = dig(r.inputs, "rootDirectory", "path")
    if known(path) and path in (None, "", "/"):
        yield "rootDirectory.path is the file system's root: give each volume a directory of its own"


@rules.rule(
    "PK-EFS-005",
    "Access points enforce a user identity",
    severity="warning",
    sources=["EFS.4"],
    types=[t.EFS_ACCESS_POINT],
)
def access_point_identity(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """With `posixUser` every file operation through the access point runs as that user,
    whatever user (root, say) the client's process runs as."""
    if not isinstance(r.inputs.get("posixUser"), Mapping):
        yield "no posixUser: clients act as whatever user they run as, root included"


@rules.rule(
    "PK-EFS-006",
    "Mount targets are not in public subnets",
    severity="error",
    sources=["EFS.6"],
    types=[t.EFS_MOUNT_TARGET],
    scope="stack",
)
def mount_target_subnet(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A mount target in a subnet that gives instances public addresses sits where the
    internet routes; NFS belongs in the private subnets, beside the nodes."""
    for subnet in index.dependencies(r, t.SUBNET):
        if flag(subnet.inputs.get("mapPublicIpOnLaunch")):
            yield f"subnet {subnet.name} maps public IPs on launch: put mount targets in private subnets"
