"""What users see when an operation cannot be done: one line naming the thing, exit 1, no traceback.

AccessDenied and rejected credentials are AWS's answers given in place of
moto's (tests/ops_helpers.py `replies`): moto's shared server does not enforce
IAM. Missing credentials and region are the real botocore errors.
"""

from __future__ import annotations

import pytest

from tests.ops_helpers import cli, deploy_app, ops_env, replies

__all__ = ["ops_env", "replies"]

pytestmark = pytest.mark.usefixtures("ops_env")


def test_no_credentials(aws, capsys, monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    ran = cli(capsys, "ps", "shop")
    assert ran.code == 1
    assert ran.err == (
        "paaskit ps: error: app shop: no AWS credentials found: set AWS_PROFILE (after `aws configure` "
        "or `aws sso login`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n"
    )
    assert "Traceback" not in ran.out + ran.err


def test_an_unknown_profile(aws, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_PROFILE", "prod")
    ran = cli(capsys, "apps")
    assert ran.code == 1
    assert ran.err == (
        "paaskit apps: error: The config profile (prod) could not be found: check AWS_PROFILE "
        "against your ~/.aws/config\n"
    )


def test_no_region(aws, capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    ran = cli(capsys, "apps")
    assert (ran.code, ran.err) == (
        1,
        "paaskit apps: error: no AWS region: set AWS_REGION (or a region in your AWS profile)\n",
    )


def test_aws_region_is_honoured(aws, capsys, monkeypatch):
    deploy_app(services=("web",))
    monkeypatch.setenv(
        "AWS_DEFAULT_REGION", "eu-west-1"
    )  # AWS_REGION (us-east-1) wins, as in the AWS CLI
    assert cli(capsys, "apps", "--json").json()["region"] == "us-east-1"


def test_access_denied_names_the_operation_and_what_aws_said(aws, capsys, replies):
    deploy_app(services=("web",))
    replies.deny("ecs.DescribeServices")
    ran = cli(capsys, "status", "shop")
    assert ran.code == 1
    assert ran.err == (
        "paaskit status: error: app shop: AWS denied DescribeServices (AccessDeniedException): "
        "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: ecs:describeservices\n"
    )


def test_rejected_credentials_say_to_renew_them(aws, capsys, replies):
    replies.answer(
        "tagging.GetResources",
        {
            "Error": {
                "Code": "ExpiredTokenException",
                "Message": "The security token included in the request is expired",
            }
        },
        status=400,
    )
    ran = cli(capsys, "apps")
    assert ran.code == 1
    assert ran.err == (
        "paaskit apps: error: AWS refused the credentials (ExpiredTokenException): The security token "
        "included in the request is expired; renew them (`aws sso login`, or new access keys)\n"
    )


def test_an_app_on_two_racks_needs_rack(aws, capsys):
    deploy_app(rack="dev", app="shop", services=("web",))
    prod = deploy_app(rack="prod", app="shop", services=("web", "worker"))
    ran = cli(capsys, "ps", "shop")
    assert (ran.code, ran.err) == (
        1,
        "paaskit ps: error: app 'shop' is on several racks (dev, prod): choose one with --rack\n",
    )
    data = cli(capsys, "ps", "shop", "--rack", "prod", "--json").json()
    assert data["rack"] == "prod"
    assert {t["service"] for t in data["tasks"]} == {"web", "worker"}
    assert {t["arn"].split("/")[1] for t in data["tasks"]} == {prod.cluster_arn.rsplit("/", 1)[-1]}
    ran = cli(capsys, "ps", "shop", "--rack", "test")
    assert (ran.code, ran.err) == (
        1,
        "paaskit ps: error: no rack named 'test' in us-east-1 (racks: dev, prod)\n",
    )


def test_an_app_only_on_one_of_several_racks_needs_no_rack(aws, capsys):
    deploy_app(rack="dev", app="shop", services=("web",))
    deploy_app(rack="prod", app="blog", services=("web",))
    assert cli(capsys, "ps", "blog", "--json").json()["rack"] == "prod"
    ran = cli(capsys, "ps", "shop", "--rack", "prod")
    assert (ran.code, ran.err) == (1, "paaskit ps: error: no app named 'shop' on rack prod\n")
