"""The shared AWS building blocks: trust policies and policy documents."""

from __future__ import annotations

import json

from paaskit._aws import assume_role_policy, policy_document, within_zone


def test_a_trust_policy_names_the_service_and_its_confused_deputy_guards():
    trust = json.loads(
        assume_role_policy(
            "scheduler.amazonaws.com",
            source_account="123456789012",
            source_arn="arn:aws:scheduler:us-east-1:123456789012:schedule/*",
        )
    )
    (statement,) = trust["Statement"]
    assert trust["Version"] == "2012-10-17"
    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:scheduler:us-east-1:123456789012:schedule/*"},
    }


def test_a_trust_policy_without_guards_has_no_condition():
    (statement,) = json.loads(assume_role_policy("ec2.amazonaws.com"))["Statement"]
    assert "Condition" not in statement


def test_documents_keep_their_key_order_unless_asked_to_sort():
    statement = {"Resource": "*", "Effect": "Allow", "Action": "s3:GetObject"}
    assert policy_document([statement]).index('"Resource"') < policy_document([statement]).index(
        '"Effect"'
    )
    assert policy_document([statement], sort_keys=True).index('"Action"') < policy_document(
        [statement], sort_keys=True
    ).index('"Effect"')


def test_a_domain_is_within_its_zone_and_not_a_lookalike():
    assert within_zone("apps.example.com", "example.com.")
    assert within_zone("example.com", "example.com")
    assert not within_zone("badexample.com", "example.com")


def test_the_cdn_and_the_load_balancer_accept_the_same_origin_header_names():
    import pytest
    from pydantic import ValidationError

    from paaskit import CdnArgs, LoadBalancerSettings
    from paaskit._aws import check_origin_header_name

    assert check_origin_header_name("X-Origin-Verify") == "X-Origin-Verify"
    for reserved in ("Authorization", "Host", "X-Amzn-Trace-Id", "X-Edge-Location", "bad header"):
        with pytest.raises(ValueError, match=repr(reserved)):
            check_origin_header_name(reserved)
        with pytest.raises(ValidationError, match="origin_header_name"):
            CdnArgs(origin_header_name=reserved)
        with pytest.raises(ValidationError, match="origin_header_name"):
            LoadBalancerSettings(origin_header_name=reserved)
