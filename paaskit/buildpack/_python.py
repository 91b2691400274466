"""Which Python an app builds with, and the official image tag that has exactly it.

The request comes from the first of these that says (Heroku's Python buildpack's order, then
what uv and pip would read):

1. the `python_version` argument (`paaskit-app:pythonVersion`);
2. `runtime.txt` (`python-3.12.7`; deprecated on Heroku, still honoured);
3. `.python-version` (`3.12` or `3.12.7`, one version, `#` comments);
4. `Pipfile.lock`'s `_meta.requires.python_full_version`, then `python_version`;
5. `uv.lock`'s `requires-python`, then `pyproject.toml`'s `[project].requires-python`:
   the newest published release that satisfies it;
6. the default, `DEFAULT_PYTHON_MINOR` (Heroku's default too), with a warning.

A minor version (`3.12`) becomes its newest patch in the table of published tags
(`paaskit/data/python-images.json`, dated); an exact patch is kept as the app pins it. Either
way the tag is one that exists: the newest Debian release (trixie, then bookworm, bullseye) the
official image published that patch for. An old patch on an old Debian builds, with a warning
that names the newer patch; a version never published, or a minor past its end of life (as
Heroku refuses them), is an error naming the file and the line.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ._errors import BuildpackError, line_of, toml_error, where

__all__ = [
    "DEFAULT_PYTHON_MINOR",
    "END_OF_LIFE",
    "PythonVersion",
    "image_table",
    "latest_patches",
    "read_requires_python",
    "resolve_python",
    "satisfies",
]

DEFAULT_PYTHON_MINOR = "3.14"
"""What an app that names no version gets: the newest stable line, as Heroku's buildpack
(v351, 2026-08) defaults to. Name a version in `.python-version` rather than rely on it."""

END_OF_LIFE: Mapping[str, str] = {
    "3.8": "2024-10",
    "3.9": "2025-10",
    "3.10": "2026-10",
    "3.11": "2027-10",
    "3.12": "2028-10",
    "3.13": "2029-10",
    "3.14": "2030-10",
}
"""The month each line stops getting security fixes (PEP 602's five years; devguide.python.org/
versions). A line past it on the image table's date is refused, as Heroku refuses 3.9 and
older; one within a year of it builds with a warning."""


@dataclass(frozen=True)
class PythonVersion:
    """The Python an app builds with, where the request came from, and its base image."""

    version: str
    """The exact version, `3.12.14`."""
    variant: str
    """The Debian release of the image, `trixie`."""
    source: str
    """Where the request came from, app-relative: `.python-version:1`, `python_version` or
    `default` (the generated Dockerfile says it, so it must not depend on where the app is)."""
    warnings: tuple[str, ...] = field(default=())

    @property
    def minor(self) -> str:
        """`3.12` of `3.12.14`."""
        return self.version.rsplit(".", 1)[0]

    @property
    def tag(self) -> str:
        """The official image's tag, `3.12.14-slim-trixie`."""
        return f"{self.version}-slim-{self.variant}"

    @property
    def image(self) -> str:
        """`python:<tag>`."""
        return f"python:{self.tag}"


@cache
def image_table() -> Mapping[str, Any]:
    """The shipped table of the official image's published slim tags (see paaskit/data)."""
    text = resources.files("paaskit.data").joinpath("python-images.json").read_text()
    table: dict[str, Any] = json.loads(text)
    return table


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _variants_of(version: str) -> list[str]:
    """The Debian releases the table has `version` for, newest first."""
    table = image_table()
    minor = version.rsplit(".", 1)[0]
    per_variant = table["versions"].get(minor, {})
    return [v for v in table["variants"] if version in per_variant.get(v, ())]


def latest_patches() -> dict[str, str]:
    """The newest published patch of each supported line (past end of life excluded)."""
    table = image_table()
    out: dict[str, str] = {}
    for minor, per_variant in table["versions"].items():
        if _past_end_of_life(minor):
            continue
        newest = max((v for versions in per_variant.values() for v in versions), key=_key)
        out[minor] = newest
    return out


def _past_end_of_life(minor: str) -> bool:
    end = END_OF_LIFE.get(minor)
    return end is not None and end < str(image_table()["as_of"])[:7]


def _near_end_of_life(minor: str) -> str | None:
    end = END_OF_LIFE.get(minor)
    if end is None:
        return None
    year, month = (int(part) for part in str(image_table()["as_of"])[:7].split("-"))
    return end if end <= f"{year + 1:04d}-{month:02d}" else None


_REQUEST = re.compile(r"^3\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?$")


def _exact(requested: str, source: str, origin: str | None = None) -> PythonVersion:
    """The image for a request `3.X` or `3.X.Y` read from `source` (messages name it; the
    result's `source` is `origin`, the app-relative form, default `source`)."""
    text = requested.strip()
    match = _REQUEST.fullmatch(text)
    if not match:
        raise BuildpackError(
            f"{source}: expected a CPython version such as 3.12 or 3.12.7 (got {text!r})"
        )
    minor = f"3.{match.group(1)}"
    table = image_table()
    known = table["versions"]
    supported = ", ".join(m for m in known if not _past_end_of_life(m))
    if minor not in known:
        raise BuildpackError(
            f"{source}: Python {minor} has no official image in paaskit's table of published "
            f"tags (as of {table['as_of']}; supported: {supported}). If it was released since, "
            "refresh the table (python -m paaskit.data.python_images) or upgrade paaskit"
        )
    if _past_end_of_life(minor):
        raise BuildpackError(
            f"{source}: Python {minor} reached its end of life in {END_OF_LIFE[minor]} and gets "
            f"no security fixes; paaskit, like Heroku, builds only {supported}: upgrade"
        )
    warnings: list[str] = []
    latest = latest_patches()[minor]
    version = latest if match.group(2) is None else text
    variants = _variants_of(version)
    if not variants:
        raise BuildpackError(
            f"{source}: Python {version} was never published as an official slim image on "
            f"Debian {', '.join(table['variants'])} (table as of {table['as_of']}); "
            f"use {minor} (now {latest})"
        )
    if _key(version) < _key(latest):
        warnings.append(
            f"{source}: Python {version} is pinned; {latest} has the security fixes since. "
            f"Name {minor} to get the newest patch on every build"
        )
    if variants[0] != table["variants"][0]:
        warnings.append(
            f"{source}: Python {version} was published on Debian {variants[0]} at newest, so the "
            f"image is python:{version}-slim-{variants[0]}, on an older Debian than newer patches"
        )
    end = _near_end_of_life(minor)
    if end is not None:
        warnings.append(
            f"{source}: Python {minor} reaches its end of life in {end}: plan the upgrade"
        )
    return PythonVersion(version, variants[0], origin or source, tuple(warnings))


def _version_lines(path: Path) -> list[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BuildpackError(
            f"{path}: not UTF-8 text (save it as UTF-8 without a byte order mark)"
        ) from None
    text = text.removeprefix("\ufeff")
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.strip().startswith("#")
    ]


def _from_runtime_txt(path: Path) -> PythonVersion:
    lines = _version_lines(path)
    if not lines:
        raise BuildpackError(f"{path}: names no version (expected python-3.X.Y)")
    number, line = lines[0]
    match = re.fullmatch(r"python-(\S+)", line)
    if not match:
        raise BuildpackError(f"{where(path, number)}: expected python-3.X.Y (got {line!r})")
    return _exact(match.group(1), where(path, number), where(path.name, number))


def _from_python_version(path: Path) -> PythonVersion:
    lines = _version_lines(path)
    if not lines:
        raise BuildpackError(f"{path}: names no version")
    if len(lines) > 1:
        raise BuildpackError(
            f"{where(path, lines[1][0])}: a second version ({lines[1][1]!r}); "
            "name exactly one, such as 3.12"
        )
    number, line = lines[0]
    return _exact(line, where(path, number), where(path.name, number))


def _from_pipfile_lock(path: Path) -> PythonVersion | None:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BuildpackError(f"{where(path, exc.lineno)}: invalid JSON: {exc.msg}") from None
    requires = data.get("_meta", {}).get("requires", {}) if isinstance(data, dict) else {}
    if not isinstance(requires, dict):
        return None
    for key in ("python_full_version", "python_version"):
        value = requires.get(key)
        if value is not None:
            line = line_of(text, rf'"{key}"\s*:')
            return _exact(str(value), where(path, line), where(path.name, line))
    return None


def read_requires_python(path: Path) -> tuple[str, int | None] | None:
    """`requires-python` of a pyproject.toml (`[project]`) or uv.lock (top level), and its line."""
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise toml_error(path, exc) from None
    holder = data.get("project", {}) if path.name == "pyproject.toml" else data
    value = holder.get("requires-python") if isinstance(holder, dict) else None
    if value is None:
        return None
    line = line_of(text, r"^\s*requires-python\s*=")
    if not isinstance(value, str):
        raise BuildpackError(f"{where(path, line)}: requires-python must be a string")
    return value, line


def satisfies(version: str, specifier: str, source: str) -> bool:
    """Whether `version` meets a PEP 440 specifier set; enough of PEP 440 for `requires-python`."""
    have = _key(version)
    for clause in specifier.split(","):
        clause = clause.strip()
        if not clause:
            continue
        match = re.fullmatch(r"(~=|===|==|!=|<=|>=|<|>)\s*v?(\d+(?:\.\d+)*)(\.\*)?", clause)
        if not match:
            raise BuildpackError(f"{source}: cannot read requires-python clause {clause!r}")
        op, text, wildcard = match.groups()
        want = _key(text)
        width = max(len(have), len(want))
        padded_have = have + (0,) * (width - len(have))
        padded_want = want + (0,) * (width - len(want))
        if wildcard or op == "~=":
            prefix = want if wildcard else want[:-1]
            same = have[: len(prefix)] == prefix
            ok = (
                (same if op in {"==", "==="} else not same)
                if wildcard
                else (same and padded_have >= padded_want)
            )
        else:
            ok = {
                "==": padded_have == padded_want,
                "===": padded_have == padded_want,
                "!=": padded_have != padded_want,
                "<=": padded_have <= padded_want,
                ">=": padded_have >= padded_want,
                "<": padded_have < padded_want,
                ">": padded_have > padded_want,
            }[op]
        if not ok:
            return False
    return True


def _from_requires_python(path: Path) -> PythonVersion | None:
    found = read_requires_python(path)
    if found is None:
        return None
    spec, line = found
    source = where(path, line)
    # The newest release that qualifies: a supported line's newest patch first, then any
    # published patch (for a specifier such as ==3.12.3), newest first.
    candidates = sorted(latest_patches().values(), key=_key, reverse=True)
    table = image_table()
    every = sorted(
        (
            v
            for minor, per_variant in table["versions"].items()
            if not _past_end_of_life(minor)
            for v in {x for versions in per_variant.values() for x in versions}
        ),
        key=_key,
        reverse=True,
    )
    for candidate in [*candidates, *every]:
        if satisfies(candidate, spec, source):
            return _exact(candidate, source, where(path.name, line))
    raise BuildpackError(
        f"{source}: no supported Python release satisfies requires-python {spec!r} "
        f"(supported: {', '.join(latest_patches())}, as of {table['as_of']})"
    )


def resolve_python(
    app_dir: str | Path,
    requested: str | None = None,
    *,
    requested_source: str = "python_version",
    package_manager: str | None = None,
) -> PythonVersion:
    """The Python an app builds with (see the module's docstring for the order).

    `package_manager` is the one `detect_package_manager` found: `Pipfile.lock` is read only
    for pipenv apps, and `uv.lock` for uv apps, as their tools would.
    """
    root = Path(app_dir)
    if requested is not None:
        return _exact(requested, requested_source)
    for name, reader in (
        ("runtime.txt", _from_runtime_txt),
        (".python-version", _from_python_version),
    ):
        path = root / name
        if path.is_file():
            return reader(path)
    found: PythonVersion | None = None
    if package_manager in {None, "pipenv"} and (root / "Pipfile.lock").is_file():
        found = _from_pipfile_lock(root / "Pipfile.lock")
    for name in ("uv.lock", "pyproject.toml"):
        if found is None and (root / name).is_file():
            found = _from_requires_python(root / name)
    if found is not None:
        return found
    default = _exact(DEFAULT_PYTHON_MINOR, "default")
    return PythonVersion(
        default.version,
        default.variant,
        "default",
        (
            f"{root}: no Python version named (.python-version, runtime.txt, requires-python), so "
            f"paaskit's default {DEFAULT_PYTHON_MINOR} ({default.version}) it is; pin yours in "
            f".python-version, e.g. `{DEFAULT_PYTHON_MINOR}`",
        ),
    )
