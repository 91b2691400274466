"""Pulumi projects on disk: `Pulumi.yaml`, stack config files, and running `main`.

This reads the files the way the Pulumi CLI does, so that `paaskit plan DIR`
sees the same program and the same config as `pulumi up` in DIR would:

- `Pulumi.yaml`: `name`, `runtime` (python), `main`, `stackConfigDir` and the
  project-level `config` block (values, and typed declarations with defaults);
- `Pulumi.<stack>.yaml`: the stack's `config`, keys namespaced as Pulumi writes
  them (`paaskit-rack:zones`, `aws:region`); as Pulumi, a key written twice,
  or a file that is not a UTF-8 YAML mapping, is an error naming the line;
- `-c KEY=VALUE` overrides, as `pulumi config set KEY VALUE` would set them
  (`-c KEY.path=VALUE` as `pulumi config set --path` would).

A stack the program reads (`pulumi.StackReference`) is planned when it reads
it, from its project found nearby; it must exist (have its stack file).

Encrypted (`secure:`) values cannot be decrypted offline: the plan runs with a
placeholder in their place and marks them secret, so they are never printed.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import json
import os
import re
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
    label: str = ""
    """The directory as the user wrote it (`stacks/app`), for messages; "" for the current one."""

    def full_key(self, key: str) -> str:
        """`zones` -> `paaskit-rack:zones`; namespaced keys are kept as they are."""
        return key if ":" in key else f"{self.name}:{key}"

    def stack_file(self, stack: str) -> Path:
        for ext in ("yaml", "yml"):
            candidate = self.stack_config_dir / f"Pulumi.{stack}.{ext}"
            if candidate.exists():
                return candidate
        return self.stack_config_dir / f"Pulumi.{stack}.yaml"


class _StrictLoader(yaml.SafeLoader):
    """YAML as Pulumi reads it: a key written twice in one mapping is an error, not a
    silent overwrite; a number too long for Python to hold is an error at its line."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} is written twice (first at line {seen[key]}); "
                    "Pulumi refuses the file: keep one",
                    key_node.start_mark,
                )
            if isinstance(key, str | int | float | bool):
                seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            digits = len(str(node.value))
            raise yaml.constructor.ConstructorError(
                None, None, f"a number of {digits} digits is too long", node.start_mark
            ) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _StrictLoader.construct_mapping
)


def _read_yaml(path: Path) -> Any:
    """A YAML file as data; any way it cannot be read is a PlanError naming the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PlanError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); "
            "Pulumi reads project and stack files as UTF-8"
        ) from None
    try:
        return yaml.load(text, Loader=_StrictLoader) or {}  # noqa: S506 - a SafeLoader
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise PlanError(
            f"{path}:{line}: not valid YAML: the character U+{exc.character:04X} is not allowed "
            "(YAML takes printable characters, tabs and line breaks)"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlanError(f"{where}: not valid YAML: {problem}") from None


def _as_config_string(value: Any) -> str:
    """Config values reach a program as strings, structured ones as JSON (as Pulumi does)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _label(directory: str | os.PathLike[str]) -> str:
    """How to name a project directory in messages: as written, "" for the current one."""
    text = os.fspath(directory)
    path = Path(text)
    if path.is_absolute():
        with suppress(ValueError):
            text = os.fspath(path.resolve().relative_to(Path.cwd().resolve()))
    return "" if text in ("", ".", "./") else text


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
    for key in ("main", "stackConfigDir"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise PlanError(f"{file}: {key}: expected a path (got {data[key]!r})")
    # `main` may lie outside the project's directory (`main: ../program/`), as Pulumi allows.
    main = (root / (data.get("main") or ".")).resolve()
    if not main.exists():
        raise PlanError(f"{file}: main: {data.get('main')} does not exist")
    stack_dir = (root / (data.get("stackConfigDir") or ".")).resolve()
    project = Project(
        name=name,
        dir=root,
        file=file,
        main=main,
        stack_config_dir=stack_dir,
        label=_label(directory),
    )
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


def _without_secrets(value: Any) -> tuple[Any, bool]:
    """A stack file's value with each `{secure: ...}` inside it replaced by the placeholder,
    and whether there was one (`pulumi config set --secret --path` writes them nested)."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        found = False
        out = {}
        for key, item in value.items():
            out[key], secret = _without_secrets(item)
            found = found or secret
        return out, found
    if isinstance(value, list):
        items = [_without_secrets(item) for item in value]
        return [item for item, _ in items], any(secret for _, secret in items)
    return value, False


_PATH_PART = re.compile(r'\.([^.\[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


def _split_path(key: str) -> tuple[str, list[str | int]] | None:
    """`ns:environment.SECRET_KEY` -> (`ns:environment`, ["SECRET_KEY"]); None for a plain key.

    The path syntax is `pulumi config set --path`'s: `.name`, `[0]`, `["a.b"]`.
    """
    namespace, colon, rest = key.rpartition(":")
    cut = min((i for i in (rest.find("."), rest.find("[")) if i > 0), default=-1)
    if cut < 0:
        return None
    base, tail = rest[:cut], rest[cut:]
    parts: list[str | int] = []
    while tail:
        found = _PATH_PART.match(tail)
        if found is None:
            raise PlanError(
                f'-c {key}: {tail!r} is not a path; write .name, [0] or ["a.b"] '
                "as `pulumi config set --path` takes them"
            )
        name, index, quoted = found.groups()
        parts.append(int(index) if index is not None else (name if name is not None else quoted))
        tail = tail[found.end() :]
    return namespace + colon + base, parts


def _set_path(item: str, key: str, current: str | None, parts: list[str | int], value: str) -> str:
    """The JSON of `current` (a mapping or list, or nothing) with `value` set at `parts`."""
    if current == SECRET_PLACEHOLDER:
        raise PlanError(f"-c {item}: {key} is encrypted; an offline plan cannot change inside it")
    try:
        root: Any = json.loads(current) if current is not None else None
    except ValueError:
        root = current
    if root is None:
        root = [] if isinstance(parts[0], int) else {}
    node: Any = root
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        fresh: Any = value if last else ([] if isinstance(parts[i + 1], int) else {})
        if isinstance(part, int) and isinstance(node, list):
            if part > len(node):
                raise PlanError(f"-c {item}: index {part} is past the end of a list of {len(node)}")
            if part == len(node):
                node.append(fresh)
            elif last:
                node[part] = fresh
        elif isinstance(part, str) and isinstance(node, dict):
            if last or not isinstance(node.get(part), (dict, list)):
                node[part] = fresh
        else:
            raise PlanError(
                f"-c {item}: {_path_text(key, parts[:i])} is not a "
                f"{'list' if isinstance(part, int) else 'mapping'}"
            )
        if not last:
            node = node[part]
    return json.dumps(root)


def _path_text(key: str, parts: Sequence[str | int]) -> str:
    """`key` and a path inside it, as `pulumi config set --path` writes them."""
    out = key
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def load_config(
    project: Project,
    stack: str,
    overrides: Sequence[str] = (),
    *,
    stack_required: bool = False,
) -> StackConfig:
    """Project defaults, then the stack file, then `-c KEY=VALUE` overrides.

    A `-c` key with a path (`environment.SECRET_KEY`, `endpoints[0]`) sets that
    place inside the key's mapping or list, as `pulumi config set --path` does.
    """
    values = dict(project.values)
    sources = dict.fromkeys(values, project.file.name)
    secret_keys: set[str] = set()
    stack_file = project.stack_file(stack)
    if stack_file.exists():
        data = _read_yaml(stack_file)
        if not isinstance(data, dict):
            raise PlanError(
                f"{stack_file}: expected a mapping at the top level, with the stack's settings "
                f"under config: (got {type(data).__name__} {_shown(data)})"
            )
        config = data.get("config") or {}
        if not isinstance(config, dict):
            raise PlanError(f"{stack_file}: config: expected a mapping of keys")
        written: dict[str, str] = {}
        for key, value in config.items():
            full = project.full_key(str(key))
            if full in written:
                raise PlanError(
                    f"{stack_file}: config: {written[full]!s} and {key!s} are the same key "
                    f"({full}); Pulumi refuses the file: keep one"
                )
            written[full] = str(key)
            plain, secret = _without_secrets(value)
            values[full] = (
                SECRET_PLACEHOLDER if plain == SECRET_PLACEHOLDER else _as_config_string(plain)
            )
            if secret:
                secret_keys.add(full)
            sources[full] = stack_file.name
    elif stack_required:
        raise PlanError(f"{stack_file}: no such stack config file for stack {stack!r}")
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise PlanError(f"-c {item}: expected KEY=VALUE")
        full = project.full_key(key.strip())
        split = None if full in project.specs else _split_path(full)
        if split is not None:
            full, parts = split
            value = _set_path(item, full, values.get(full), parts, value)
        values[full] = value
        sources[full] = "-c"
    for key, spec in project.specs.items():
        if spec.secret:
            secret_keys.add(key)
        if key in values:
            _check_type(spec, values[key], sources.get(key, ""))
    for key in values:
        _check_provider_key(key, sources.get(key, ""))
    return StackConfig(values=values, secret_keys=secret_keys, sources=sources)


_PROVIDER_CONFIG = re.compile(r"__config__\.get\w*\('(\w+)'")


@functools.cache
def provider_keys(package: str) -> frozenset[str]:
    """The config keys of a provider's default provider (`aws:region`), as its Python SDK
    reads them (`pulumi_<package>/config/vars.py`); empty if the SDK is not installed."""
    spec = importlib.util.find_spec(f"pulumi_{package}")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    source = Path(next(iter(spec.submodule_search_locations))) / "config" / "vars.py"
    try:
        text = source.read_text()
    except OSError:
        return frozenset()
    return frozenset(_PROVIDER_CONFIG.findall(text))


def _check_provider_key(key: str, source: str) -> None:
    """Refuse a key in a provider's namespace that the provider does not have, as the
    provider does (pulumi-aws v6: "`aws:regon` is not a valid configuration key for the
    aws provider"): a misspelt `aws:regon` would otherwise plan in the default region."""
    package, sep, name = key.partition(":")
    if not sep or package not in ("aws", "docker"):
        return
    known = provider_keys(package)
    if not known or name.split(".")[0] in known:
        return
    near = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f"; did you mean {package}:{near[0]}?" if near else ""
    where = f"{source}: " if source and source != "-c" else ("-c " if source == "-c" else "")
    raise PlanError(
        f"{where}{key}: not a configuration key of the {package} provider, which refuses it"
        f"{hint} (a setting of your own takes a namespace other than {package}:)"
    )


def _shown(value: Any, limit: int = 40) -> str:
    """A value for a message, shortened when long."""
    try:
        text = repr(value)
    except ValueError:
        return "(too large to show)"
    return text if len(text) <= limit else f"{text[: limit - 4]}...({len(text)} characters)"


def _check_type(spec: ConfigSpec, value: str, source: str) -> None:
    where = f"{source}: " if source else ""
    if value == SECRET_PLACEHOLDER:
        return
    got = _shown(value)
    if spec.type == "integer":
        digits = re.fullmatch(r"\s*[-+]?(\d+)\s*", value)
        if digits is None:
            raise PlanError(f"{where}{spec.key}: expected an integer, got {got}")
        if len(digits.group(1)) > 19:
            raise PlanError(
                f"{where}{spec.key}: expected an integer, got a number of "
                f"{len(digits.group(1))} digits (a Pulumi integer has at most 19)"
            )
    elif spec.type == "boolean" and value.lower() not in ("true", "false"):
        raise PlanError(f"{where}{spec.key}: expected true or false, got {got}")
    elif spec.type == "array":
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, list):
            raise PlanError(f"{where}{spec.key}: expected a list (JSON array), got {got}")


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
    if _depth > 3:
        raise PlanError(f"{project.file}: stack references nest too deeply")
    options = engine.RunOptions(
        project=project.name,
        stack=stack,
        config=config.values,
        secret_keys=sorted(config.secret_keys),
        refs=known,
        resolve_ref=lambda ref: _plan_reference(ref, project, config, _depth),
    )
    try:
        with _program_environment(program_dir):
            return engine.run(program, options)
    except engine.ProgramError as exc:
        raise PlanError(describe_program_error(exc, project)) from exc


def _set_by(ref: str, config: StackConfig) -> str:
    """The config keys whose value is `ref` (`paaskit-app:rack`), for messages."""
    keys = sorted(k for k, v in config.values.items() if v == ref)
    return f" (set by {', '.join(keys)})" if keys else ""


def _plan_reference(
    ref: str, project: Project, config: StackConfig, depth: int
) -> Mapping[str, Any]:
    """The outputs of the stack `ref`, by planning its project, found near `project`.

    The stack must exist: its stack file (`Pulumi.<stack>.yaml`) is where a
    stack lives in a repository, and planning a stack nobody made, with
    defaults, would show an app on a rack that is not there.
    """
    ref_project, ref_stack = _split_ref(ref, project.name)
    via = _set_by(ref, config)
    if ref_project == project.name:
        raise PlanError(
            f"the program reads stack {ref!r}{via}, a stack of its own project {project.name}; "
            "name the other stack in full, as organization/project/stack"
        )
    where = find_project(ref_project, project.dir)
    if where is None:
        raise PlanError(
            f"the program reads stack {ref!r}{via}, but no project named {ref_project!r} was "
            f"found near {project.dir}; give its outputs with --ref {ref}=FILE"
        )
    referenced = load_project(where)
    stack_file = referenced.stack_file(ref_stack)
    if not stack_file.exists():
        known = sorted(
            p.name.removeprefix("Pulumi.").rsplit(".", 1)[0]
            for p in referenced.stack_config_dir.glob("Pulumi.*.y*ml")
        )
        raise PlanError(
            f"the program reads stack {ref!r}{via}, but project {ref_project} has no stack "
            f"{ref_stack!r}: {stack_file} does not exist (its stacks: {', '.join(known) or 'none'}); "
            f"create it, or give the stack's outputs with --ref {ref}=FILE"
        )
    try:
        plan = plan_directory(where, stack=ref_stack, stack_required=True, _depth=depth + 1)
    except PlanError as exc:
        raise PlanError(
            f"the program reads stack {ref!r}{via}, which cannot be planned: {exc}"
        ) from exc
    return plan.outputs


def describe_program_error(exc: engine.ProgramError, project: Project) -> str:
    """A one-paragraph account of why the program failed: the key or file, not a traceback.

    It starts with the project and its directory as the user wrote it
    (`paaskit-app (stacks/app): ...`); the directory is left out when it is the
    current one, and the project when the message names a config key first.
    """
    from .errors import describe

    cause = exc.__cause__ if exc.__cause__ is not None else exc
    message = describe(cause)
    # Its own keys (`paaskit-rack:zones`) and a provider's (`aws:region`) alike.
    names_a_key = re.match(r"[a-z][\w-]*:[A-Za-z]\w*", message) is not None
    where = [] if names_a_key else [project.name]
    if project.label:
        where.append(f"({project.label})" if where else project.label)
    return f"{' '.join(where)}: {message}" if where else message
