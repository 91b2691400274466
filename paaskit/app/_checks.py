"""What the App refuses that the manifest alone cannot see: its settings and its rack.

- The environment: `APP`, `SERVICE` and `RACK` are paaskit's (every process gets them, as
  on Convox), so a manifest or a setting that gives them is refused; `PORT` is the service's
  port, so a value for it equal to the port is accepted and another refused, naming where it
  was given (`buildpack.process_environment`'s rule, which `paaskit start` follows too).
- The rack: a task larger than every node type of the rack (its CPU, its memory less what
  the ECS agent keeps, `ECS_RESERVED_MEMORY`), or more tasks than the rack's largest
  nodes, as many as it may ever have, could hold. ECS would accept the service and never
  place the tasks; `pulumi up` would wait for them until it timed out.
- The task definition: ECS takes at most 64 KiB of it (its quota, not adjustable).

Errors are raised before any resource where the values are known; the rack's nodes of a
`Rack` or `RackRef` are Outputs, so those checks run as the values arrive (`checked`), and
stop the plan or `pulumi up` with the same message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from paaskit import buildpack
from paaskit.cluster import ECS_CONFIG
from paaskit.config import ConfigError, Input
from paaskit.instance_types import InstanceTypeError, instance_type
from paaskit.manifest import Manifest, Service

__all__ = [
    "OS_MEMORY_SHARE",
    "PAASKIT_VARIABLES",
    "TASK_DEFINITION_MAX_BYTES",
    "NodeSize",
    "check_definition_size",
    "check_environment",
    "check_fits",
    "checked",
    "declared_at",
    "known_definition",
    "node_sizes",
]

PAASKIT_VARIABLES = ("APP", "SERVICE", "RACK")
"""What paaskit sets in every process: the app's name, the service's and the rack's."""

TASK_DEFINITION_MAX_BYTES = 64 * 1024
"""ECS's quota "Task definition size limit": 64 KiB, not adjustable."""

OS_MEMORY_SHARE = 0.03
"""About how much of a node's memory the kernel and system keep before ECS registers it: an
m4.large's 8192 MiB registers as 7985 MiB (2.5%, AWS's own example). A task within that
margin of a node's size fits on paper and may never be placed: a warning."""

_DEFAULT_RESERVED_MEMORY = int(ECS_CONFIG["ECS_RESERVED_MEMORY"])


def declared_at(manifest: Manifest, service: str, variable: str) -> str:
    """Where a service's variable is declared, as a key: its own list wins over the top level."""
    if any(v.name == variable for v in manifest.service(service).environment):
        return f"{manifest.source}: services.{service}.environment"
    return f"{manifest.source}: environment"


def check_environment(manifest: Manifest, settings: Mapping[str, Input]) -> None:
    """The manifest's and the settings' `APP`, `SERVICE`, `RACK` and `PORT`."""
    # A setting reaches a process when a service declares it (refused below) or takes every
    # setting (`*`); one that only fills a ${NAME} of the manifest is fine.
    everything = any(manifest.service_environment(n).everything for n in manifest.services)
    taken = [name for name in PAASKIT_VARIABLES if name in settings and everything]
    if taken:
        raise ConfigError(
            f"environment: {', '.join(taken)}: {_paaskits(taken)}; remove it from the app's "
            "settings"
        )
    for name, service in manifest.services.items():
        declared = manifest.service_environment(name)
        for variable in PAASKIT_VARIABLES:
            if variable in declared.variables:
                raise ConfigError(
                    f"{declared_at(manifest, name, variable)}: {variable}: "
                    f"{_paaskits([variable])}; remove it (the process reads paaskit's), or name "
                    "your variable otherwise"
                )
        if service.port is None:
            continue  # PORT is the user's own then
        given = declared.variables.get("PORT")
        if given is not None:
            _check_port(service, given, declared_at(manifest, name, "PORT"))
        value = settings.get("PORT")
        if isinstance(value, str) and "PORT" in declared.passed(settings):
            _check_port(service, value, "environment")


def _paaskits(names: list[str]) -> str:
    return (
        f"{' and '.join(names)} {'is' if len(names) == 1 else 'are'} paaskit's: every process "
        "gets APP (the app's name), SERVICE (its service's) and RACK (its rack's), as on Convox, "
        "and a value given here would never reach it"
    )


def _check_port(service: Service, value: str, key: str) -> None:
    assert service.port is not None
    try:
        buildpack.process_environment(
            port=service.port.port, memory_mib=None, declared={"PORT": value}, key=key
        )
    except buildpack.BuildpackError as exc:
        raise ConfigError(str(exc)) from None


# --------------------------------------------------------------------------- the rack


@dataclass(frozen=True)
class NodeSize:
    """One instance type of the rack's nodes."""

    name: str
    vcpus: int
    memory_mib: int


def node_sizes(nodes: Mapping[str, Any]) -> list[NodeSize]:
    """The rack's node types with their sizes (paaskit's table of instance types; the rack's
    own figures for its first type where the table does not know it)."""
    names = list(nodes.get("instanceTypes") or [nodes.get("instanceType")])
    out = []
    for name in names:
        if not name:
            continue
        try:
            found = instance_type(str(name))
        except InstanceTypeError:
            if name == nodes.get("instanceType") and nodes.get("vcpus") and nodes.get("memoryMib"):
                out.append(NodeSize(str(name), int(nodes["vcpus"]), int(nodes["memoryMib"])))
            continue
        out.append(NodeSize(found.name, found.vcpus, found.memory_mib))
    return out


def check_fits(service: Service, nodes: Mapping[str, Any] | None) -> list[str]:
    """Raises ConfigError when the service's tasks fit no node type of the rack, or more of
    them are asked for than the rack could ever hold; returns warnings (a task that fits
    only on paper, an agent too large for some nodes)."""
    if not nodes:
        return []
    sizes = node_sizes(nodes)
    if not sizes:
        return []
    reserved = int(nodes.get("reservedMemoryMib", _DEFAULT_RESERVED_MEMORY))
    cpu, memory = service.scale.cpu, service.scale.memory
    key = f"services.{service.name}.scale"

    def usable(size: NodeSize) -> int:
        return size.memory_mib - reserved

    fitting = [s for s in sizes if cpu <= s.vcpus * 1024 and memory <= usable(s)]
    larger = "give the rack larger nodes (paaskit-rack:instanceType)"
    if not fitting:
        by_cpu = max(sizes, key=lambda s: s.vcpus)
        by_memory = max(sizes, key=usable)
        if memory > usable(by_memory):
            raise ConfigError(
                f"{key}.memory: {memory} MiB fits on none of the rack's nodes: its largest, "
                f"{by_memory.name}, has {by_memory.memory_mib} MiB, of which {reserved} are kept "
                "for the ECS agent and the system (ECS_RESERVED_MEMORY), so a task takes at "
                f"most {usable(by_memory)} MiB there: lower scale.memory, or {larger}"
            )
        if cpu > by_cpu.vcpus * 1024:
            raise ConfigError(
                f"{key}.cpu: {cpu} CPU units fit on none of the rack's nodes: its largest, "
                f"{by_cpu.name}, has {by_cpu.vcpus} vCPUs, {by_cpu.vcpus * 1024} units: lower "
                f"scale.cpu, or {larger}"
            )
        shown = ", ".join(f"{s.name} ({s.vcpus * 1024} units, {usable(s)} MiB)" for s in sizes)
        raise ConfigError(
            f"{key}: {cpu} CPU units with {memory} MiB fit no single node type of the rack "
            f"({shown}): lower scale.cpu or scale.memory, or {larger}"
        )
    warnings = []
    if all(memory > s.memory_mib * (1 - OS_MEMORY_SHARE) - reserved for s in fitting):
        best = max(fitting, key=usable)
        warnings.append(
            f"{key}.memory: {memory} MiB leaves less than {OS_MEMORY_SHARE:.0%} of a "
            f"{best.name}'s {best.memory_mib} MiB to the system: ECS registers a node with "
            "what the kernel leaves (an m4.large's 8192 MiB as 7985), so the task may never be "
            "placed; lower scale.memory"
        )
    if service.agent.enabled:
        missed = [s.name for s in sizes if s not in fitting]
        if missed:
            warnings.append(
                f"{key}: an agent runs on every node, and {', '.join(missed)} nodes are too "
                f"small for {cpu} CPU units with {memory} MiB: those get none"
            )
        return warnings
    most = nodes.get("maxNodes")
    if most:
        best = max(fitting, key=lambda s: min(s.vcpus * 1024 // cpu, usable(s) // memory))
        per_node = min(best.vcpus * 1024 // cpu, usable(best) // memory)
        capacity = int(most) * per_node
        count = 1 if service.singleton else service.scale.max
        if count > capacity:
            raise ConfigError(
                f"{key}.count: {count} processes of {cpu} CPU units and {memory} MiB never fit "
                f"the rack: {per_node} fit on a node at most (a {best.name}), and the rack has "
                f"at most {int(most)} nodes (paaskit-rack:maxNodes), so {capacity} in all: lower "
                "scale.count or the size, or raise the rack's maxNodes"
            )
    return warnings


# --------------------------------------------------------------------------- task definitions


def check_definition_size(service: Service, text: str, *, known: bool = False) -> None:
    """A task definition's container definitions (`text`, or with `known` the part of them
    known before anything exists) are within ECS's 64 KiB."""
    size = len(text.encode("utf-8"))
    if size > TASK_DEFINITION_MAX_BYTES:
        whole = "at least " if known else ""
        raise ConfigError(
            f"services.{service.name}: its task definition is {whole}{size:,} bytes, more than the "
            f"{TASK_DEFINITION_MAX_BYTES:,} (64 KiB) ECS takes: its environment defaults, "
            "labels and command make most of it; move long values to the app's settings (each "
            "becomes a reference to a parameter) or into the image"
        )


def known_definition(
    manifest: Manifest, service: Service, settings: Mapping[str, Any] | None = None
) -> str:
    """What paaskit knows of a service's container definition before anything exists, as
    JSON: its environment defaults (those no setting overrides: a setting is a reference to
    its parameter), labels and command. The whole is larger."""
    known = {
        "environment": [
            {"name": k, "value": v}
            for k, v in manifest.service_environment(service.name).defaults.items()
            if k not in (settings or {})
        ],
        "dockerLabels": manifest.service_labels(service.name),
        "command": list(service.command_argv() or ()),
    }
    return json.dumps([known], sort_keys=True)


def checked(
    service: Service,
    definitions: pulumi.Output[str],
    nodes: pulumi.Input[dict[str, Any]] | None,
    warn: Callable[[str], None],
) -> pulumi.Output[str]:
    """The container definitions, once the checks that need their whole text and the rack's
    nodes (when those are an Output: a plain mapping is checked before anything, by
    `check_fits`) have passed; `warn` reports a warning.

    The two run apart: a `pulumi preview` that cannot know the definitions yet (an image
    still to build) still checks the nodes, which a rack's stack reference knows."""

    def fit(found: Any) -> None:
        if isinstance(found, Mapping):
            for message in check_fits(service, found):
                warn(message)

    def size(text: str) -> str:
        check_definition_size(service, text)
        return text

    fits = pulumi.Output.from_input(nodes).apply(fit) if isinstance(nodes, pulumi.Output) else None
    return pulumi.Output.all(definitions.apply(size), fits).apply(lambda v: str(v[0]))
