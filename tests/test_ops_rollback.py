"""`paaskit rollback` against moto: the services move back, a record says so, the pin is set."""

from __future__ import annotations

import pytest
import yaml

from paaskit.release import records
from tests.ops_helpers import cli, client, deploy_app, ops_env, redeploy

__all__ = ["ops_env"]

pytestmark = pytest.mark.usefixtures("ops_env")


def _running(d):
    ecs = client("ecs")
    described = ecs.describe_services(cluster=d.cluster_arn, services=list(d.services.values()))[
        "services"
    ]
    names = {arn: name for name, arn in d.services.items()}
    return {
        names[s["serviceArn"]]: records.short_task_definition(s["taskDefinition"])
        for s in described
    }


def _shop():
    d = deploy_app(services=("web", "worker"))  # v1
    redeploy(d, "web", "web-2")  # v2
    redeploy(d, "worker", "worker-2")  # v3
    return d


def test_rollback_goes_to_the_previous_release_records_it_and_prints_the_pin(aws, capsys):
    d = _shop()
    ran = cli(capsys, "rollback", "shop")
    assert ran.code == 0
    assert _running(d) == {"web": "dev-shop-web:2", "worker": "dev-shop-worker:1"}
    past = records.history(client("ssm"), rack="dev", app="shop")
    assert (past[0].number, past[0].kind, past[0].rollback_of) == (4, "rollback", 2)
    assert {k: v.task_definition for k, v in past[0].services.items()} == _running(d)
    assert "App shop rolled back to v2: release v4 (a rollback of v2)" in ran.out
    assert "  worker: dev-shop-worker:2 -> dev-shop-worker:1" in ran.out
    assert "  web:" not in ran.out  # it already runs v2's revision: no new deployment
    assert "  pulumi config set paaskit-app:release 4" in ran.out
    assert "paaskit: service worker: dev-shop-worker:2 -> dev-shop-worker:1" in ran.err
    assert cli(capsys, "releases", "shop", "--json").json()["live"] == 4


def test_rollback_to_a_chosen_release_with_the_pin_written_into_the_stack_file(
    aws, capsys, tmp_path
):
    d = _shop()
    stack = tmp_path / "Pulumi.prod.yaml"
    stack.write_text("config:\n  aws:region: us-east-1\n")
    data = cli(capsys, "rollback", "shop", "v1", "--stack-file", str(stack), "--json").json()
    assert _running(d) == {"web": "dev-shop-web:1", "worker": "dev-shop-worker:1"}
    assert (data["from"], data["to"], data["release"]) == (3, 1, 4)
    assert data["services"] == {
        "web": {"from": "dev-shop-web:2", "to": "dev-shop-web:1", "reregistered": False},
        "worker": {"from": "dev-shop-worker:2", "to": "dev-shop-worker:1", "reregistered": False},
    }
    assert data["pin"] == {
        "key": "paaskit-app:release",
        "value": "4",
        "stackFile": str(stack),
        "command": "pulumi config set paaskit-app:release 4",
    }
    assert yaml.safe_load(stack.read_text())["config"] == {
        "paaskit-app:release": "4",
        "aws:region": "us-east-1",
    }


def test_a_deregistered_revision_is_registered_again_with_the_same_content(aws, capsys):
    d = _shop()
    ecs = client("ecs")
    ecs.deregister_task_definition(
        taskDefinition=d.task_definitions["web"][0]
    )  # Pulumi replaced it
    data = cli(capsys, "rollback", "shop", "1", "--json").json()
    assert data["services"]["web"] == {
        "from": "dev-shop-web:2",
        "to": "dev-shop-web:3",
        "reregistered": True,
    }
    again = ecs.describe_task_definition(taskDefinition="dev-shop-web:3", include=["TAGS"])
    old = ecs.describe_task_definition(taskDefinition="dev-shop-web:1")["taskDefinition"]
    assert again["taskDefinition"]["containerDefinitions"] == old["containerDefinitions"]
    assert {t["key"]: t["value"] for t in again["tags"]} == {
        "paaskit:rack": "dev",
        "paaskit:app": "shop",
        "paaskit:service": "web",
    }
    assert (
        records.history(client("ssm"), rack="dev", app="shop")[0].services["web"].task_definition
        == "dev-shop-web:3"
    )


def test_a_release_whose_image_expired_from_ecr_cannot_come_back(aws, capsys):
    d = _shop()
    digest = d.images["web"][0].partition("@")[2]
    client("ecr").batch_delete_image(
        repositoryName=d.repository, imageIds=[{"imageDigest": digest}]
    )
    ran = cli(capsys, "rollback", "shop", "v1")
    assert ran.code == 1
    assert ran.err.startswith(
        f"paaskit rollback: error: release v1 of app shop cannot come back: its images are no longer "
        f"in ECR (service web: {digest[:19]}... in {d.repository})"
    )
    assert _running(d) == {"web": "dev-shop-web:2", "worker": "dev-shop-worker:2"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["v9"], "app shop has no release v9 (releases kept: v1-v3)"),
        (["3"], "release v3 of app shop is already live"),
        (["next"], "release 'next': expected a release number such as v12 or 12"),
    ],
)
def test_a_wrong_release_is_an_error_naming_it(aws, capsys, argv, message):
    _shop()
    ran = cli(capsys, "rollback", "shop", *argv)
    assert (ran.code, ran.err) == (1, f"paaskit rollback: error: {message}\n")


def test_a_single_release_has_nothing_to_roll_back_to(aws, capsys):
    deploy_app(services=("web",))
    ran = cli(capsys, "rollback", "shop")
    assert (ran.code, ran.err) == (
        1,
        "paaskit rollback: error: app shop has no release before v1 to roll back to\n",
    )


def test_rolling_back_twice_goes_back_to_where_it_was(aws, capsys):
    d = _shop()
    cli(capsys, "rollback", "shop")  # v4 = v2
    cli(capsys, "rollback", "shop")  # v5 = v3: the release before v4 that differs
    assert _running(d) == {"web": "dev-shop-web:2", "worker": "dev-shop-worker:2"}
    assert records.history(client("ssm"), rack="dev", app="shop")[0].rollback_of == 3


def test_wait_reports_the_services_states(aws, capsys):
    _shop()
    ran = cli(capsys, "rollback", "shop", "--wait", "--json")
    assert ran.json()["states"] == {"web": "stable", "worker": "stable"}
