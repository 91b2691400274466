"""Who may import whom (docs/README.md, "The layout"), read from every module's imports.

Each module of paaskit belongs to one room of `ROOMS`; a room names the rooms
it may import from, and, where the design fixes it, the only third-party
packages it may use. Every `import` and `from ... import` of a module counts,
those inside functions too. A room whose modules do not exist yet (`ops`,
`cache`, `volume`) is already placed, so a new module lands under its rule.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import paaskit

PACKAGE = Path(paaskit.__file__).parent


@dataclass(frozen=True)
class Room:
    """A part of the package, by module names, and what it may import."""

    modules: tuple[str, ...]
    """Module names without `paaskit.`; a package name covers its submodules."""
    may_import: frozenset[str] = frozenset()
    """Other rooms it may import from (its own modules it always may)."""
    third_party: frozenset[str] | None = None
    """The only third-party packages it may import; None: no restriction."""
    exceptions: dict[tuple[str, str], str] = field(default_factory=dict)
    """(module, imported module) pairs allowed beyond `may_import`, each with its reason."""


LEAVES = frozenset({"leaves"})
FOUNDATION = LEAVES | {"settings", "foundation", "helpers"}

COMPONENT_ORDER: tuple[str, ...] = (
    *("network", "cluster", "loadbalancer", "cdn", "database", "cache", "volume"),
    *("rack", "app"),
)
"""Components, each on those before it: a rack composes the first ones, an app runs on a rack.
`cache` and `volume` (ElastiCache, EFS) are stateful resources beside `database`."""

LAMBDA_ONLY = frozenset({"boto3", "botocore"})

_COMPONENT_EXCEPTIONS: dict[str, dict[tuple[str, str], str]] = {
    "cluster": {
        ("paaskit.cluster", "paaskit.spot.wiring"): (
            "the spot handler's wiring (its environment, event patterns and IAM "
            "policy) is the contract between the component and the Lambda code; "
            "standard library only"
        ),
    },
    "app": {
        ("paaskit.app._pin", "paaskit.release.records"): (
            "a rollback pin reads the release record the deploy runner and paaskit rollback "
            "wrote: one format, one reader; standard library only"
        ),
    },
}
"""(module, imported module) pairs a component may import beyond its room, with the reason."""

ROOMS: dict[str, Room] = {
    # Run in AWS Lambda, shipped without the rest of paaskit: stdlib and boto3 only.
    "spot": Room(("spot",), third_party=LAMBDA_ONLY),
    "release": Room(("release",), third_party=LAMBDA_ONLY),
    "registry": Room(("registry",), third_party=LAMBDA_ONLY),
    # Depend on nothing else of paaskit; anyone outside Lambda may use them.
    # `command` is the one command rule: the App composes containers with it, and `ops`
    # (`paaskit run`) and `buildpack` (Procfile processes) apply the same one.
    "leaves": Room(
        (
            *("errors", "naming", "tags", "command", "aws_api", "_suggest", "_pydantic"),
            *("_providers", "prices"),
        )
    ),
    "data": Room(
        ("data",),
        may_import=LEAVES,
        exceptions={
            ("paaskit.data.generate_operations", "paaskit.permissions"): (
                "the generator regenerates the table permissions reads, from the services "
                "and verbs permissions names: one source for both"
            ),
        },
    ),
    "settings": Room(("config",), may_import=LEAVES),
    "foundation": Room(("_component", "_aws"), may_import=LEAVES | {"settings"}),
    # Pure Python that components use, and no component.
    "helpers": Room(
        ("instance_types", "manifest", "buildpack"), may_import=LEAVES | {"settings", "data"}
    ),
    **{
        name: Room(
            (name,),
            may_import=FOUNDATION | set(COMPONENT_ORDER[:i]),
            exceptions=_COMPONENT_EXCEPTIONS.get(name, {}),
        )
        for i, name in enumerate(COMPONENT_ORDER)
    },
    # A generic engine: it knows Pulumi, not paaskit's components.
    "plan": Room(("plan",), may_import=LEAVES),
    # Read plan records only, through the plan's vocabulary, and not each other.
    "cost": Room(("cost",), may_import=LEAVES | {"plan"}),
    "diagram": Room(("diagram",), may_import=LEAVES | {"plan"}),
    "policy": Room(
        ("policy",),
        may_import=LEAVES | {"plan"},
        exceptions={
            ("paaskit.policy.limits", "paaskit.config"): (
                "CloudWatch's retention periods (RETENTION_DAYS): the settings and the limit "
                "check must accept the very same list"
            ),
        },
    ),
    "testing": Room(("testing",), may_import=LEAVES | {"plan"}),
    # `paaskit start`: an app's processes on this machine, from its manifest and Procfile.
    "local": Room(("local",), may_import=LEAVES | {"settings", "helpers"}),
    # Day-2 operations on a deployed rack: boto3, and resources found by their tags.
    "ops": Room(("ops",), may_import=LEAVES | {"release"}, third_party=LAMBDA_ONLY),
    # The deployer's IAM policy, read from a plan's resource types.
    "permissions": Room(("permissions",), may_import=LEAVES | {"plan", "data"}),
    # The public API and the command line sit on top.
    "package": Room(("__init__",), may_import=frozenset(COMPONENT_ORDER) | LEAVES),
    "cli": Room(("cli", "__main__"), may_import=frozenset({"*"})),
}


def _module_name(path: Path) -> str:
    parts = ["paaskit", *path.relative_to(PACKAGE).with_suffix("").parts]
    if parts[-1] == "__init__" and len(parts) > 2:
        parts.pop()
    return ".".join(parts)


def _room_of(module: str) -> str | None:
    """The room of a paaskit module (`paaskit.plan.engine` -> plan), by its longest match."""
    rest = module.removeprefix("paaskit").removeprefix(".") or "__init__"
    best: tuple[int, str] | None = None
    for room_name, room in ROOMS.items():
        for prefix in room.modules:
            covers = rest == prefix or rest.startswith(prefix + ".")
            if covers and (best is None or len(prefix) > best[0]):
                best = (len(prefix), room_name)
    return best[1] if best else None


def _exists(module: str) -> bool:
    if not module.startswith("paaskit."):
        return False
    relative = Path(*module.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").is_file() or (PACKAGE / relative).is_dir()


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in a file."""
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                # `from .spot import wiring` imports the module paaskit.spot.wiring.
                submodule = f"{target}.{alias.name}"
                yield node.lineno, submodule if _exists(submodule) else target


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_room():
    homeless = [_module_name(p) for p in MODULES if _room_of(_module_name(p)) is None]
    assert homeless == []


def _wrong_imports(module: str, imports: Iterable[tuple[int, str]]) -> list[str]:
    room_name = _room_of(module)
    assert room_name is not None, f"{module} has no room"
    room = ROOMS[room_name]
    wrong = []
    for line, target in imports:
        top = target.split(".")[0]
        if top == "paaskit":
            other = _room_of(target)
            allowed = (
                other == room_name
                or "*" in room.may_import
                or other in room.may_import
                or (module, target) in room.exceptions
            )
            if not allowed:
                wrong.append(f"line {line}: {target} ({other})")
        elif top in sys.stdlib_module_names or top == "__future__":
            continue
        elif room.third_party is not None and top not in room.third_party:
            wrong.append(
                f"line {line}: {target} (third-party; allowed: {sorted(room.third_party)})"
            )
    return wrong


@pytest.mark.parametrize("path", MODULES, ids=[_module_name(p) for p in MODULES])
def test_a_module_imports_only_what_its_room_may(path):
    module = _module_name(path)
    assert _wrong_imports(module, _imports(path)) == [], f"{module} imports what it may not"


def test_nothing_imports_the_command_line():
    importers = [
        _module_name(p)
        for p in MODULES
        if p.name != "__main__.py" and any(target == "paaskit.cli" for _, target in _imports(p))
    ]
    assert importers == []


@pytest.mark.parametrize(
    ("module", "target"),
    [
        ("paaskit.plan.engine", "paaskit.cdn"),
        ("paaskit.cost", "paaskit.policy.rules.compute"),
        ("paaskit.diagram", "paaskit.network"),
        ("paaskit.loadbalancer", "paaskit.rack"),
        ("paaskit.network", "paaskit.cluster"),
        ("paaskit.spot.aws", "pulumi"),
        ("paaskit.spot.aws", "paaskit.config"),
        ("paaskit.release.handler", "paaskit.errors"),
        ("paaskit.registry.claims", "pulumi"),
        ("paaskit.registry.handler", "paaskit.config"),
        ("paaskit.config", "paaskit.network"),
        ("paaskit.app", "paaskit.cli"),
    ],
)
def test_the_rules_refuse_what_the_design_forbids(module, target):
    assert len(_wrong_imports(module, [(1, target)])) == 1


def test_the_rules_admit_what_the_design_allows():
    allowed = [
        ("paaskit.app", "paaskit.network"),
        ("paaskit.rack", "paaskit.database"),
        ("paaskit.cost", "paaskit.plan.values"),
        ("paaskit.cluster", "paaskit.spot.wiring"),
        ("paaskit.spot.aws", "boto3"),
        ("paaskit.ops.run", "paaskit.command"),
        ("paaskit.buildpack", "paaskit.command"),
        ("paaskit.cli", "paaskit.rack"),
    ]
    assert [m for m, t in allowed if _wrong_imports(m, [(1, t)])] == []
