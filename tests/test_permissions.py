"""`paaskit permissions`: the deployer's IAM policy, derived from the plans' resource types."""

from __future__ import annotations

import json

import botocore.session
import pytest

from paaskit import permissions
from paaskit.cli import main
from paaskit.data import generate_operations
from paaskit.plan import Plan
from paaskit.testing import plan
from tests.test_examples import ROOT, examples, rack

__all__ = ["examples", "rack"]


@pytest.fixture(scope="module")
def plans(rack, examples) -> dict[str, Plan]:
    """The reference rack (both stacks) and every example, as the test suite plans them."""
    return {"rack": rack, "rack-with-database": plan(ROOT, stack="with-database"), **examples}


def test_every_resource_type_of_the_stacks_and_examples_is_covered(plans):
    types = {record.type for p in plans.values() for record in p}
    uncovered = sorted(t for t in types if permissions.actions_for_type(t) is None)
    assert uncovered == []


def test_derived_actions_are_operations_of_the_service_behind_the_type(plans):
    """Every action not in the explicit table is an operation in botocore's model of its service."""
    session = botocore.session.get_session()
    data = json.loads(generate_operations.OUTPUT.read_text())["services"]
    prefixes = {entry["prefix"]: name for name, entry in data.items()}
    for record_type in {record.type for p in plans.values() for record in p}:
        for action in permissions.actions_for_type(record_type) or ():
            if action in permissions.EXTRA.get(record_type, ()):
                continue
            prefix, operation = action.split(":")
            model = session.get_service_model(prefixes[prefix])
            assert operation in model.operation_names, f"{record_type}: {action}"


def test_the_operations_table_is_what_botocore_says():
    assert generate_operations.main(["--check"]) == 0


def test_what_an_app_deployer_needs_beyond_the_rack(plans):
    found = permissions.permissions([plans["django"]])
    actions = {a for statement in found.statements for a in statement["Action"]}
    assert {
        "ecr:PutImage",
        "ecr:GetAuthorizationToken",
        "lambda:InvokeFunction",
        "iam:PassRole",
    } <= actions
    assert {"ecs:RegisterTaskDefinition", "ecs:CreateService", "ecs:UpdateService"} <= actions
    assert {"rds:CreateDBInstance", "ssm:PutParameter"} <= actions  # its postgres, its SECRET_KEY
    assert "ecs:Describe*" in actions
    assert "ec2:CreateVpc" not in actions  # the app makes no network
    assert {"sts:GetCallerIdentity", "iam:CreateServiceLinkedRole"} <= actions


def test_operations_named_after_another_resource_are_not_granted():
    vpc = set(permissions.actions_for_type("aws:ec2/vpc:Vpc") or ())
    assert {"ec2:CreateVpc", "ec2:ModifyVpcAttribute", "ec2:DeleteVpc", "ec2:CreateTags"} <= vpc
    assert "ec2:CreateVpcEndpoint" not in vpc
    assert "ec2:CreateVpcPeeringConnection" not in vpc
    assert permissions.actions_for_type("aws:ec2/transitGatewayThing:TransitGatewayThing") is None
    assert permissions.actions_for_type("azure:storage/account:Account") is None


def test_each_policy_fits_iams_managed_policy_limit(plans):
    found = permissions.permissions(plans.values())
    documents = found.policies()
    for document in documents:
        assert (
            len(json.dumps(document, separators=(",", ":"))) <= permissions.MANAGED_POLICY_MAX_CHARS
        )
    statements = [s for d in documents for s in d["Statement"]]
    assert statements == found.statements
    assert len(found.policies(limit=1000)) > len(documents)


def test_the_cli_prints_the_policy_and_writes_files(capsys, tmp_path):
    assert main(["permissions", "."]) == 0
    printed = json.loads(capsys.readouterr().out)
    # One policy document, or a list of them when the actions exceed one managed policy.
    documents = printed if isinstance(printed, list) else [printed]
    assert all(d["Version"] == "2012-10-17" for d in documents)
    assert any("ecs:CreateCluster" in s["Action"] for d in documents for s in d["Statement"])
    assert main(["permissions", ".", "--out", str(tmp_path / "deployer")]) == 0
    assert "deployer-1.json" in capsys.readouterr().out
    for i, document in enumerate(documents, start=1):
        assert json.loads((tmp_path / f"deployer-{i}.json").read_text()) == document
    assert main(["permissions", ".", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["project"], data["stack"], data["uncovered"]) == ("paaskit-rack", "dev", [])
    assert data["types"]["aws:ecs/cluster:Cluster"][0] == "ecs:CreateCluster"
