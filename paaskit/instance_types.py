"""The EC2 instance-type catalogue and the choice of equivalent spot instance types.

A spot autoscaling group is only as reliable as the number of spot pools it may
draw from: AWS advises being flexible across many instance types, and the group's
``price-capacity-optimized`` strategy then picks the deepest, cheapest pools.
``SpotCluster`` therefore turns the one type (or size) a user names into several
*interchangeable* types, following the rule AutoSpotting made popular:

- **never smaller**: at least the base's vCPUs and memory (and its local
  instance storage, when it has any), so a task that fits the base fits everywhere;
- **never another CPU architecture**: the app image is built for one
  (``linux/amd64`` or ``linux/arm64``, see ``docker_platform``);
- **not absurdly larger**: first only types with the *same* vCPU count and
  1x-2x the memory; only when that gives fewer than ``MIN_CHOICES`` types does
  the search widen, step by step, to 2x vCPUs and 2x memory, 2x/4x, then 4x/4x.
  Bigger types cost more per hour and ECS would pack them unevenly.
- Never offered as alternatives: GPU/accelerator, bare-metal, on-demand-only and
  previous-generation types (AWS's ``CurrentGeneration`` flag), and burstable
  ``t*`` types unless the base is burstable itself (CPU credits make a ``t3``
  a different machine under load). The base type itself is kept when the user
  asked for it, even if it is previous-generation. Note that the AWS data the
  catalogue is generated from (moto 5.2.5) reports m5, c5, r5, m6i, r6i and r7g,
  among others, as not current generation: they are accepted as a base but not
  offered as alternatives (their successors and siblings are).

The result is ordered deterministically, the requested type first (with the
``prioritized`` on-demand strategy it is the one used for on-demand capacity),
then the closest sizes, same instance class (m/c/r...) before others, plain
types before variants with extras (local NVMe ``d``, network ``n``, ``z``,
``e``, ``b``, ``flex``), then the generation closest to the base's, newer first.

The catalogue ships with the package (``paaskit/data/instance_types.json``,
generated from AWS data by ``python -m paaskit.data.generate``). It knows
nothing of regions: pass ``available=`` (e.g. the names from
``aws.ec2.get_instance_type_offerings``) to keep only the types offered where the
group runs. Pure Python, no Pulumi import: usable from a CLI or a test.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ._suggest import suggestions
from .errors import PaaskitError

__all__ = [
    "DEFAULT_LIMIT",
    "MIN_CHOICES",
    "SIZE_BOUNDS",
    "Architecture",
    "Catalogue",
    "InstanceType",
    "InstanceTypeError",
    "MixedArchitecturesError",
    "NoFittingInstanceTypeError",
    "UnknownInstanceTypeError",
    "UnsupportedInstanceTypeError",
    "architecture",
    "catalogue",
    "docker_platform",
    "equivalent_instance_types",
    "instance_type",
    "instance_types_for_size",
    "load_catalogue",
    "validate_instance_types",
]

Architecture = Literal["x86_64", "arm64"]

#: How many types ``equivalent_instance_types`` returns at most. AWS's spot best
#: practice is to be flexible across at least 10 instance types.
DEFAULT_LIMIT = 10

#: Below this many choices (base included) the size bounds widen one step.
MIN_CHOICES = 3

#: (vCPU factor, memory factor) upper bounds tried in turn, relative to the base.
SIZE_BOUNDS: tuple[tuple[int, int], ...] = ((1, 2), (2, 2), (2, 4), (4, 4))

_COLUMNS = (
    "name",
    "family",
    "vcpus",
    "memory_mib",
    "architecture",
    "burstable",
    "current",
    "spot",
    "accelerators",
    "bare_metal",
    "network",
    "storage_gb",
)

_PLATFORMS: Mapping[str, str] = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}

# class letters, generation digits, then attribute letters: "m7i-flex" -> m, 7, i-flex
_FAMILY = re.compile(r"^(?P<cls>[a-z]+)-?(?P<gen>\d*)(?P<attrs>.*)$")
# Attribute letters that add a (priced) extra: local NVMe, network, high frequency,
# extra memory/storage, EBS bandwidth. Processor letters (a, g, i) are not extras.
_EXTRAS = frozenset("dnzeb")


class InstanceTypeError(PaaskitError, ValueError):
    """Base class of the errors this module raises."""


class UnknownInstanceTypeError(InstanceTypeError):
    """A name that is not in the catalogue."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self.suggestions = {name: _suggest(name) for name in self.names}
        parts = []
        for name in self.names:
            hint = self.suggestions[name]
            did_you_mean = f"; did you mean {', '.join(map(repr, hint))}?" if hint else ""
            parts.append(f"{name!r}{did_you_mean}")
        noun = "instance type" if len(self.names) == 1 else "instance types"
        super().__init__(f"unknown EC2 {noun} " + "; ".join(parts))


class UnsupportedInstanceTypeError(InstanceTypeError):
    """A known type that cannot be the base of a spot group (GPU, bare metal, no spot)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(
            f"instance type {name!r} {reason}; equivalent spot types are only chosen for "
            "general-purpose types: pick another type or list the types yourself"
        )


class NoFittingInstanceTypeError(InstanceTypeError):
    """No spot-capable type is at least as big as the requested size."""


class MixedArchitecturesError(InstanceTypeError):
    """A list of instance types that spans CPU architectures."""

    def __init__(self, by_architecture: Mapping[str, Sequence[str]]) -> None:
        self.by_architecture = {arch: tuple(names) for arch, names in by_architecture.items()}
        listed = "; ".join(
            f"{arch}: {', '.join(names)}" for arch, names in sorted(self.by_architecture.items())
        )
        super().__init__(
            "instance types must all have one CPU architecture, since the app image is built "
            f"for one; got {listed}"
        )


@dataclass(frozen=True)
class InstanceType:
    """One row of the catalogue."""

    name: str
    family: str
    vcpus: int
    memory_mib: int
    architecture: Architecture
    burstable: bool
    """AWS's BurstablePerformanceSupported flag (CPU credits)."""
    current: bool
    """AWS's CurrentGeneration flag."""
    spot: bool
    """Whether the type can be bought as spot at all."""
    accelerators: bool
    """GPU, FPGA, inference, Neuron or media accelerators present."""
    bare_metal: bool
    network: str
    storage_gb: int
    """Local instance-store size; 0 when the type is EBS only."""

    @property
    def platform(self) -> str:
        """The Docker platform of images that run on this type."""
        return _PLATFORMS[self.architecture]

    @property
    def instance_class(self) -> str:
        """The letters before the generation: "m" for m6i, "c" for c7g, "r" for r6id."""
        return _family_parts(self.family)[0]

    @property
    def generation(self) -> int:
        """The generation digit(s); 0 when the family has none."""
        return _family_parts(self.family)[1]

    @property
    def extras(self) -> frozenset[str]:
        """Priced extras in the family name: d, n, z, e, b letters and "flex"."""
        attrs = _family_parts(self.family)[2]
        found = {c for c in attrs.split("-", 1)[0] if c in _EXTRAS}
        if "flex" in attrs:
            found.add("flex")
        return frozenset(found)

    @property
    def is_burstable(self) -> bool:
        """Burstable by AWS's flag or by being a ``t*`` type (newer t types lack the flag)."""
        return self.burstable or self.instance_class == "t"

    def unsupported_reason(self) -> str | None:
        """Why this type cannot be offered as a spot type, or None."""
        if self.accelerators:
            return "has GPUs or other accelerators"
        if self.bare_metal:
            return "is bare metal"
        if not self.spot:
            return "is not sold as spot"
        return None


@dataclass(frozen=True)
class Catalogue:
    """The shipped catalogue: instance types by name, and the moto release it came from."""

    types: Mapping[str, InstanceType]
    moto_version: str


@functools.cache
def _family_parts(family: str) -> tuple[str, int, str]:
    match = _FAMILY.match(family)
    if match is None:  # pragma: no cover - every catalogue family matches
        return family, 0, ""
    gen = match.group("gen")
    return match.group("cls"), int(gen) if gen else 0, match.group("attrs")


@functools.cache
def load_catalogue() -> Catalogue:
    """Read the catalogue shipped in ``paaskit/data`` (once per process)."""
    text = (
        importlib.resources.files("paaskit.data")
        .joinpath("instance_types.json")
        .read_text(encoding="utf-8")
    )
    raw = json.loads(text)
    columns = tuple(raw["columns"])
    if columns != _COLUMNS:
        raise RuntimeError(
            f"paaskit/data/instance_types.json has columns {columns}, expected {_COLUMNS}: "
            "regenerate it with `python -m paaskit.data.generate`"
        )
    types = {}
    for values in raw["types"]:
        record = dict(zip(columns, values, strict=True))
        types[record["name"]] = InstanceType(**record)
    return Catalogue(types=types, moto_version=str(raw["moto_version"]))


def catalogue() -> Mapping[str, InstanceType]:
    """All known instance types by name."""
    return load_catalogue().types


def _suggest(name: str) -> list[str]:
    return suggestions(name.strip().lower(), catalogue().keys(), n=3)


def instance_type(name: str) -> InstanceType:
    """The catalogue entry of ``name``; raises UnknownInstanceTypeError with close names."""
    found = catalogue().get(name)
    if found is None:
        raise UnknownInstanceTypeError([name])
    return found


def architecture(name: str) -> Architecture:
    """The CPU architecture of an instance type: "x86_64" or "arm64"."""
    return instance_type(name).architecture


def docker_platform(name: str) -> str:
    """The image platform for an instance type: "linux/amd64" or "linux/arm64"."""
    return instance_type(name).platform


def validate_instance_types(names: Iterable[str]) -> Architecture:
    """Check a user's own list of types: not empty, no duplicates, all known, one architecture.

    Returns the common architecture. Each problem raises an InstanceTypeError
    naming the offending types.
    """
    names = list(names)
    if not names:
        raise InstanceTypeError("the list of instance types is empty; give at least one type")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InstanceTypeError(f"instance types listed more than once: {', '.join(duplicates)}")
    unknown = [n for n in names if n not in catalogue()]
    if unknown:
        raise UnknownInstanceTypeError(unknown)
    by_architecture: dict[str, list[str]] = {}
    for n in names:
        by_architecture.setdefault(architecture(n), []).append(n)
    if len(by_architecture) > 1:
        raise MixedArchitecturesError(by_architecture)
    return architecture(names[0])


@dataclass(frozen=True)
class _Base:
    vcpus: int
    memory_mib: int
    architecture: Architecture
    burstable: bool
    storage_gb: int
    type: InstanceType | None  # None when a bare size was asked for


def _eligible(t: InstanceType, base: _Base, available: Collection[str] | None) -> bool:
    return (
        t.architecture == base.architecture
        and t.unsupported_reason() is None
        and t.current
        and (base.burstable or not t.is_burstable)
        and t.vcpus >= base.vcpus
        and t.memory_mib >= base.memory_mib
        and t.storage_gb >= base.storage_gb
        and (base.type is None or t.name != base.type.name)
        and (available is None or t.name in available)
    )


def _rank(t: InstanceType, base: _Base) -> tuple[object, ...]:
    if base.type is None:
        same_class, extras, generation = 0, len(t.extras), (0, -t.generation)
    else:
        same_class = int(t.instance_class != base.type.instance_class)
        extras = len(t.extras - base.type.extras)
        generation = (abs(t.generation - base.type.generation), -t.generation)
    return (t.vcpus, t.memory_mib, same_class, extras, generation, t.name)


def _select(base: _Base, limit: int, available: Collection[str] | None) -> list[str]:
    if limit < 1:
        raise InstanceTypeError(f"limit must be at least 1, got {limit}")
    first = [base.type.name] if base.type is not None else []
    pool = [t for t in catalogue().values() if _eligible(t, base, available)]
    chosen: list[InstanceType] = []
    for vcpu_factor, memory_factor in SIZE_BOUNDS:
        chosen = [
            t
            for t in pool
            if t.vcpus <= base.vcpus * vcpu_factor
            and t.memory_mib <= base.memory_mib * memory_factor
        ]
        if len(first) + len(chosen) >= MIN_CHOICES:
            break
    chosen.sort(key=lambda t: _rank(t, base))
    return (first + [t.name for t in chosen])[:limit]


def equivalent_instance_types(
    name: str, *, limit: int = DEFAULT_LIMIT, available: Collection[str] | None = None
) -> list[str]:
    """Up to ``limit`` spot types interchangeable with ``name``, ``name`` first.

    Never smaller, never another architecture, bounded in size (see the module
    docstring). ``available`` restricts the alternatives to the given names
    (e.g. the region's offerings); the requested type is always kept.
    """
    base_type = instance_type(name)
    reason = base_type.unsupported_reason()
    if reason is not None:
        raise UnsupportedInstanceTypeError(name, reason)
    base = _Base(
        vcpus=base_type.vcpus,
        memory_mib=base_type.memory_mib,
        architecture=base_type.architecture,
        burstable=base_type.is_burstable,
        storage_gb=base_type.storage_gb,
        type=base_type,
    )
    return _select(base, limit, available)


def instance_types_for_size(
    vcpus: int,
    memory_mib: int,
    *,
    architecture: Architecture = "x86_64",
    burstable: bool = False,
    limit: int = DEFAULT_LIMIT,
    available: Collection[str] | None = None,
) -> list[str]:
    """Up to ``limit`` spot types with at least ``vcpus`` and ``memory_mib``, smallest first.

    ``architecture`` defaults to x86_64 because most container images are built
    for linux/amd64. Burstable ``t*`` types are left out unless ``burstable``.
    Raises NoFittingInstanceTypeError when no type is big enough.
    """
    if vcpus < 1 or memory_mib < 1:
        raise InstanceTypeError(
            f"a size needs at least 1 vCPU and 1 MiB of memory, got {vcpus} vCPUs "
            f"and {memory_mib} MiB"
        )
    if architecture not in _PLATFORMS:
        raise InstanceTypeError(
            f"architecture must be one of {', '.join(sorted(_PLATFORMS))}, got {architecture!r}"
        )
    base = _Base(
        vcpus=vcpus,
        memory_mib=memory_mib,
        architecture=architecture,
        burstable=burstable,
        storage_gb=0,
        type=None,
    )
    found = _select(base, limit, available)
    if not found:
        bound_vcpus, bound_memory = SIZE_BOUNDS[-1]
        raise NoFittingInstanceTypeError(
            f"no current-generation {architecture} spot instance type has between {vcpus} and "
            f"{vcpus * bound_vcpus} vCPUs and between {memory_mib} and "
            f"{memory_mib * bound_memory} MiB of memory"
            + ("" if available is None else " among the available types")
            + "; ask for a smaller size or another architecture"
        )
    return found
