"""bench/corpus.py: which convox.yml files plan, and whether each plan reflects its manifest.

The manifests in tests/data/manifests/corpus are written for these tests; the shared corpus
of real files is measured by running the script, never copied here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import corpus

CORPUS = Path(__file__).parent / "data" / "manifests" / "corpus"


def test_the_corpus_report_says_what_plans_and_what_the_plan_reflects(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert corpus.main([str(CORPUS), "--verbose"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == (
        "billing: plans, all reflected (services 2/2, scale 6/6, ports 1/1, internal 1/1, "
        "links 1/1, health 4/4)"
    )
    assert lines[1].startswith("media: does not plan: convox.yml: resources.maps.type: ")
    assert lines[2] == (
        "monitor: plans, all reflected (services 3/3, scale 8/8, volumes 4/4, ports 3/3, "
        "privileged 1/1, internal 1/1, links 1/1, timeout 1/1, health 4/4)"
    )
    shop = next(line for line in lines if line.startswith("shop: "))
    assert shop == (
        "shop: plans, all reflected (services 2/2, variables 6/6, scale 6/6, health 4/4, "
        "resources 1/1, timers 2/2); 2 warning(s)"
    )
    assert (
        "    warning convox.yml: services.web.domain: ${HOST} is not set, so the key is left out "
        "(Convox reads an empty value): set paaskit-app:environment.HOST"
    ) in lines
    assert lines[-2:] == [
        "3 of 4 manifests plan; 3 reflect all of their manifest.",
        "  1 do not plan: resource types",
    ]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("services.web.domain: the rack has no domain", "domains"),
        ('convox.yml: services.web.domain: not a domain name: "dummy"', "a domain that is not a"),
        (
            "resources.main.options.version: MySQL 8.0 left RDS standard support; use 8.4, or "
            "set resources.main.options.extendedSupport: true to pay for it",
            "engine versions past their support",
        ),
        (
            "convox.yml: 2 problems\n  services.web.domain: a domain routes to a port: set port\n"
            "  services.web.sticky: sticky sessions need a port behind the load balancer",
            "no port to route to",
        ),
        (
            "convox.yml: 2 problems\n  services.a.privileged: x\n  services.a.cpu_shares: y",
            "privileged containers + docker-compose keys",
        ),
        ("convox.yml: services.web.ports: extra ports (custom balancers)", "internal services"),
        ("convox.yml: services.web.links[0]: api has no port", "internal services"),
        ("convox.yml: services.web.volumes[1]: /proc is the node's own", "volumes"),
        ("convox.yml: balancers: not supported", "custom balancers"),
        ("convox.yml: services.web.scale.targets.external: no", "Kubernetes metrics"),
        ("convox.yml: services.web.sclae: unknown key", "services.web.sclae"),
        ("something else entirely", "other"),
    ],
)
def test_failures_are_counted_by_the_keys_they_name(message: str, reason: str) -> None:
    assert corpus.category(message).startswith(reason)
    # A key path inside a message (advice: "set resources.x...") is no reason of its own.
    assert "extendedSupport" not in corpus.category(message)


def test_app_names_fit_an_apps_limits() -> None:
    assert (
        corpus.app_name("convox-examples-nodejs-dd-autoscale") == "convox-examples-nodejs-dd-autos"
    )
    assert corpus.app_name("Some_Repo.") == "some-repo"
