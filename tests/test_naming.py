"""aws_name: every name fits its service's rules and stays unique."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paaskit.naming import RULES, aws_name


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
