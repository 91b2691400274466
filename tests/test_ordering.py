"""What a real engine must do first, read from the dependencies the plan recorded.

Pulumi creates a resource only after everything it depends on: the resources
in its `depends_on` and those whose outputs it takes as inputs (a component
in `depends_on` stands for all of its resources). The plan records exactly
those, as the engine receives them; this walks them transitively, as the
engine does, so an order holds whichever chain of resources carries it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from paaskit.plan import Plan, ResourceRecord
from paaskit.testing import plan
from tests.test_app import make_app, plan_app

ROOT = Path(__file__).resolve().parent.parent


def waits_for(records: Plan, record: ResourceRecord) -> set[str]:
    """Every resource the engine finishes before it starts `record`."""
    seen: set[str] = set()
    todo = list(record.dependencies)
    while todo:
        urn = todo.pop()
        if urn in seen:
            continue
        seen.add(urn)
        todo.extend(records.get(urn).dependencies)
    return seen


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Plan:
    return plan_app(make_app(tmp_path_factory.mktemp("shop")))


@pytest.fixture(scope="module")
def rack() -> Plan:
    return plan(ROOT, stack="dev")


@pytest.fixture(scope="module")
def nat_instance_rack() -> Plan:
    return plan(ROOT, stack="dev", config={"natMode": "instance"})


def test_the_release_waits_for_the_policy_that_lets_it_run_tasks_and_pass_roles(shop):
    policy = shop.named("shop-release-policy")
    assert "ecs:RunTask" in policy.inputs["policy"]
    assert "iam:PassRole" in policy.inputs["policy"]
    runner = shop.named("shop-release")
    invocations = [
        i
        for i in shop.of_type("aws:lambda/invocation:Invocation")
        if runner.urn in i.dependencies  # the app's own runner (claims go to the rack's registry)
    ]
    assert invocations
    for invocation in invocations:
        assert policy.urn in waits_for(shop, invocation), invocation.name


def test_the_release_waits_for_the_link_secrets_its_task_reads(shop):
    assert shop.named("shop-database-link").urn in waits_for(shop, shop.named("shop-web-release"))


def test_timers_wait_for_the_releases(shop):
    release = shop.named("shop-web-release")
    for timer in shop.of_type("aws:scheduler/schedule:Schedule"):
        assert release.urn in waits_for(shop, timer), timer.name


def test_a_web_service_waits_for_its_listener_rule(shop):
    assert shop.named("shop-web-route").urn in waits_for(shop, shop.named("shop-web"))


def test_services_wait_for_the_releases_and_the_links_they_read(shop):
    web = waits_for(shop, shop.named("shop-web"))
    assert {shop.named("shop-web-release").urn, shop.named("shop-database-link").urn} <= web
    for service in ("worker", "agent", "scheduler"):
        assert shop.named("shop-web-release").urn in waits_for(shop, shop.named(f"shop-{service}"))


def test_each_deploy_check_runs_after_its_service(shop):
    for service in ("web", "worker", "agent", "scheduler"):
        verify = shop.named(f"shop-{service}-verify")
        assert shop.named(f"shop-{service}").urn in waits_for(shop, verify)


def test_the_flow_log_waits_for_its_role_policy(rack):
    flow_log = rack.one("aws:ec2/flowLog:FlowLog")
    assert rack.named("rack-network-flow-logs-write").urn in waits_for(rack, flow_log)


def test_the_nodes_wait_for_their_routes_out(rack, nat_instance_rack):
    for records in (rack, nat_instance_rack):
        asg = records.one("aws:autoscaling/group:Group")
        routes = [
            r
            for r in records.of_type("aws:ec2/route:Route")
            if r.name.startswith("rack-network-private-")
        ]
        assert len(routes) == 2
        assert {r.urn for r in routes} <= waits_for(records, asg)


def test_the_nat_instances_address_waits_for_the_internet_gateway(nat_instance_rack):
    eip = nat_instance_rack.named("rack-network-nat-instance-eip")
    gateway = nat_instance_rack.one("aws:ec2/internetGateway:InternetGateway")
    assert gateway.urn in waits_for(nat_instance_rack, eip)
