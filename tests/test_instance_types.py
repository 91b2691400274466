"""The shipped instance-type catalogue and the choice of equivalent spot types."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paaskit.data import generate
from paaskit.instance_types import (
    DEFAULT_LIMIT,
    InstanceTypeError,
    MixedArchitecturesError,
    NoFittingInstanceTypeError,
    UnknownInstanceTypeError,
    UnsupportedInstanceTypeError,
    architecture,
    catalogue,
    docker_platform,
    equivalent_instance_types,
    instance_type,
    instance_types_for_size,
    load_catalogue,
    validate_instance_types,
)

NAMES = sorted(catalogue())
SUPPORTED = [n for n in NAMES if catalogue()[n].unsupported_reason() is None]
UNSUPPORTED = [n for n in NAMES if catalogue()[n].unsupported_reason() is not None]
X86 = [n for n in SUPPORTED if catalogue()[n].architecture == "x86_64"]
ARM = [n for n in SUPPORTED if catalogue()[n].architecture == "arm64"]

# Columns that describe the machine itself: they do not change when AWS (and so a
# newer moto) revises a type's status flags, so they can be checked across versions.
PHYSICAL = ("family", "vcpus", "memory_mib", "architecture", "accelerators", "bare_metal")


ACCELERATOR_KEYS = (
    "GpuInfo",
    "FpgaInfo",
    "InferenceAcceleratorInfo",
    "NeuronInfo",
    "MediaAcceleratorInfo",
)


def shipped_text() -> str:
    return generate.OUTPUT.read_text(encoding="utf-8")


def rows_by_name(catalogue_json: dict[str, Any]) -> dict[str, dict[str, Any]]:
    columns = catalogue_json["columns"]
    return {r[0]: dict(zip(columns, r, strict=True)) for r in catalogue_json["types"]}


# --- the catalogue file ---------------------------------------------------------------


def test_catalogue_is_small_sorted_and_canonical():
    text = shipped_text()
    data = json.loads(text)
    assert len(text.encode()) < 300_000
    names = [r[0] for r in data["types"]]
    assert names == sorted(set(names))
    assert tuple(data["columns"]) == generate.COLUMNS
    # Re-rendering the parsed file gives the same bytes: the file is in the
    # generator's own format, so a hand edit that reformats anything shows up.
    assert generate.render(data) == text
    # provenance, but no timestamp: regenerating with the same moto gives the same bytes
    assert set(data) == {"source", "moto_version", "generator", "columns", "types"}
    assert data["moto_version"] == load_catalogue().moto_version


def test_catalogue_holds_only_linux_ecs_hosts():
    assert {t.architecture for t in catalogue().values()} == {"x86_64", "arm64"}
    assert not [n for n in NAMES if n.startswith("mac")]
    assert len(catalogue()) > 1000


def test_regenerating_is_deterministic_whatever_the_input_order():
    raw = generate.load_moto_data()
    shuffled = list(raw.items())
    random.Random(7).shuffle(shuffled)
    first = generate.render(generate.build(raw, "1.2.3"))
    again = generate.render(generate.build(dict(shuffled), "1.2.3"))
    assert first == again


def test_shipped_catalogue_is_what_the_generator_makes_from_moto():
    installed = generate.moto_version()
    regenerated = generate.generate()
    if load_catalogue().moto_version == installed:
        # Same moto release: the file must be exactly the generator's output.
        assert regenerated == shipped_text()
    else:
        # Another moto release may carry revised AWS data; the physical columns
        # of the types both know must still agree.
        new = rows_by_name(json.loads(regenerated))
        old = rows_by_name(json.loads(shipped_text()))
        common = new.keys() & old.keys()
        assert len(common) > 0.9 * len(old)
        for name in common:
            assert {c: new[name][c] for c in PHYSICAL} == {c: old[name][c] for c in PHYSICAL}


def test_a_sample_of_rows_matches_moto_raw_data():
    """Every 25th shipped row, read straight from moto's raw AWS records."""
    raw = generate.load_moto_data()
    sample = [*NAMES[::25], "m6i.large", "m7g.large", "t3.medium", "g5.xlarge", "m6id.large"]
    checked = 0
    for name in sample:
        record = raw.get(name)
        if record is None:  # a newer moto dropped the type; nothing to compare
            continue
        t = instance_type(name)
        assert t.vcpus == record["VCpuInfo"]["DefaultVCpus"]
        assert t.memory_mib == record["MemoryInfo"]["SizeInMiB"]
        assert t.architecture in record["ProcessorInfo"]["SupportedArchitectures"]
        assert t.bare_metal == record["BareMetal"]
        assert t.accelerators == any(key in record for key in ACCELERATOR_KEYS)
        assert t.storage_gb == record.get("InstanceStorageInfo", {}).get("TotalSizeInGB", 0)
        checked += 1
    assert checked > 0.9 * len(sample)


def test_known_types_read_as_aws_describes_them():
    m6i = instance_type("m6i.large")
    assert (m6i.vcpus, m6i.memory_mib, m6i.architecture) == (2, 8192, "x86_64")
    assert instance_type("g5.xlarge").accelerators
    assert instance_type("m6i.metal").bare_metal
    assert instance_type("m6id.large").storage_gb > 0
    assert instance_type("t3.medium").burstable


# --- architecture helpers ---------------------------------------------------------------


def test_architecture_and_docker_platform():
    assert architecture("m6i.large") == "x86_64"
    assert architecture("m7g.large") == "arm64"
    assert docker_platform("c6a.xlarge") == "linux/amd64"
    assert docker_platform("t4g.small") == "linux/arm64"


# --- equivalent types: properties over the whole catalogue -----------------------------


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SUPPORTED), st.integers(min_value=1, max_value=20))
def test_equivalents_are_never_smaller_nor_another_architecture(name, limit):
    base = instance_type(name)
    result = equivalent_instance_types(name, limit=limit)
    assert result[0] == name
    assert 1 <= len(result) <= limit
    assert len(set(result)) == len(result)
    for other in map(instance_type, result[1:]):
        assert other.architecture == base.architecture
        assert other.vcpus >= base.vcpus
        assert other.memory_mib >= base.memory_mib
        assert other.storage_gb >= base.storage_gb
        assert other.vcpus <= 4 * base.vcpus
        assert other.memory_mib <= 4 * base.memory_mib
        assert other.unsupported_reason() is None
        assert other.current
        if not base.is_burstable:
            assert not other.is_burstable
    assert equivalent_instance_types(name, limit=limit) == result


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(SUPPORTED))
def test_a_smaller_limit_is_a_prefix_of_the_default_choice(name):
    full = equivalent_instance_types(name)
    assert len(full) <= DEFAULT_LIMIT
    assert equivalent_instance_types(name, limit=3) == full[:3]


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(UNSUPPORTED))
def test_gpu_metal_and_on_demand_only_types_are_refused_as_a_base(name):
    with pytest.raises(UnsupportedInstanceTypeError, match=name.replace(".", r"\.")):
        equivalent_instance_types(name)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1, max_value=96),
    st.integers(min_value=256, max_value=512 * 1024),
    st.sampled_from(["x86_64", "arm64"]),
    st.booleans(),
)
def test_sizes_are_met_by_every_choice(vcpus, memory_mib, arch, burstable):
    within_bounds = [
        t
        for t in catalogue().values()
        if t.architecture == arch
        and t.unsupported_reason() is None
        and t.current
        and (burstable or not t.is_burstable)
        and vcpus <= t.vcpus <= 4 * vcpus
        and memory_mib <= t.memory_mib <= 4 * memory_mib
    ]
    if not within_bounds:
        with pytest.raises(NoFittingInstanceTypeError, match=f"between {vcpus} and"):
            instance_types_for_size(vcpus, memory_mib, architecture=arch, burstable=burstable)
        return
    result = instance_types_for_size(vcpus, memory_mib, architecture=arch, burstable=burstable)
    assert result
    for t in map(instance_type, result):
        assert (t.architecture, t.vcpus >= vcpus, t.memory_mib >= memory_mib) == (arch, True, True)
        assert burstable or not t.is_burstable


# --- equivalent types: common sizes ------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["m6i.large", "m7g.large", "c6i.xlarge", "t3.medium", "r6i.large", "m5.large"]
)
def test_common_types_get_several_interchangeable_choices(name):
    result = equivalent_instance_types(name)
    assert len(result) >= 3
    assert result[0] == name
    # the closest alternatives are the same size, not merely "at least" the size
    second = instance_type(result[1])
    assert second.vcpus == instance_type(name).vcpus


def test_m6i_large_alternatives_are_2_vcpu_8_gib_x86_general_purpose():
    result = equivalent_instance_types("m6i.large")
    assert {"m6a.large", "m7i.large", "m7a.large"} <= set(result)
    for t in map(instance_type, result):
        assert (t.vcpus, t.memory_mib, t.architecture) == (2, 8192, "x86_64")


def test_graviton_base_stays_on_graviton():
    assert all(architecture(n) == "arm64" for n in equivalent_instance_types("m7g.large"))


def test_burstable_base_may_use_burstable_and_fixed_performance_types():
    result = equivalent_instance_types("t3.medium")
    kinds = {instance_type(n).is_burstable for n in result}
    assert kinds == {True, False}


def test_non_burstable_base_never_gets_t_types():
    for name in ("m6i.large", "c6i.xlarge", "r6i.large"):
        assert not [n for n in equivalent_instance_types(name) if n.startswith("t")]


def test_two_vcpu_four_gib_size():
    result = instance_types_for_size(2, 4096)
    assert len(result) >= 3
    assert all(architecture(n) == "x86_64" for n in result)
    assert {(instance_type(n).vcpus, instance_type(n).memory_mib) for n in result[:3]} == {
        (2, 4096)
    }
    arm = instance_types_for_size(2, 4096, architecture="arm64")
    assert len(arm) >= 3
    assert all(architecture(n) == "arm64" for n in arm)


def test_an_odd_size_widens_to_the_next_size_up():
    result = instance_types_for_size(3, 5000)
    assert len(result) >= 3
    assert all(instance_type(n).vcpus == 4 for n in result)


def test_available_restricts_alternatives_but_keeps_the_base():
    result = equivalent_instance_types("m6i.large", available={"m6a.large", "c6i.large"})
    assert result == ["m6i.large", "m6a.large"]


def test_local_storage_base_only_gets_local_storage_alternatives():
    result = equivalent_instance_types("m6id.large")
    assert len(result) >= 3
    base_storage = instance_type("m6id.large").storage_gb
    assert all(instance_type(n).storage_gb >= base_storage for n in result)


# --- errors ---------------------------------------------------------------------------------


def test_unknown_type_suggests_close_names():
    with pytest.raises(UnknownInstanceTypeError, match=r"'m6i\.lrage'.*did you mean 'm6i\.large'"):
        equivalent_instance_types("m6i.lrage")
    with pytest.raises(UnknownInstanceTypeError, match=r"m9z\.huge") as info:
        architecture("m9z.huge")
    assert isinstance(info.value, ValueError)


def test_nothing_fits_an_impossible_size():
    with pytest.raises(NoFittingInstanceTypeError, match=r"4096 vCPUs.*arm64|arm64.*4096"):
        instance_types_for_size(4096, 1024, architecture="arm64")
    with pytest.raises(InstanceTypeError, match="at least 1 vCPU"):
        instance_types_for_size(0, 1024)


def test_validate_a_user_list():
    assert validate_instance_types(["m6i.large", "m6a.large", "c6i.xlarge"]) == "x86_64"
    assert validate_instance_types(["m7g.large", "t4g.medium"]) == "arm64"


def test_validate_names_mixed_architectures():
    with pytest.raises(MixedArchitecturesError, match=r"arm64: m7g\.large.*x86_64: m6i\.large"):
        validate_instance_types(["m6i.large", "m7g.large"])


def test_validate_names_unknown_empty_and_duplicate_entries():
    with pytest.raises(UnknownInstanceTypeError, match=r"'m6i\.lrage'.*'c6x\.large'"):
        validate_instance_types(["m6i.large", "m6i.lrage", "c6x.large"])
    with pytest.raises(InstanceTypeError, match="empty"):
        validate_instance_types([])
    with pytest.raises(InstanceTypeError, match=r"more than once: m6i\.large"):
        validate_instance_types(["m6i.large", "m6i.large"])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(X86), min_size=1, max_size=5, unique=True), st.sampled_from(ARM))
def test_any_single_architecture_list_validates_and_any_mix_does_not(x86, arm):
    assert validate_instance_types(x86) == "x86_64"
    with pytest.raises(MixedArchitecturesError):
        validate_instance_types([*x86, arm])
