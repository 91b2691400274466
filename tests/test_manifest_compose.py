"""Convox Gen1's `cpu_shares` and `mem_limit`, read as `scale.cpu` and `scale.memory`
(paaskit/manifest/_compose.py): the numbers ECS gets, the warnings, and the refusals."""

from __future__ import annotations

from typing import Any

import pytest

from paaskit.manifest import ManifestError, parse_manifest


def _scale(service: dict[str, Any]) -> tuple[int, int]:
    scale = parse_manifest({"services": {"agent": service}}).services["agent"].scale
    return scale.cpu, scale.memory


@pytest.mark.parametrize(
    ("written", "mib"),
    [
        ("256m", 256),
        ("256M", 256),
        ("256mb", 256),
        ("1g", 1024),
        ("1GB", 1024),
        ("262144k", 256),
        (268435456, 256),
        ("268435456b", 256),
        ("268435457", 257),  # a byte over 256 MiB: rounded up, never less than asked
        ("300m", 300),
    ],
)
def test_mem_limit_is_compose_bytes_read_as_mib_rounded_up(written: Any, mib: int) -> None:
    assert _scale({"mem_limit": written}) == (256, mib)


def test_cpu_shares_are_ecs_cpu_units() -> None:
    assert _scale({"cpu_shares": 128, "mem_limit": "256m"}) == (128, 256)
    assert _scale({"cpu_shares": "64"}) == (64, 512)


def test_each_key_read_is_a_warning_naming_it_and_what_to_write() -> None:
    m = parse_manifest({"services": {"agent": {"cpu_shares": 128, "mem_limit": "256m"}}})
    assert m.warnings == (
        (
            "services.agent.cpu_shares",
            "a docker-compose key (Convox Gen1), read as scale.cpu: 128 (ECS's CPU units are "
            "Docker's CPU shares); write scale.cpu instead",
        ),
        (
            "services.agent.mem_limit",
            "a docker-compose key (Convox Gen1), read as scale.memory: 256 (MiB, a hard limit "
            "as mem_limit was); write scale.memory instead",
        ),
    )


def test_the_rest_of_scale_stays_and_the_count_shorthand_is_kept() -> None:
    m = parse_manifest({"services": {"w": {"scale": {"count": 3, "cpu": 512}, "mem_limit": "1g"}}})
    scale = m.services["w"].scale
    assert (scale.min, scale.cpu, scale.memory) == (3, 512, 1024)
    m = parse_manifest({"services": {"w": {"scale": 2, "cpu_shares": 1024}}})
    assert (m.services["w"].scale.min, m.services["w"].scale.cpu) == (2, 1024)


def _problems(service: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ManifestError) as caught:
        parse_manifest({"services": {"w": service}})
    return dict(caught.value.problems)


def test_a_key_that_scale_also_sets_is_refused_naming_both() -> None:
    assert _problems({"scale": {"memory": 512}, "mem_limit": "256m"}) == {
        "services.w.mem_limit": "a docker-compose key (Convox Gen1) for scale.memory, which "
        "this service also sets: keep scale.memory and remove mem_limit"
    }


@pytest.mark.parametrize("bad", ["lots", "1.5g", "-1m", True, [1], {"a": 1}, "12t", "9" * 40])
def test_a_value_compose_would_not_read_is_refused_naming_the_key(bad: Any) -> None:
    assert list(_problems({"mem_limit": bad})) == ["services.w.mem_limit"]
    assert list(_problems({"cpu_shares": bad})) == ["services.w.cpu_shares"]


def test_what_scale_refuses_is_refused_at_the_key_written() -> None:
    # 64m reads as scale.memory 64, below what paaskit lets a process have.
    assert _problems({"mem_limit": "64m"}) == {
        "services.w.mem_limit": "must be at least 128 (got 64)"
    }
    assert list(_problems({"cpu_shares": 1})) == ["services.w.cpu_shares"]
    assert list(_problems({"scale": {"cpu": 1}})) == ["services.w.scale.cpu"]


def test_other_problems_are_reported_with_them() -> None:
    found = _problems({"mem_limit": "lots", "port": "nope"})
    assert set(found) == {"services.w.mem_limit", "services.w.port"}


def test_the_refusal_shows_the_value_written() -> None:
    assert _problems({"mem_limit": "lots"}) == {
        "services.w.mem_limit": "expected bytes, as compose writes them: 256m, 1g, 268435456 "
        '(got "lots")'
    }
    assert _problems({"cpu_shares": "half"}) == {
        "services.w.cpu_shares": 'expected a whole number of CPU shares (got "half")'
    }


def test_every_service_is_read_not_only_the_first_with_the_keys() -> None:
    m = parse_manifest(
        {
            "services": {
                "web": {"port": 80},
                "a": {"mem_limit": "1g"},
                "b": {},
                "c": {"cpu_shares": 512},
            }
        }
    )
    assert m.services["a"].scale.memory == 1024
    assert m.services["c"].scale.cpu == 512
    assert m.services["web"].port is not None


def test_a_scale_that_is_no_mapping_is_left_for_the_model_to_refuse() -> None:
    found = _problems({"scale": [1], "mem_limit": "1g"})
    assert list(found) == ["services.w.scale"]


def test_what_is_not_shaped_as_a_manifest_passes_through_untouched() -> None:
    from paaskit.manifest._compose import read_compose_keys

    for data in ([1], "text", {"services": [1]}, {"services": {"w": "x"}}, {"other": 1}):
        reading = read_compose_keys(data)
        assert reading.data == data
        assert (reading.problems, reading.warnings, reading.written) == ([], [], {})


def test_a_byte_count_of_twenty_digits_is_read_and_more_is_refused() -> None:
    assert _scale({"mem_limit": "0" * 10 + "1073741824"}) == (256, 1024)
    assert list(_problems({"mem_limit": "0" * 11 + "1073741824"})) == ["services.w.mem_limit"]


def test_a_bad_service_does_not_stop_the_reading_of_the_next() -> None:
    from paaskit.manifest._compose import read_compose_keys

    reading = read_compose_keys(
        {
            "services": {
                "bad": {"mem_limit": "lots"},
                "odd": {"scale": [1], "cpu_shares": 64},
                "both": {"cpu_shares": "x", "mem_limit": "1g"},
                "good": {"mem_limit": "2g"},
            }
        }
    )
    services = reading.data["services"]
    assert services["good"]["scale"] == {"memory": 2048}
    assert services["both"]["scale"] == {"memory": 1024}
    assert [loc for loc, _ in reading.problems] == [
        ("services", "bad", "mem_limit"),
        ("services", "both", "cpu_shares"),
    ]
    assert [loc for loc, _ in reading.warnings] == [
        ("services", "odd", "cpu_shares"),
        ("services", "both", "mem_limit"),
        ("services", "good", "mem_limit"),
    ]


def test_a_service_written_as_text_is_left_for_the_model() -> None:
    from paaskit.manifest._compose import read_compose_keys

    data = {"services": {"w": "cpu_shares"}}
    assert read_compose_keys(data).data == data
    assert list(_problems_of(data)) == ["services.w"]


def _problems_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(data)
    return dict(caught.value.problems)


@pytest.mark.parametrize("key", ["cpu_shares", "mem_limit"])
def test_a_value_of_another_type_is_shown_as_written(key: str) -> None:
    (message,) = _problems({key: [1, 2]}).values()
    assert message.endswith("(got a list)")
