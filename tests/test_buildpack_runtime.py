"""What a process finds at run time: PORT, and WEB_CONCURRENCY as Heroku computes it."""

from __future__ import annotations

import re

import pytest

from paaskit.buildpack import BuildpackError, process_environment, web_concurrency


@pytest.mark.parametrize(
    ("memory", "cpu", "workers"),
    [
        (512, None, 2),  # Heroku's Standard-1X
        (1024, None, 3),  # one CPU caps it at 2 x 1 + 1
        (1024, 2048, 4),  # Standard-2X: memory caps it
        (2560, 1024, 3),
        (16384, 4096, 9),  # Performance-L-RAM: 4 CPUs
        (128, 256, 1),  # never zero
        (300, 256, 1),
    ],
)
def test_web_concurrency_is_herokus(memory: int, cpu: int | None, workers: int) -> None:
    assert web_concurrency(memory, cpu) == workers


def test_web_concurrency_needs_memory() -> None:
    with pytest.raises(ValueError, match="memory_mib: expected a positive number"):
        web_concurrency(0)


def test_port_is_always_set_and_web_concurrency_unless_the_manifest_says() -> None:
    assert process_environment(port=8000, memory_mib=512) == {
        "PORT": "8000",
        "WEB_CONCURRENCY": "2",
    }
    assert process_environment(port=None, memory_mib=1024, cpu_units=2048) == {
        "WEB_CONCURRENCY": "4"
    }
    declared: dict[str, str | None] = {"PORT": "8000", "WEB_CONCURRENCY": "8"}
    assert process_environment(port=8000, memory_mib=512, declared=declared) == {"PORT": "8000"}
    # A required WEB_CONCURRENCY (no default) is the user's too.
    assert process_environment(port=None, memory_mib=512, declared={"WEB_CONCURRENCY": None}) == {}


def test_a_different_port_in_the_manifest_is_an_error_naming_it() -> None:
    with pytest.raises(
        BuildpackError,
        match=re.escape(
            "services.web.environment.PORT: '5000' differs from the service's port 8000"
        ),
    ):
        process_environment(
            port=8000,
            memory_mib=512,
            declared={"PORT": "5000"},
            key="services.web.environment",
        )
