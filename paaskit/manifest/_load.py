"""Reading a manifest: a file or folder, YAML without duplicate keys, `${NAME}` interpolation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ._coerce import ENV_NAME
from ._compose import read_compose_keys
from ._errors import Loc, ManifestError, problems_from, render_path, show
from ._models import Manifest

__all__ = [
    "MANIFEST_FILENAMES",
    "load_manifest",
    "parse_manifest",
]

MANIFEST_FILENAMES = ("paaskit.yml", "paaskit.yaml", "convox.yml", "convox.yaml")
"""What `load_manifest` looks for in a directory, in this order: paaskit's own name wins."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key written twice in one mapping is an error
    (PyYAML keeps the last silently, which hides a mistake); `<<` merges still override."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:
            continue  # an unhashable key: construct_mapping reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"duplicate key {show(key)}",
                key_node.start_mark,
            )
        seen.add(key)
    loader.flatten_mapping(node)
    return loader.construct_mapping(node, deep=True)


def _construct_int(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> int:
    # Python refuses to read a number of more than 4,300 digits (a guard against slow
    # parsing): that is the manifest's mistake, at its line, not a crash.
    try:
        return loader.construct_yaml_int(node)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, f"a number of {len(str(node.value))} digits is too long", node.start_mark
        ) from None


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)

_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")
_LEFT_OUT = object()
"""What a whole-value `${NAME}` that reads as empty becomes: the key is left out."""


@dataclass
class _Interpolation:
    """One pass of `${NAME}` substitution over a manifest, and what it found."""

    env: Mapping[str, str]
    strict: bool
    env_setting: str | None
    problems: list[tuple[Loc, str]] = field(default_factory=list)
    warnings: list[tuple[Loc, str]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)

    def where(self, name: str) -> str:
        """How the user gives NAME a value."""
        if self.env_setting is not None:
            return f"set {self.env_setting}.{name}"
        return f"give {name} in load_manifest's env"

    def value(self, data: Any, loc: Loc) -> Any:
        """`data` with `${NAME}` replaced in string values (never in keys), recursively.

        As in Convox an unset NAME reads as an empty string (a warning, or a problem when
        strict); a value that is a whole `${NAME}` and reads as empty is left out, as
        Convox's YAML reads `port: ${PORT}` with PORT unset as no port at all.
        """
        if isinstance(data, str):
            return self._string(data, loc)
        if isinstance(data, Mapping):
            out = {k: self.value(v, (*loc, k)) for k, v in data.items()}
            return {k: v for k, v in out.items() if v is not _LEFT_OUT}
        if isinstance(data, list):
            items = [self.value(v, (*loc, i)) for i, v in enumerate(data)]
            return [v for v in items if v is not _LEFT_OUT]
        return data

    def _string(self, text: str, loc: Loc) -> Any:
        whole = _INTERPOLATION.fullmatch(text) is not None

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if not ENV_NAME.fullmatch(name):
                self.problems.append((loc, f"${{{name}}} is not a variable name"))
                return match.group(0)
            self.names.add(name)
            if name in self.env:
                return self.env[name]
            if self.strict:
                self.problems.append(
                    (
                        loc,
                        f"${{{name}}} is not set (unset variables are errors here): "
                        f"{self.where(name)}",
                    )
                )
            elif whole:
                self.warnings.append(
                    (
                        loc,
                        f"${{{name}}} is not set, so the key is left out (Convox reads an "
                        f"empty value): {self.where(name)}",
                    )
                )
            else:
                self.warnings.append(
                    (
                        loc,
                        f"${{{name}}} is not set, so it reads as empty (as in Convox): "
                        f"{self.where(name)}",
                    )
                )
            return ""

        result = _INTERPOLATION.sub(substitute, text)
        return _LEFT_OUT if whole and result == "" else result


def _position(text: str, exc: yaml.reader.ReaderError) -> str:
    """Where a character YAML does not allow is, as a line and column, and which it is."""
    before = text[: exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    return (
        f"line {line}, column {column}: the character U+{exc.character:04X} is not allowed "
        "(YAML takes printable characters, tabs and line breaks)"
    )


def parse_manifest(
    text_or_data: str | Mapping[str, Any],
    *,
    source: str = "paaskit.yml",
    env: Mapping[str, str] | None = None,
    root: str | Path | None = None,
    strict: bool = False,
    env_setting: str | None = None,
) -> Manifest:
    """Reads a manifest from YAML text or already-parsed data.

    `source` names it in errors; `root` is the folder relative paths start from
    (`Manifest.root`). `env` gives the values of `${NAME}` interpolations: the app's
    settings, as Convox takes them from the app's environment. An unset NAME reads as
    empty, as in Convox, and becomes one of `Manifest.warnings`; with `strict` it is a
    problem instead. `env_setting` names where `env` comes from in those messages
    (`paaskit-app:environment`). Raises `ManifestError` listing every problem with its
    key path.
    """
    if isinstance(text_or_data, str):
        try:
            data: Any = yaml.load(text_or_data, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            raise ManifestError(
                source, [("", f"invalid YAML at {where}{exc.problem or exc}")]
            ) from None
        except yaml.reader.ReaderError as exc:
            raise ManifestError(
                source, [("", f"invalid YAML at {_position(text_or_data, exc)}")]
            ) from None
        except yaml.YAMLError as exc:
            raise ManifestError(source, [("", f"invalid YAML: {exc}")]) from None
    else:
        data = text_or_data
    if data is None:
        raise ManifestError(
            source, [("", "the manifest is empty: at least one service is required")]
        )
    if not isinstance(data, Mapping):
        raise ManifestError(source, [("", f"expected a mapping at the top (got {show(data)})")])
    # Top-level `x-` keys hold YAML anchors for the rest to reuse (Compose's convention).
    data = {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
    interpolation = _Interpolation(env or {}, strict, env_setting)
    data = interpolation.value(data, ())
    problems = [(render_path(loc), msg) for loc, msg in interpolation.problems]
    compose = read_compose_keys(data)
    problems += [(render_path(loc), msg) for loc, msg in compose.problems]
    written = {render_path(k): render_path(v) for k, v in compose.written.items()}
    try:
        manifest = Manifest.model_validate(compose.data)
    except ValidationError as exc:
        # A value whose interpolation failed says so once, not again as a bad value.
        bad = {path for path, _ in problems}
        problems += [
            (written.get(p, p), m) for p, m in problems_from(exc, Manifest) if p not in bad
        ]
    if problems:
        raise ManifestError(source, problems)
    manifest._source = source
    manifest._root = Path(root) if root is not None else None
    manifest._warnings = tuple(
        (render_path(loc), msg) for loc, msg in (*interpolation.warnings, *compose.warnings)
    )
    manifest._interpolated = frozenset(interpolation.names)
    return manifest


def load_manifest(
    path: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    strict: bool = False,
    env_setting: str | None = None,
) -> Manifest:
    """Reads a manifest file, or the first of `MANIFEST_FILENAMES` in a folder.

    `env`, `strict` and `env_setting` are `parse_manifest`'s: the values of `${NAME}`
    interpolations, whether an unset one is an error, and where the values come from.
    Raises `ManifestError`.
    """
    path = Path(path)
    if path.is_dir():
        for filename in MANIFEST_FILENAMES:
            if (path / filename).is_file():
                path = path / filename
                break
        else:
            raise ManifestError(
                str(path), [("", f"no {', '.join(MANIFEST_FILENAMES)} in this folder")]
            )
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ManifestError(str(path), [("", "no such file")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManifestError(
            str(path),
            [("", f"not UTF-8 text at line {line} ({exc.reason} at byte {exc.start})")],
        ) from None
    return parse_manifest(
        text, source=str(path), env=env, root=path.parent, strict=strict, env_setting=env_setting
    )
