"""Pulumi projects on disk: `Pulumi.yaml`, stack config files, and running `main`.

This reads the files the way the Pulumi CLI does, so that `paaskit plan DIR`
sees the same program and the same config as `pulumi up` in DIR would:

- `Pulumi.yaml`: `name`, `runtime` (python), `main`, `stackConfigDir` and the
  project-level `config` block (values, and typed declarations with defaults);
- `Pulumi.<stack>.yaml`: the stack's `config`, keys namespaced as Pulumi writes
  them (`paaskit-rack:zones`, `aws:region`);
- `-c KEY=VALUE` overrides, as `pulumi config set KEY VALUE` would set them.

Encrypted (`secure:`) values cannot be decrypted offline: the plan runs with a
placeholder in their place and marks them secret, so they are never printed.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from paaskit.errors import PaaskitError

from . import engine
from .model import Plan

__all__ = [
    "SECRET_PLACEHOLDER",
    "ConfigSpec",
    "PlanError",
    "Project",
    "StackConfig",
    "describe_program_error",
    "find_project",
    "load_config",
    "load_project",
    "parse_ref_file",
    "plan_directory",
    "program_of",
]

SECRET_PLACEHOLDER = "plan-placeholder-for-a-secret"  # noqa: S105 - stands in for one
"""The value a program sees for an encrypted config value during an offline plan."""

_TYPES = {"string", "integer", "boolean", "array"}


class PlanError(PaaskitError):
    """Planning failed; the message names the problem (file, key, value)."""


@dataclass(frozen=True)
class ConfigSpec:
    """One declaration of the project's `config` block."""

    key: str
    type: str | None
    default: Any = None
    has_default: bool = False
    description: str = ""
    secret: bool = False


@dataclass
class Project:
    """A Pulumi project read from its `Pulumi.yaml`."""

    name: str
    dir: Path
    file: Path
    main: Path
    stack_config_dir: Path
    specs: dict[str, ConfigSpec] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    """Values set directly in the project file (including provider keys like `aws:region`)."""

    def full_key(self, key: str) -> str:
        """`zones` -> `paaskit-rack:zones`; namespaced keys are kept as they are."""
        return key if ":" in key else f"{self.name}:{key}"

    def stack_file(self, stack: str) -> Path:
        for ext in ("yaml", "yml"):
            candidate = self.stack_config_dir / f"Pulumi.{stack}.{ext}"
            if candidate.exists():
                return candidate
        return self.stack_config_dir / f"Pulumi.{stack}.yaml"


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise PlanError(f"{path}: not valid YAML: {exc}") from exc


def _as_config_string(value: Any) -> str:
    """Config values reach a program as strings, structured ones as JSON (as Pulumi does)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def load_project(directory: str | os.PathLike[str]) -> Project:
    """Read `Pulumi.yaml` in `directory`."""
    root = Path(directory).resolve()
    if not root.is_dir():
        raise PlanError(f"{directory}: no such directory")
    file = next((root / n for n in ("Pulumi.yaml", "Pulumi.yml") if (root / n).exists()), None)
    if file is None:
        raise PlanError(f"{root}: no Pulumi.yaml here (a Pulumi project directory holds one)")
    data = _read_yaml(file)
    if not isinstance(data, dict):
        raise PlanError(f"{file}: expected a mapping at the top level")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise PlanError(f"{file}: name: a project needs a name")
    runtime = data.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise PlanError(
            f"{file}: runtime: the offline plan runs Python programs only, not {runtime_name!r}"
        )
    main = (root / str(data.get("main") or ".")).resolve()
    if not main.exists():
        raise PlanError(f"{file}: main: {data.get('main')} does not exist")
    stack_dir = (root / str(data.get("stackConfigDir") or ".")).resolve()
    project = Project(name=name, dir=root, file=file, main=main, stack_config_dir=stack_dir)
    config = data.get("config") or {}
    if not isinstance(config, dict):
        raise PlanError(f"{file}: config: expected a mapping of keys")
    for key, decl in config.items():
        full = project.full_key(str(key))
        if isinstance(decl, dict) and (
            "type" in decl or "default" in decl or "description" in decl
        ):
            type_ = decl.get("type")
            if type_ is not None and type_ not in _TYPES:
                raise PlanError(
                    f"{file}: config.{key}.type: {type_!r} is not one of {sorted(_TYPES)}"
                )
            spec = ConfigSpec(
                key=full,
                type=type_,
                default=decl.get("default"),
                has_default="default" in decl,
                description=str(decl.get("description", "")),
                secret=bool(decl.get("secret", False)),
            )
            project.specs[full] = spec
            if spec.has_default:
                project.values[full] = _as_config_string(spec.default)
        elif isinstance(decl, dict) and "value" in decl:
            project.values[full] = _as_config_string(decl["value"])
        else:
            project.values[full] = _as_config_string(decl)
    return project


@dataclass
class StackConfig:
    """The config a program sees, and which keys hold secrets."""

    values: dict[str, str]
    secret_keys: set[str]
    sources: dict[str, str]
    """Where each value came from (a file, or `-c`), for error messages."""


def load_config(
    project: Project,
    stack: str,
    overrides: Sequence[str] = (),
    *,
    stack_required: bool = False,
) -> StackConfig:
    """Project defaults, then the stack file, then `-c KEY=VALUE` overrides."""
    values = dict(project.values)
    sources = dict.fromkeys(values, project.file.name)
    secret_keys: set[str] = set()
    stack_file = project.stack_file(stack)
    if stack_file.exists():
        data = _read_yaml(stack_file)
        config = data.get("config") or {} if isinstance(data, dict) else {}
        if not isinstance(config, dict):
            raise PlanError(f"{stack_file}: config: expected a mapping of keys")
        for key, value in config.items():
            full = project.full_key(str(key))
            if isinstance(value, dict) and set(value) == {"secure"}:
                values[full] = SECRET_PLACEHOLDER
                secret_keys.add(full)
            else:
                values[full] = _as_config_string(value)
            sources[full] = stack_file.name
    elif stack_required:
        raise PlanError(f"{stack_file}: no such stack config file for stack {stack!r}")
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise PlanError(f"-c {item}: expected KEY=VALUE")
        full = project.full_key(key.strip())
        values[full] = value
        sources[full] = "-c"
    for key, spec in project.specs.items():
        if spec.secret:
            secret_keys.add(key)
        if key in values:
            _check_type(spec, values[key], sources.get(key, ""))
    return StackConfig(values=values, secret_keys=secret_keys, sources=sources)


def _check_type(spec: ConfigSpec, value: str, source: str) -> None:
    where = f"{source}: " if source else ""
    if value == SECRET_PLACEHOLDER:
        return
    if spec.type == "integer":
        try:
            int(value)
        except ValueError:
            raise PlanError(f"{where}{spec.key}: expected an integer, got {value!r}") from None
    elif spec.type == "boolean" and value.lower() not in ("true", "false"):
        raise PlanError(f"{where}{spec.key}: expected true or false, got {value!r}")
    elif spec.type == "array":
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, list):
            raise PlanError(f"{where}{spec.key}: expected a list (JSON array), got {value!r}")


def _entry_point(project: Project) -> Path:
    main = project.main
    if main.is_file():
        return main
    entry = main / "__main__.py"
    if not entry.exists():
        raise PlanError(f"{main}: no __main__.py (the Python program Pulumi would run)")
    return entry


@contextmanager
def _program_environment(program_dir: Path) -> Iterator[None]:
    """The working directory and import path Pulumi's Python host gives a program."""
    old_cwd = Path.cwd()
    sys.path.insert(0, str(program_dir))
    os.chdir(program_dir)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        with suppress(ValueError):
            sys.path.remove(str(program_dir))


def program_of(project: Project) -> Callable[[], None]:
    """A callable that runs the project's `main` as `__main__`, as Pulumi would."""
    entry = _entry_point(project)

    def program() -> None:
        runpy.run_path(str(entry), run_name="__main__")

    return program


def parse_ref_file(spec: str) -> tuple[str, dict[str, Any]]:
    """`NAME=FILE`: a stack's outputs from `pulumi stack output --json` or `paaskit plan --json`."""
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise PlanError(f"--ref {spec}: expected STACK=FILE")
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise PlanError(f"--ref {spec}: cannot read outputs from {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise PlanError(f"--ref {spec}: {path} does not hold a JSON object of outputs")
    if isinstance(data.get("outputs"), dict) and "resources" in data:
        data = data["outputs"]
    return name, data


def find_project(name: str, near: Path) -> Path | None:
    """The directory of the Pulumi project called `name`, searched from `near` upwards.

    Each ancestor of `near` is tried, and so are its immediate subdirectories and
    their subdirectories (`stacks/rack`), so sibling stacks in one repository find
    each other.
    """
    seen: set[Path] = set()
    for base in [near, *near.parents]:
        for candidate in [base, *sorted(base.glob("*/")), *sorted(base.glob("*/*/"))]:
            if candidate in seen or not candidate.is_dir():
                continue
            seen.add(candidate)
            for fname in ("Pulumi.yaml", "Pulumi.yml"):
                file = candidate / fname
                if file.exists():
                    try:
                        data = yaml.safe_load(file.read_text()) or {}
                    except yaml.YAMLError:
                        continue
                    if isinstance(data, dict) and data.get("name") == name:
                        return candidate
        if (base / ".git").exists():
            break
    return None


def _split_ref(ref: str, current_project: str) -> tuple[str, str]:
    parts = ref.split("/")
    if len(parts) >= 3:
        return parts[-2], parts[-1]
    if len(parts) == 2:
        return parts[0], parts[1]
    return current_project, parts[0]


def plan_directory(
    directory: str | os.PathLike[str],
    *,
    stack: str = "dev",
    overrides: Sequence[str] = (),
    refs: Mapping[str, Mapping[str, Any]] | None = None,
    stack_required: bool = False,
    _depth: int = 0,
) -> Plan:
    """Plan the Pulumi project in `directory` for `stack`.

    A stack reference to another project is answered from `refs` when given;
    otherwise the referenced project is found near `directory` and planned
    first, in-process, and its outputs are used.
    """
    project = load_project(directory)
    config = load_config(project, stack, overrides, stack_required=stack_required)
    known: dict[str, Mapping[str, Any]] = dict(refs or {})
    program = program_of(project)
    program_dir = project.main if project.main.is_dir() else project.main.parent
    for _ in range(8):
        options = engine.RunOptions(
            project=project.name,
            stack=stack,
            config=config.values,
            secret_keys=sorted(config.secret_keys),
            refs=known,
        )
        try:
            with _program_environment(program_dir):
                return engine.run(program, options)
        except engine.MissingStackReference as missing:
            if _depth > 3:
                raise PlanError(f"{project.file}: stack references nest too deeply") from missing
            for ref in missing.names:
                known[ref] = _plan_reference(ref, project, _depth)
        except engine.ProgramError as exc:
            raise PlanError(describe_program_error(exc, project)) from exc
    raise PlanError(f"{project.file}: could not resolve stack references")


def _plan_reference(ref: str, project: Project, depth: int) -> Mapping[str, Any]:
    ref_project, ref_stack = _split_ref(ref, project.name)
    where = find_project(ref_project, project.dir)
    if where is None:
        raise PlanError(
            f"the program reads stack {ref!r}, but no project named {ref_project!r} was found "
            f"near {project.dir}; give its outputs with --ref {ref}=FILE"
        )
    plan = plan_directory(where, stack=ref_stack, _depth=depth + 1)
    return plan.outputs


def describe_program_error(exc: engine.ProgramError, project: Project) -> str:
    """A one-paragraph account of why the program failed: the key or file, not a traceback."""
    from .errors import describe

    cause = exc.__cause__ if exc.__cause__ is not None else exc
    return (
        f"{project.name} ({project.main.relative_to(project.dir) if project.main != project.dir else '.'}): "
        + describe(cause)
    )
