"""The monthly estimate: priced from the shipped, dated table; unknowns shown, never zero."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paaskit.cost import NOT_COUNTED, estimate, load_prices, render_text
from paaskit.testing import plan
from tests.test_policy_rules import COMPLIANT, changed

ROOT = Path(__file__).resolve().parent.parent


def lines(est) -> list[tuple[str, str, float | None, float | None]]:
    return [
        (line.item, line.resource, None if line.monthly is None else round(line.monthly, 2),
         None if line.on_demand is None else round(line.on_demand, 2))
        for line in est.lines
    ]  # fmt: skip


@pytest.fixture(scope="module")
def good():
    return plan(COMPLIANT, stack="dev")


def test_the_price_table_is_dated_and_says_prices_change():
    prices = load_prices()
    assert prices["region"] == "us-east-1"
    assert prices["as_of"] == "2026-07-20"
    assert "Prices change" in prices["notice"]
    assert prices["spot_savings"]["as_of"] == "2025-06-28"
    ec2 = prices["ec2_on_demand_hourly"]["prices"]
    assert set(prices["spot_savings"]["by_type"]) <= set(ec2)


@pytest.fixture(scope="module")
def rack():
    return estimate(plan(ROOT, stack="dev"))


def test_the_reference_rack_pays_for_one_nat_gateway_and_its_address(rack):
    assert ("NAT gateway", "rack-network-nat-0", 32.85, 32.85) in lines(rack)
    assert ("Public IPv4 address (Elastic IP)", "rack-network-nat-0-eip", 3.65, 3.65) in lines(rack)
    assert rack.total == round(sum(line[2] or 0 for line in lines(rack)), 2)
    assert rack.total <= rack.total_on_demand


@pytest.mark.parametrize(
    ("config", "change"),
    [
        (
            {"natMode": "instance"},
            -36.5 + 7.36,
        ),  # t4g.nano $3.07 + 8 GiB root $0.64 + Elastic IP $3.65
        # The load balancer is internal: a third zone costs nothing by itself.
        ({"zones": "3"}, 0.0),
        ({"natMode": "per_az"}, 36.5),  # a NAT gateway and its address per zone
        ({"natMode": "per_az", "zones": "3"}, 73.0),
        # No NAT needs seven interface endpoints (ecr.api, ecr.dkr, ecs, ecs-agent,
        # ecs-telemetry, logs, and ssmmessages for ECS Exec) in each zone: 7 x 2 x $7.30 is
        # more than the NAT gateway.
        (
            {"natMode": "none", "endpoints": '["ecr", "ecs", "logs", "ssmmessages"]'},
            -36.5 + 102.2,
        ),
    ],
)
def test_what_each_network_switch_changes(rack, config, change):
    assert estimate(plan(ROOT, stack="dev", config=config)).total == round(rack.total + change, 2)


def test_spot_nodes_at_their_typical_discount_and_all_on_demand_beside(good):
    node_lines = [line for line in lines(estimate(good)) if line[1] == "nodes"]
    # 2 x t3.medium ($0.0416/h): the base node on demand, the other spot at 56% off.
    assert node_lines == [
        (
            "EC2 nodes: 2 x t3.medium (1 on-demand, 1 spot)",
            "nodes",
            round(730 * 0.0416 * (1 + 0.44), 2),
            60.74,
        ),
        ("EBS root volumes: 2 x 30 GiB gp3", "nodes", 4.8, 4.8),
    ]


def test_every_hourly_item_of_the_compliant_stack(good):
    assert sorted(lines(estimate(good)), key=str) == sorted([
        ("EC2 instance: t4g.nano", "box", 3.07, 3.07),
        ("EBS root volume: 8 GiB", "box", 0.64, 0.64),
        ("EC2 nodes: 2 x t3.medium (1 on-demand, 1 spot)", "nodes", 43.73, 60.74),
        ("EBS root volumes: 2 x 30 GiB gp3", "nodes", 4.8, 4.8),
        ("CloudWatch Container Insights", "cluster", 20.0, 20.0),
        ("KMS key", "key", None, None),
        ("Application Load Balancer", "alb", 22.27, 22.27),
        ("Public IPv4 addresses of the load balancer (2 zones)", "alb", 7.3, 7.3),
        ("CloudFront distribution", "cdn", 0.0, 0.0),
        ("RDS postgres db.t4g.micro Multi-AZ", "db", 23.36, 23.36),
        ("RDS storage: 20 GiB Multi-AZ", "db", 4.6, 4.6),
        ("Secrets Manager secret (RDS-managed master password)", "db", 0.4, 0.4),
        # 2 Valkey nodes at $0.0256/h; 2 Memcached nodes at $0.016/h (price table, low confidence)
        ("ElastiCache Valkey 2 x cache.t4g.small", "cache", 37.38, 37.38),
        ("ElastiCache Memcached 2 x cache.t4g.micro", "memcache", 23.36, 23.36),
    ], key=str)  # fmt: skip


def test_an_unknown_instance_type_is_a_no_price_line_not_a_zero(good):
    odd = changed(good, "box", {"instanceType": "x9z.huge"})
    est = estimate(odd)
    line = next(
        line for line in est.lines if line.resource == "box" and line.item.startswith("EC2")
    )
    assert (line.monthly, line.basis) == (None, "no price for x9z.huge in the table")
    assert "box" in [u.resource for u in est.unpriced]
    assert est.total == round(estimate(good).total - 3.07, 2)
    assert "no price" in render_text(est)


def test_a_type_without_its_own_spot_saving_gets_the_median(good):
    odd = changed(
        good,
        "nodes",
        {"mixedInstancesPolicy.launchTemplate.overrides": [{"instanceType": "m7g.xlarge"}]},
    )
    node = next(line for line in estimate(odd).lines if line.resource == "nodes")
    assert node.monthly == pytest.approx(730 * 0.1632 * (1 + 0.34))
    assert "66% off (the median spot saving" in node.basis


def test_single_az_databases_cost_half(good):
    single = changed(good, "db", {"multiAz": False})
    db = [line for line in lines(estimate(single)) if line[1] == "db"][:2]
    assert db == [
        ("RDS postgres db.t4g.micro", "db", 11.68, 11.68),
        ("RDS storage: 20 GiB", "db", 2.3, 2.3),
    ]


def test_what_is_not_counted_is_said(good):
    est = estimate(good)
    text = render_text(est, title="compliant")
    assert est.not_counted == NOT_COUNTED
    assert any(item.startswith("data transfer") for item in NOT_COUNTED)
    assert "Not counted (depends on use):" in text
    assert "total" in text


def test_another_region_is_priced_as_us_east_1_and_says_so(good):
    est = estimate(good, region="eu-west-1")
    assert est.assumptions[0] == "the stack deploys to eu-west-1, but these are us-east-1 prices"


def test_the_json_estimate(good):
    data = estimate(good).to_json()
    assert {
        "region",
        "currency",
        "prices_as_of",
        "notice",
        "total",
        "total_on_demand",
        "lines",
        "unpriced",
        "not_counted",
    } <= set(data)
    assert data["unpriced"] == ["key"]
    assert data["total"] == round(sum(line["monthly"] or 0 for line in data["lines"]), 2)


# --- an app on another stack's rack -------------------------------------------------------


@pytest.fixture(scope="module")
def django():
    return estimate(
        plan(
            ROOT / "stacks" / "app",
            stack="dev",
            config={
                "manifest": "examples/django/paaskit.yml",
                "environment": '{"SECRET_KEY": "plan-only"}',
            },
        )
    )


def test_an_app_pays_its_share_of_the_racks_nodes_by_what_its_tasks_reserve(django):
    (share,) = [line for line in django.lines if line.item.startswith("Share of the rack's nodes")]
    assert share.resource == "django-web"
    # 2 tasks of 256 CPU units and 512 MiB on a t3.medium (2048 units, 4096 MiB): an eighth
    # each; the rack's two nodes are one on demand, one spot at 56% off.
    node_hour = 0.0416 * (1 + (1 - 0.56)) / 2
    assert share.monthly == pytest.approx(2 * 0.125 * 730 * node_hour)
    assert share.on_demand == pytest.approx(2 * 0.125 * 730 * 0.0416)
    assert "the larger of its CPU and memory shares" in share.basis
    # Its own resources are its own; the rack's (NAT, load balancer) are the rack's.
    items = {line.item for line in django.lines}
    assert "RDS postgres db.t4g.micro Multi-AZ" in items
    assert not [i for i in items if "NAT" in i or "Load Balancer" in i]
    assert django.total > 0


def test_memory_decides_when_a_task_reserves_more_of_it_than_of_cpu():
    from paaskit.plan import Plan, ResourceRecord

    def record(type_, name, inputs, deps=(), outputs=None):
        return ResourceRecord(
            urn=f"urn:{name}", type=type_, name=name, parent=None, custom=True, protect=False,
            retain_on_delete=False, dependencies=tuple(deps), provider=None, inputs=inputs,
            read=type_ == "pulumi:pulumi:StackReference", outputs=outputs or {},
        )  # fmt: skip

    nodes = {"instanceType": "t3.medium", "vcpus": 2, "memoryMib": 4096, "minNodes": 2,
             "onDemandBase": 2, "onDemandPercentage": 100}  # fmt: skip
    task = json.dumps([{"name": "w", "cpu": 256, "memory": 2048}])
    p = Plan("app", "dev", [
        record("pulumi:pulumi:StackReference", "rack", {"name": "rack"}, outputs={"nodes": nodes}),
        record("aws:ecs/taskDefinition:TaskDefinition", "w-task", {"containerDefinitions": task}),
        record("aws:ecs/service:Service", "w", {"desiredCount": 1}, deps=["urn:w-task"]),
    ])  # fmt: skip
    (share,) = estimate(p).lines
    assert share.monthly == pytest.approx(0.5 * 730 * 0.0416)  # half a node's memory
