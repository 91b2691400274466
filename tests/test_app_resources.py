"""An app's resources of every type: what each link gives its services, and nothing in plain sight.

`tests/data/manifests/resources` has one resource of every type paaskit makes
(postgres, rds-mysql, mariadb, redis, valkey, elasticache-memcached), planned
through `stacks/app` on the reference rack, as an app is deployed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from paaskit.config import ConfigError
from paaskit.cost import estimate
from paaskit.plan import Plan
from paaskit.plan.engine import ProgramError
from paaskit.policy import evaluate
from paaskit.testing import plan
from tests.test_app import make_app, plan_app

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = Path(__file__).parent / "data" / "manifests" / "resources" / "paaskit.yml"
RACK_STACK = "organization/paaskit-rack/dev"

TASK = "aws:ecs/taskDefinition:TaskDefinition"
INVOCATION = "aws:lambda/invocation:Invocation"
SECRET = "aws:secretsmanager/secret:Secret"
RULE = "aws:cloudwatch/eventRule:EventRule"
GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"


@pytest.fixture(scope="module")
def app() -> Plan:
    rack = plan(ROOT, stack="dev")
    return plan(
        ROOT / "stacks" / "app",
        stack="dev",
        config={"manifest": str(MANIFEST)},
        refs={RACK_STACK: rack.outputs},
    )


def container(p: Plan, service: str) -> dict[str, Any]:
    (task,) = [r for r in p.of_type(TASK) if r.name.endswith(f"-{service}-task")]
    (definition,) = json.loads(task.inputs["containerDefinitions"])
    return dict(definition)


def environment(p: Plan, service: str) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container(p, service)["environment"]}


def secrets(p: Plan, service: str) -> dict[str, str]:
    return {e["name"]: e["valueFrom"] for e in container(p, service)["secrets"]}


def link_event(p: Plan, resource: str) -> dict[str, Any]:
    (invocation,) = [r for r in p.of_type(INVOCATION) if r.name.endswith(f"-{resource}-link")]
    return dict(json.loads(invocation.inputs["input"]))


def test_every_type_plans_with_no_error_findings(app):
    report = evaluate(app)
    errors = [(f.rule, f.resource, f.message) for f in report.findings if f.severity == "error"]
    assert errors == []
    # The one-node caches and the single-AZ MariaDB are what a warning is for.
    warned = {(f.rule, f.resource) for f in report.findings if f.severity == "warning"}
    assert ("PK-CACHE-004", app.one(GROUP, "resources-cache-queue-group").name) in warned


def test_each_resource_is_a_component_of_its_kind(app):
    databases = {r.name: r for r in app.of_type("paaskit:database:Database")}
    caches = {r.name: r for r in app.of_type("paaskit:cache:Cache")}
    assert sorted(databases) == [
        "resources-db-database",
        "resources-db-ledger",
        "resources-db-orders",
    ]
    assert sorted(caches) == [
        "resources-cache-cache",
        "resources-cache-queue",
        "resources-cache-sessions",
    ]
    engines = {r.name: r.inputs["engine"] for r in app.of_type("aws:rds/instance:Instance")}
    assert sorted(engines.values()) == ["mariadb", "mysql", "postgres"]
    groups = {r.name: r.inputs for r in app.of_type(GROUP)}
    assert {g["engine"] for g in groups.values()} == {"valkey"}
    durable = groups["resources-cache-cache-group"]
    assert (durable["numCacheClusters"], durable["multiAzEnabled"]) == (2, True)
    (memcached,) = app.of_type("aws:elasticache/cluster:Cluster")
    assert (memcached.inputs["engineVersion"], memcached.inputs["numCacheNodes"]) == ("1.6.22", 2)


def test_a_mysql_link_is_a_mysql_url_in_a_secret_with_no_libpq_variables(app):
    env, hidden = environment(app, "web"), secrets(app, "web")
    assert env["ORDERS_PORT"] == "3306"
    assert {env["ORDERS_NAME"], env["ORDERS_USER"]} == {"app"}
    assert hidden["ORDERS_URL"].endswith(":url::")
    assert hidden["ORDERS_PASS"].endswith(":password::")
    event = link_event(app, "orders")
    assert (event["engine"], event["port"]) == ("mysql", 3306)
    assert link_event(app, "ledger")["engine"] == "mariadb"
    # libpq's variables belong to the PostgreSQL link, once.
    assert env["PGPORT"] == "5432"
    assert hidden["PGPASSWORD"] == hidden["DATABASE_PASS"]


def test_a_redis_link_is_a_tls_url_with_a_token_the_runner_sets(app):
    env, hidden = environment(app, "web"), secrets(app, "web")
    assert env["CACHE_PORT"] == "6379"
    assert set(hidden) >= {"CACHE_URL", "CACHE_PASS"}
    event = link_event(app, "cache")
    group = app.one(GROUP, "resources-cache-cache-group")
    assert event["engine"] == "valkey"
    assert event["replicationGroup"] == group.inputs["replicationGroupId"]
    assert event["host"] == env["CACHE_HOST"]
    assert "sourceSecret" not in event
    # The link secret is the token's only home: no rotation rule watches a source.
    rules = [r.name for r in app.of_type(RULE)]
    assert "resources-database-rotated" in rules
    assert not [r for r in rules if r.startswith(("resources-cache-", "resources-queue-"))]


def test_a_renamed_link_gives_only_its_url(app):
    hidden, env = secrets(app, "worker"), environment(app, "worker")
    assert hidden["CELERY_BROKER_URL"].endswith(":url::")
    assert "QUEUE_PASS" not in hidden
    assert "MEMCACHE_URL" in env
    assert env["MEMCACHE_URL"] == f"memcached://{env['SESSIONS_HOST']}:11211"


def test_memcached_needs_no_secret_and_no_runner(app):
    env = environment(app, "web")
    assert env["SESSIONS_URL"] == f"memcached://{env['SESSIONS_HOST']}:11211"
    assert len(env["SESSIONS_SERVERS"].split(",")) == 2
    assert not [r for r in app.of_type(SECRET) if "sessions" in r.name]
    assert not [r for r in app.of_type(INVOCATION) if "sessions" in r.name]


def test_services_start_after_their_caches_token_is_written(app):
    web = next(
        r for r in app.of_type("aws:ecs/service:Service") if r.name.startswith("resources-web")
    )
    cache_link = next(r for r in app.of_type(INVOCATION) if r.name == "resources-cache-link")
    assert cache_link.urn in web.dependencies


def test_no_password_or_token_is_in_a_task_definition(app):
    for task in app.of_type(TASK):
        text = task.inputs["containerDefinitions"]
        assert "rediss://" not in text
        assert "mysql://" not in text
        assert "postgres://" not in text


def test_the_runner_may_set_the_token_of_the_apps_caches_only(app):
    policy = json.loads(app.named("resources-release-policy").inputs["policy"])
    (statement,) = [
        s for s in policy["Statement"] if "elasticache:ModifyReplicationGroup" in s["Action"]
    ]
    groups = sorted(g.inputs["replicationGroupId"] for g in app.of_type(GROUP))
    assert statement["Action"] == [
        "elasticache:DescribeReplicationGroups",
        "elasticache:ModifyReplicationGroup",
    ]
    arn = "arn:aws:elasticache:us-east-1:123456789012"
    assert statement["Resource"] == sorted(
        [f"{arn}:replicationgroup:{g}" for g in groups] + [f"{arn}:cluster:{g}-*" for g in groups]
    )


def test_the_estimate_prices_every_node_and_instance(app):
    lines = {(line.item, line.resource): line.monthly for line in estimate(app).lines}
    assert lines[("ElastiCache Valkey 2 x cache.t4g.micro", "resources-cache-cache-group")] == (
        pytest.approx(2 * 730 * 0.0128)
    )
    assert lines[
        ("ElastiCache Memcached 2 x cache.t4g.micro", "resources-cache-sessions-cluster")
    ] == (pytest.approx(2 * 730 * 0.016))
    mysql = next(k for k in lines if k[0].startswith("RDS mysql db.t4g.micro Multi-AZ"))
    assert lines[mysql] == pytest.approx(730 * 0.032)
    mariadb = next(k for k in lines if k[0].startswith("RDS mariadb db.t4g.small"))
    assert lines[mariadb] == pytest.approx(730 * 0.032)


# --- what the manifest asks for, checked before anything is made ---------------------------


def _fails(tmp_path: Path, resources: dict[str, Any]) -> str:
    # JSON is YAML: the resources as written, with a service that needs nothing else.
    manifest = f"resources: {json.dumps(resources)}\nservices:\n  web: {{image: nginx, port: 80}}\n"
    root = make_app(tmp_path / "shop", manifest)
    with pytest.raises(ProgramError) as caught:
        plan_app(root, environment={})
    assert isinstance(caught.value.__cause__, ConfigError)
    return str(caught.value)


def test_every_resource_problem_is_named_by_its_option_at_once(tmp_path):
    message = _fails(
        tmp_path,
        {
            "main": {"type": "mysql", "options": {"version": "8.0.35"}},
            "cache": {"type": "redis", "options": {"transitEncryption": False}},
            "legacy": {"type": "redis", "options": {"version": "5.0.6"}},
        },
    )
    assert "resources.main.options.version: MySQL 8.0 left RDS standard support on 2026-07-31" in (
        message
    )
    assert "resources.cache.options.transitEncryption: not supported: AUTH works only over TLS" in (
        message
    )
    assert "resources.legacy.options.version: Redis OSS 5 left ElastiCache standard support" in (
        message
    )


def test_a_retired_major_names_the_option_that_pays_for_it_and_plans_with_it(tmp_path):
    message = _fails(tmp_path, {"main": {"type": "mysql", "options": {"version": "8.0"}}})
    assert "or set resources.main.options.extendedSupport: true to pay for it" in message
    manifest = (
        "resources: {main: {type: mysql, options: {version: '8.0', extendedSupport: true}}}\n"
        "services:\n  web: {image: nginx, port: 80, resources: [main]}\n"
    )
    p = plan_app(make_app(tmp_path / "paid", manifest), environment={})
    instance = p.one("aws:rds/instance:Instance").inputs
    assert instance["engineLifecycleSupport"] == "open-source-rds-extended-support"
    assert any("RDS Extended Support" in w["message"] for w in p.warnings)


def test_a_bad_class_is_named_by_class(tmp_path):
    message = _fails(tmp_path, {"cache": {"type": "redis", "options": {"class": "cache.t2.micro"}}})
    assert "resources.cache.options.class: cache.t2.micro: a previous-generation node type" in (
        message
    )


def test_refused_database_options_say_why(tmp_path):
    message = _fails(
        tmp_path, {"db": {"type": "mariadb", "options": {"encrypted": False, "port": 3307}}}
    )
    assert "resources.db.options.encrypted: not supported: paaskit always encrypts databases" in (
        message
    )
    assert (
        "resources.db.options.port: not supported: paaskit's mariadb databases listen on 3306"
        in (message)
    )


def test_memcached_options_elasticache_has_no_use_for_are_warnings(tmp_path):
    from paaskit.manifest import load_manifest

    root = make_app(
        tmp_path / "shop",
        """
        resources:
          sessions:
            type: memcached
            options: {encrypted: true, autoMinorVersionUpgrade: true}
        services:
          web: {image: nginx:1.27, port: 80, resources: [sessions]}
        """,
    )
    warnings = dict(load_manifest(root).warnings)
    assert warnings["resources.sessions.options.encrypted"].startswith(
        "Memcached keeps its data in memory only"
    )
    assert "resources.sessions.options.autoMinorVersionUpgrade" in warnings


def test_a_shared_database_on_a_rack_without_one_is_named_before_anything(tmp_path):
    message = _fails(tmp_path, {"db": {"type": "postgres", "options": {"shared": True}}})
    assert "resources.db.options.shared: the rack has no shared database" in message
