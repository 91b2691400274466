"""AWS's limits, checked on the plan: each finding carries the limit and the planned value.

Like the policy rules, each limit starts from the compliant stack
(`tests/data/policy/compliant`, which breaks none) and changes what it must to
cross one limit, asserting the exact finding: message, limit and value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from paaskit.plan import Plan, ResourceRecord, fakes
from paaskit.policy import RULES_BY_ID, run_rules
from paaskit.policy.limits import rules as limit_rules
from paaskit.testing import plan
from tests.test_policy_rules import COMPLIANT, DELETE, changed, container


@pytest.fixture(scope="module")
def good() -> Plan:
    return plan(COMPLIANT, stack="dev")


def findings(p: Plan, rule: str) -> list[tuple[str, str, Any, Any]]:
    return [
        (f.resource, f.message, f.limit, f.value)
        for f in run_rules(p.resources, [RULES_BY_ID[rule]])
    ]


def renamed(p: Plan, name: str, new: str) -> Plan:
    """The plan with one record's logical name (and URN) changed: what Pulumi would generate from."""
    record = p.named(name)
    urn = record.urn.rsplit("::", 1)[0] + "::" + new
    return Plan(
        p.project,
        p.stack,
        [replace(r, name=new, urn=urn) if r is record else r for r in p.resources],
    )


def copies(
    p: Plan,
    name: str,
    count: int,
    change: Callable[[int, dict[str, Any]], dict[str, Any]] = lambda i, inputs: inputs,
    dependencies: Callable[[int, ResourceRecord], tuple[str, ...]] | None = None,
) -> tuple[Plan, list[ResourceRecord]]:
    """The plan with `count` more records like `name` (another listener rule, another target)."""
    record = p.named(name)
    made = [
        replace(
            record,
            name=f"{name}-{i}",
            urn=f"{record.urn}-{i}",
            inputs=change(i, dict(record.inputs)),
            dependencies=dependencies(i, record) if dependencies else record.dependencies,
        )
        for i in range(count)
    ]
    return Plan(p.project, p.stack, [*p.resources, *made]), made


def test_every_limit_is_an_error_with_a_source():
    for rule in limit_rules:
        assert rule.id.startswith("PK-LIMIT-")
        assert rule.severity == "error"
        assert rule.sources


def test_the_compliant_stack_is_within_every_limit(good):
    assert run_rules(good.resources, list(limit_rules)) == []


# --- names ------------------------------------------------------------------------------


def test_a_given_name_longer_than_aws_allows(good):
    name = "public-load-balancer-for-the-apps"
    assert findings(changed(good, "alb", {"name": name}), "PK-LIMIT-001") == [
        ("alb", f"load balancer name {name!r}: 33 characters; AWS allows 32", 32, 33)
    ]


def test_a_generated_name_with_characters_aws_refuses(good):
    p = renamed(good, "web-tg", "web_tg")
    generated = fakes.autoname("aws:lb/targetGroup:TargetGroup", "web_tg", p.named("web_tg").urn)
    assert findings(p, "PK-LIMIT-001") == [
        (
            "web_tg",
            f"Pulumi will name it {generated!r}: '_' not allowed; AWS allows letters, digits and hyphens",
            "letters, digits and hyphens",
            generated,
        )
    ]


def test_generated_names_are_lowercased_where_the_provider_lowercases(good):
    # The provider lowercases bucket names it generates: upper case in the logical name is fine.
    assert findings(renamed(good, "assets", "Assets"), "PK-LIMIT-001") == []


def test_rds_identifiers_begin_with_a_letter(good):
    assert findings(changed(good, "db", {"identifier": "1db"}), "PK-LIMIT-001") == [
        (
            "db",
            "RDS instance identifier '1db': must begin with a letter",
            "must begin with a letter",
            "1db",
        )
    ]


def test_bucket_names_are_lowercase(good):
    assert findings(changed(good, "assets", {"bucket": "My-Assets"}), "PK-LIMIT-001") == [
        (
            "assets",
            "bucket name 'My-Assets': 'AM' not allowed; AWS allows lowercase letters, digits, periods and hyphens",
            "lowercase letters, digits, periods and hyphens",
            "My-Assets",
        )
    ]


def test_a_name_prefix_longer_than_the_provider_allows(good):
    assert findings(changed(good, "web-tg", {"namePrefix": "webapp-"}), "PK-LIMIT-001") == [
        ("web-tg", "namePrefix 'webapp-': 7 characters; the provider allows 6", 6, 7)
    ]


def test_capacity_provider_names_may_not_start_with_ecs():
    import pulumi_aws as aws

    p = plan(
        lambda: aws.ecs.CapacityProvider(
            "ecs-capacity",
            auto_scaling_group_provider={"auto_scaling_group_arn": "arn:aws:autoscaling:::asg"},
        )
    )
    generated = fakes.autoname(
        "aws:ecs/capacityProvider:CapacityProvider", "ecs-capacity", p.named("ecs-capacity").urn
    )
    assert findings(p, "PK-LIMIT-001") == [
        (
            "ecs-capacity",
            f"Pulumi will name it {generated!r}: must not begin with ecs (reserved by ECS)",
            "must not begin with ecs (reserved by ECS)",
            generated,
        )
    ]


# --- descriptions and tags -----------------------------------------------------------------


def test_security_group_descriptions_take_ascii_only(good):
    text = "Load balancer — HTTPS in, it's public"
    assert findings(changed(good, "app-sg", {"description": text}), "PK-LIMIT-002") == [
        ("app-sg", 'description: "\'—" not allowed by AWS', "allowed characters", text)
    ]


def test_role_descriptions_take_latin_1(good):
    text = "flow logs → CloudWatch"
    assert findings(changed(good, "flow-role", {"description": text}), "PK-LIMIT-002") == [
        ("flow-role", "description: '→' not allowed by AWS", "allowed characters", text)
    ]


def test_tags_fit_aws_limits(good):
    many = {f"tag{i}": "x" for i in range(51)}
    assert findings(changed(good, "vpc", {"tags": many}), "PK-LIMIT-003") == [
        ("vpc", "51 tags; AWS allows 50", 50, 51)
    ]
    assert findings(changed(good, "vpc", {"tags": {"aws:team": "x"}}), "PK-LIMIT-003") == [
        ("vpc", "tag key 'aws:team': the aws: prefix is reserved", "no aws: prefix", "aws:team")
    ]


def test_cloudfront_tags_take_only_portable_characters(good):
    tags = {"paaskit:waive:PK-CF-004": "no headers, yet"}
    assert findings(changed(good, "cdn", {"tags": tags}), "PK-LIMIT-003") == [
        (
            "cdn",
            "tag 'paaskit:waive:PK-CF-004': cloudfront tags take only letters, digits, spaces and _ . : / = + - @",
            "letters, digits, spaces and _ . : / = + - @",
            "paaskit:waive:PK-CF-004=no headers, yet",
        )
    ]
    # EC2 takes any character.
    assert findings(changed(good, "vpc", {"tags": tags}), "PK-LIMIT-003") == []


# --- load balancers --------------------------------------------------------------------------


def test_at_most_100_listener_rules_per_load_balancer(good):
    p, _ = copies(good, "web-route", 100, lambda i, inputs: {**inputs, "priority": 200 + i})
    assert findings(p, "PK-LIMIT-004") == [
        (
            "alb",
            "101 listener rules (http: 0, https: 101); AWS allows 100 per load balancer",
            100,
            101,
        )
    ]


def test_listener_rule_priorities_are_unique_and_in_range(good):
    p, _ = copies(good, "web-route", 1)
    assert findings(p, "PK-LIMIT-005") == [
        ("https", "rules web-route and web-route-0 both have priority 100", "unique", 100)
    ]
    out_of_range = changed(good, "web-route", {"priority": 50001})
    assert findings(out_of_range, "PK-LIMIT-005") == [
        ("https", "rule web-route: priority 50001; AWS allows 1-50000", "1-50000", 50001)
    ]


def test_at_most_5_condition_values_per_rule(good):
    hosts = [f"app{i}.example.com" for i in range(6)]
    p = changed(good, "web-route", {"conditions.0.hostHeader.values": hosts})
    assert findings(p, "PK-LIMIT-006") == [
        ("web-route", "6 condition values; AWS allows 5 per rule", 5, 6)
    ]


def test_at_most_100_target_groups_per_load_balancer(good):
    p, groups = copies(good, "web-tg", 100)
    listener = good.named("https").urn

    def depend(i, record):
        return (listener, groups[i].urn)

    p, _ = copies(p, "web-route", 100, lambda i, inputs: {**inputs, "priority": 200 + i}, depend)
    assert findings(p, "PK-LIMIT-007") == [
        ("alb", "101 target groups; AWS allows 100 per load balancer", 100, 101)
    ]


# --- security groups and CloudFront ------------------------------------------------------------


def test_a_cloudfront_prefix_list_weighs_55_rules(good):
    def from_cloudfront(i, inputs):
        out = {**inputs, "prefixListId": "pl-3b927c52"}
        del out["cidrIpv4"]
        return out

    one, _ = copies(good, "https-in", 1, from_cloudfront)
    assert findings(one, "PK-LIMIT-008") == []
    two, _ = copies(good, "https-in", 2, from_cloudfront)
    assert findings(two, "PK-LIMIT-008") == [
        (
            "app-sg",
            "111 IPv4 ingress rules (prefix lists count as their size); AWS allows 60",
            60,
            111,
        )
    ]


def test_rules_referencing_a_group_do_not_count_against_it(good):
    # 70 rules on *other* groups that name app-sg as their source: app-sg's own count is unchanged.
    def elsewhere(i, inputs):
        return {**inputs, "securityGroupId": "sg-0another", "referencedSecurityGroupId": "sg-0app"}

    def both(i, record):
        return (
            *record.dependencies,
            "urn:pulumi:dev::compliant::aws:ec2/securityGroup:SecurityGroup::other-sg",
        )

    other = replace(
        good.named("app-sg"),
        name="other-sg",
        urn="urn:pulumi:dev::compliant::aws:ec2/securityGroup:SecurityGroup::other-sg",
    )
    p = Plan(good.project, good.stack, [*good.resources, other])
    p, _ = copies(p, "https-in", 70, elsewhere, both)
    assert findings(p, "PK-LIMIT-008") == []


def test_cloudfront_behaviours_and_origins(good):
    behaviour = good.named("cdn").inputs["orderedCacheBehaviors"][0]
    many = [{**behaviour, "pathPattern": f"/p{i}/*"} for i in range(75)]
    assert findings(changed(good, "cdn", {"orderedCacheBehaviors": many}), "PK-LIMIT-009") == [
        ("cdn", "76 cache behaviours; AWS allows 75", 75, 76)
    ]


# --- networks -------------------------------------------------------------------------------


def test_subnets_inside_the_vpc_without_overlaps(good):
    assert findings(changed(good, "subnet-a", {"cidrBlock": "10.1.0.0/24"}), "PK-LIMIT-010") == [
        (
            "subnet-a",
            "subnet 10.1.0.0/24 is outside the VPC's block 10.0.0.0/16",
            "10.0.0.0/16",
            "10.1.0.0/24",
        )
    ]
    overlap = changed(good, "subnet-b", {"cidrBlock": "10.0.0.128/25"})
    found = findings(overlap, "PK-LIMIT-010")
    assert len(found) == 1
    assert found[0][1].endswith("overlaps subnet-a (10.0.0.0/24)") or found[0][1].endswith(
        "overlaps subnet-b (10.0.0.128/25)"
    )
    assert findings(changed(good, "vpc", {"cidrBlock": "10.0.0.0/12"}), "PK-LIMIT-010") == [
        ("vpc", "VPC block 10.0.0.0/12 is /12; AWS allows /16 to /28", "/16-/28", "/12")
    ]


def test_load_balancers_need_two_zones_of_big_enough_subnets(good):
    one = changed(good, "alb", {"subnets": [good.named("alb").inputs["subnets"][0]]})
    assert findings(one, "PK-LIMIT-011") == [
        ("alb", "1 subnet(s); an Application Load Balancer needs two zones", 2, 1)
    ]
    small = changed(good, "subnet-a", {"cidrBlock": "10.0.0.0/28"})
    assert findings(small, "PK-LIMIT-011") == [
        ("alb", "subnet subnet-a is /28; load balancers need /27 or larger", "/27", "/28")
    ]


# --- ECS, autoscaling, Lambda, RDS, logs, events ----------------------------------------------


def test_fargate_takes_fixed_sizes(good):
    p = changed(
        good, "web-task", {"requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "4096"}
    )
    assert findings(p, "PK-LIMIT-012") == [
        (
            "web-task",
            "memory 4096 MiB with cpu 256: Fargate takes 512, 1024, 2048 MiB",
            "512, 1024, 2048",
            "4096",
        )
    ]


def test_containers_fit_their_task(good):
    assert findings(container(good, memory=4), "PK-LIMIT-012") == [
        ("web-task", "web: memory 4 MiB; ECS needs at least 6", 6, 4)
    ]
    assert findings(container(good, memory=1024), "PK-LIMIT-012") == [
        ("web-task", "containers' memory adds up to 1024 MiB, more than the task's 512", 512, 1024)
    ]
    no_memory = changed(container(good, memory=None), "web-task", {"memory": DELETE})
    assert findings(no_memory, "PK-LIMIT-012") == [
        (
            "web-task",
            "web: neither memory nor memoryReservation, and the task sets no memory",
            "memory required",
            "none",
        )
    ]


def test_autoscaling_sizes_in_order(good):
    assert findings(changed(good, "nodes", {"minSize": 5}), "PK-LIMIT-013") == [
        ("nodes", "minSize 5 is larger than maxSize 4", 4, 5)
    ]


def test_lambda_limits(good):
    assert findings(
        changed(good, "handler", {"timeout": 901, "memorySize": 64}), "PK-LIMIT-014"
    ) == [
        ("handler", "memorySize 64 MB; Lambda takes 128-10240", "128-10240", 64),
        ("handler", "timeout 901 s; Lambda takes 1-900", "1-900", 901),
    ]


def test_rds_storage_and_retention(good):
    assert findings(
        changed(good, "db", {"allocatedStorage": 10, "backupRetentionPeriod": 40}), "PK-LIMIT-015"
    ) == [
        ("db", "allocatedStorage 10 GiB; gp2 takes 20-65536", "20-65536", 10),
        ("db", "backupRetentionPeriod 40 days; RDS takes 0-35", "0-35", 40),
    ]


def test_log_retention_values(good):
    assert findings(changed(good, "handler-logs", {"retentionInDays": 45}), "PK-LIMIT-016") == [
        (
            "handler-logs",
            "retentionInDays 45 is not one CloudWatch accepts (nearest: 30)",
            "CloudWatch retention values",
            45,
        )
    ]


def test_at_most_5_targets_per_event_rule(good):
    p, _ = copies(good, "tick-handler", 5)
    assert findings(p, "PK-LIMIT-017") == [
        ("tick", "6 targets; EventBridge allows 5 per rule", 5, 6)
    ]


def test_hard_limits_cannot_be_waived_adjustable_quotas_can():
    hard = {r.id for r in limit_rules if not r.waivable}
    assert {"PK-LIMIT-001", "PK-LIMIT-002", "PK-LIMIT-010", "PK-LIMIT-012"} <= hard
    assert {"PK-LIMIT-004", "PK-LIMIT-007", "PK-LIMIT-008", "PK-LIMIT-009"}.isdisjoint(hard)
