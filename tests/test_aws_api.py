"""What botocore's models state about users' values, shipped as a table and checked against them."""

from __future__ import annotations

import pytest

from paaskit.aws_api import region_problem, regions, tag_rules, zone_problem
from paaskit.data import generate_aws_api


def test_the_shipped_table_is_what_the_installed_botocore_says():
    assert generate_aws_api.generate() == generate_aws_api.OUTPUT.read_text(encoding="utf-8")


def test_regions_are_botocores_without_pseudo_regions():
    import botocore.session

    data = botocore.session.get_session().get_component("data_loader").load_data("partitions")
    theirs = {
        name
        for partition in data["partitions"]
        for name in partition["regions"]
        if not name.endswith("-global")
    }
    assert regions() == theirs
    assert {"us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"} <= regions()


@pytest.mark.parametrize(
    ("region", "message"),
    [
        ("mars-east-1", "'mars-east-1' is not an AWS region; did you mean us-east-1"),
        ("us-east-9", "'us-east-9' is not an AWS region"),
        ("aws-global", "'aws-global' is not an AWS region"),
    ],
)
def test_a_region_that_does_not_exist_is_named(region, message):
    problem = region_problem(region)
    assert problem is not None
    assert problem.startswith(message)


@pytest.mark.parametrize(
    ("zone", "problem"),
    [
        ("us-east-1a", None),
        ("us-east-1-bos-1a", None),
        ("eu-west-1a", "'eu-west-1a' is a zone of eu-west-1, not of the stack's region us-east-1"),
        ("use1-az1", "'use1-az1' is a zone ID; give the zone's name (like us-east-1a)"),
        ("us-east-1", "'us-east-1' is not a zone of us-east-1; its zones are named us-east-1a"),
    ],
)
def test_zones_belong_to_the_region(zone, problem):
    found = zone_problem(zone, "us-east-1")
    assert found == problem or (
        problem is not None and found is not None and found.startswith(problem)
    )


def test_tag_rules_are_the_strictest_botocore_states():
    import botocore.session

    session = botocore.session.get_session()
    rules = tag_rules()
    for service, key_shape, value_shape in generate_aws_api.TAG_SHAPES:
        model = session.get_service_model(service)
        key, value = model.shape_for(key_shape).metadata, model.shape_for(value_shape).metadata
        assert rules.key_max <= key["max"]
        assert rules.key_min >= key.get("min", 0)
        assert rules.value_max <= value["max"]
    counts = [
        session.get_service_model(service).shape_for(shape).metadata["max"]
        for service, shape in generate_aws_api.TAG_COUNT_SHAPES
    ]
    assert rules.per_resource == min(counts) == 50


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("team", "platform", True),
        ("Équipe", "données 42", True),  # letters and digits of any script, spaces
        ("cost_centre:a/b=c+d-e@f.g", "", True),  # every punctuation mark the class names
        ("team", "a,b", False),  # CloudFront, ELB, ECS and IAM refuse a comma
        ("team", "x\ny", False),
        ("owner#1", "x", False),
        ("aws:team", "x", False),
        ("k" * 129, "x", False),
        ("k", "v" * 257, False),
    ],
)
def test_a_tag_is_checked_against_the_rules(key, value, allowed):
    assert (tag_rules().problems(key, value) == []) is allowed


def test_member_rules_are_botocores():
    import botocore.session

    from paaskit.aws_api import member_rules
    from paaskit.data.generate_aws_api import MEMBERS

    session = botocore.session.get_session()
    for service, operation, member in MEMBERS:
        shape = session.get_service_model(service).operation_model(operation).input_shape
        stated = shape.members[member].metadata
        rules = member_rules(f"{service}:{operation}.{member}")
        assert (rules.min, rules.max, rules.pattern) == (
            stated.get("min"),
            stated.get("max"),
            stated.get("pattern"),
        )
    path = member_rules("elbv2:CreateTargetGroup.HealthCheckPath")
    assert (path.min, path.max) == (1, 1024)
    with pytest.raises(KeyError, match="not in paaskit's table"):
        member_rules("ecs:CreateService.nope")
