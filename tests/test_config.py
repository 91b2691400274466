"""Reading settings from Pulumi config: every error names the config key."""

from __future__ import annotations

import pulumi
import pytest
from pydantic import Field, ValidationError

from paaskit import RackArgs
from paaskit.config import (
    PAASKIT_TAGS,
    ComponentArgs,
    ConfigError,
    Input,
    Settings,
    check_keys,
    default_at,
    key_path,
    load_settings,
    shown,
)

KEYS = {
    "vpcCidr": "network.cidr",
    "zones": "network.zones",
    "availabilityZones": "network.availability_zones",
    "endpoints": "network.endpoints",
    "flowLogs": "network.flow_logs",
    "tags": "tags",
}


def load(values):
    return load_settings(RackArgs, "rk", keys=KEYS, values=values)


def test_values_reach_their_fields_with_types_converted():
    args = load(
        {
            "rk:zones": "3",
            "rk:flowLogs": "false",
            "rk:endpoints": '["ecr", "logs"]',
            "rk:tags": '{"team": "a"}',
        }
    )
    assert args.network.zones == 3
    assert args.network.flow_logs is False
    assert args.network.endpoints == ["ecr", "logs"]
    assert args.tags == {"team": "a"}


def test_a_bare_word_for_a_list_is_a_list_of_one():
    assert load({"rk:endpoints": "ecr"}).network.endpoints == ["ecr"]


def test_keys_of_other_namespaces_are_ignored():
    assert load({"aws:region": "eu-west-1", "other:zones": "9"}).network.zones == 2


def test_an_unknown_key_is_an_error_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"rk:zone: unknown config key; did you mean rk:zones\?"):
        load({"rk:zone": "3"})


def test_a_bad_value_names_the_config_key_not_the_field():
    with pytest.raises(ConfigError, match=r"rk:vpcCidr: .*too small.*\(got '10\.0\.0\.0/25'\)"):
        load({"rk:vpcCidr": "10.0.0.0/25"})
    with pytest.raises(ConfigError, match=r"rk:zones: .*less than or equal to 3"):
        load({"rk:zones": "4"})
    with pytest.raises(ConfigError, match=r"rk:endpoints\[0\]: "):
        load({"rk:endpoints": '["dynamodb"]'})


def test_a_check_across_fields_names_the_key_it_is_about():
    with pytest.raises(ConfigError, match=r"rk:availabilityZones: 1 zones named but zones is 2"):
        load({"rk:availabilityZones": '["us-east-1a"]'})


def test_flat_models_read_fields_by_name():
    class Flat(Settings):
        size: int = 1

    assert load_settings(Flat, "x", values={"x:size": "4"}).size == 4
    with pytest.raises(ConfigError, match="x:size: "):
        load_settings(Flat, "x", values={"x:size": "big"})


def test_default_at_reads_nested_defaults():
    assert default_at(RackArgs, "network.zones") == 2
    assert default_at(RackArgs, "network.cidr") == "10.0.0.0/16"


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({"aws:x": "1"}, "reserved by AWS"),
        ({"k" * 129: "v"}, "1 to 128"),
        ({"k": "v" * 257}, "at most 256"),
        ({"k": "a,b"}, "',' not allowed"),
    ],
)
def test_tags_are_checked(tags, message):
    with pytest.raises(ValidationError, match=message):
        ComponentArgs(tags=tags)


def test_a_value_equal_to_its_default_counts_as_not_set():
    # Pulumi passes a project file's declared defaults to the program as values.
    from paaskit.cluster import SpotClusterSettings

    class Sections(Settings):
        cluster: SpotClusterSettings = SpotClusterSettings()

    keys = {"instanceType": "cluster.instance_type", "architecture": "cluster.architecture"}
    loaded = load_settings(
        Sections, "x", keys=keys, values={"x:instanceType": "m6i.large", "x:architecture": "x86_64"}
    )
    assert loaded.cluster.instance_type == "m6i.large"
    assert "architecture" not in loaded.cluster.model_fields_set


# --- values as users write them, errors in their words ---------------------------------------


class WithInputs(Settings):
    """Fields that another resource may provide (an ARN), and text in a mapping."""

    arn: Input | None = None
    names: dict[str, str] = Field(default_factory=dict)
    size: int = 1


def test_a_field_that_takes_outputs_takes_a_string_from_config():
    # Once refused every value with "Unable to generate pydantic-core schema for Output[Any]".
    loaded = load_settings(WithInputs, "x", values={"x:arn": "arn:aws:sns:us-east-1:1:t"})
    assert loaded.arn == "arn:aws:sns:us-east-1:1:t"


def test_input_is_a_type_any_model_can_use():
    from pydantic import BaseModel, TypeAdapter

    class Plain(BaseModel):  # no arbitrary_types_allowed
        arn: Input

    assert Plain(arn="x").arn == "x"
    assert TypeAdapter(Input).validate_python("y") == "y"


def test_a_secret_value_becomes_a_pulumi_secret():
    loaded = load_settings(WithInputs, "x", values={"x:arn": "hunter2"}, secret_keys={"x:arn"})
    assert isinstance(loaded.arn, pulumi.Output)


def test_numbers_and_booleans_in_a_mapping_of_text_are_taken_as_text():
    # `ecsConfig: {ECS_RESERVED_MEMORY: 256}` in a stack file reaches the program as JSON.
    loaded = load_settings(WithInputs, "x", values={"x:names": '{"a": 256, "b": true, "c": 1.5}'})
    assert loaded.names == {"a": "256", "b": "true", "c": "1.5"}
    with pytest.raises(ConfigError, match=r"x:names\.a: Input should be a valid string"):
        load_settings(WithInputs, "x", values={"x:names": '{"a": null}'})


def test_the_place_inside_a_value_is_named_as_pulumi_config_set_path_writes_it():
    assert key_path("ns:environment", ["SECRET_KEY"]) == "ns:environment.SECRET_KEY"
    assert key_path("ns:endpoints", [0]) == "ns:endpoints[0]"
    assert key_path("ns:parameters", ["log.level"]) == 'ns:parameters["log.level"]'


def test_fields_a_message_mentions_are_named_by_their_keys():
    with pytest.raises(ConfigError) as info:
        load_settings(
            RackArgs,
            "rk",
            keys={
                "domain": "domain",
                "zoneName": "zone_name",
                "edgeCert": "edge.certificate_arn",
            },
            values={"rk:domain": "apps.example.com"},
        )
    assert str(info.value).startswith(
        "rk:domain: needs its Route 53 zone (rk:zoneName) to issue certificates, or a "
        "certificate of your own in rk:edgeCert (in us-east-1)"
    )


def test_a_long_value_is_shortened_in_messages():
    with pytest.raises(ConfigError) as info:
        load_settings(WithInputs, "x", values={"x:size": "9" * 5000})
    message = str(info.value)
    assert message.startswith("x:size: ")
    assert "(5000 characters)" in message
    assert len(message) < 300
    assert shown(10**5000) == "a number of about 5001 digits"


def test_unknown_keys_are_refused_before_anything_is_read():
    with pytest.raises(
        ConfigError, match=r"ns:enviroment: unknown config key; did you mean ns:environment\?"
    ):
        check_keys("ns", ["environment", "manifest"], values={"ns:enviroment": "{}"})
    check_keys("ns", ["environment"], values={"other:x": "1", "ns:environment": "{}"})


def test_fields_the_stack_gives_are_not_read_from_config():
    keys = {"arn": "arn", "size": "size", "label": None}
    loaded = load_settings(
        WithInputs,
        "x",
        keys=keys,
        values={"x:arn": "ignored", "x:label": "a"},
        given={"arn": "mine"},
    )
    assert loaded.arn == "mine"


@pytest.mark.parametrize(("count", "ok"), [(50 - PAASKIT_TAGS, True), (51 - PAASKIT_TAGS, False)])
def test_tags_leave_room_for_paaskits_own(count, ok):
    tags = {f"t{i}": "x" for i in range(count)}
    if ok:
        assert ComponentArgs(tags=tags).tags == tags
    else:
        with pytest.raises(ValidationError, match=f"{count} tags; AWS allows 50 on a resource"):
            ComponentArgs(tags=tags)
