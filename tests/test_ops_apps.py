"""`paaskit apps` against moto: the apps of the region's racks, found by their tags."""

from __future__ import annotations

import pytest

from tests.ops_helpers import cli, client, deploy_app, ops_env, redeploy

__all__ = ["ops_env"]

pytestmark = pytest.mark.usefixtures("ops_env")


def test_apps_lists_each_app_with_its_services_and_releases(aws, capsys):
    shop = deploy_app(app="shop", services=("web", "worker"), tasks_per_service=2)
    deploy_app(app="blog", services=("web",), cluster_arn=shop.cluster_arn)
    data = cli(capsys, "apps", "--json").json()
    assert data["region"] == "us-east-1"
    assert data["racks"] == ["dev"]
    assert [(a["name"], a["rack"]) for a in data["apps"]] == [("blog", "dev"), ("shop", "dev")]
    shop_row = data["apps"][1]
    assert shop_row["release"] == {"latest": 1, "live": 1}
    assert shop_row["services"] == [
        {
            "name": "web",
            "desired": 2,
            "running": 2,
            "pending": 0,
            "taskDefinition": "dev-shop-web:1",
            "rollout": "COMPLETED",
        },
        {
            "name": "worker",
            "desired": 2,
            "running": 2,
            "pending": 0,
            "taskDefinition": "dev-shop-worker:1",
            "rollout": "COMPLETED",
        },
    ]
    text = cli(capsys, "apps")
    assert text.code == 0
    assert text.out.splitlines()[0].split() == [
        "APP",
        "RACK",
        "RELEASE",
        "SERVICE",
        "RUNNING",
        "TASK",
        "DEFINITION",
        "ROLLOUT",
    ]
    assert "shop  dev   v1       web      2/2" in text.out


def test_a_release_not_yet_live_is_shown_beside_the_live_one(aws, capsys):
    d = deploy_app(services=("web",))
    redeploy(d, "web", "web-2", write_record=False)
    # A deploy recorded v2, then the circuit breaker moved the service back to revision 1.
    from tests.ops_helpers import record

    record(d)
    client("ecs").update_service(
        cluster=d.cluster_arn,
        service=d.services["web"],
        taskDefinition=d.task_definitions["web"][0],
    )
    data = cli(capsys, "apps", "--json").json()
    assert data["apps"][0]["release"] == {"latest": 2, "live": 1}
    assert "v1 live, v2 latest" in cli(capsys, "apps").out


def test_every_rack_is_listed_unless_one_is_chosen(aws, capsys):
    deploy_app(rack="dev", app="shop")
    deploy_app(rack="prod", app="shop")
    data = cli(capsys, "apps", "--json").json()
    assert data["racks"] == ["dev", "prod"]
    assert [(a["rack"], a["name"]) for a in data["apps"]] == [("dev", "shop"), ("prod", "shop")]
    only = cli(capsys, "apps", "--rack", "prod", "--json").json()
    assert [(a["rack"], a["name"]) for a in only["apps"]] == [("prod", "shop")]


def test_a_deleted_service_is_not_an_app(aws, capsys):
    d = deploy_app(services=("web",))
    ecs = client("ecs")
    ecs.update_service(cluster=d.cluster_arn, service=d.services["web"], desiredCount=0)
    ecs.delete_service(cluster=d.cluster_arn, service=d.services["web"])
    ran = cli(capsys, "apps")
    assert (ran.code, ran.out.strip()) == (0, "No apps on dev (us-east-1).")


def test_no_rack_in_the_region_is_an_error_naming_the_tag(aws, capsys):
    ran = cli(capsys, "apps")
    assert ran.code == 1
    assert ran.err == (
        "paaskit apps: error: no paaskit rack in us-east-1: no ECS cluster there is tagged "
        "paaskit:rack (check AWS_REGION and AWS_PROFILE)\n"
    )


def test_an_unknown_rack_names_the_racks_there_are(aws, capsys):
    deploy_app(rack="dev")
    ran = cli(capsys, "apps", "--rack", "prod")
    assert ran.code == 1
    assert ran.err == "paaskit apps: error: no rack named 'prod' in us-east-1 (racks: dev)\n"
