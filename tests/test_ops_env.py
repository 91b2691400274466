"""`paaskit env` against moto: the variables the tasks get, and where each comes from."""

from __future__ import annotations

import json

import pytest

from tests.ops_helpers import cli, client, deploy_app, ops_env, register

__all__ = ["ops_env"]

pytestmark = pytest.mark.usefixtures("ops_env")


def _with_database(d):
    """web links a postgres resource: DATABASE_URL from its Secrets Manager secret's `url` key."""
    secret = client("secretsmanager").create_secret(
        Name=f"paaskit/{d.rack}/{d.app}/database",
        SecretString=json.dumps({"url": "postgres://app:pw@db:5432/app", "password": "pw"}),
        Tags=[{"Key": "paaskit:rack", "Value": d.rack}, {"Key": "paaskit:app", "Value": d.app}],
    )["ARN"]
    setting = f"arn:aws:ssm:us-east-1:123456789012:parameter/paaskit/{d.rack}/{d.app}/SECRET_KEY"
    arn = register(
        d,
        "web",
        d.images["web"][-1],
        environment={"DEBUG": "false", "DATABASE_HOST": "db"},
        secrets={
            "SECRET_KEY": setting,
            "DATABASE_URL": f"{secret}:url::",
            "DATABASE_PASS": f"{secret}:password::",
        },
    )
    client("ecs").update_service(
        cluster=d.cluster_arn, service=d.services["web"], taskDefinition=arn
    )
    return secret


def test_env_shows_each_variable_its_source_and_services_secrets_hidden(aws, capsys):
    d = deploy_app(services=("web", "worker"), settings={"SECRET_KEY": "s3cr3t"})
    _with_database(d)
    client("ssm").put_parameter(Name="/paaskit/dev/shop/OLD_TOKEN", Value="x", Type="SecureString")
    data = cli(capsys, "env", "shop", "--json").json()
    by_name = {(v["name"], v["source"], tuple(v["services"])): v for v in data["variables"]}
    assert by_name[("DATABASE_URL", "secrets-manager", ("web",))] == {
        "name": "DATABASE_URL",
        "value": None,
        "secret": True,
        "source": "secrets-manager",
        "from": "paaskit/dev/shop/database-"
        + by_name[("DATABASE_URL", "secrets-manager", ("web",))]["from"].rsplit("-", 1)[1],
        "key": "url",
        "services": ["web"],
    }
    assert (
        by_name[("SECRET_KEY", "ssm-parameter", ("web", "worker"))]["from"]
        == "/paaskit/dev/shop/SECRET_KEY"
    )
    assert by_name[("DATABASE_HOST", "task-definition", ("web",))]["value"] == "db"
    assert by_name[("DEBUG", "task-definition", ("web", "worker"))]["value"] == "false"
    # Stored for the app, read by no task definition:
    assert by_name[("OLD_TOKEN", "ssm-parameter", ())]["from"] == "/paaskit/dev/shop/OLD_TOKEN"
    assert all(v["value"] is None for v in data["variables"] if v["secret"])
    text = cli(capsys, "env", "shop").out
    assert "SECRET_KEY     (secret)  SSM /paaskit/dev/shop/SECRET_KEY" in text
    assert "OLD_TOKEN      (secret)  SSM /paaskit/dev/shop/OLD_TOKEN" in text
    assert "(unused)" in text
    assert "s3cr3t" not in text
    assert text.rstrip().endswith("Secret values are hidden: --show-secrets prints them.")


def test_show_secrets_reads_the_values(aws, capsys):
    d = deploy_app(services=("web",), settings={"SECRET_KEY": "s3cr3t"})
    _with_database(d)
    data = cli(capsys, "env", "shop", "--show-secrets", "--json").json()
    values = {v["name"]: v["value"] for v in data["variables"]}
    assert values["SECRET_KEY"] == "s3cr3t"
    assert values["DATABASE_URL"] == "postgres://app:pw@db:5432/app"
    assert values["DATABASE_PASS"] == "pw"
    assert "s3cr3t" in cli(capsys, "env", "shop", "--show-secrets").out


def test_one_service_only(aws, capsys):
    deploy_app(services=("web", "worker"), settings={"SECRET_KEY": "s3cr3t"})
    data = cli(capsys, "env", "shop", "-s", "worker", "--json").json()
    assert {v["name"] for v in data["variables"]} == {
        "APP",
        "DEBUG",
        "RACK",
        "SERVICE",
        "SECRET_KEY",
    }
    assert {s for v in data["variables"] for s in v["services"]} == {"worker"}
    ran = cli(capsys, "env", "shop", "-s", "db")
    assert (ran.code, ran.err) == (
        1,
        "paaskit env: error: app shop has no service 'db' (its services: web, worker)\n",
    )
