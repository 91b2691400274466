"""Python apps without a Dockerfile, built as Heroku's Python buildpack builds them.

For a folder with a Procfile and a package manager file, `plan_build` (or its text,
`generate_dockerfile`) makes a Dockerfile that builds and runs the app the way Heroku would:

- `_python.py`: which Python (`.python-version`, `runtime.txt`, `Pipfile.lock`, `uv.lock`,
  `requires-python`), and an official image tag that exists for it (a dated table in
  `paaskit/data/python-images.json`);
- `_install.py`: the package manager (exactly one of requirements.txt, uv.lock, poetry.lock,
  Pipfile.lock; else pyproject.toml) and its install steps, from the lock with the tool pinned;
- `_django.py`: collectstatic at build time;
- `_procfile.py`: the Procfile's processes, `release:`, and how a command becomes an argv;
- `_runtime.py`: `PORT` and `WEB_CONCURRENCY`, what a process finds at run time;
- `_dockerfile.py`: the Dockerfile itself;
- `_reading.py`: the ENTRYPOINT and CMD of a user's own Dockerfile (`image_command`).

Pure Python (standard library only). docs/buildpack.md tells the whole story.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ._django import DjangoApp, find_django
from ._dockerfile import APP_DIR, APP_UID, DOCKERIGNORE, BuildPlan, generate_dockerfile, plan_build
from ._errors import BuildpackError
from ._install import TOOL_VERSIONS, AppKind, Copy, InstallPlan, Run, Step, detect, install_plan
from ._procfile import (
    Procfile,
    command_argv,
    has_shell_syntax,
    parse_procfile,
    process_command,
    read_procfile,
    release_command,
    service_process,
)
from ._python import (
    DEFAULT_PYTHON_MINOR,
    END_OF_LIFE,
    PythonVersion,
    image_table,
    latest_patches,
    resolve_python,
)
from ._reading import image_command
from ._runtime import process_environment, web_concurrency

__all__ = [
    "APP_DIR",
    "APP_UID",
    "BASE_IMAGE_VARIANT",
    "DEFAULT_PYTHON_MINOR",
    "DEFAULT_PYTHON_VERSION",
    "DOCKERIGNORE",
    "END_OF_LIFE",
    "PYTHON_PATCHES",
    "TOOL_VERSIONS",
    "AppKind",
    "BuildPlan",
    "BuildpackError",
    "Copy",
    "DjangoApp",
    "InstallPlan",
    "Procfile",
    "PythonVersion",
    "Run",
    "Step",
    "command_argv",
    "detect",
    "find_django",
    "generate_dockerfile",
    "has_shell_syntax",
    "image_command",
    "image_table",
    "install_plan",
    "latest_patches",
    "parse_procfile",
    "plan_build",
    "process_command",
    "process_environment",
    "read_procfile",
    "release_command",
    "resolve_python",
    "resolve_python_version",
    "service_process",
    "web_concurrency",
]

PYTHON_PATCHES: Mapping[str, str] = latest_patches()
"""The exact version a `3.X` request builds with: each supported line's newest patch in the
table of published images (`paaskit/data/python-images.json`, dated)."""

DEFAULT_PYTHON_VERSION = PYTHON_PATCHES[DEFAULT_PYTHON_MINOR]
"""What an app that names no version gets: the newest patch of `DEFAULT_PYTHON_MINOR`."""

BASE_IMAGE_VARIANT = f"slim-{image_table()['variants'][0]}"
"""The official image variant preferred: the newest Debian's slim image. An exact patch that
was never published on it gets the newest Debian it was published on."""


def resolve_python_version(app_dir: str | Path, requested: str | None = None) -> str:
    """The exact Python version an app builds with (`resolve_python(...).version`)."""
    return resolve_python(app_dir, requested).version
