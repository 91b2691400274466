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

For a Valkey or Redis OSS cache, moto's ElastiCache holds the replication
group: its id, its endpoint, and ModifyReplicationGroup refuses a group that
does not exist. It does not model AUTH: a token given to ModifyReplicationGroup
is dropped, AuthTokenEnabled stays what the group was created with, the group
is never `modifying`, and neither the token's rules (16-128 characters, no
/ " @ %) nor the strategy (ROTATE, SET, DELETE; SET only after ROTATE) are
checked. So the runner's ROTATE-wait-SET is shown on moto's group through
`DocumentedAuth`, which adds to moto's answers what ElastiCache documents for
those calls, and the token's rules are checked on the generator itself.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import boto3
import pytest

from paaskit.plan import Plan
from paaskit.release.handler import handler
from paaskit.release.links import (
    LinkFailed,
    compose_cache_link,
    compose_link,
    new_token,
    write_cache_link,
    write_link,
)
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


# --- MySQL and MariaDB: mysql:// as Convox gives it -----------------------------------


@pytest.mark.parametrize("engine", ["mysql", "mariadb"])
def test_mysql_and_mariadb_links_are_mysql_urls(engine):
    value = compose_link(
        engine, {"username": "app", "password": PASSWORD}, "shop-db.rds.amazonaws.com", 3306, "app"
    )
    url = urllib.parse.urlsplit(value["url"])
    assert (url.scheme, url.username, url.hostname, url.port, url.path) == (
        "mysql",
        "app",
        "shop-db.rds.amazonaws.com",
        3306,
        "/app",
    )
    assert urllib.parse.unquote(url.password or "") == PASSWORD
    assert value["engine"] == engine


def test_a_mysql_link_is_written_from_rds_secret_like_postgres(aws):
    source, link = _secrets()
    event = _event(source, link, engine="mysql", port=3306)
    assert write_link(event, secrets=boto3.client("secretsmanager"))["status"] == "written"
    assert _link_value(link)["url"].startswith("mysql://app:")


# --- a cache's AUTH token -------------------------------------------------------------


GROUP = "shop-cache-cache-dev-1a2b3c"


def test_a_token_is_what_elasticache_takes_and_needs_no_escaping_in_a_url():
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert 16 <= len(token) <= 128
        assert token.isalnum()
        assert token.isascii()
        assert any(c.isupper() for c in token)
        assert any(c.islower() for c in token)
        assert any(c.isdigit() for c in token)
        assert not set('/"@%') & set(token)


def test_the_cache_url_is_tls_with_the_token_as_password():
    value = compose_cache_link(
        "valkey", "Tok3nTok3nTok3nX", "master.g.abc.use1.cache.amazonaws.com", 6379
    )
    url = urllib.parse.urlsplit(value["url"])
    assert (url.scheme, url.username, url.password, url.port, url.path) == (
        "rediss",
        "",
        "Tok3nTok3nTok3nX",
        6379,
        "/0",
    )
    assert value["password"] == "Tok3nTok3nTok3nX"
    assert value["username"] == ""


class DocumentedAuth:
    """moto's ElastiCache client, with ElastiCache's documented AUTH behaviour added.

    ModifyReplicationGroup still goes to moto (which answers for the group's existence);
    on top: ROTATE makes the group `modifying` for `polls` describes, then it takes the
    token (AuthTokenEnabled) with AUTH still optional; SET is refused unless a ROTATE
    completed before it, then also takes `polls` describes.
    """

    def __init__(self, client, *, polls: int = 2, finishes: bool = True) -> None:
        self.client = client
        self.polls = polls
        self.finishes = finishes
        self.enabled = False
        self.rotated = False
        self.pending: str | None = None
        self.left = 0
        self.calls: list[tuple[str, str]] = []

    def modify_replication_group(self, **request):
        from botocore.exceptions import ClientError

        answer = self.client.modify_replication_group(**request)
        strategy = request["AuthTokenUpdateStrategy"]
        self.calls.append((strategy, request["AuthToken"]))
        if strategy == "SET" and not self.rotated:
            raise ClientError(
                {"Error": {"Code": "InvalidParameterCombination", "Message": "SET after ROTATE"}},
                "ModifyReplicationGroup",
            )
        self.pending, self.left = ("ROTATING" if strategy == "ROTATE" else "SETTING"), self.polls
        return answer

    def describe_replication_groups(self, **request):
        answer = self.client.describe_replication_groups(**request)
        group = answer["ReplicationGroups"][0]
        if self.pending is not None:
            if self.left > 0 or not self.finishes:
                self.left -= 1
                group.update(
                    Status="modifying", PendingModifiedValues={"AuthTokenStatus": self.pending}
                )
                return answer
            self.enabled = True
            self.rotated = self.rotated or self.pending == "ROTATING"
            self.pending = None
        group["AuthTokenEnabled"] = self.enabled
        return answer


def _cache(transit: bool = True) -> tuple[str, str]:
    """A replication group as the Cache component makes it (TLS, no token), and an empty link
    secret; returns (link secret ARN, primary endpoint)."""
    group = boto3.client("elasticache").create_replication_group(
        ReplicationGroupId=GROUP,
        ReplicationGroupDescription="shop cache",
        Engine="valkey",
        EngineVersion="8.2",
        CacheNodeType="cache.t4g.micro",
        NumCacheClusters=1,
        TransitEncryptionEnabled=transit,
        AtRestEncryptionEnabled=True,
    )["ReplicationGroup"]
    endpoint = group["NodeGroups"][0]["PrimaryEndpoint"]["Address"]
    link = boto3.client("secretsmanager").create_secret(Name="shop-cache-url")["ARN"]
    return link, endpoint


def _cache_event(link: str, host: str, **extra):
    return {
        "action": "link",
        "resource": "cache",
        "engine": "valkey",
        "linkSecret": link,
        "replicationGroup": GROUP,
        "host": host,
        "port": 6379,
        "pollSeconds": 0,
        **extra,
    }


def _run(event, elasticache, *, clock=None):
    ticks = iter(range(10**6))
    return write_cache_link(
        event,
        secrets=boto3.client("secretsmanager"),
        elasticache=elasticache,
        sleep=lambda _: None,
        clock=clock or (lambda: float(next(ticks))),
    )


def test_the_runner_writes_the_token_then_rotates_it_in_then_sets_it(aws):
    link, host = _cache()
    cache = DocumentedAuth(boto3.client("elasticache"))
    result = _run(_cache_event(link, host), cache)

    value = _link_value(link)
    token = value["password"]
    assert [strategy for strategy, _ in cache.calls] == ["ROTATE", "SET"]
    assert {t for _, t in cache.calls} == {token}  # the token applied is the one apps read
    assert value["url"] == f"rediss://:{token}@{host}:6379/0"
    assert value["auth"] == "set"
    assert cache.enabled
    assert result == {
        "status": "written",
        "resource": "cache",
        "linkSecret": link,
        "auth": "set",
        "applied": ["ROTATE", "SET"],
    }
    assert token not in json.dumps(result)


def test_a_second_deploy_changes_nothing(aws):
    link, host = _cache()
    cache = DocumentedAuth(boto3.client("elasticache"))
    _run(_cache_event(link, host), cache)
    versions = boto3.client("secretsmanager").list_secret_version_ids(SecretId=link)["Versions"]
    again = _run(_cache_event(link, host), cache)
    assert (again["status"], again["applied"]) == ("unchanged", [])
    assert len(cache.calls) == 2
    after = boto3.client("secretsmanager").list_secret_version_ids(SecretId=link)["Versions"]
    assert len(after) == len(versions)


def test_a_rotate_that_outlasts_the_invocation_is_finished_by_the_next_one(aws):
    link, host = _cache()
    slow = DocumentedAuth(boto3.client("elasticache"), finishes=False)
    with pytest.raises(
        LinkFailed,
        match=rf"the cache {GROUP} is still modifying \(AUTH token rotating\); run `pulumi up` again",
    ):
        _run(_cache_event(link, host, timeoutSeconds=5), slow)
    stopped = _link_value(link)
    assert stopped["auth"] == "rotated"
    # The next `pulumi up`: the same token, no second ROTATE, then SET.
    slow.finishes = True
    result = _run(_cache_event(link, host), slow)
    assert [s for s, _ in slow.calls] == ["ROTATE", "SET"]
    assert result["applied"] == ["SET"]
    assert _link_value(link)["password"] == stopped["password"]


def test_a_replaced_cache_gets_the_token_rotated_in_again(aws):
    link, host = _cache()
    cache = DocumentedAuth(boto3.client("elasticache"))
    _run(_cache_event(link, host), cache)
    token = _link_value(link)["password"]
    replaced = DocumentedAuth(boto3.client("elasticache"))  # a new group takes no token
    result = _run(_cache_event(link, host), replaced)
    assert [s for s, _ in replaced.calls] == ["ROTATE", "SET"]
    assert {t for _, t in replaced.calls} == {token}
    assert result["auth"] == "set"


def test_a_refused_set_is_recorded_as_not_done_and_reported(aws):
    link, host = _cache()
    cache = DocumentedAuth(boto3.client("elasticache"))
    boto3.client("secretsmanager").put_secret_value(
        SecretId=link,
        SecretString=json.dumps(
            {**compose_cache_link("valkey", "Tok3nTok3nTok3nX", host, 6379), "auth": "rotated"}
        ),
    )
    cache.enabled = True  # a token is set, but no ROTATE of this token completed
    with pytest.raises(LinkFailed, match=rf"cannot SET the AUTH token of the cache {GROUP}"):
        _run(_cache_event(link, host), cache)
    assert _link_value(link)["auth"] == "rotated"


def test_a_cache_that_does_not_exist_fails_naming_it(aws):
    link, host = _cache()
    with pytest.raises(LinkFailed, match="cannot read the cache nope"):
        _run({**_cache_event(link, host), "replicationGroup": "nope"}, boto3.client("elasticache"))


def test_on_moto_alone_the_rotate_is_sent_and_the_runner_says_it_was_not_applied(aws):
    # What moto cannot show: it drops the token, so the group never takes one. Through the
    # runner's own entry (`write_link` making its ElastiCache client), the ROTATE reaches
    # moto, and the runner reports the token not applied instead of going on to SET.
    link, host = _cache()
    with pytest.raises(LinkFailed, match=rf"the cache {GROUP} has not applied the AUTH token"):
        write_link(
            _cache_event(link, host, timeoutSeconds=0), secrets=boto3.client("secretsmanager")
        )
    assert _link_value(link)["auth"] == "rotated"
    described = boto3.client("elasticache").describe_replication_groups(ReplicationGroupId=GROUP)
    assert described["ReplicationGroups"][0]["AuthTokenEnabled"] is False
