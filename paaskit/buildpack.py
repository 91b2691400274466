"""A Dockerfile for a Python app that has none, like a Heroku buildpack, and Dockerfile reading.

For a folder holding `requirements.txt` or `pyproject.toml` (and optionally `Procfile`,
`runtime.txt` or `.python-version`), `generate_dockerfile` writes a Dockerfile that:

- starts from the official slim Python image at an exact version (`PYTHON_PATCHES`),
  optionally pinned by digest as well;
- installs the dependencies into a virtualenv in a build stage, in a layer that is
  rebuilt only when the dependency list changes, and copies only that virtualenv into
  the final image, so pip's caches and any build tools stay behind;
- runs as an unprivileged user (uid 10001) that cannot write the app's code;
- sets `PYTHONDONTWRITEBYTECODE` and `PYTHONUNBUFFERED` (logs reach CloudWatch at once);
- `EXPOSE`s the port when known, and runs the Procfile's `web` process (or a given
  command) as its CMD, by paaskit's one command rule (`paaskit.command`): split into
  words, or through `/bin/sh -c` with `exec` when it has shell syntax, so the app is
  PID 1's child and SIGTERM reaches it.

The same inputs always give byte-identical output, so the image's build cache holds.

`image_command` reads the ENTRYPOINT and CMD a Dockerfile leaves on its final stage:
what a container of the image runs when a task gives no command.

`wrap_command` and `url_env_snippet` built `DATABASE_URL` in a shell prelude at container
start. The App no longer uses them (`<NAME>_URL` now arrives as an ECS secret, whatever
the image's ENTRYPOINT); they stay until the buildpack's rework removes them.

Pure Python (standard library only).
"""

from __future__ import annotations

import enum
import json
import re
import shlex
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .command import command_argv
from .errors import PaaskitError

__all__ = [
    "APP_UID",
    "BASE_IMAGE_VARIANT",
    "DEFAULT_PYTHON_VERSION",
    "DOCKERIGNORE",
    "PYTHON_PATCHES",
    "AppKind",
    "BuildpackError",
    "detect",
    "generate_dockerfile",
    "image_command",
    "parse_procfile",
    "resolve_python_version",
    "url_env_snippet",
    "wrap_command",
]


class BuildpackError(PaaskitError, ValueError):
    """Nothing to build, or an input file is wrong. The message names the file."""


PYTHON_PATCHES: Mapping[str, str] = {
    "3.10": "3.10.19",
    "3.11": "3.11.14",
    "3.12": "3.12.12",
    "3.13": "3.13.9",
    "3.14": "3.14.0",
}
"""The exact version a `3.X` request builds with: each line's release of October 2025, all
published as official `-slim-trixie` images. Bump deliberately: a new patch is a new base."""

DEFAULT_PYTHON_VERSION = PYTHON_PATCHES["3.12"]
"""What an app that names no version gets: 3.12, which every maintained library supports."""

BASE_IMAGE_VARIANT = "slim-trixie"
"""The official image variant: Debian 13 (trixie, the current stable) without compilers."""

APP_UID = 10001
"""The unprivileged user the app runs as: outside the range of system and login users."""

DOCKERIGNORE = """\
# Suggested by paaskit.buildpack: keeps the build context small and secrets out of images.
.git
.hg
.svn
**/__pycache__
**/*.py[cod]
.venv
venv
.env
.env.*
*.egg-info
.eggs
.tox
.nox
.pytest_cache
.mypy_cache
.ruff_cache
.coverage
htmlcov
node_modules
Dockerfile
.dockerignore
"""
"""A `.dockerignore` for a generated build. With BuildKit it can sit beside a Dockerfile
kept outside the app folder as `<Dockerfile name>.dockerignore`."""


class AppKind(enum.Enum):
    """How an app declares its dependencies."""

    REQUIREMENTS = "requirements.txt"
    """`pip install -r requirements.txt`; the app runs from its folder."""

    PYPROJECT = "pyproject.toml"
    """`[project].dependencies`, and the project itself installed when it has a build system."""


def detect(app_dir: str | Path) -> AppKind:
    """What kind of Python app a folder holds; requirements.txt wins over pyproject.toml
    (it is usually the pinned list). Raises BuildpackError naming the folder if neither."""
    root = Path(app_dir)
    if not root.is_dir():
        raise BuildpackError(f"{root}: no such folder")
    for kind in AppKind:
        if (root / kind.value).is_file():
            return kind
    hints = [
        f"{name} is not supported: {hint}"
        for name, hint in (
            ("Pipfile", "export it with `pipenv requirements > requirements.txt`"),
            (
                "poetry.lock",
                "add a pyproject.toml with a [project] table, or export requirements.txt",
            ),
            ("setup.py", "add a pyproject.toml or a requirements.txt holding `.`"),
        )
        if (root / name).is_file()
    ]
    raise BuildpackError(
        f"{root}: nothing to build from: no Dockerfile, requirements.txt or pyproject.toml"
        + (f" ({'; '.join(hints)})" if hints else "")
    )


# --------------------------------------------------------------------------- Procfile

_PROCESS_TYPE = re.compile(r"^([A-Za-z0-9_-]{1,63})\s*:\s*(.*)$")


def parse_procfile(text: str, *, source: str = "Procfile") -> dict[str, str]:
    """Reads a Procfile: `<process type>: <command>` per line, `#` comments and blank lines.

    Process types are letters, digits, `_` and `-` (at most 63). Unlike Heroku, which skips
    lines it cannot read, any other line is an error naming `source` and the line number,
    so a merge conflict marker never silently drops a process; so is a type given twice.
    """
    processes: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _PROCESS_TYPE.match(stripped)
        if not match:
            raise BuildpackError(
                f"{source}:{number}: expected `<process type>: <command>`: {line!r}"
            )
        name, command = match.group(1), match.group(2).strip()
        if not command:
            raise BuildpackError(f"{source}:{number}: process {name!r} has no command")
        if name in processes:
            raise BuildpackError(f"{source}:{number}: process {name!r} is declared twice")
        processes[name] = command
    return processes


# --------------------------------------------------------------------------- Python version

_VERSION = re.compile(r"^3\.(\d{1,2})(?:\.(\d{1,3}))?$")


def _exact_version(requested: str, source: str) -> str:
    text = requested.strip()
    match = _VERSION.fullmatch(text)
    if not match:
        raise BuildpackError(
            f"{source}: expected a CPython version such as 3.12 or 3.12.7 (got {text!r})"
        )
    if match.group(2) is not None:
        return text  # an exact patch, as the app pins it
    line = f"3.{match.group(1)}"
    if line not in PYTHON_PATCHES:
        known = ", ".join(PYTHON_PATCHES)
        raise BuildpackError(
            f"{source}: no pinned release of Python {line} (known: {known}); "
            f"pin an exact version such as {line}.0"
        )
    return PYTHON_PATCHES[line]


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _satisfies(version: str, specifier: str, source: str) -> bool:
    """A small reading of PEP 440 specifiers, enough for `requires-python`."""
    have = _version_tuple(version)
    for clause in specifier.split(","):
        clause = clause.strip()
        if not clause:
            continue
        match = re.fullmatch(r"(~=|===|==|!=|<=|>=|<|>)\s*(\d+(?:\.\d+)*)(\.\*)?", clause)
        if not match:
            raise BuildpackError(f"{source}: cannot read requires-python clause {clause!r}")
        op, text, wildcard = match.groups()
        want = _version_tuple(text)
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


def resolve_python_version(app_dir: str | Path, requested: str | None = None) -> str:
    """The exact Python version an app builds with, from the first that says:

    1. `requested` (for example from the stack's settings);
    2. `runtime.txt` (Heroku's `python-3.12.7` or `python-3.12`);
    3. `.python-version` (pyenv's and uv's `3.12` or `3.12.7`);
    4. `requires-python` in pyproject.toml: the release in `PYTHON_PATCHES` nearest the
       default that qualifies (the default itself, else the next newer, else older);
    5. `DEFAULT_PYTHON_VERSION`.

    A `3.X` without a patch resolves through `PYTHON_PATCHES`.
    """
    root = Path(app_dir)
    if requested is not None:
        return _exact_version(requested, "python_version")
    runtime = root / "runtime.txt"
    if runtime.is_file():
        text = runtime.read_text(encoding="utf-8").strip()
        if not text.startswith("python-"):
            raise BuildpackError(f"{runtime}: expected python-3.X.Y (got {text!r})")
        return _exact_version(text.removeprefix("python-"), str(runtime))
    pyenv = root / ".python-version"
    if pyenv.is_file():
        lines = [
            line.strip()
            for line in pyenv.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]
        if not lines:
            raise BuildpackError(f"{pyenv}: names no version")
        return _exact_version(lines[0], str(pyenv))
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        spec = _read_pyproject(pyproject).requires_python
        if spec:
            source = f"{pyproject}: requires-python"
            default = _version_tuple(DEFAULT_PYTHON_VERSION)
            newer = sorted(
                (v for v in PYTHON_PATCHES.values() if _version_tuple(v) >= default),
                key=_version_tuple,
            )
            older = sorted(
                (v for v in PYTHON_PATCHES.values() if _version_tuple(v) < default),
                key=_version_tuple,
            )
            # The release nearest the default that qualifies: newer first, then older.
            for candidate in [*newer, *reversed(older)]:
                if _satisfies(candidate, spec, source):
                    return candidate
            raise BuildpackError(f"{source}: no known Python release satisfies {spec!r}")
    return DEFAULT_PYTHON_VERSION


# --------------------------------------------------------------------------- dependency files


@dataclass
class _Dependencies:
    """What the dependency layer needs: files to copy first, and how to install."""

    files: list[str] = field(default_factory=list)
    """App-relative POSIX paths copied before installing."""

    needs_source: bool = False
    """Installing needs the whole app (local or editable packages): no separate layer."""


def _inside(root: Path, path: Path, source: str) -> str:
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        raise BuildpackError(
            f"{source}: {path} is outside the app folder, which is the build context"
        ) from None
    return relative.as_posix()


def _requirement_lines(text: str) -> Iterator[str]:
    """pip's reading: `\\` joins lines, `#` after whitespace (or first) starts a comment."""
    joined = re.sub(r"\\\r?\n", "", text)
    for line in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            yield line


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


def _scan_requirements(root: Path, relative: str, found: _Dependencies) -> None:
    """Collects a requirements file and every file it includes (`-r`, `-c`), recursively."""
    if relative in found.files:
        return
    found.files.append(relative)
    path = root / relative
    for line in _requirement_lines(path.read_text(encoding="utf-8")):
        option = re.match(
            r"^(-r|--requirement|-c|--constraint|-e|--editable|-f|--find-links)(?:\s*=?\s*)(.*)$",
            line,
        )
        if option:
            flag, value = option.group(1), option.group(2).strip()
            if flag in {"-r", "--requirement", "-c", "--constraint"}:
                if _URL.match(value):
                    continue  # pip downloads it
                included = _inside(root, path.parent / value, str(path))
                if not (root / included).is_file():
                    raise BuildpackError(f"{path}: includes {value}, which does not exist")
                _scan_requirements(root, included, found)
            elif _is_local(value):
                found.needs_source = True
            continue
        if line.startswith("-"):
            continue  # index, hash and binary options need no files
        target = line.split("@", 1)[1].strip() if " @ " in line or "@file:" in line else line
        if _is_local(target.split(";", 1)[0].strip()):
            found.needs_source = True


@dataclass(frozen=True)
class _Pyproject:
    dependencies: tuple[str, ...] | None
    """`[project].dependencies`, or None when not declared statically."""
    build_system: bool
    requires_python: str | None


def _read_pyproject(path: Path) -> _Pyproject:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BuildpackError(f"{path}: invalid TOML: {exc}") from None
    project = data.get("project", {})
    if not isinstance(project, dict):
        raise BuildpackError(f"{path}: [project] must be a table")
    dependencies = project.get("dependencies")
    dynamic = project.get("dynamic", [])
    static: tuple[str, ...] | None = None
    if "dependencies" not in dynamic and "project" in data:
        if dependencies is None:
            static = ()
        elif isinstance(dependencies, list) and all(isinstance(d, str) for d in dependencies):
            static = tuple(dependencies)
        else:
            raise BuildpackError(f"{path}: [project].dependencies must be a list of strings")
    requires = project.get("requires-python")
    if requires is not None and not isinstance(requires, str):
        raise BuildpackError(f"{path}: requires-python must be a string")
    return _Pyproject(static, "build-system" in data, requires)


# --------------------------------------------------------------------------- Dockerfile


def _copy(path: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9._/@+-]+", path):
        return f"COPY {path} {path}"
    return f"COPY {json.dumps([path, path])}"


def _sh_quote(word: str) -> str:
    """shlex.quote, but double quotes for a requirement with a marker like `'3.9'` in it."""
    if "'" in word and not re.search(r'["$`\\!]', word):
        return f'"{word}"'
    return shlex.quote(word)


def _run_pip(arguments: Sequence[str]) -> list[str]:
    if len(arguments) <= 1:
        return [f"RUN pip install {' '.join(arguments)}"]
    return ["RUN pip install \\"] + [
        f"        {arg}" + (" \\" if i < len(arguments) - 1 else "")
        for i, arg in enumerate(arguments)
    ]


def generate_dockerfile(
    app_dir: str | Path,
    *,
    python_version: str | None = None,
    process: str = "web",
    command: str | Sequence[str] | None = None,
    port: int | None = None,
    base_image_digest: str | None = None,
) -> str:
    """A Dockerfile for the Python app in `app_dir`, which must have no Dockerfile of its own.

    - `python_version`: `3.12` or `3.12.7`; default from the app's files
      (`resolve_python_version`).
    - `process`: the Procfile process the image runs by default. Default `web`.
    - `command`: run this instead of a Procfile process: a string (shell, like a Procfile
      line) or an argv list. One of the two is required: an image needs something to run.
    - `port`: `EXPOSE`d, and set as `PORT` (which Procfile commands use as `$PORT`).
    - `base_image_digest`: `sha256:...` of the base image, to pin it beyond its tag.

    Raises BuildpackError naming the file when there is nothing to build from.
    """
    root = Path(app_dir)
    kind = detect(root)
    if (root / "Dockerfile").is_file():
        raise BuildpackError(
            f"{root / 'Dockerfile'}: the app has its own Dockerfile; build with it"
        )
    version = resolve_python_version(root, python_version)
    if base_image_digest is not None and not re.fullmatch(
        r"sha256:[0-9a-f]{64}", base_image_digest
    ):
        raise BuildpackError(
            f"base_image_digest: expected sha256: and 64 hex digits (got {base_image_digest!r})"
        )
    if port is not None and not 1 <= port <= 65535:
        raise BuildpackError(f"port: expected 1-65535 (got {port})")
    base = f"python:{version}-{BASE_IMAGE_VARIANT}" + (
        f"@{base_image_digest}" if base_image_digest else ""
    )
    cmd, cmd_origin = _default_command(root, process, command)

    inputs = [kind.value]
    build: list[str] = [
        f"FROM {base} AS build",
        *_python_env(),
        "RUN python -m venv /opt/venv",
        "WORKDIR /app",
    ]
    if kind is AppKind.REQUIREMENTS:
        found = _Dependencies()
        _scan_requirements(root, "requirements.txt", found)
        if found.needs_source:
            build += [
                "# requirements.txt installs local packages, so it needs the whole app first.",
                "COPY . .",
            ]
        else:
            build += ["# Dependencies first: this layer is rebuilt only when they change."]
            build += [_copy(path) for path in found.files]
        build += ["RUN pip install -r requirements.txt"]
    else:
        project = _read_pyproject(root / "pyproject.toml")
        local = project.dependencies is not None and any(
            _is_local(d.split("@", 1)[1].split(";", 1)[0].strip())
            for d in project.dependencies
            if "@" in d
        )
        if project.dependencies is not None and not local:
            build += ["# Dependencies first: this layer is rebuilt only when they change."]
            if project.dependencies:
                build += _run_pip([_sh_quote(d) for d in project.dependencies])
            build += ["COPY . ."]
            if project.build_system:
                build += ["RUN pip install --no-deps ."]
        else:
            build += [
                "# pyproject.toml declares no static [project].dependencies, so pip needs the",
                "# whole app to find them.",
                "COPY . .",
                "RUN pip install .",
            ]

    final: list[str] = [
        f"FROM {base}",
        *_python_env(),
        f"RUN groupadd --system --gid {APP_UID} app \\",
        f"    && useradd --system --uid {APP_UID} --gid app --create-home --home-dir /home/app \\",
        "        --shell /usr/sbin/nologin --no-log-init app",
        "COPY --from=build /opt/venv /opt/venv",
        "WORKDIR /app",
        "# The code stays owned by root: the app can read it but not change it.",
        "COPY . .",
        f"USER {APP_UID}:{APP_UID}",
    ]
    if port is not None:
        final += [f"ENV PORT={port}", f"EXPOSE {port}"]
    final += [f"CMD {json.dumps(cmd)}"]
    if cmd_origin:
        inputs.append(cmd_origin)
    header = [
        f"# Generated by paaskit.buildpack from {', '.join(inputs)}, for Python {version}.",
        "# To change it, add a Dockerfile to the app (this output is a good start).",
    ]
    return "\n".join([*header, "", *build, "", *final]) + "\n"


def _python_env() -> list[str]:
    return [
        "ENV PYTHONDONTWRITEBYTECODE=1 \\",
        "    PYTHONUNBUFFERED=1 \\",
        "    PIP_DISABLE_PIP_VERSION_CHECK=1 \\",
        "    PIP_NO_CACHE_DIR=1 \\",
        "    VIRTUAL_ENV=/opt/venv \\",
        "    PATH=/opt/venv/bin:$PATH",
    ]


def _default_command(
    root: Path, process: str, command: str | Sequence[str] | None
) -> tuple[list[str], str]:
    """The image's CMD as an argv, and which input it came from (for the header)."""
    if command is not None:
        if isinstance(command, str):
            if not command.strip():
                raise BuildpackError("command: must not be empty")
            return list(command_argv(command)), ""
        argv = list(command)
        if not argv or not all(isinstance(a, str) for a in argv):
            raise BuildpackError("command: expected a non-empty list of strings")
        return argv, ""
    procfile = root / "Procfile"
    if not procfile.is_file():
        raise BuildpackError(
            f"{procfile}: no such file, so nothing says what to run: add one with a "
            f"`{process}: <command>` line, or give a command"
        )
    processes = parse_procfile(procfile.read_text(encoding="utf-8"), source=str(procfile))
    if process not in processes:
        have = ", ".join(processes) or "none"
        raise BuildpackError(f"{procfile}: no {process!r} process (has: {have})")
    return list(command_argv(processes[process])), f"Procfile ({process})"


# --------------------------------------------------------------------------- reading Dockerfiles

_DIRECTIVE = re.compile(r"^#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"(?<!<)<<(?!<)(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")


def _instructions(text: str) -> Iterator[tuple[str, str]]:
    """(KEYWORD, arguments) of each instruction: continuations joined, comments and
    heredoc bodies skipped, the `escape` parser directive honoured."""
    lines = text.splitlines()
    escape = "\\"
    index = 0
    while index < len(lines):  # parser directives: only before anything else
        match = _DIRECTIVE.match(lines[index].strip())
        if not match:
            break
        if match.group(1).lower() == "escape" and match.group(2) in {"\\", "`"}:
            escape = match.group(2)
        index += 1
    current: str | None = None
    while index < len(lines):
        line = lines[index]
        index += 1
        stripped = line.strip()
        if stripped.startswith("#") or (current is None and not stripped):
            continue
        if current is not None and not stripped:
            continue  # an empty line inside a continuation
        body = line.rstrip()
        if body.endswith(escape):
            current = (current or "") + body[: -len(escape)]
            continue
        logical = ((current or "") + line).strip()
        current = None
        match = re.match(r"^([A-Za-z]+)\s*(.*)$", logical, re.DOTALL)
        if not match:
            continue
        keyword, arguments = match.group(1).upper(), match.group(2).strip()
        yield keyword, arguments
        if keyword in {"RUN", "COPY", "ADD"}:
            for strip_tabs, _, delimiter in _HEREDOC.findall(arguments):
                while index < len(lines):
                    body_line = lines[index]
                    index += 1
                    if (body_line.lstrip("\t") if strip_tabs else body_line) == delimiter:
                        break
    if current is not None:
        match = re.match(r"^([A-Za-z]+)\s*(.*)$", current.strip(), re.DOTALL)
        if match:
            yield match.group(1).upper(), match.group(2).strip()


def _command_form(arguments: str, shell: Sequence[str]) -> tuple[str, ...]:
    """Exec form (a JSON array of strings) as is; anything else runs through the shell."""
    if arguments.startswith("["):
        try:
            parsed = json.loads(arguments)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
            return tuple(parsed)
    return (*shell, arguments)


@dataclass
class _Stage:
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    shell: tuple[str, ...] = ("/bin/sh", "-c")
    cmd_set: bool = False


def image_command(dockerfile_text: str) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """The (ENTRYPOINT, CMD) the final stage of a Dockerfile leaves on its image, as argvs.

    Shell forms become `(*SHELL, "the text")`, `("/bin/sh", "-c", ...)` unless the stage sets
    SHELL. A stage built `FROM` an earlier stage inherits that stage's values; as Docker
    does, an ENTRYPOINT clears a CMD inherited from the base. None means "not set here",
    so whatever the external base image has (unknown without pulling it); `()` means
    explicitly empty. Raises BuildpackError for a Dockerfile without FROM.
    """
    stages: dict[str, _Stage] = {}
    stage: _Stage | None = None
    for keyword, arguments in _instructions(dockerfile_text):
        if keyword == "FROM":
            words = [w for w in arguments.split() if not w.startswith("--")]
            if not words:
                raise BuildpackError("Dockerfile: FROM without an image")
            parent = stages.get(words[0].lower())
            if parent is not None:
                stage = _Stage(parent.entrypoint, parent.cmd, parent.shell)
            else:
                stage = _Stage()
            if len(words) >= 3 and words[1].lower() == "as":
                stages[words[2].lower()] = stage
            continue
        if stage is None:
            if keyword in {"ARG"}:
                continue
            raise BuildpackError(f"Dockerfile: {keyword} before the first FROM")
        if keyword == "SHELL":
            parsed = _command_form(arguments, ())
            if not arguments.startswith("[") or not parsed:
                raise BuildpackError(f"Dockerfile: SHELL needs a JSON array (got {arguments!r})")
            stage.shell = parsed
        elif keyword == "ENTRYPOINT":
            stage.entrypoint = _command_form(arguments, stage.shell)
            if not stage.cmd_set:
                stage.cmd = ()
        elif keyword == "CMD":
            stage.cmd = _command_form(arguments, stage.shell)
            stage.cmd_set = True
    if stage is None:
        raise BuildpackError("Dockerfile: no FROM instruction")
    return stage.entrypoint, stage.cmd


# --------------------------------------------------------------------------- start-up snippets

_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Percent-encodes $1 byte by byte, in POSIX sh only: images may have no python or perl.
# LC_ALL=C makes `?` match one byte and printf "'c" give its byte value in any shell;
# `& 255` undoes shells that read bytes above 127 as negative chars.
_URLENCODE = """\
paaskit_urlencode() (
  LC_ALL=C
  export LC_ALL
  rest=$1
  out=
  while [ -n "$rest" ]; do
    tail=${rest#?}
    char=${rest%"$tail"}
    rest=$tail
    case $char in
      [ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-])
        out=$out$char ;;
      *)
        code=$(printf '%d' "'$char")
        out=$out$(printf '%%%02X' "$((code & 255))") ;;
    esac
  done
  printf '%s' "$out"
)
"""


def url_env_snippet(
    name: str = "DATABASE",
    *,
    scheme: str = "postgres",
    url_var: str | None = None,
    user_var: str | None = None,
    password_var: str | None = None,
    host_var: str | None = None,
    port_var: str | None = None,
    database_var: str | None = None,
) -> str:
    """POSIX sh that sets and exports `<name>_URL=scheme://user:password@host:port/database`.

    The parts come from `<name>_USER`, `<name>_PASS`, `<name>_HOST`, `<name>_PORT` and
    `<name>_NAME` (Convox's variable names; each can be renamed), so the password can
    arrive as an ECS secret and the URL exists only inside the running container. User,
    password and database name are percent-encoded (RFC 3986), in plain sh. A missing
    part stops the container with a message naming the variable.
    """
    names = {
        "url": url_var or f"{name}_URL",
        "user": user_var or f"{name}_USER",
        "password": password_var or f"{name}_PASS",
        "host": host_var or f"{name}_HOST",
        "port": port_var or f"{name}_PORT",
        "database": database_var or f"{name}_NAME",
    }
    for role, var in names.items():
        if not _VAR.fullmatch(var):
            raise ValueError(f"{role} variable: not a shell variable name: {var!r}")
    if not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme):
        raise ValueError(f"scheme: not a URL scheme: {scheme!r}")
    url_var_name = names["url"]
    checks = "".join(
        f': "${{{names[role]}:?is not set, and {url_var_name} needs it}}"\n'
        for role in ("user", "password", "host", "port", "database")
    )
    user, password, database = (
        f'$(paaskit_urlencode "${names[role]}")' for role in ("user", "password", "database")
    )
    host, port = (f"${{{names[role]}}}" for role in ("host", "port"))
    url = f"{scheme}://{user}:{password}@{host}:{port}/{database}"
    return f'{_URLENCODE}{checks}{url_var_name}="{url}"\nexport {url_var_name}\n'


def wrap_command(argv: Sequence[str], prelude: str) -> tuple[str, ...]:
    """An argv that runs `prelude` in sh, then `exec`s `argv` unchanged (as PID 1).

    For a container whose image has ENTRYPOINT E and CMD C, wrap `(*E, *C)` (see
    `image_command`) and set the result as the ECS entry point with no command.
    """
    if not argv:
        raise ValueError("argv: nothing to run")
    return ("/bin/sh", "-c", f'{prelude.rstrip()}\nexec "$@"', "paaskit", *argv)
