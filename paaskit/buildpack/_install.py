"""How an app's dependencies install: its package manager, its lock file, the install steps.

As Heroku's Python buildpack: exactly one package manager file decides (`requirements.txt`,
`poetry.lock`, `uv.lock` or `Pipfile.lock`; two of them is an error, since guessing installs
what the developer did not test). paaskit also builds a `pyproject.toml` with no lock
(`pip install .`), which Heroku does not.

Lock files install what they pin, with the tool that wrote them, pinned (`TOOL_VERSIONS`) and
installed in the build stage only:

| file | install |
|---|---|
| `uv.lock` | `uv sync --locked --no-default-groups` (the lock must match pyproject.toml) |
| `poetry.lock` | `poetry install --only main --no-root`, then the project itself if it is a package |
| `Pipfile.lock` | `pipenv install --deploy --system` (fails when the lock is out of date) |
| `requirements.txt` | `pip install -r requirements.txt` |
| `pyproject.toml` | its `[project].dependencies`, then the project (`pip install --no-deps .`) |

Dependencies install before the app's code is copied, from the files they need alone, so the
layer is rebuilt only when they change; when installing needs the code (local packages, path
sources, uv workspaces) the code is copied first.
"""

from __future__ import annotations

import enum
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import BuildpackError, line_of, toml_error, where

__all__ = [
    "TOOLS_VENV",
    "TOOL_VERSIONS",
    "VENV",
    "AppKind",
    "Copy",
    "InstallPlan",
    "Run",
    "Step",
    "detect",
    "install_plan",
]

VENV = "/opt/venv"
"""Where the app's dependencies are installed: a virtualenv, the only thing the final image
takes from the build stage."""

TOOLS_VENV = "/opt/buildtools"
"""Where uv, Poetry or pipenv are installed in the build stage: apart from the app's venv, so
they never end up in the image or among the app's packages."""

TOOL_VERSIONS: Mapping[str, str] = {
    "uv": "0.13.9",
    "poetry": "2.5.1",
    "pipenv": "2026.10.3",
}
"""The package managers' versions, pinned so a build is the same tomorrow: the newest on PyPI
in August 2026 (Heroku's buildpack v351 pinned uv 0.12.5, Poetry 2.4.1, pipenv 2026.7.1). Each
reads the lock files its recent versions write."""


class AppKind(enum.Enum):
    """How an app declares its dependencies: the file that decides, as its value."""

    REQUIREMENTS = "requirements.txt"
    """`pip install -r requirements.txt`; the app runs from its folder."""

    PYPROJECT = "pyproject.toml"
    """`[project].dependencies`, and the project itself installed when it has a build system."""

    UV = "uv.lock"
    """uv's lock file, installed with `uv sync --locked`."""

    POETRY = "poetry.lock"
    """Poetry's lock file, installed with `poetry install`."""

    PIPENV = "Pipfile.lock"
    """Pipenv's lock file, installed with `pipenv install --deploy`."""

    @property
    def manager(self) -> str:
        """The tool that installs it: pip, uv, poetry or pipenv."""
        return {"uv.lock": "uv", "poetry.lock": "poetry", "Pipfile.lock": "pipenv"}.get(
            self.value, "pip"
        )


_MANAGER_FILES = (AppKind.PIPENV, AppKind.REQUIREMENTS, AppKind.POETRY, AppKind.UV)


def detect(app_dir: str | Path) -> AppKind:
    """What declares an app's dependencies: exactly one of requirements.txt, poetry.lock,
    uv.lock and Pipfile.lock, else pyproject.toml. BuildpackError naming the folder or the
    files otherwise."""
    root = Path(app_dir)
    if not root.is_dir():
        raise BuildpackError(f"{root}: no such folder")
    if (root / "Pipfile").is_file() and not (root / "Pipfile.lock").is_file():
        raise BuildpackError(
            f"{root / 'Pipfile'}: no Pipfile.lock beside it, so nothing pins what to install: "
            "run `pipenv lock` and commit Pipfile.lock"
        )
    found = [kind for kind in _MANAGER_FILES if (root / kind.value).is_file()]
    if len(found) > 1:
        names = ", ".join(kind.value for kind in found)
        raise BuildpackError(
            f"{root}: several package manager files ({names}): keep exactly one, so the "
            "install is the one you tested (Heroku refuses this too)"
        )
    if found:
        return found[0]
    if (root / "pyproject.toml").is_file():
        return AppKind.PYPROJECT
    hint = (
        " (setup.py alone is not enough: add a requirements.txt holding `.`)"
        if (root / "setup.py").is_file()
        else ""
    )
    raise BuildpackError(
        f"{root}: nothing to build from: no Dockerfile, requirements.txt, uv.lock, poetry.lock, "
        f"Pipfile.lock or pyproject.toml{hint}"
    )


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class Copy:
    """Copy app files into the build: app-relative POSIX paths; `.` is the whole app."""

    paths: tuple[str, ...]


@dataclass(frozen=True)
class Run:
    """Run a shell command (`/bin/sh -c`) in the app folder."""

    command: str
    """What `/bin/sh -c` gets: for a command written over several lines, exactly what Docker
    passes after joining them (each ` \\` line end becomes a space, indentation kept)."""
    comment: str | None = None
    lines: tuple[str, ...] = ()
    """How the Dockerfile writes it, when over several lines."""

    @classmethod
    def over_lines(cls, *lines: str, comment: str | None = None) -> Run:
        """A command the Dockerfile writes one line each, joined as Docker joins them."""
        return cls(" ".join(lines), comment, lines)


Step = Copy | Run


@dataclass(frozen=True)
class InstallPlan:
    """The build stage's install, as steps a Dockerfile and a test run the same way."""

    kind: AppKind
    tool: str | None
    """The package manager to install into `TOOLS_VENV` first (`uv==0.13.9`), if not pip."""
    environment: Mapping[str, str]
    """Variables the install steps need (values may name `VENV`), besides the venv's own."""
    steps: tuple[Step, ...]
    files: tuple[str, ...] = field(default=())
    """The dependency files read (for the generated Dockerfile's header and hashes)."""

    @property
    def manager(self) -> str:
        """pip, uv, poetry or pipenv."""
        return self.kind.manager


def install_plan(app_dir: str | Path, kind: AppKind | None = None) -> InstallPlan:
    """The install steps of the app in `app_dir` (its kind detected unless given).

    Raises BuildpackError naming the file and line of a lock file that cannot be read, or a
    dependency file that is missing or outside the app.
    """
    root = Path(app_dir)
    kind = kind or detect(root)
    if kind is AppKind.REQUIREMENTS:
        return _requirements_plan(root)
    if kind is AppKind.PYPROJECT:
        return _pyproject_plan(root)
    if kind is AppKind.UV:
        return _uv_plan(root)
    if kind is AppKind.POETRY:
        return _poetry_plan(root)
    return _pipenv_plan(root)


def _first_files(root: Path, *names: str) -> tuple[str, ...]:
    return tuple(name for name in names if (root / name).is_file())


# --------------------------------------------------------------------------- requirements.txt


def _inside(root: Path, path: Path, source: str) -> str:
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        raise BuildpackError(
            f"{source}: {path} is outside the app folder, which is the build context"
        ) from None
    return relative.as_posix()


def _requirement_lines(text: str) -> Iterator[tuple[int, str]]:
    """pip's reading: `\\` joins lines, `#` after whitespace (or first) starts a comment."""
    number = 0
    pending = ""
    start = 1
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        line = re.sub(r"(^|\s)#.*$", "", pending + raw).strip()
        pending = ""
        if line:
            yield start, line
    if pending.strip():
        yield start, pending.strip()


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _is_local(target: str) -> bool:
    """A path or file: URL rather than a package name or a remote URL."""
    if target.startswith("file:"):
        return True
    if _URL.match(target) or re.match(r"^(git|hg|svn|bzr)\+", target):
        return False
    return (
        target.startswith((".", "/", "~"))
        or "/" in target
        or target.endswith((".whl", ".tar.gz", ".zip"))
    )


@dataclass
class _Requirements:
    files: list[str] = field(default_factory=list)
    needs_source: bool = False


def _scan_requirements(root: Path, relative: str, found: _Requirements) -> None:
    """Collects a requirements file and every file it includes (`-r`, `-c`), recursively."""
    if relative in found.files:
        return
    found.files.append(relative)
    path = root / relative
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BuildpackError(f"{path}: not UTF-8 text ({exc.reason})") from None
    for number, line in _requirement_lines(text):
        option = re.match(
            r"^(-r|--requirement|-c|--constraint|-e|--editable|-f|--find-links)(?:\s*=?\s*)(.*)$",
            line,
        )
        if option:
            flag, value = option.group(1), option.group(2).strip()
            if flag in {"-r", "--requirement", "-c", "--constraint"}:
                if _URL.match(value):
                    continue  # pip downloads it
                included = _inside(root, path.parent / value, where(path, number))
                if not (root / included).is_file():
                    raise BuildpackError(
                        f"{where(path, number)}: includes {value}, which does not exist"
                    )
                _scan_requirements(root, included, found)
            elif _is_local(value):
                found.needs_source = True
            continue
        if line.startswith("-"):
            continue  # index, hash and binary options need no files
        target = line.split("@", 1)[1].strip() if " @ " in line or "@file:" in line else line
        if _is_local(target.split(";", 1)[0].strip()):
            found.needs_source = True


def _requirements_plan(root: Path) -> InstallPlan:
    found = _Requirements()
    _scan_requirements(root, "requirements.txt", found)
    steps: list[Step] = []
    if found.needs_source:
        steps.append(Copy((".",)))
    else:
        steps.append(Copy(tuple(found.files)))
    steps.append(Run("pip install -r requirements.txt"))
    return InstallPlan(AppKind.REQUIREMENTS, None, {}, tuple(steps), tuple(found.files))


# --------------------------------------------------------------------------- pyproject.toml


@dataclass(frozen=True)
class _Pyproject:
    data: Mapping[str, Any]
    dependencies: tuple[str, ...] | None
    """`[project].dependencies`, or None when not declared statically."""
    build_system: bool


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BuildpackError(f"{path}: not UTF-8 text ({exc.reason})") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise toml_error(path, exc) from None


def _read_pyproject(path: Path) -> _Pyproject:
    data, text = _read_toml(path)
    project = data.get("project", {})
    if not isinstance(project, dict):
        line = line_of(text, r"^\[project\]")
        raise BuildpackError(f"{where(path, line)}: [project] must be a table")
    dependencies = project.get("dependencies")
    dynamic = project.get("dynamic", [])
    static: tuple[str, ...] | None = None
    if "dependencies" not in dynamic and "project" in data:
        if dependencies is None:
            static = ()
        elif isinstance(dependencies, list) and all(isinstance(d, str) for d in dependencies):
            static = tuple(dependencies)
        else:
            line = line_of(text, r"^\s*dependencies\s*=")
            raise BuildpackError(
                f"{where(path, line)}: [project].dependencies must be a list of strings"
            )
    return _Pyproject(data, static, "build-system" in data)


def _sh_quote(word: str) -> str:
    """A shell word for a requirement: single quotes, or double ones around a marker like
    `'3.9'` (that has no character double quotes would expand)."""
    if "'" in word and not re.search(r'["$`\\!]', word):
        return f'"{word}"'
    if re.fullmatch(r"[A-Za-z0-9_.+/=:@-]+", word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"


def _pyproject_plan(root: Path) -> InstallPlan:
    project = _read_pyproject(root / "pyproject.toml")
    local = project.dependencies is not None and any(
        _is_local(d.split("@", 1)[1].split(";", 1)[0].strip())
        for d in project.dependencies
        if "@" in d
    )
    steps: list[Step] = []
    if project.dependencies is not None and not local:
        if project.dependencies:
            steps.append(Run("pip install " + " ".join(_sh_quote(d) for d in project.dependencies)))
        steps.append(Copy((".",)))
        if project.build_system:
            steps.append(Run("pip install --no-deps ."))
    else:
        steps += [
            Copy((".",)),
            Run(
                "pip install .",
                "pyproject.toml declares no static [project].dependencies, so pip needs the "
                "whole app to find them.",
            ),
        ]
    return InstallPlan(AppKind.PYPROJECT, None, {}, tuple(steps), ("pyproject.toml",))


# --------------------------------------------------------------------------- lock files


def _need(root: Path, lock: str, name: str, tool: str) -> None:
    if not (root / name).is_file():
        raise BuildpackError(
            f"{root / lock}: no {name} beside it, and {tool} installs from both: commit {name}"
        )


def _locked_packages(path: Path, data: Mapping[str, Any], text: str) -> list[dict[str, Any]]:
    packages = data.get("package", [])
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        line = line_of(text, r"^\s*package\s*=")
        raise BuildpackError(
            f"{where(path, line)}: `package` must be an array of tables: regenerate the lock file"
        )
    return packages


def _uv_plan(root: Path) -> InstallPlan:
    lock = root / "uv.lock"
    _need(root, "uv.lock", "pyproject.toml", "uv")
    data, text = _read_toml(lock)
    if not isinstance(data.get("version"), int):
        raise BuildpackError(
            f"{lock}: not a uv lock file (no `version = <number>` at the top): run `uv lock`"
        )
    packages = _locked_packages(lock, data, text)
    pyproject = _read_pyproject(root / "pyproject.toml")
    uv_settings = pyproject.data.get("tool", {}).get("uv", {})
    # Packages from the app's own folders (workspace members, path sources) need the code.
    local = any(
        isinstance(p.get("source"), dict)
        and any(
            key in p["source"] and p["source"][key] != "."
            for key in ("editable", "path", "directory", "virtual")
        )
        for p in packages
    )
    needs_source = local or (isinstance(uv_settings, dict) and "workspace" in uv_settings)
    sync = "uv sync --locked --no-default-groups --compile-bytecode"
    environment = {
        "UV_PROJECT_ENVIRONMENT": VENV,
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_LINK_MODE": "copy",
    }
    files = _first_files(root, "pyproject.toml", "uv.lock", ".python-version")
    steps: list[Step]
    if needs_source:
        steps = [
            Copy((".",)),
            Run(f"{sync} --no-editable", "uv.lock installs packages from the app's own folders."),
        ]
    else:
        steps = [
            Copy(files),
            Run(f"{sync} --no-install-project"),
            Copy((".",)),
            Run(f"{sync} --no-editable", "The project itself, when it is a package."),
        ]
    return InstallPlan(
        AppKind.UV, f"uv=={TOOL_VERSIONS['uv']}", environment, tuple(steps), ("uv.lock",)
    )


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _poetry_root_is_package(root: Path, data: Mapping[str, Any]) -> bool:
    """Whether `poetry install` would install the project itself: package mode, and a package
    where Poetry looks for one (declared `packages`, or `<name>`/`src/<name>` as a folder or
    module)."""
    poetry = data.get("tool", {}).get("poetry", {})
    if not isinstance(poetry, dict) or poetry.get("package-mode", True) is False:
        return False
    if poetry.get("packages"):
        return True
    name = poetry.get("name") or data.get("project", {}).get("name")
    if not isinstance(name, str):
        return False
    module = _normalise(name)
    return any(
        (root / base / module).is_dir() or (root / base / f"{module}.py").is_file()
        for base in (".", "src")
    )


def _poetry_plan(root: Path) -> InstallPlan:
    lock = root / "poetry.lock"
    _need(root, "poetry.lock", "pyproject.toml", "Poetry")
    data, text = _read_toml(lock)
    metadata = data.get("metadata")
    if not isinstance(metadata, dict) or "content-hash" not in metadata:
        raise BuildpackError(
            f"{lock}: not a Poetry lock file (no [metadata] content-hash): run `poetry lock`"
        )
    packages = _locked_packages(lock, data, text)
    local = any(
        isinstance(p.get("source"), dict) and p["source"].get("type") in {"directory", "file"}
        for p in packages
    )
    pyproject = _read_pyproject(root / "pyproject.toml")
    install = "poetry install --only main --no-interaction --no-ansi --compile"
    environment = {"POETRY_VIRTUALENVS_CREATE": "false"}
    root_package = _poetry_root_is_package(root, pyproject.data)
    steps: list[Step]
    if local:
        steps = [
            Copy((".",)),
            Run(
                install + ("" if root_package else " --no-root"),
                "poetry.lock installs packages from the app's own folders.",
            ),
        ]
    else:
        steps = [
            Copy(_first_files(root, "pyproject.toml", "poetry.lock", "poetry.toml")),
            Run(f"{install} --no-root"),
            Copy((".",)),
        ]
        if root_package:
            steps.append(
                Run(
                    "poetry install --only-root --no-interaction --no-ansi --compile",
                    "The project itself: it is a package.",
                )
            )
    return InstallPlan(
        AppKind.POETRY,
        f"poetry=={TOOL_VERSIONS['poetry']}",
        environment,
        tuple(steps),
        ("poetry.lock",),
    )


def _pipenv_plan(root: Path) -> InstallPlan:
    lock = root / "Pipfile.lock"
    _need(root, "Pipfile.lock", "Pipfile", "pipenv")
    text = lock.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BuildpackError(f"{where(lock, exc.lineno)}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("default"), dict):
        raise BuildpackError(
            f"{lock}: not a Pipfile.lock (no `default` section): run `pipenv lock`"
        )
    local = any(
        isinstance(entry, dict) and ("path" in entry or "file" in entry)
        for entry in data["default"].values()
    )
    install = "pipenv install --deploy --system"
    environment = {"PIPENV_VERBOSITY": "-1", "PIPENV_NOSPIN": "1"}
    steps: list[Step] = (
        [Copy((".",)), Run(install, "Pipfile.lock installs packages from the app's own folders.")]
        if local
        else [Copy(("Pipfile", "Pipfile.lock")), Run(install)]
    )
    return InstallPlan(
        AppKind.PIPENV,
        f"pipenv=={TOOL_VERSIONS['pipenv']}",
        environment,
        tuple(steps),
        ("Pipfile.lock",),
    )
