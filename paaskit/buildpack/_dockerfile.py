"""The generated Dockerfile: a build stage that installs, a final stage that runs the app.

`plan_build` reads an app folder once (Python version, package manager and lock file, Procfile,
Django) and returns a `BuildPlan`: the Dockerfile text, what it was made from, and warnings for
the user. The Dockerfile:

- starts from the official slim Python image at the exact version resolved (`_python.py`), a
  tag that exists, optionally pinned by digest as well;
- installs the dependencies into a virtualenv (`/opt/venv`) in a build stage, from the lock file
  with its tool pinned (`_install.py`), in a layer rebuilt only when the dependency files change;
  the final image takes only that virtualenv, so the tools and caches stay behind;
- runs as an unprivileged user (uid 10001) that owns the app's folder (`/app`): as on Heroku,
  the app may write there (uploads, a sqlite file, caches), and what it writes is gone when the
  task stops. The virtualenv stays root's: nothing the app runs can change its dependencies,
  which the lock file pinned and no app needs to write;
- runs `collectstatic` for a Django app (`_django.py`), as the app's user;
- has no ENTRYPOINT, and a CMD that runs the image's process (the Procfile's `web`, say) split
  into words, or through `/bin/sh -c "exec ..."` when it has shell syntax, so the app is PID 1
  and gets SIGTERM. A task's `command` replaces the CMD and nothing else stands in between.

The same inputs always give byte-identical output, so the image's build cache holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ._django import DjangoApp, collectstatic_lines, find_django
from ._errors import BuildpackError
from ._install import TOOLS_VENV, VENV, Copy, InstallPlan, Run, Step, install_plan
from ._procfile import Procfile, command_argv, read_procfile
from ._python import PythonVersion, resolve_python

__all__ = [
    "APP_DIR",
    "APP_UID",
    "DOCKERIGNORE",
    "BuildPlan",
    "generate_dockerfile",
    "plan_build",
]

APP_UID = 10001
"""The unprivileged user the app runs as: outside the range of system and login users."""

APP_DIR = "/app"
"""Where the app's code is, and its working directory (Heroku's path too)."""

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


@dataclass(frozen=True)
class BuildPlan:
    """What paaskit builds for an app without a Dockerfile, and why."""

    dockerfile: str
    python: PythonVersion
    install: InstallPlan
    procfile: Procfile | None
    cmd: tuple[str, ...]
    """The image's CMD (there is no ENTRYPOINT)."""
    django: DjangoApp | None
    finalize: tuple[Step, ...]
    """Steps of the final stage after the code is copied (collectstatic), as the app's user."""
    warnings: tuple[str, ...]
    """For the user: an old patch, an old Debian, no Python version named, no whitenoise..."""

    @property
    def release(self) -> str | None:
        """The Procfile's `release:` command, if any."""
        return None if self.procfile is None else self.procfile.processes.get("release")


def _copy(path: str) -> str:
    if path == ".":
        return "COPY . ."
    if re.fullmatch(r"[A-Za-z0-9._/@+-]+", path):
        return f"COPY {path} {path}"
    return f"COPY {json.dumps([path, path])}"


def _python_env() -> list[str]:
    return [
        "ENV PYTHONDONTWRITEBYTECODE=1 \\",
        "    PYTHONUNBUFFERED=1 \\",
        "    PIP_DISABLE_PIP_VERSION_CHECK=1 \\",
        "    PIP_NO_CACHE_DIR=1 \\",
        f"    VIRTUAL_ENV={VENV} \\",
        f"    PATH={VENV}/bin:$PATH",
    ]


def _render_step(step: Step, owner: str | None = None) -> list[str]:
    if isinstance(step, Copy):
        if owner and step.paths == (".",):
            return [f"COPY --chown={owner} . ."]
        return [_copy(path) for path in step.paths]
    comment = [f"# {step.comment}"] if step.comment else []
    if step.lines:
        body = [f"{line} \\" for line in step.lines[:-1]] + [step.lines[-1]]
        return [*comment, f"RUN {body[0]}", *body[1:]]
    return [*comment, f"RUN {step.command}"]


def _default_command(
    procfile: Procfile | None, root: Path, process: str, command: str | Sequence[str] | None
) -> tuple[tuple[str, ...], str]:
    """The image's CMD as an argv, and which input it came from (for the header)."""
    if command is not None:
        if isinstance(command, str):
            if not command.strip():
                raise BuildpackError("command: must not be empty")
            return command_argv(command), ""
        argv = tuple(command)
        if not argv or not all(isinstance(a, str) for a in argv):
            raise BuildpackError("command: expected a non-empty list of strings")
        return argv, ""
    if procfile is None:
        raise BuildpackError(
            f"{root / 'Procfile'}: no such file, so nothing says what to run: add one with a "
            f"`{process}: <command>` line, or give a command"
        )
    return command_argv(procfile.command(process)), f"Procfile ({process})"


def _dependency_text(root: Path, install: InstallPlan) -> str:
    texts = []
    names = {*install.files, "requirements.txt", "pyproject.toml", "Pipfile"}
    for name in sorted(names):
        path = root / name
        if path.is_file():
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts)


def plan_build(
    app_dir: str | Path,
    *,
    python_version: str | None = None,
    python_version_source: str = "python_version",
    process: str = "web",
    command: str | Sequence[str] | None = None,
    port: int | None = None,
    base_image_digest: str | None = None,
) -> BuildPlan:
    """Everything paaskit builds for the Python app in `app_dir` (which has no Dockerfile).

    - `python_version`: `3.12` or `3.12.7`, over what the app's files say; errors name it as
      `python_version_source` (the App passes `paaskit-app:pythonVersion`).
    - `process`: the Procfile process the image runs by default. Default `web`.
    - `command`: run this instead of a Procfile process: a string (like a Procfile line) or an
      argv list. One of the two is required: an image needs something to run.
    - `port`: `EXPOSE`d, and set as `PORT` (which Procfile commands use as `$PORT`).
    - `base_image_digest`: `sha256:...` of the base image, to pin it beyond its tag.

    Raises BuildpackError naming the file (and line) of anything it cannot build from.
    """
    root = Path(app_dir)
    if (root / "Dockerfile").is_file():
        raise BuildpackError(
            f"{root / 'Dockerfile'}: the app has its own Dockerfile; build with it"
        )
    install = install_plan(root)
    python = resolve_python(
        root,
        python_version,
        requested_source=python_version_source,
        package_manager=install.manager,
    )
    if base_image_digest is not None and not re.fullmatch(
        r"sha256:[0-9a-f]{64}", base_image_digest
    ):
        raise BuildpackError(
            f"base_image_digest: expected sha256: and 64 hex digits (got {base_image_digest!r})"
        )
    if port is not None and not 1 <= port <= 65535:
        raise BuildpackError(f"port: expected 1-65535 (got {port})")
    procfile = read_procfile(root)
    cmd, cmd_origin = _default_command(procfile, root, process, command)
    warnings = list(python.warnings)
    django = find_django(root, _dependency_text(root, install))
    finalize: list[Step] = []
    if django is not None:
        finalize.append(
            Run.over_lines(
                *collectstatic_lines(django),
                comment="Django's static files, collected as on Heroku (the build arg "
                "DISABLE_COLLECTSTATIC=1 skips it).",
            )
        )
        if not django.whitenoise:
            warnings.append(
                f"{root / django.settings_file}: nothing serves Django's static files in "
                "production (DEBUG off) unless the app does: add whitenoise to its dependencies "
                "and middleware, as Heroku recommends (paaskit collects them; the CDN caches "
                "what the app serves)"
            )
    base = python.image + (f"@{base_image_digest}" if base_image_digest else "")
    owner = f"{APP_UID}:{APP_UID}"

    build: list[str] = [f"FROM {base} AS build", *_python_env(), f"RUN python -m venv {VENV}"]
    if install.tool is not None:
        name = install.tool.split("==", 1)[0]
        build += [
            f"# {name}, pinned, in this stage only: the final image takes none of it.",
            f"RUN python -m venv {TOOLS_VENV} && {TOOLS_VENV}/bin/pip install {install.tool}",
        ]
        variables = [
            f"PATH=$PATH:{TOOLS_VENV}/bin",
            *(f"{k}={v}" for k, v in install.environment.items()),
        ]
        build += [
            "ENV " + " \\\n    ".join(variables),
        ]
    build.append(f"WORKDIR {APP_DIR}")
    first_copy = True
    for step in install.steps:
        if isinstance(step, Copy) and first_copy and step.paths != (".",):
            build.append("# Dependencies first: this layer is rebuilt only when they change.")
        if isinstance(step, Copy):
            first_copy = False
        build += _render_step(step)

    final: list[str] = [
        f"FROM {base}",
        *_python_env(),
        f"RUN groupadd --system --gid {APP_UID} app \\",
        f"    && useradd --system --uid {APP_UID} --gid app --create-home --home-dir /home/app \\",
        "        --shell /usr/sbin/nologin --no-log-init app \\",
        f"    && install -d -o app -g app {APP_DIR}",
        f"COPY --from=build {VENV} {VENV}",
        f"WORKDIR {APP_DIR}",
        "# The app's folder is the app's to write, as on Heroku (gone when the task stops);",
        f"# its dependencies in {VENV} stay root's.",
        f"COPY --chown={owner} . .",
        f"USER {owner}",
    ]
    if finalize:
        final.append("ARG DISABLE_COLLECTSTATIC=0")
        for step in finalize:
            final += _render_step(step, owner)
    if port is not None:
        final += [f"ENV PORT={port}", f"EXPOSE {port}"]
    final.append(f"CMD {json.dumps(list(cmd))}")
    inputs = [install.kind.value]
    if cmd_origin:
        inputs.append(cmd_origin)
    header = [
        f"# Generated by paaskit.buildpack from {', '.join(inputs)}, for Python "
        f"{python.version} ({python.source}).",
        "# To change it, add a Dockerfile to the app (this output is a good start).",
    ]
    dockerfile = "\n".join([*header, "", *build, "", *final]) + "\n"
    return BuildPlan(
        dockerfile=dockerfile,
        python=python,
        install=install,
        procfile=procfile,
        cmd=cmd,
        django=django,
        finalize=tuple(finalize),
        warnings=tuple(warnings),
    )


def generate_dockerfile(
    app_dir: str | Path,
    *,
    python_version: str | None = None,
    process: str = "web",
    command: str | Sequence[str] | None = None,
    port: int | None = None,
    base_image_digest: str | None = None,
) -> str:
    """The Dockerfile of `plan_build` (same arguments), for the App and for users to start from."""
    return plan_build(
        app_dir,
        python_version=python_version,
        process=process,
        command=command,
        port=port,
        base_image_digest=base_image_digest,
    ).dockerfile
