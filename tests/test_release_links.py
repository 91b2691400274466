"""The deploy runner's `link` action against moto's Secrets Manager, ECS and EventBridge.

What moto does for real here: secrets and their versions (a secret made
without a value has none, and reading it fails as on AWS), ECS services and
`forceNewDeployment` (a new deployment id), EventBridge rules matching events
against the App's pattern and delivering them to a target. What moto cannot
do: send Secrets Manager's own `Secret Label Updated` event when a secret's
current version changes (the tests put that event on the bus themselves, with
the shape AWS documents), invoke a Lambda target (the tests call the runner's
handler with the target's input, as EventBridge would), and enforce IAM or
KMS permissions (the policies are checked on the plan, in tests/test_app.py).
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import boto3
import pytest

from paaskit.plan import Plan
from paaskit.release.handler import handler
from paaskit.release.links import LinkFailed, compose_link, write_link
from tests.test_app import make_app, plan_app

PASSWORD = "p@ss:w/rd?#%& é"


def _secrets(password: str = PASSWORD) -> tuple[str, str]:
    """A database's secret as RDS keeps it, and an app's link secret as Pulumi makes it: empty."""
    client = boto3.client("secretsmanager")
    source = client.create_secret(
        Name="rds-db-1", SecretString=json.dumps({"username": "app", "password": password})
    )["ARN"]
    link = client.create_secret(Name="shop-database-url")["ARN"]
    return source, link


def _event(source: str, link: str, **extra):
    return {
        "action": "link",
        "resource": "database",
        "engine": "postgres",
        "sourceSecret": source,
        "linkSecret": link,
        "host": "shop-db.c0.us-east-1.rds.amazonaws.com",
        "port": 5432,
        "database": "app",
        **extra,
    }


def _link_value(link: str) -> dict[str, Any]:
    client = boto3.client("secretsmanager")
    return dict(json.loads(client.get_secret_value(SecretId=link)["SecretString"]))


def test_the_link_secret_holds_the_url_and_its_parts(aws):
    source, link = _secrets()
    result = handler(_event(source, link), None)
    assert result["status"] == "written"
    value = _link_value(link)
    assert value["password"] == PASSWORD
    url = urllib.parse.urlsplit(value["url"])
    assert (url.scheme, url.username, url.hostname, url.port, url.path) == (
        "postgres",
        "app",
        "shop-db.c0.us-east-1.rds.amazonaws.com",
        5432,
        "/app",
    )
    assert urllib.parse.unquote(url.password or "") == PASSWORD
    assert {k: value[k] for k in ("host", "port", "username", "database", "engine")} == {
        "host": "shop-db.c0.us-east-1.rds.amazonaws.com",
        "port": 5432,
        "username": "app",
        "database": "app",
        "engine": "postgres",
    }


def test_what_the_runner_returns_into_pulumis_state_holds_no_password(aws):
    source, link = _secrets()
    result = handler(_event(source, link), None)
    assert PASSWORD not in json.dumps(result)
    assert urllib.parse.quote(PASSWORD, safe="") not in json.dumps(result)


def test_an_unchanged_source_writes_no_new_version(aws):
    source, link = _secrets()
    handler(_event(source, link), None)
    client = boto3.client("secretsmanager")

    def versions() -> list[str]:
        return [v["VersionId"] for v in client.list_secret_version_ids(SecretId=link)["Versions"]]

    written = versions()
    assert handler(_event(source, link), None)["status"] == "unchanged"
    assert versions() == written


def _services(*names: str) -> dict[str, str]:
    """ECS services on a cluster, each with its current deployment's id."""
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName="rack")
    task = ecs.register_task_definition(
        family="shop", containerDefinitions=[{"name": "web", "image": "shop:1", "memory": 256}]
    )["taskDefinition"]["taskDefinitionArn"]
    for name in names:
        ecs.create_service(cluster="rack", serviceName=name, taskDefinition=task, desiredCount=1)
    return _deployment_ids(*names)


def _deployment_ids(*names: str) -> dict[str, str]:
    services = boto3.client("ecs").describe_services(cluster="rack", services=list(names))
    return {s["serviceName"]: s["deployments"][0]["id"] for s in services["services"]}


def test_a_rotation_rewrites_the_link_and_restarts_the_services_that_read_it(aws):
    source, link = _secrets()
    before = _services("shop-web-1", "shop-worker-2", "other-app-web-3")
    handler(_event(source, link), None)  # the deploy wrote it

    client = boto3.client("secretsmanager")
    client.put_secret_value(
        SecretId=source, SecretString=json.dumps({"username": "app", "password": "n3w"})
    )
    rotation = _event(source, link, cluster="rack", restart=["shop-web-1", "shop-worker-2"])
    result = handler(rotation, None)

    assert result["status"] == "written"
    assert result["restarted"] == ["shop-web-1", "shop-worker-2"]
    assert _link_value(link)["password"] == "n3w"
    after = _deployment_ids("shop-web-1", "shop-worker-2", "other-app-web-3")
    assert after["shop-web-1"] != before["shop-web-1"]
    assert after["shop-worker-2"] != before["shop-worker-2"]
    assert after["other-app-web-3"] == before["other-app-web-3"]


def test_a_retried_rotation_restarts_again_though_the_secret_is_already_written(aws):
    source, link = _secrets()
    _services("shop-web-1")
    rotation = _event(source, link, cluster="rack", restart=["shop-web-1"])
    handler(rotation, None)
    before = _deployment_ids("shop-web-1")
    again = handler(rotation, None)  # EventBridge retries after a failed restart
    assert again["status"] == "unchanged"
    assert _deployment_ids("shop-web-1") != before


def test_a_service_that_cannot_be_restarted_fails_the_rotation_and_says_so(aws):
    source, link = _secrets()
    _services("shop-web-1")
    rotation = _event(source, link, cluster="rack", restart=["shop-web-1", "gone"])
    with pytest.raises(LinkFailed, match=r"could not be restarted.*gone"):
        handler(rotation, None)
    assert _link_value(link)["password"] == PASSWORD  # written before the restarts


def test_a_missing_source_secret_fails_naming_it(aws):
    _, link = _secrets()
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds-missing-AbCdEf"
    with pytest.raises(LinkFailed, match=r"cannot read the database's secret .*rds-missing"):
        write_link(_event(missing, link), secrets=boto3.client("secretsmanager"))


def test_a_source_without_a_password_fails_naming_the_key():
    with pytest.raises(LinkFailed, match="no 'password' key"):
        compose_link("postgres", {"username": "app"}, "h", 5432, "app")


# --- the rule the App registers, with moto's EventBridge ------------------------------


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Plan:
    return plan_app(make_app(tmp_path_factory.mktemp("shop")))


def _secret_label_updated(secret_arn: str, label: str) -> dict[str, object]:
    """The event Secrets Manager sends (its documented shape)."""
    return {
        "Source": "aws.secretsmanager",
        "DetailType": "Secret Label Updated",
        "Resources": [secret_arn],
        "Detail": json.dumps({"name": "rds-db-1", "labelUpdated": label, "versionId": "v2"}),
    }


def test_the_apps_rule_fires_on_its_sources_new_current_version_only(aws, shop):
    rule = shop.named("shop-database-rotated")
    source_arn = json.loads(shop.named("shop-database-link").inputs["input"])["sourceSecret"]
    events = boto3.client("events")
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="runner")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="rotated", EventPattern=rule.inputs["eventPattern"])
    events.put_targets(Rule="rotated", Targets=[{"Id": "runner", "Arn": queue_arn}])

    events.put_events(
        Entries=[
            _secret_label_updated(source_arn, "AWSCURRENT"),
            _secret_label_updated(source_arn, "my-label"),
            _secret_label_updated(source_arn + "-other", "AWSCURRENT"),
        ]
    )
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"])["detail"]["labelUpdated"] for m in received] == ["AWSCURRENT"]
    assert json.loads(received[0]["Body"])["resources"] == [source_arn]


def test_the_rules_target_runs_the_link_action_and_restarts_the_linking_services(aws, shop):
    target = shop.named("shop-database-rotated-target")
    delivered = json.loads(target.inputs["input"])
    assert delivered["action"] == "link"
    # Only the service that links the database (web, not worker, agent or scheduler).
    (restarted,) = delivered["restart"]
    assert restarted.startswith("shop-web-")
    assert target.inputs["arn"].endswith(":function:" + shop.named("shop-release").inputs["name"])
    # As EventBridge delivers it, with this test's secrets and services in moto's place.
    source, link = _secrets()
    _services("shop-web-1")
    result = handler(
        {
            **delivered,
            "sourceSecret": source,
            "linkSecret": link,
            "cluster": "rack",
            "restart": ["shop-web-1"],
        },
        None,
    )
    assert result["status"] == "written"
    assert result["restarted"] == ["shop-web-1"]
