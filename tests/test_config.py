"""Reading settings from Pulumi config: every error names the config key."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from paaskit import RackArgs
from paaskit.config import ComponentArgs, ConfigError, Settings, default_at, load_settings

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
