"""What the App refuses beyond the manifest: paaskit's variables and PORT, tasks the rack's nodes
cannot hold, task definitions ECS would not take."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest

from paaskit.app import App, AppArgs
from paaskit.app._checks import (
    TASK_DEFINITION_MAX_BYTES,
    check_fits,
    known_definition,
    node_sizes,
)
from paaskit.manifest import load_manifest, parse_manifest
from paaskit.plan import Plan
from paaskit.plan.engine import ProgramError
from paaskit.plan.errors import describe
from paaskit.testing import plan
from tests.test_app import RACK

IMAGE_APP = "services:\n  web:\n    image: nginx:1.27\n    port: 80\n"

# Two node types of the rack, as its `nodes` output carries them.
NODES: dict[str, Any] = {
    "instanceType": "t3.medium",
    "instanceTypes": ["t3.medium", "t3a.medium"],
    "vcpus": 2,
    "memoryMib": 4096,
    "minNodes": 2,
    "maxNodes": 10,
    "onDemandBase": 1,
    "onDemandPercentage": 0,
    "reservedMemoryMib": 256,
}


def plan_manifest(root: Path, manifest: str, *, nodes: Any = None, environment: Any = None) -> Plan:
    """Plans the manifest on RACK with `nodes`; a callable `nodes` or `environment` is called
    in the program (Outputs belong to the program that makes them)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "paaskit.yml").write_text(manifest)

    def program() -> None:
        found = nodes() if callable(nodes) else nodes
        settings = environment() if callable(environment) else environment
        App(
            "shop",
            AppArgs(
                manifest=load_manifest(root),
                rack=dataclasses.replace(RACK, nodes=found),
                environment=settings or {},
            ),
        )

    return plan(program)


def failure(root: Path, manifest: str, **kwargs: Any) -> str:
    with pytest.raises(ProgramError) as caught:
        plan_manifest(root, manifest, **kwargs)
    return describe(caught.value)


def service(manifest: str) -> Any:
    return parse_manifest(manifest).services["web"]


def scaled(**scale: Any) -> str:
    inner = ", ".join(f"{k}: {v}" for k, v in scale.items())
    return f"{IMAGE_APP}    scale: {{{inner}}}\n"


# --------------------------------------------------------------------------- the environment


@pytest.mark.parametrize(
    ("manifest", "key"),
    [
        ("environment: [APP=shop]\n" + IMAGE_APP, "environment: APP"),
        (IMAGE_APP + "    environment: [SERVICE=web]\n", "services.web.environment: SERVICE"),
        (IMAGE_APP + "    environment: [RACK=prod]\n", "services.web.environment: RACK"),
    ],
)
def test_paaskits_variables_are_refused_in_the_manifest(
    tmp_path: Path, manifest: str, key: str
) -> None:
    message = failure(tmp_path, manifest)
    assert message.startswith(f"{tmp_path / 'paaskit.yml'}: {key}: ")
    assert "paaskit's: every process gets APP (the app's name), SERVICE" in message


def test_paaskits_variables_are_refused_as_settings_that_reach_a_process(tmp_path: Path) -> None:
    manifest = "environment: ['*']\n" + IMAGE_APP
    message = failure(tmp_path, manifest, environment={"APP": "other"})
    assert message.startswith("environment: APP: APP is paaskit's")
    # A setting that only fills a ${NAME} of the manifest reaches no process.
    filled = IMAGE_APP + "    labels:\n      team: ${RACK}\n"
    records = plan_manifest(tmp_path / "b", filled, environment={"RACK": "blue"})
    assert records.named("shop-web-task")


def test_a_port_equal_to_the_services_is_accepted_and_set_once(tmp_path: Path) -> None:
    manifest = "environment: [PORT=80]\n" + IMAGE_APP
    records = plan_manifest(tmp_path, manifest)
    (definition,) = json.loads(records.named("shop-web-task").inputs["containerDefinitions"])
    assert [e["value"] for e in definition["environment"] if e["name"] == "PORT"] == ["80"]


@pytest.mark.parametrize(
    ("manifest", "settings", "key"),
    [
        ("environment: [PORT=3000]\n" + IMAGE_APP, None, "{manifest}: environment.PORT"),
        (
            IMAGE_APP + "    environment: [PORT=3000]\n",
            None,
            "{manifest}: services.web.environment.PORT",
        ),
        (IMAGE_APP + "    environment: [PORT]\n", {"PORT": "3000"}, "environment.PORT"),
    ],
)
def test_a_port_other_than_the_services_is_an_error_naming_where(
    tmp_path: Path, manifest: str, settings: Any, key: str
) -> None:
    message = failure(tmp_path, manifest, environment=settings)
    where = key.format(manifest=tmp_path / "paaskit.yml")
    assert message.startswith(f"{where}: '3000' differs from the service's port 80")


def test_a_secret_port_setting_is_checked_as_it_arrives_and_never_shown(tmp_path: Path) -> None:
    manifest = IMAGE_APP + "    environment: [PORT]\n"
    message = failure(
        tmp_path, manifest, environment=lambda: {"PORT": pulumi.Output.secret("3000")}
    )
    assert message.startswith(
        "environment: PORT, the app's setting, differs from services.web.port (80)"
    )
    assert "3000" not in message


def test_a_worker_may_have_a_port_variable_of_its_own(tmp_path: Path) -> None:
    manifest = "services:\n  worker:\n    image: nginx:1.27\n    environment: [PORT=9999]\n"
    records = plan_manifest(tmp_path, manifest)
    (definition,) = json.loads(records.named("shop-worker-task").inputs["containerDefinitions"])
    assert {"name": "PORT", "value": "9999"} in definition["environment"]


# --------------------------------------------------------------------------- the rack's nodes


def test_node_sizes_come_from_the_table_of_instance_types() -> None:
    assert [(s.name, s.vcpus, s.memory_mib) for s in node_sizes(NODES)] == [
        ("t3.medium", 2, 4096),
        ("t3a.medium", 2, 4096),
    ]
    unknown = {**NODES, "instanceTypes": ["x9.huge"], "instanceType": "x9.huge"}
    assert [(s.vcpus, s.memory_mib) for s in node_sizes(unknown)] == [(2, 4096)]


@pytest.mark.parametrize(
    ("scale", "key", "words"),
    [
        (
            {"memory": 3900},
            "services.web.scale.memory",
            "3900 MiB fits on none of the rack's nodes: its largest, t3.medium, has 4096 MiB, of "
            "which 256 are kept for the ECS agent and the system (ECS_RESERVED_MEMORY), so a "
            "task takes at most 3840 MiB there",
        ),
        (
            {"cpu": 4096},
            "services.web.scale.cpu",
            "4096 CPU units fit on none of the rack's nodes: its largest, t3.medium, has 2 "
            "vCPUs, 2048 units",
        ),
        (
            {"count": 30, "memory": 1536},
            "services.web.scale.count",
            "30 processes of 256 CPU units and 1536 MiB never fit the rack: 2 fit on a node at "
            "most (a t3.medium), and the rack has at most 10 nodes (paaskit-rack:maxNodes), so "
            "20 in all",
        ),
    ],
)
def test_tasks_the_racks_nodes_cannot_hold_are_refused_before_anything(
    tmp_path: Path, scale: dict[str, Any], key: str, words: str
) -> None:
    message = failure(tmp_path, scaled(**scale), nodes=NODES)
    assert message.startswith(f"{key}: {words}")


def test_a_mix_no_single_node_type_holds_names_both(tmp_path: Path) -> None:
    nodes = {**NODES, "instanceTypes": ["c6i.xlarge", "r6i.large"], "instanceType": "c6i.xlarge"}
    # c6i.xlarge: 4 vCPUs, 8 GiB; r6i.large: 2 vCPUs, 16 GiB.
    message = failure(tmp_path, scaled(cpu=4096, memory=12288), nodes=nodes)
    assert message.startswith(
        "services.web.scale: 4096 CPU units with 12288 MiB fit no single node type of the rack "
        "(c6i.xlarge (4096 units, 7936 MiB), r6i.large (2048 units, 16128 MiB))"
    )


def test_the_racks_ecs_config_decides_what_the_agent_keeps(tmp_path: Path) -> None:
    assert plan_manifest(tmp_path / "a", scaled(memory=3840), nodes=NODES)
    message = failure(
        tmp_path / "b", scaled(memory=3840), nodes={**NODES, "reservedMemoryMib": 512}
    )
    assert "so a task takes at most 3584 MiB there" in message


def test_a_task_that_fits_only_on_paper_is_a_warning(tmp_path: Path) -> None:
    records = plan_manifest(tmp_path, scaled(memory=3800), nodes=NODES)
    (warning,) = [w["message"] for w in records.warnings]
    assert warning.startswith(
        "services.web.scale.memory: 3800 MiB leaves less than 3% of a t3.medium's 4096 MiB to "
        "the system"
    )
    assert plan_manifest(tmp_path / "b", scaled(memory=3500), nodes=NODES).warnings == []


def test_nodes_that_arrive_as_outputs_are_checked_as_they_arrive(tmp_path: Path) -> None:
    # A Rack's or RackRef's nodes are Outputs: the same message stops the plan, naming the
    # resource that was waiting for them.
    message = failure(tmp_path, scaled(memory=3900), nodes=lambda: pulumi.Output.from_input(NODES))
    assert message.startswith(
        "services.web.scale.memory: 3900 MiB fits on none of the rack's nodes"
    )
    # The task definition waits for them; a resource that waits for it may report the same
    # failure first when the machine is busy (the engine's scheduling decides), so the
    # message names a resource of the app, whichever.
    assert re.search(r"\(while registering 'shop-[\w-]+', type: 'aws:[\w/:]+'\)$", message)


def test_a_rack_in_the_same_program_exports_what_the_agent_keeps() -> None:
    from paaskit import Rack, RackArgs
    from paaskit.cluster import SpotClusterSettings

    seen: list[Any] = []

    def program() -> None:
        rack = Rack(
            "rack",
            RackArgs(cluster=SpotClusterSettings(ecs_config={"ECS_RESERVED_MEMORY": "384"})),
        )
        pulumi.Output.from_input(rack.info.nodes).apply(seen.append)

    plan(program)
    ((nodes),) = seen
    assert (nodes["reservedMemoryMib"], nodes["maxNodes"]) == (384, 10)
    assert node_sizes(nodes)[0].name == nodes["instanceType"]


def test_an_agent_needs_one_node_type_that_holds_it_and_warns_of_the_others() -> None:
    nodes = {**NODES, "instanceTypes": ["t3.medium", "t3.small"]}
    agent = parse_manifest(
        "services:\n  web:\n    image: datadog/agent:7\n    agent: true\n"
        "    scale: {memory: 2048}\n"
    ).services["web"]
    (warning,) = check_fits(agent, nodes)
    assert warning.startswith("services.web.scale: an agent runs on every node, and t3.small")


# --------------------------------------------------------------------------- task definitions


def test_a_task_definition_over_64_kib_is_refused_before_anything(tmp_path: Path) -> None:
    values = "\n".join(f"  - V{i}={'x' * 1000}" for i in range(70))
    message = failure(tmp_path, f"environment:\n{values}\n{IMAGE_APP}")
    assert message.startswith(
        "services.web: its task definition is at least 72,"  # bytes known before anything
    )
    assert f"more than the {TASK_DEFINITION_MAX_BYTES:,} (64 KiB) ECS takes" in message


def test_a_task_definition_over_64_kib_only_whole_is_refused_as_it_is_made(
    tmp_path: Path,
) -> None:
    # What is known is under the limit; the image, ARNs and names ECS needs tip it over.
    values = "\n".join(f"  - V{i}={'x' * 1000}" for i in range(62))
    manifest = f"environment:\n{values}\n  - W={'y' * 1500}\n{IMAGE_APP}"
    parsed = parse_manifest(manifest)
    known = known_definition(parsed, parsed.services["web"])
    assert TASK_DEFINITION_MAX_BYTES - 600 < len(known) < TASK_DEFINITION_MAX_BYTES
    message = failure(tmp_path, manifest)
    # Refused as the definition is composed (the known part above passed). Which resource the
    # SDK names as being registered when the error surfaces depends on which waiter runs
    # first (the task definition itself, or the deploy record that reads its ARN).
    assert re.match(r"services\.web: its task definition is 6\d,\d{3} bytes, more than", message)


def test_ordinary_apps_pass_every_check(tmp_path: Path) -> None:
    records = plan_manifest(tmp_path, scaled(count="2-8", memory=1024), nodes=NODES)
    assert records.warnings == []
    assert service(scaled(count="2-8")).scale.max == 8
