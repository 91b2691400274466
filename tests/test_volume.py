"""Volume: an app's files on EFS that outlive its processes, reachable from the nodes only."""

from __future__ import annotations

import json
import re

import botocore.session
import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from paaskit.plan import Plan
from paaskit.policy import run_rules
from paaskit.policy.rules import RULES
from paaskit.testing import plan
from paaskit.volume import (
    NFS_PORT,
    Volume,
    VolumeArgs,
    access_point_path_problem,
    file_system_policy,
    mount_statement,
)

FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"
MOUNT_TARGET = "aws:efs/mountTarget:MountTarget"
ACCESS_POINT = "aws:efs/accessPoint:AccessPoint"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2", "subnet-0aaaaaaaaaaaaaaa3"]
WIRING = {
    "vpc_id": "vpc-0123456789abcdef0",
    "subnet_ids": SUBNETS,
    "allowed_security_group_ids": ["sg-0nodes"],
    "directories": {"web:/data": "/services/web/data-1a2b3c4d", "files": "/shared/files-5e6f7a8b"},
}
EFS_PATH = re.compile(
    botocore.session.get_session().get_service_model("efs").shape_for("Path").metadata["pattern"]
)


def plan_volume(**settings) -> Plan:
    return plan(lambda: Volume("files", VolumeArgs(**{**WIRING, **settings})))


@pytest.fixture(scope="module")
def files() -> Plan:
    return plan_volume()


def test_the_file_system_is_encrypted_and_protected_and_keeps_its_guards(files):
    fs = files.one(FILE_SYSTEM)
    assert fs.inputs["encrypted"] is True
    assert "kmsKeyId" not in fs.inputs  # EFS's AWS-managed key
    assert fs.inputs["throughputMode"] == "elastic"
    assert fs.inputs["lifecyclePolicies"] == [
        {"transitionToIa": "AFTER_30_DAYS"},
        {"transitionToPrimaryStorageClass": "AFTER_1_ACCESS"},
    ]
    assert fs.protect
    policy = files.one("aws:efs/fileSystemPolicy:FileSystemPolicy")
    backups = files.one("aws:efs/backupPolicy:BackupPolicy")
    assert policy.retain_on_delete
    assert backups.retain_on_delete
    assert backups.inputs["backupPolicy"] == {"status": "ENABLED"}


def test_a_throwaway_file_system_goes_with_destroy_and_is_not_backed_up():
    p = plan_volume(throwaway=True)
    assert not p.one(FILE_SYSTEM).protect
    assert not p.one("aws:efs/fileSystemPolicy:FileSystemPolicy").retain_on_delete
    assert p.one("aws:efs/backupPolicy:BackupPolicy").inputs["backupPolicy"] == {
        "status": "DISABLED"
    }
    assert plan_volume(throwaway=True, backups=True).one(
        "aws:efs/backupPolicy:BackupPolicy"
    ).inputs["backupPolicy"] == {"status": "ENABLED"}


def test_a_customer_key_encrypts_it_and_a_wrong_one_is_refused():
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert plan_volume(kms_key_id=key).one(FILE_SYSTEM).inputs["kmsKeyId"] == key
    with pytest.raises(ValidationError, match="kms_key_id"):
        VolumeArgs(**WIRING, kms_key_id="my key")


def test_a_mount_target_per_subnet_admitting_nfs_from_the_nodes_only(files):
    targets = files.of_type(MOUNT_TARGET)
    assert sorted(t.inputs["subnetId"] for t in targets) == sorted(SUBNETS)
    sg = files.one("aws:ec2/securityGroup:SecurityGroup")
    assert all(sg.urn in t.dependencies and len(t.inputs["securityGroups"]) == 1 for t in targets)
    # A zone holds one mount target: a replacement deletes the old one first.
    assert all(t.delete_before_replace for t in targets)
    (rule,) = files.of_type(INGRESS)
    assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["ipProtocol"]) == (
        NFS_PORT,
        NFS_PORT,
        "tcp",
    )
    assert rule.inputs["referencedSecurityGroupId"] == "sg-0nodes"
    assert "cidrIpv4" not in rule.inputs
    assert not files.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert sg.inputs["vpcId"] == WIRING["vpc_id"]


def test_subnets_from_another_stack_get_their_mount_targets_once_known():
    p = plan(
        lambda: Volume(
            "files", VolumeArgs(**{**WIRING, "subnet_ids": pulumi.Output.from_input(SUBNETS[:2])})
        )
    )
    assert sorted(t.inputs["subnetId"] for t in p.of_type(MOUNT_TARGET)) == SUBNETS[:2]


def test_what_a_task_mounts_waits_for_a_mount_target_in_every_zone():
    made: list[Volume] = []

    def program() -> None:
        volume = Volume("files", VolumeArgs(**WIRING))
        made.append(volume)
        pulumi.export("fs", volume.file_system_id)
        # A resource reading the id depends on every mount target, as a task definition does.
        pulumi.CustomResource("test:index:Reader", "reader", {"fs": volume.file_system_id})

    p = plan(program)
    reader = p.named("reader")
    targets = {t.urn for t in p.of_type(MOUNT_TARGET)}
    assert targets
    assert targets <= set(reader.dependencies)


def test_an_access_point_per_volume_confines_it_and_runs_as_one_user(files):
    points = {p.inputs["rootDirectory"]["path"]: p for p in files.of_type(ACCESS_POINT)}
    assert set(points) == {"/services/web/data-1a2b3c4d", "/shared/files-5e6f7a8b"}
    for point in points.values():
        assert point.inputs["posixUser"] == {"uid": 1000, "gid": 1000}
        assert point.inputs["rootDirectory"]["creationInfo"] == {
            "ownerUid": 1000,
            "ownerGid": 1000,
            "permissions": "0755",
        }
    other = plan_volume(uid=33, gid=33).of_type(ACCESS_POINT)[0]
    assert other.inputs["posixUser"] == {"uid": 33, "gid": 33}


def test_the_policy_refuses_clients_without_tls_and_leaves_anonymous_ones_nothing():
    arn = "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0"
    (statement,) = json.loads(file_system_policy(arn))["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == arn
    # Being a policy, it replaces EFS's default (full access for anonymous clients) and
    # allows nothing: only a role granted ClientMount by its own policy gets in.
    assert not [
        s for s in json.loads(file_system_policy(arn))["Statement"] if s["Effect"] == "Allow"
    ]


def test_a_grant_names_its_access_points_and_writes_only_when_asked():
    arn = "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1"
    points = ["arn:ap/2", "arn:ap/1"]
    write = mount_statement(arn, points, write=True)
    read = mount_statement(arn, points, write=False)
    assert write["Action"] == ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    assert read["Action"] == ["elasticfilesystem:ClientMount"]
    assert write["Condition"]["StringEquals"] == {
        "elasticfilesystem:AccessPointArn": ["arn:ap/1", "arn:ap/2"]
    }
    assert write["Condition"]["Bool"] == {"elasticfilesystem:AccessedViaMountTarget": "true"}


def test_the_component_passes_every_rule_of_its_own(files):
    findings = [f for f in run_rules(files.resources, RULES) if f.severity != "info"]
    assert [(f.rule, f.message) for f in findings] == []


@pytest.mark.parametrize(
    ("directories", "problem"),
    [
        ({}, "at least one directory"),
        ({"a": "/"}, "below /"),
        ({"a": "relative"}, "below /"),
        ({"a": "/a/b/c/d/e"}, "deeper than EFS's 4 directories"),
        ({"a": "/" + "x" * 100}, "100 characters"),
        ({"a": "/.hidden"}, "not a directory name"),
        ({"a": "/x", "b": "/x"}, "the directory of a too"),
    ],
)
def test_directories_efs_refuses_are_refused_naming_the_volume(directories, problem):
    with pytest.raises(ValidationError, match=re.escape(problem)):
        VolumeArgs(**{**WIRING, "directories": directories})


@given(st.text(min_size=1, max_size=120).map(lambda s: "/" + s))
def test_a_path_passes_exactly_when_botocore_s_model_would_take_it(path):
    ours = access_point_path_problem(path) is None
    theirs = len(path) <= 100 and EFS_PATH.fullmatch(path) is not None and path != "/"
    assert ours == theirs
