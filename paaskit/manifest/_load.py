"""Reading a manifest: a file or folder, YAML without duplicate keys, `${NAME}` interpolation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ._coerce import ENV_NAME
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


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")


def _interpolate(
    data: Any, env: Mapping[str, str] | None, loc: Loc, problems: list[tuple[Loc, str]]
) -> Any:
    """Replaces `${NAME}` in string values (not keys), recording unknown names as problems."""
    if isinstance(data, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if not ENV_NAME.fullmatch(name):
                problems.append((loc, f"${{{name}}} is not a variable name"))
                return match.group(0)
            if env is None or name not in env:
                problems.append(
                    (
                        loc,
                        f"${{{name}}} has no value: pass env={{{name!r}: ...}} to load_manifest "
                        "(Convox would use an empty string)",
                    )
                )
                return match.group(0)
            return env[name]

        return _INTERPOLATION.sub(substitute, data)
    if isinstance(data, Mapping):
        return {k: _interpolate(v, env, (*loc, k), problems) for k, v in data.items()}
    if isinstance(data, list):
        return [_interpolate(v, env, (*loc, i), problems) for i, v in enumerate(data)]
    return data


def parse_manifest(
    text_or_data: str | Mapping[str, Any],
    *,
    source: str = "paaskit.yml",
    env: Mapping[str, str] | None = None,
    root: str | Path | None = None,
) -> Manifest:
    """Reads a manifest from YAML text or already-parsed data.

    `source` names it in errors; `env` gives the values of `${NAME}` interpolations;
    `root` is the folder relative paths start from (`Manifest.root`). Raises
    `ManifestError` listing every problem with its key path.
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
    problems: list[tuple[Loc, str]] = []
    data = _interpolate(data, env, (), problems)
    if problems:
        raise ManifestError(source, [(render_path(loc), msg) for loc, msg in problems])
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(source, problems_from(exc, Manifest)) from None
    manifest._source = source
    manifest._root = Path(root) if root is not None else None
    return manifest


def load_manifest(path: str | Path, *, env: Mapping[str, str] | None = None) -> Manifest:
    """Reads a manifest file, or the first of `MANIFEST_FILENAMES` in a folder.

    `env` gives the values of `${NAME}` interpolations. Raises `ManifestError`.
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
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(str(path), [("", "no such file")]) from None
    except UnicodeDecodeError as exc:
        raise ManifestError(
            str(path), [("", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]
        ) from None
    return parse_manifest(text, source=str(path), env=env, root=path.parent)
