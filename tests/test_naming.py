"""aws_name: every name fits its service's rules and stays unique."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paaskit.naming import RULES, aws_name, check_name


@given(
    kind=st.sampled_from(sorted(RULES)),
    parts=st.lists(st.text(min_size=1, max_size=80), min_size=1, max_size=4),
)
def test_names_always_fit_their_rule(kind, parts):
    rule = RULES[kind]
    try:
        name = aws_name(kind, *parts)
    except ValueError:
        return  # nothing usable in the parts, said clearly
    assert 1 <= len(name) <= rule.max_len
    assert re.fullmatch(f"[{rule.allowed}]+", name)
    if rule.lowercase:
        assert name == name.lower()
    if rule.must_start_with_letter:
        assert name[0].isalpha()


def test_short_names_are_kept_readable():
    assert aws_name("alb", "rack", "web") == "rack-web"
    assert aws_name("rds_instance", "Rack", "DB_main") == "rack-db-main"
    assert aws_name("s3_bucket", "My", "Assets!") == "my-assets"


def test_long_names_are_cut_with_a_hash_that_keeps_them_apart():
    a = aws_name("target_group", "a-very-long-application-name", "web-service-one")
    b = aws_name("target_group", "a-very-long-application-name", "web-service-two")
    assert len(a) <= 32
    assert len(b) <= 32
    assert a != b


def test_a_name_must_have_something_usable():
    with pytest.raises(ValueError, match="alb name: nothing usable"):
        aws_name("alb", "!!!")


# --- the table against AWS's own models --------------------------------------------------

BOTOCORE = {
    # kind: (service, operation, member, what botocore states: lengths and/or characters)
    "iam_role": ("iam", "CreateRole", "RoleName", {"len", "chars"}),
    "iam_policy": ("iam", "CreatePolicy", "PolicyName", {"len", "chars"}),
    "iam_role_policy": ("iam", "PutRolePolicy", "PolicyName", {"len", "chars"}),
    "iam_instance_profile": (
        "iam",
        "CreateInstanceProfile",
        "InstanceProfileName",
        {"len", "chars"},
    ),
    "event_rule": ("events", "PutRule", "Name", {"len", "chars"}),
    "schedule": ("scheduler", "CreateSchedule", "Name", {"len", "chars"}),
    "log_group": ("logs", "CreateLogGroup", "logGroupName", {"len", "chars"}),
    "secret": ("secretsmanager", "CreateSecret", "Name", {"len"}),
    "asg": ("autoscaling", "CreateAutoScalingGroup", "AutoScalingGroupName", {"len"}),
    # Its pattern is a grammar of words (see `also`); the lengths are plain.
    "ecr_repository": ("ecr", "CreateRepository", "repositoryName", {"len"}),
    # The shape also takes a full ARN (140 characters); the name's own part is [a-zA-Z0-9-_]+.
    "lambda": ("lambda", "CreateFunction", "FunctionName", set()),
}

_PRINTABLE = [chr(c) for c in range(0x20, 0x7F)]


def _shape(service, operation, member):
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    return model.operation_model(operation).input_shape.members[member]


@pytest.mark.parametrize("kind", sorted(BOTOCORE))
def test_the_table_agrees_with_botocore(kind):
    service, operation, member, stated = BOTOCORE[kind]
    shape = _shape(service, operation, member)
    rule = RULES[kind]
    if "len" in stated:
        assert (rule.min_len, rule.max_len) == (shape.metadata["min"], shape.metadata["max"])
    if "chars" in stated:
        # AWS's patterns are Java regexes: \w is ASCII there, as re.ASCII makes it here.
        pattern = re.compile(shape.metadata["pattern"], re.ASCII)
        theirs = {c for c in _PRINTABLE if pattern.fullmatch(c)}
        ours = {c for c in _PRINTABLE if not rule.refused.match(c)}
        assert ours == theirs


def test_lambda_names_use_the_characters_of_botocores_pattern():
    # FunctionName's pattern ends with the name itself: ([a-zA-Z0-9-_]+).
    pattern = _shape("lambda", "CreateFunction", "FunctionName").metadata["pattern"]
    assert "([a-zA-Z0-9-_]+)" in pattern
    name_part = re.compile("[a-zA-Z0-9-_]")
    theirs = {c for c in _PRINTABLE if name_part.fullmatch(c)}
    assert {c for c in _PRINTABLE if not RULES["lambda"].refused.match(c)} == theirs


def test_sqs_names_take_letters_digits_hyphens_underscores_and_a_fifo_ending():
    # botocore states nothing for QueueName; AWS's CreateQueue reference does.
    rule = RULES["sqs"]
    assert check_name("sqs", "orders_v2-dlq") == "orders_v2-dlq"
    assert check_name("sqs", "orders.fifo") == "orders.fifo"
    assert rule.problems("orders.v2") == [
        "'.' not allowed; use only letters, digits, hyphens and underscores (and a .fifo ending)"
    ]
    assert rule.max_len == 80


def test_every_rule_has_a_type_or_is_used_only_for_names_paaskit_chooses():
    assert sorted(kind for kind, rule in RULES.items() if not rule.types) == ["rds_snapshot"]
