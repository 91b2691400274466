"""Volume: persistent files on EFS for an app's processes, reachable from the rack's nodes only.

One encrypted EFS file system holds every volume of an app, each in a directory
an access point confines its processes to, as one POSIX user; a mount target in
every zone; a security group admitting NFS from the nodes only; a file system
policy refusing clients without TLS and anonymous ones; AWS Backup's daily
backups. Tasks mount through an access point with TLS and their task role.
What it makes, its settings, costs and runbook: docs/volume.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator

from ._aws import policy_document, port_security_group
from ._component import Child, Component, each, named, one
from .config import ComponentArgs, Input, derive

__all__ = [
    "NFS_PORT",
    "Volume",
    "VolumeArgs",
    "VolumeSettings",
    "access_point_path_problem",
    "file_system_policy",
    "mount_statement",
]

NFS_PORT = 2049
"""EFS's NFS port: the security group admits this port only."""

_MAX_PATH = 100
_MAX_DEPTH = 4
_PATH_SEGMENT = re.compile(r"^(?!\.)[^$#<>;`|&?{}^*/\n]+$")
_KMS_KEY = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}"
    r"|alias/[a-zA-Z0-9/_-]+|arn:aws[-a-z]*:kms:[a-z0-9-]+:\d{12}:(key/[0-9a-f-]+|key/mrk-[0-9a-f]{32}"
    r"|alias/[a-zA-Z0-9/_-]+))$"
)

IaTransition = Literal[
    "AFTER_1_DAY",
    "AFTER_7_DAYS",
    "AFTER_14_DAYS",
    "AFTER_30_DAYS",
    "AFTER_60_DAYS",
    "AFTER_90_DAYS",
    "AFTER_180_DAYS",
    "AFTER_270_DAYS",
    "AFTER_365_DAYS",
]


def access_point_path_problem(path: str) -> str | None:
    """Why EFS refuses `path` as an access point's root directory (botocore's model: at most
    100 characters and four directories, no segment starting with `.` or holding
    `$#<>;`|&?{}^*`), or None."""
    segments = path.split("/")[1:]
    if not path.startswith("/") or not segments or path == "/":
        return f"{path!r}: an access point's directory is an absolute path below /"
    if len(path) > _MAX_PATH:
        return f"{path!r}: longer than EFS's {_MAX_PATH} characters"
    if len(segments) > _MAX_DEPTH:
        return f"{path!r}: deeper than EFS's {_MAX_DEPTH} directories"
    bad = [s for s in segments if not _PATH_SEGMENT.fullmatch(s)]
    if bad:
        return f"{path!r}: {bad[0]!r} is not a directory name EFS takes"
    return None


class VolumeSettings(ComponentArgs):
    """What a user sets on a Volume; `VolumeArgs` adds what an app wires in.

    Every field says its default and why.
    """

    kms_key_id: Input | None = None
    """A customer KMS key (id, alias or ARN) to encrypt the files at rest. Default none:
    EFS's AWS-managed key (`aws/elasticfilesystem`), which costs nothing. A file system is
    encrypted either way; changing the key means a new file system, so it is refused while
    the file system is protected (see the runbook)."""

    throughput_mode: Literal["elastic", "bursting"] = "elastic"
    """How EFS meters throughput. Default `elastic` (AWS's recommendation): paid per GB
    read and written, never throttled; `bursting` includes throughput in the storage price
    but a small file system earns little of it (50 KiB/s per GiB stored, with bursts)."""

    transition_to_ia: IaTransition | None = "AFTER_30_DAYS"
    """When a file not read moves to Infrequent Access storage (about a twelfth of the
    price per GB, plus a charge per GB read); it moves back on its first read. Default
    after 30 days; None keeps every file in Standard storage."""

    backups: bool | None = None
    """AWS Backup's automatic daily backups, kept 35 days (its default plan; billed per
    GB-month of backup). Default: on, unless `throwaway`."""

    uid: int = Field(1000, ge=0, le=4_294_967_295)
    """The POSIX user every file operation runs as (the access point enforces it, whatever
    user the container runs as) and who owns each volume's directory. Default 1000, the
    first user of most images; files written through a volume belong to it."""

    gid: int = Field(1000, ge=0, le=4_294_967_295)
    """The POSIX group of every file operation and of each volume's directory. Default 1000."""

    throwaway: bool = False
    """This file system is disposable: `pulumi destroy` deletes it with its files, and it
    is not backed up. Default off: the file system is protected (`pulumi destroy` stops
    at it) and its policies are kept with it."""

    @field_validator("kms_key_id")
    @classmethod
    def _check_key(cls, value: Input | None) -> Input | None:
        if isinstance(value, str) and not _KMS_KEY.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a KMS key id, alias/NAME or key ARN (EFS's KmsKeyId)"
            )
        return value

    @property
    def backed_up(self) -> bool:
        """Whether AWS Backup backs the file system up."""
        return self.backups if self.backups is not None else not self.throwaway


class VolumeArgs(VolumeSettings):
    """Everything a Volume is made from: the `VolumeSettings` and its wiring."""

    vpc_id: Input
    """The VPC of the subnets (the rack's). Required."""

    subnet_ids: list[Input] | pulumi.Output[Any]
    """The subnets to put a mount target in, one per zone (the rack's private subnets): a
    list, or one Output of the list (a rack read from another stack). Required."""

    allowed_security_group_ids: list[Input]
    """Security groups whose members may reach NFS (the rack's nodes). Required."""

    directories: dict[str, str]
    """Per volume (by its name in the app), the directory of the file system its access
    point confines processes to. At least one. Required."""

    volume_tags: dict[str, dict[str, str]] = Field(default_factory=dict)
    """More tags for a volume's access point, by volume (an App tags a service's own
    volume with the service). Default none."""

    @field_validator("directories")
    @classmethod
    def _check_directories(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("a file system without volumes: give at least one directory")
        for name, path in value.items():
            problem = access_point_path_problem(path)
            if problem is not None:
                raise ValueError(f"{name}: {problem}")
        seen: dict[str, str] = {}
        for name, path in value.items():
            if _slug(path) in seen:
                raise ValueError(
                    f"{name}: {path!r} is the directory of {seen[_slug(path)]} too (or one "
                    "that differs only in punctuation)"
                )
            seen[_slug(path)] = name
        return value

    @classmethod
    def from_settings(
        cls,
        settings: VolumeSettings,
        *,
        vpc_id: Input,
        subnet_ids: list[Input] | pulumi.Output[Any],
        allowed_security_group_ids: list[Input],
        directories: Mapping[str, str],
        volume_tags: Mapping[str, Mapping[str, str]] | None = None,
    ) -> VolumeArgs:
        """The Args of `settings` in a network, open to some security groups."""
        return derive(
            cls,
            settings,
            vpc_id=vpc_id,
            subnet_ids=subnet_ids,
            allowed_security_group_ids=list(allowed_security_group_ids),
            directories=dict(directories),
            volume_tags={k: dict(v) for k, v in (volume_tags or {}).items()},
        )


def file_system_policy(file_system_arn: str) -> str:
    """The file system's policy: no client without TLS, and (being a policy at all) no
    anonymous client; processes mount with their task role's own grant (`mount_statement`)."""
    return policy_document(
        [
            {
                "Sid": "DenyWithoutTls",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "*",
                "Resource": file_system_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
        sort_keys=True,
    )


def mount_statement(
    file_system_arn: str, access_point_arns: list[str], *, write: bool
) -> dict[str, Any]:
    """A task role's grant: mount the file system (and write, unless read-only) through
    these access points only."""
    actions = ["elasticfilesystem:ClientMount"]
    if write:
        actions.append("elasticfilesystem:ClientWrite")
    return {
        "Effect": "Allow",
        "Action": actions,
        "Resource": file_system_arn,
        "Condition": {
            "StringEquals": {"elasticfilesystem:AccessPointArn": sorted(access_point_arns)},
            "Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"},
        },
    }


class Volume(Component):
    """An encrypted EFS file system with an access point per volume, mounted from the nodes.

    Creates: a security group admitting NFS (2049) from each allowed security group;
    the file system (encrypted, elastic throughput, files unread for 30 days moved to
    Infrequent Access); its policy (TLS only, no anonymous clients); its backup policy
    (AWS Backup, daily, unless throwaway); a mount target in each subnet; an access
    point per volume, whose directory it creates owned by `uid`/`gid` (mode 0755) and
    as whom every file operation through it runs.

    Cost: storage per GB-month (Standard, or Infrequent Access once files go unread),
    elastic throughput per GB read and written, backups per GB-month; no fixed price.
    """

    TYPE = "paaskit:volume:Volume"
    CHILDREN: ClassVar[Mapping[str, Child]] = {
        "security_group": one(aws.ec2.SecurityGroup),
        "security_group_ingress": each(aws.vpc.SecurityGroupIngressRule),
        "file_system": one(aws.efs.FileSystem),
        "file_system_policy": one(aws.efs.FileSystemPolicy),
        "backup_policy": one(aws.efs.BackupPolicy),
        "mount_target": each(aws.efs.MountTarget),
        "access_point": named(aws.efs.AccessPoint),
    }
    """Every child by key (the keys of `nodes` and `transform`): an ingress rule per
    allowed security group, a mount target per subnet, access points by volume name."""

    def __init__(
        self, name: str, args: VolumeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        self.args = args
        self.security_group = self._security_group()
        self.file_system = self._file_system()
        arn = self.file_system.arn
        # The data's guards stay with a kept file system, as a kept bucket keeps its policy.
        kept = pulumi.ResourceOptions(retain_on_delete=not args.throwaway)
        self.policy = self.child(
            "file_system_policy",
            aws.efs.FileSystemPolicy,
            "policy",
            file_system_id=self.file_system.id,
            policy=arn.apply(file_system_policy),
            opts=kept,
        )
        self.child(
            "backup_policy",
            aws.efs.BackupPolicy,
            "backups",
            file_system_id=self.file_system.id,
            backup_policy={"status": "ENABLED" if args.backed_up else "DISABLED"},
            opts=kept,
        )
        mounted = self._mount_targets()
        self.access_points: dict[str, aws.efs.AccessPoint] = {
            volume: self._access_point(volume, path)
            for volume, path in sorted(args.directories.items())
        }
        self.file_system_arn: pulumi.Output[str] = arn
        self.file_system_id: pulumi.Output[str] = pulumi.Output.all(
            self.file_system.id, mounted
        ).apply(lambda v: str(v[0]))
        """The file system's id, known once a mount target is in every zone: what a task
        definition mounts (a task cannot mount before its zone has one)."""
        self.register_outputs(
            {
                "file_system_id": self.file_system_id,
                "access_point_ids": {k: v.id for k, v in self.access_points.items()},
            }
        )

    def _security_group(self) -> aws.ec2.SecurityGroup:
        return port_security_group(
            self,
            vpc_id=self.args.vpc_id,
            sources=self.args.allowed_security_group_ids,
            port=NFS_PORT,
            description="EFS: NFS (2049) from the allowed security groups only",
            rule_description="NFS from an allowed security group",
        )

    def _file_system(self) -> aws.efs.FileSystem:
        args = self.args
        lifecycle: list[dict[str, str]] = []
        if args.transition_to_ia is not None:
            lifecycle = [
                {"transition_to_ia": args.transition_to_ia},
                {"transition_to_primary_storage_class": "AFTER_1_ACCESS"},
            ]
        return self.child(
            "file_system",
            aws.efs.FileSystem,
            "files",
            encrypted=True,
            kms_key_id=args.kms_key_id,
            performance_mode="generalPurpose",
            throughput_mode=args.throughput_mode,
            lifecycle_policies=lifecycle or None,
            # A new key or setting that replaces the file system would leave its files
            # behind: protected, the preview stops instead.
            opts=pulumi.ResourceOptions(protect=not args.throwaway),
        )

    def _mount_target(self, index: int, subnet_id: Input) -> aws.efs.MountTarget:
        return self.child(
            "mount_target",
            aws.efs.MountTarget,
            f"mount-{index}",
            file_system_id=self.file_system.id,
            subnet_id=subnet_id,
            security_groups=[self.security_group.id],
            # A zone holds one mount target: a replacement must go before it comes.
            opts=pulumi.ResourceOptions(delete_before_replace=True),
        )

    def _mount_targets(self) -> pulumi.Output[list[str]]:
        """A mount target per subnet. A rack read from another stack gives its subnets as
        one Output (known at preview: a stack reference is read then), so they are made once
        it is known; a list is made at once."""
        subnets = self.args.subnet_ids
        if isinstance(subnets, pulumi.Output):
            return subnets.apply(
                lambda ids: pulumi.Output.all(
                    *(self._mount_target(i, s).id for i, s in enumerate(ids or []))
                )
            )
        return pulumi.Output.all(*(self._mount_target(i, s).id for i, s in enumerate(subnets)))

    def _access_point(self, volume: str, path: str) -> aws.efs.AccessPoint:
        args = self.args
        return self.child(
            "access_point",
            aws.efs.AccessPoint,
            f"ap-{_slug(path)}",
            at=volume,
            tags=dict(args.volume_tags.get(volume, {})),
            file_system_id=self.file_system.id,
            posix_user={"uid": args.uid, "gid": args.gid},
            root_directory={
                "path": path,
                "creation_info": {
                    "owner_uid": args.uid,
                    "owner_gid": args.gid,
                    "permissions": "0755",
                },
            },
        )


def _slug(text: str) -> str:
    """A resource-name piece of a directory: `/services/web/data-1a2b` -> `services-web-data-1a2b`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "root"
